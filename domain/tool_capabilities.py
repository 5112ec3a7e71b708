"""What an annotation tool's labels can draw and how its attributes read back: the capability table.

The domain follows an existing project's labels (`project_schema.adopt_project_labels`) without
knowing the tool's vocabulary: the backend adapter supplies this table through the
AnnotationBackend port (``AnnotationBackend.capabilities``), in the tool's own words.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs


class InputReading(enum.Enum):
    """How the values of an attribute of one of the tool's input types read back into the schema."""

    SELECT = "select"  # one of its values (free text when it has none)
    RADIO = "radio"  # as select
    CHECKBOX = "checkbox"  # a bool
    TEXT = "text"  # free text
    NUMERIC = "numeric"  # text read back as numbers: int when its values (min, max, step) are whole, else float


def _frozen_kinds(table: Mapping[str, frozenset[str] | set[str]]) -> Mapping[str, frozenset[str]]:
    return {label_type: frozenset(kinds) for label_type, kinds in table.items()}


def _readings(table: Mapping[str, InputReading | str]) -> Mapping[str, InputReading]:
    return {input_type: InputReading(reading) for input_type, reading in table.items()}


@attrs.frozen
class ToolCapabilities:
    """An annotation tool's capability table.

    ``object_kinds``: label type -> the kinds of object (the tool's words) a field of that label
    type takes back; a project label draws either one kind or any. ``input_types``: the tool's
    attribute input type -> how its values read back, in the order messages list them.
    """

    object_kinds: Mapping[str, frozenset[str]] = attrs.field(converter=_frozen_kinds)
    input_types: Mapping[str, InputReading] = attrs.field(converter=_readings)

    def takes(self, label_type: str, object_kind: str) -> bool:
        """Whether a field of this label type takes back an object of this kind."""
        return object_kind in self.object_kinds.get(label_type, frozenset())

    def draws_for(self, object_kind: str | None, label_type: str) -> bool:
        """Whether a label drawing this kind of object (None: any) can draw one a field of this label type takes."""
        return object_kind is None or self.takes(label_type, object_kind)

    def kinds_of(self, label_type: str) -> frozenset[str]:
        """The kinds of object a field of this label type takes back (none for a label type the tool lacks)."""
        return self.object_kinds.get(label_type, frozenset())
