"""CVAT XML objects <-> annoflow labels, through the conversions annoflow's CVAT tasks use.

What the XML writes is what annoflow uploads, and what it reads is read as a load reads a task;
docs/importing.md says how ids survive an export and import.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.cvat_format import checks
from annoflow.adapters.cvat_format.answer import Refused
from annoflow.adapters.cvat_format.download import Downloader, Imported, Unexpected
from annoflow.adapters.cvat_format.schema import LABEL_ID, ServerLabels, cvat_classes, cvat_label_requests
from annoflow.adapters.cvat_format.upload import CvatObject, Uploader
from annoflow.domain.ids import derived_id
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.labels import FieldValue, Label, Scalar, labels_in


@attrs.frozen(slots=False)  # not slotted: `specs_of` is worked out once and cached
class Vocabulary:
    """One document's labels and attributes with ids, both ways."""

    server: ServerLabels
    labels: tuple[dict[str, Any], ...]  # as CVAT's API gives them, with ids: the document's meta
    label_ids: Mapping[str, int]
    label_names: Mapping[int, str]
    spec_names: Mapping[int, str]

    @classmethod
    def of(cls, schema: LabelSchema, labels: Iterable[Mapping[str, Any]], *, existing: bool) -> Vocabulary:
        counter = itertools.count(1)
        numbered = []
        for label in labels:
            numbered.append(
                {
                    **label,
                    "id": next(counter),
                    "attributes": [{**a, "id": next(counter)} for a in label.get("attributes", ())],
                }
            )
        server = ServerLabels.match(cvat_classes(schema), numbered, existing_project=existing)
        return cls(
            server,
            tuple(numbered),
            {label["name"]: label["id"] for label in numbered},
            {label["id"]: label["name"] for label in numbered},
            {a["id"]: a["name"] for label in numbered for a in label["attributes"]},
        )

    @classmethod
    def for_export(cls, schema: LabelSchema, hidden: Collection[str] = ()) -> Vocabulary:
        """The schema's classes as CVAT labels (``<class>_<field>`` where fields share a class), each
        label-holding one with the ``label_id`` attribute; ``hidden`` attributes are not CVAT attributes
        (the one written as CVAT's ``z_order``)."""
        classes = cvat_classes(schema)
        specs = {(c.cvat_name, spec.name): spec for c in classes for spec in c.attributes}
        kinds = {c.cvat_name: _LABEL_KIND.get(c.label_type, "any") for c in classes}
        labels = [
            {
                **label,
                "type": kinds.get(label["name"], "any"),
                "attributes": [
                    _numeric(a, specs.get((label["name"], a["name"])))
                    for a in label["attributes"]
                    if a["name"] not in hidden
                ],
            }
            for label in cvat_label_requests(classes, schema)
        ]
        return cls.of(schema, labels, existing=False)

    @functools.cached_property
    def specs_of(self) -> dict[int, dict[str, int]]:
        """Each label's attribute name -> spec id."""
        return {label["id"]: {a["name"]: a["id"] for a in label["attributes"]} for label in self.labels}

    @property
    def label_specs(self) -> set[int]:
        return {spec for spec, name in self.spec_names.items() if name == LABEL_ID}

    # --- up: labels -> XML objects ----------------------------------------------------------

    def named(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A CVAT object (or a track's shape) with names: what the XML writer takes."""
        out = {key: value for key, value in body.items() if key not in ("label_id", "attributes")}
        if "label_id" in body:
            out["label"] = self.label_names[body["label_id"]]
        out["attributes"] = [(self.spec_names[a["spec_id"]], a["value"]) for a in body.get("attributes", ())]
        return out

    # --- down: XML objects -> CVAT objects -------------------------------------------------

    def numbered(self, obj: Mapping[str, Any], label: str, cvat_id: int, frame: int) -> dict[str, Any]:
        """An XML object as the CVAT object a task's annotations hold (a label the document does not
        define gets an id no class has: it reads as unexpected)."""
        label_id = self.label_ids.get(label, 1 << 30)
        specs = self.specs_of.get(label_id, {})
        out = {key: value for key, value in obj.items() if key not in ("label", "attributes")}
        out.update(
            id=cvat_id,
            frame=frame,
            label_id=label_id,
            group=int(obj.get("group") or 0),
            attributes=[
                {"spec_id": specs[name], "value": value} for name, value in obj.get("attributes", ()) if name in specs
            ],
        )
        if "type" in out:
            out.setdefault("outside", False)
        return out


# what a class's CVAT label draws, by its field's label type, so an import makes the same fields again
# (a polylines field's polygon label takes polylines too: a field routes objects by their own type)
_LABEL_KIND = {
    "classification": "tag",
    "classifications": "tag",
    "detections": "rectangle",
    "instances": "mask",
    "polylines": "polygon",
    "polygons": "polygon",
    "keypoints": "points",
    "segmentation": "mask",
}

# CVAT's number input takes "min, max, step"; whole numbers read back as int, others as float
_NUMBER_RANGE = {"int": ["-2147483648", "2147483647", "1"], "float": ["-1e+308", "1e+308", "0.5"]}


def _numeric(attribute: dict[str, Any], spec: Any) -> dict[str, Any]:
    """A text attribute whose values are numbers as CVAT's number input, so an import reads them back as numbers."""
    if spec is None or spec.type != "text" or spec.value_type not in _NUMBER_RANGE:
        return attribute
    return {**attribute, "input_type": "number", "values": _NUMBER_RANGE[spec.value_type]}


def objects_of(
    uploaders: Mapping[str, Uploader],
    values: Mapping[str, FieldValue],
    frame: int,
    width: int,
    height: int,
    z_order_attr: str | None = None,
) -> Iterator[CvatObject]:
    """Every CVAT object of one image's (or frame's) fields; a label's ``z_order_attr`` attribute as the
    object's ``z_order``."""
    for path, uploader in uploaders.items():
        value = values.get(path)
        if value is None:
            continue
        # label id -> its z_order attribute (a scalar field's object has no label id: None finds nothing)
        z_of: dict[str | None, Scalar] = (
            {}
            if z_order_attr is None
            else {
                label.id: label.attributes.get(z_order_attr)
                for label in labels_in(value)
                if hasattr(label, "attributes")
            }
        )
        for made in uploader.objects(value, frame, width, height):
            z_order = z_of.get(made.label_id)
            if z_order is not None and "z_order" in made.body:
                made.body["z_order"] = int(z_order)
            yield made


def read_objects(
    downloader: Downloader,
    objects: Mapping[str, Sequence[dict[str, Any]]],
    sizes: Sequence[Any],
    frames: int,
    id_parts: Sequence[object],
    z_order_attr: str | None = None,
) -> tuple[list[Imported], list[Unexpected], list[Refused]]:
    """CVAT objects (tags, shapes, and a video's expanded ``tracked`` shapes) as labels: each checked for
    form first, then converted as a load converts a task's; labels without a ``label_id`` get an id
    derived from ``id_parts``, the field and the object; a shape's ``z_order`` goes to the
    ``z_order_attr`` attribute."""
    refused: list[Refused] = []
    checked: dict[str, list[dict[str, Any]]] = {}
    for kind, items in objects.items():
        keep = []
        for obj in items:
            problem = checks.problem(obj, "shapes" if kind == "tracked" else kind, frames)  # a track's frame is a shape
            if problem is None:
                keep.append(obj)
            else:
                refused.append(Refused(kind, obj.get("frame", 0), problem, obj.get("id", 0), obj.get("label_id", 0)))
        checked[kind] = keep
    found, unexpected, more = downloader.read(checked, sizes)
    z_of = {obj["id"]: obj.get("z_order", 0) for items in checked.values() for obj in items} if z_order_attr else {}
    out = []
    for item in found:
        if isinstance(item.value, Label) and item.label_id is None:
            frame = item.frame if item.cvat_type == "track" else None
            item = attrs.evolve(
                item,
                value=item.value.replace(
                    id=derived_id("cvat_xml", *id_parts, item.field, item.cvat_type, item.cvat_ids[0], frame)
                ),
            )
        if (
            z_order_attr
            and isinstance(item.value, Label)
            and hasattr(item.value, "attributes")
            and item.cvat_type == "shape"
        ):
            item = attrs.evolve(
                item,
                value=item.value.replace(
                    attributes={**item.value.attributes, z_order_attr: int(z_of.get(item.cvat_ids[0], 0))}
                ),
            )
        out.append(item)
    return out, unexpected, refused + more
