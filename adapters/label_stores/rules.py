"""What both stores check before they change anything: the change fits the field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.changes import LabelChange, PutLabel, SetValue
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.fields import LABEL_TYPE_OF_KIND, FieldKind, FieldPath, kind_of
from annoflow.domain.labels import LabelList
from annoflow.domain.samples import RESERVED_FIELD_NAMES


def kind_for_change(schema: Mapping[str, FieldKind], change: LabelChange) -> FieldKind:
    """The field's kind after the change; raises FieldSchemaError when the change does not fit."""
    declared = schema.get(change.field)
    if isinstance(change, SetValue):
        given = kind_of(change.value)
        if declared is None:
            if given is None:
                raise FieldSchemaError(
                    f"field {change.field!r} is not declared; setting it to None says nothing of its kind"
                )
            return given
        if given is not None and given is not declared:
            raise FieldSchemaError(f"field {change.field!r} holds {declared.value}, not {given.value}")
        return declared
    if declared is None:
        raise FieldSchemaError(f"field {change.field!r} is not declared")
    if not declared.is_label:
        raise FieldSchemaError(f"field {change.field!r} holds {declared.value} scalars, not labels")
    if isinstance(change, PutLabel):
        container = LABEL_TYPE_OF_KIND[declared]
        expected = container.element if issubclass(container, LabelList) else container
        if not isinstance(change.label, expected):
            raise FieldSchemaError(
                f"field {change.field!r} holds {declared.value}: a {type(change.label).__name__} does not fit"
            )
    return declared


def check_declaration(schema: Mapping[str, FieldKind], path: str, kind: FieldKind) -> bool:
    """True when the field is new; raises when it exists with another kind."""
    declared = schema.get(path)
    if declared is not None and declared is not kind:
        raise FieldSchemaError(f"field {path!r} holds {declared.value}; it cannot be declared {kind.value}")
    return declared is None


def check_field_edit(schema: Mapping[str, FieldKind], paths: Sequence[str], new_path: str | None = None) -> None:
    """Refuse (FieldSchemaError) deleting or renaming fields the schema does not hold, or renaming one
    onto a name it holds, a reserved name or the other level (sample <-> frame field)."""
    unknown = [p for p in paths if p not in schema]
    if unknown:
        raise FieldSchemaError(f"the dataset has no field {unknown[0]!r}")
    if new_path is None:
        return
    (path,) = paths
    target = FieldPath.parse(new_path)
    if target.on_frames != FieldPath.parse(path).on_frames:
        raise FieldSchemaError(
            f"{path!r} cannot become {new_path!r}: a sample field stays a sample field, a frame field a frame field"
        )
    if not target.on_frames and target.name in RESERVED_FIELD_NAMES:
        raise FieldSchemaError(f"field name {target.name!r} is reserved for a sample property")
    if new_path in schema:
        raise FieldSchemaError(f"the dataset already has a field {new_path!r}")


class LabelStoreConflictError(AnnoflowError, RuntimeError):
    """Other writers kept changing the fields a batch touches between its reads and its writes (a store
    without transactions, FiftyOne's, compares each field before it writes it); applying the batch again
    finishes it."""
