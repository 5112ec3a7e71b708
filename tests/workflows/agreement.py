"""Does a detections field hold, label for label, what a CVAT task holds? Pairs them or says why not.

CVAT's side is read through its REST API (what a user's CVAT answers): each rectangle's class,
pixel corners, attribute values (text) and its ``label_id`` provenance attribute. The dataset's
side is each frame's sample's labels. They agree when they pair one to one on each frame with the
same class, the same box to CVAT's precision (the label's relative box in the frame's pixels,
within `PIXEL_TOLERANCE`) and the same attribute values (those CVAT's class defines, as text).

Pairing goes by identity before content, so a label that lost track of its CVAT object is caught
even when a copy of it happens to look right: a CVAT object paired at an earlier check must pair
with the same label now (an object keeps its id in CVAT when it is moved, relabelled or its
attributes change); an object carrying a ``label_id`` must pair with that label; only the rest
pair by content. Whatever is left over on either side is a problem, as is a label id held twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.application.dataset import Dataset
from annoflow.domain.labels import Detection, labels_in

PIXEL_TOLERANCE = 1e-6  # CVAT keeps a shape's points as doubles; relative -> pixels costs a few ulps
PROVENANCE = "label_id"


@attrs.frozen
class CvatBox:
    object_id: int
    frame: int
    label: str
    points: tuple[float, ...]
    attributes: tuple[tuple[str, str | None], ...]  # every attribute the class defines but label_id, None when unset
    label_id: str | None

    def __str__(self) -> str:
        return f"CVAT object {self.object_id} on frame {self.frame}: {self.label} {list(self.points)} {dict(self.attributes)}"


@attrs.frozen
class CvatTask:
    boxes: tuple[CvatBox, ...]
    sizes: tuple[tuple[int, int], ...]  # (width, height) per frame


def frame_sizes(annotator: ScriptedAnnotator, task_id: int) -> tuple[tuple[int, int], ...]:
    meta = annotator.client.get(f"/api/tasks/{task_id}/data/meta")
    meta.raise_for_status()
    return tuple((f["width"], f["height"]) for f in meta.json()["frames"])


def read_cvat(annotator: ScriptedAnnotator, task_id: int, sizes: tuple[tuple[int, int], ...] | None = None) -> CvatTask:
    """The task's rectangles as CVAT's REST API returns them (``sizes``: the frames' sizes, if known)."""
    labels = {label["id"]: label for label in annotator.labels(task_id).values()}
    sizes = sizes or frame_sizes(annotator, task_id)
    boxes = []
    for shape in annotator.annotations(task_id)["shapes"]:
        assert shape["type"] == "rectangle", f"the model only draws rectangles, CVAT holds {shape}"
        spec = labels[shape["label_id"]]
        names = {a["id"]: a["name"] for a in spec["attributes"]}
        values = {names[a["spec_id"]]: a["value"] for a in shape["attributes"]}
        attributes = tuple(sorted((n, values.get(n)) for n in names.values() if n != PROVENANCE))
        boxes.append(
            CvatBox(
                shape["id"],
                shape["frame"],
                spec["name"],
                tuple(shape["points"]),
                attributes,
                values.get(PROVENANCE) or None,
            )
        )
    return CvatTask(tuple(boxes), sizes)


def task_frames(dataset: Dataset, key: str, task_id: int) -> dict[int, str]:
    """The task's frame -> sample id map, as the run's results give it."""
    return {
        frame: ref["sample_id"] for frame, ref in dataset.load_annotation_results(key).frame_id_map[task_id].items()
    }


def dataset_frames(dataset: Dataset, frames: Mapping[int, str], field: str) -> dict[int, list[Detection]]:
    """Each task frame's labels in ``field`` (``frames``: `task_frames`)."""
    by_sample = {s.id: labels_in(s.fields.get(field)) for s in dataset.iter_samples()}
    return {frame: list(by_sample[sample_id]) for frame, sample_id in frames.items()}


def pixels(label: Detection, size: tuple[int, int]) -> tuple[float, float, float, float]:
    x, y, w, h = label.bounding_box
    width, height = size
    return (x * width, y * height, (x + w) * width, (y + h) * height)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same(box: CvatBox, label: Detection, size: tuple[int, int]) -> bool:
    return (
        box.label == label.label
        and all(
            math.isclose(a, b, abs_tol=PIXEL_TOLERANCE) for a, b in zip(box.points, pixels(label, size), strict=True)
        )
        and all(_text(label.attributes.get(name)) == value for name, value in box.attributes)
    )


def describe(label: Detection, frame: int, size: tuple[int, int]) -> str:
    corners = [round(c, 6) for c in pixels(label, size)]
    return f"label {label.id} on frame {frame}: {label.label} {corners} {dict(label.attributes)}"


def check_agreement(
    cvat: CvatTask, frames: Mapping[int, Sequence[Detection]], known: Mapping[int, str] | None = None
) -> dict[int, str]:
    """CVAT object id -> dataset label id for every object, or AssertionError naming each problem.

    ``known`` is what an earlier check returned: those objects must still pair with those labels.
    """
    known = known or {}
    problems: list[str] = []
    held = [label.id for labels in frames.values() for label in labels]
    problems += [f"label id {i} is held {held.count(i)} times" for i in sorted(set(held)) if held.count(i) > 1]
    left = {label.id: (frame, label) for frame, labels in frames.items() for label in labels}
    pairs: dict[int, str] = {}

    def pair(box: CvatBox, label_id: str, why: str) -> None:
        frame, label = left[label_id]
        if frame != box.frame or not same(box, label, cvat.sizes[box.frame]):
            problems.append(f"{box} ({why} {label_id}) differs from {describe(label, frame, cvat.sizes[frame])}")
        del left[label_id]
        pairs[box.object_id] = label_id

    unpaired = []
    for box in cvat.boxes:  # identity: the label this object was paired with before
        if box.object_id in known:
            if known[box.object_id] in left:
                pair(box, known[box.object_id], "was paired with")
            else:
                problems.append(
                    f"{box} was paired with label {known[box.object_id]}, which the dataset no longer holds"
                )
        else:
            unpaired.append(box)
    by_content = []
    for box in unpaired:  # provenance: the label its label_id attribute names
        if box.label_id is not None and box.label_id in left:
            pair(box, box.label_id, "carries the label_id of")
        else:
            by_content.append(box)
    for box in by_content:  # content: a label that looks the same on its frame
        size = cvat.sizes[box.frame]
        match = next((i for i, (f, label) in left.items() if f == box.frame and same(box, label, size)), None)
        if match is None:
            problems.append(f"{box} has no label in the dataset")
        else:
            pair(box, match, "looks like")
    problems += [
        f"{describe(label, frame, cvat.sizes[frame])} has no object in CVAT (a copy, or a deletion not merged)"
        for frame, label in left.values()
    ]
    if problems:
        raise AssertionError("the dataset does not hold what CVAT holds:\n  " + "\n  ".join(problems))
    return pairs
