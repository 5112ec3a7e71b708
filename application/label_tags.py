"""Label tags as FiftyOne's: ``tag_labels``, ``untag_labels`` and ``count_label_tags`` of a dataset
or a view, and the check of the tags ``match_labels(tags=...)`` takes.

A collection's labels are those it shows: a ``filter_labels`` view tags only the labels it kept, a
``select_fields`` view only the fields it shows. Labels are read as rows (`LabelStore.get_label_rows`:
the SQL stores build no label), and each edit is one atomic batch of ``PutLabel`` changes through the
port, holding only the labels whose tags change: all of them land, or none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from annoflow.application.ports.label_store import LabelRow
from annoflow.application.ports.mask_codec import decode_mask
from annoflow.domain.changes import PutLabel
from annoflow.domain.expressions import ExpressionError
from annoflow.domain.label_values import label_from_values
from annoflow.domain.labels import Label, label_tags

if TYPE_CHECKING:
    from annoflow.application.views import SampleCollection


def tag_list(tags: object, call: str) -> tuple[str, ...]:
    """A tag or an iterable of tags, as FiftyOne takes them, as a tuple of strings; anything else is
    refused naming ``call``."""
    if isinstance(tags, bytes) or not isinstance(tags, (str, Iterable)):  # None included
        raise ExpressionError(f"{call} takes a tag or a list of tags, got {tags!r}")
    try:
        return label_tags((tags,) if isinstance(tags, str) else tags)
    except TypeError as error:  # an item that is no string
        raise ExpressionError(f"{call}: {error}") from None


def label_field_list(
    collection: SampleCollection, label_fields: str | Iterable[str] | None, call: str
) -> tuple[str, ...]:
    """The label fields named (one or several), each checked to be a label field of the dataset; every
    label field (``frames.<name>`` for a video's) when None."""
    if label_fields is None:
        return tuple(path for path, kind in collection.store.field_schema().items() if kind.is_label)
    names = (label_fields,) if isinstance(label_fields, str) else tuple(label_fields)
    for name in names:
        collection._check_label_field(name, call)
    return names


def _rows(collection: SampleCollection, fields: tuple[str, ...]) -> Iterator[tuple[str, LabelRow]]:
    if not fields:
        return
    for sample in collection.reader.get_label_rows(collection.sample_ids, fields):
        for row in sample.rows:
            yield sample.id, row


def _tags_of(row: LabelRow) -> tuple[str, ...]:
    return tuple(row.values.get("tags", ()))


def _retagged(row: LabelRow, tags: tuple[str, ...]) -> Label:
    if row.built is not None:
        return row.built.replace(tags=tags)
    # the row's values come from a label the store validated, and the tags were checked: no need to
    # validate the label again
    return label_from_values(
        row.kind, row.label_id, {**row.values, "tags": tags}, None if row.mask is None else decode_mask(row.mask)
    )


def retag_changes(
    collection: SampleCollection, fields: tuple[str, ...], add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> list[PutLabel]:
    """The changes giving each label the collection shows in ``fields`` the tags ``add`` it lacks
    (after its own, in the order given) and none of ``remove``; labels left as they are make none."""
    dropped = set(remove)
    changes = []
    for sample_id, row in _rows(collection, fields):
        before = _tags_of(row)
        after = tuple(t for t in before if t not in dropped)
        after += tuple(t for t in dict.fromkeys(add) if t not in after)
        if after != before:
            changes.append(PutLabel(sample_id, row.field, _retagged(row, after), row.frame or None))
    return changes


def count_tags(collection: SampleCollection, fields: tuple[str, ...]) -> dict[str, int]:
    """How many of the labels the collection shows in ``fields`` hold each tag (a label holding a tag
    twice counts twice, as FiftyOne's count of the tags' values does), by tag."""
    counts = Counter(tag for _, row in _rows(collection, fields) for tag in _tags_of(row))
    return dict(sorted(counts.items()))
