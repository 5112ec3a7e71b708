"""A label as its plain values (the names of its attrs fields, JSON types) and back.

Stores keep labels in this form, and the upload turns the common labels into a
tool's objects straight from it, without building each label first (see
ARCHITECTURE.md, "Reading labels as rows").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from annoflow.domain.labels import Classification, Detection, Keypoint, Label, Polyline, Segmentation

LABEL_CLASSES: dict[str, type[Label]] = {
    cls.kind: cls for cls in (Classification, Detection, Polyline, Keypoint, Segmentation)
}


def _tuples(value: Any) -> Any:
    # The labels' sequences are homogeneous: a list of lists, or a list of numbers.
    if type(value) is not list:
        return value
    if value and type(value[0]) is list:
        return tuple(map(_tuples, value))
    return tuple(value)


def _default(field: attrs.Attribute[Any]) -> Any:
    """A label field's default value (of the field's type, whatever it is), made by its factory where it has one."""
    default: Any = field.default  # a value, or an attrs Factory
    # attrs' stubs declare Factory a function; at run time it is the class of factory defaults
    return default.factory() if isinstance(default, attrs.Factory) else default  # type: ignore[arg-type]


def _builder(label_class: type[Label]) -> Callable[[str, Mapping[str, Any], np.ndarray | None], Label]:
    """A function that rebuilds one label of this class from its id, plain values and mask (decoded by the caller).

    Generated once per class so that the per-label work is one straight run of slot stores:
    reading 200,000 labels one property at a time through a generic loop costs seconds.
    """
    fields = attrs.fields_dict(label_class)
    lines = ["def build(label_id, values, mask):", "    label = new(cls)", "    put(label, 'id', label_id)"]
    namespace: dict[str, Any] = {
        "new": object.__new__,
        "put": object.__setattr__,
        "cls": label_class,
        "tuples": _tuples,
        "frozen": MappingProxyType,
        "_empty": {},
    }
    for name, field in fields.items():
        if name == "id":
            continue
        if name == "mask":
            lines.append("    if mask is not None: mask.setflags(write=False)")
            lines.append("    put(label, 'mask', mask)")
        elif name == "attributes":
            lines.append("    put(label, 'attributes', frozen(values.get('attributes', _empty)))")
        else:
            # A property left out of the values is unset (None); values written before a property
            # existed get the property's default.
            namespace[f"default_{name}"] = _default(field)
            lines.append(f"    value = values.get({name!r}, default_{name})")
            lines.append(f"    put(label, {name!r}, tuples(value) if type(value) is list else value)")
    lines.append("    return label")
    exec("\n".join(lines), namespace)
    build: Callable[[str, Mapping[str, Any], np.ndarray | None], Label] = namespace["build"]
    return build


BUILDERS = {kind: _builder(cls) for kind, cls in LABEL_CLASSES.items()}
PLAIN = {
    kind: tuple(n for n in attrs.fields_dict(cls) if n not in ("id", "mask")) for kind, cls in LABEL_CLASSES.items()
}
_NONE_BY_DEFAULT = {
    kind: frozenset(f.name for f in attrs.fields(cls) if f.default is None) for kind, cls in LABEL_CLASSES.items()
}


def label_from_values(kind: str, label_id: str, values: Mapping[str, Any], mask: np.ndarray | None = None) -> Label:
    """The label these values describe, without validating them again: they come from a label
    that was validated when it was made (a store's own rows)."""
    return BUILDERS[kind](label_id, values, mask)


def label_values(label: Label) -> dict[str, Any]:
    """The label's plain properties (no id, no mask): unset (None) properties, empty attributes and
    empty tags are left out, and read back as such (so rows and events written before tags existed
    read as labels without tags); attributes as a plain dict."""
    unset_by_default = _NONE_BY_DEFAULT[label.kind]
    data = {
        name: value
        for name in PLAIN[label.kind]
        if (value := getattr(label, name)) is not None or name not in unset_by_default
    }
    if "attributes" in data:
        if data["attributes"]:
            data["attributes"] = dict(data["attributes"])
        else:
            del data["attributes"]
    if not data.get("tags", True):
        del data["tags"]
    return data
