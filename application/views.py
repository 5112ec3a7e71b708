"""Dataset views: the sample selections that the workflows of FiftyOne's CVAT guide annotate.

A view is a dataset plus a chain of stages (select, limit, skip, take, match,
exists, sort_by), evaluated against the label store when its samples are
needed. Stages read only the fields they look at, so a view over a large
dataset never loads labels nobody asked for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from annoflow.application.secrets import seal_credentials
from annoflow.domain.fields import FieldPath
from annoflow.domain.labels import LabelList, labels_in
from annoflow.domain.samples import Sample

if TYPE_CHECKING:
    from annoflow.application.ports.label_store import LabelStore


class Stage:
    """One step of a view: from the ids so far to the ids it keeps, in order."""

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        raise NotImplementedError


@attrs.frozen
class Select(Stage):
    ids: tuple[str, ...] = attrs.field(converter=tuple)
    ordered: bool = False

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        wanted = set(self.ids)
        if self.ordered:
            present = set(ids)
            return [i for i in dict.fromkeys(self.ids) if i in present]
        return [i for i in ids if i in wanted]


@attrs.frozen
class Limit(Stage):
    count: int

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        return ids[: max(self.count, 0)]


@attrs.frozen
class Skip(Stage):
    count: int

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        return ids[max(self.count, 0):]


@attrs.frozen
class Take(Stage):
    """A random subset of ``count`` samples; the same seed takes the same samples."""

    count: int
    seed: int | None = None

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        if self.count >= len(ids):
            chosen = list(ids)
        else:
            chosen = random.Random(self.seed).sample(ids, max(self.count, 0))
        random.Random(self.seed).shuffle(chosen)
        return chosen


@attrs.frozen(eq=False)
class Match(Stage):
    """Keep samples for which ``predicate(sample)`` is true; only ``fields`` are read."""

    predicate: Callable[[Sample], bool]
    fields: tuple[str, ...] | None = None

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        return [s.id for s in store.get_samples(ids, fields=self.fields) if self.predicate(s)]


def _field_value(sample: Sample, path: FieldPath) -> Any:
    if path.on_frames:
        return [frame[path.name] for frame in sample.frames.values() if frame.get(path.name) is not None]
    return sample.fields.get(path.name)


def _is_set(value: Any) -> bool:
    if isinstance(value, list):  # frame field values across frames
        return any(_is_set(v) for v in value)
    if isinstance(value, LabelList):
        return len(value) > 0
    return value is not None


@attrs.frozen
class Exists(Stage):
    """Samples whose field is set (non-empty for label lists), or unset with ``bool=False``."""

    field: str
    present: bool = True

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        path = FieldPath.parse(self.field)
        return [
            s.id for s in store.get_samples(ids, fields=[self.field])
            if _is_set(_field_value(s, path)) == self.present
        ]


@attrs.frozen(eq=False)
class SortBy(Stage):
    """Order by a field's value (label lists by their length) or by ``key(sample)``.

    Samples with no value sort last, whatever the direction, as FiftyOne does
    with missing values in descending sorts.
    """

    key: str | Callable[[Sample], Any]
    reverse: bool = False
    fields: tuple[str, ...] | None = None

    def apply(self, store: "LabelStore", ids: list[str]) -> list[str]:
        if callable(self.key):
            key_of: Callable[[Sample], Any] = self.key
            fields = self.fields
        else:
            path = FieldPath.parse(self.key)
            fields = (self.key,)

            def key_of(sample: Sample) -> Any:
                value = _field_value(sample, path)
                if isinstance(value, list):
                    return sum(len(labels_in(v)) for v in value)
                if isinstance(value, LabelList):
                    return len(value)
                return value

        keyed = [(key_of(s), s.id) for s in store.get_samples(ids, fields=fields)]
        present = [(k, i) for k, i in keyed if k is not None]
        missing = [i for k, i in keyed if k is None]
        present.sort(key=lambda pair: pair[0], reverse=self.reverse)
        return [i for _, i in present] + missing


class SampleCollection:
    """What datasets and views share: selection stages and sample access."""

    store: "LabelStore"
    stages: tuple[Stage, ...]

    def _with(self, stage: Stage) -> "DatasetView":
        raise NotImplementedError

    # --- stages -------------------------------------------------------------

    def select(self, sample_ids: str | Iterable[str], ordered: bool = False) -> "DatasetView":
        ids = (sample_ids,) if isinstance(sample_ids, str) else tuple(sample_ids)
        return self._with(Select(ids, ordered))

    def limit(self, count: int) -> "DatasetView":
        return self._with(Limit(int(count)))

    def skip(self, count: int) -> "DatasetView":
        return self._with(Skip(int(count)))

    def take(self, size: int, seed: int | None = None) -> "DatasetView":
        return self._with(Take(int(size), seed))

    def match(self, predicate: Callable[[Sample], bool], fields: Collection[str] | None = None) -> "DatasetView":
        return self._with(Match(predicate, None if fields is None else tuple(fields)))

    def exists(self, field: str, bool: bool = True) -> "DatasetView":  # noqa: A002 - FiftyOne's name
        return self._with(Exists(field, bool))

    def sort_by(
        self, key: str | Callable[[Sample], Any], reverse: bool = False, fields: Collection[str] | None = None
    ) -> "DatasetView":
        return self._with(SortBy(key, reverse, None if fields is None else tuple(fields)))

    # --- annotation ---------------------------------------------------------

    def annotate(self, anno_key: str, **kwargs: Any) -> Any:
        """Send these samples (and their labels) for annotation; see Annotator for the order of work."""
        kwargs = seal_credentials(kwargs)  # first: no frame holds a password in the clear
        return self._dataset_of().annotate_collection(self, anno_key, **kwargs)

    def load_annotations(self, anno_key: str, **kwargs: Any) -> Any:
        """Merge the run's annotations back, as FiftyOne's ``view.load_annotations(anno_key)``; see
        ``Dataset.load_annotations`` for the options. A load merges task by task, exactly once, so it
        updates every sample the run sent, whatever this view shows now."""
        kwargs = seal_credentials(kwargs)
        return self._dataset_of().load_annotations(anno_key, **kwargs)

    def _dataset_of(self) -> Any:
        raise NotImplementedError

    # --- access -------------------------------------------------------------

    @property
    def sample_ids(self) -> list[str]:
        ids = self.store.sample_ids()
        for stage in self.stages:
            ids = stage.apply(self.store, ids)
        return ids

    def iter_samples(self, fields: Collection[str] | None = None) -> Iterator[Sample]:
        return self.store.get_samples(self.sample_ids, fields=fields)

    def __iter__(self) -> Iterator[Sample]:
        return self.iter_samples()

    def __len__(self) -> int:
        return len(self.sample_ids)

    def first(self) -> Sample:
        ids = self.sample_ids[:1]
        if not ids:
            raise ValueError("the collection is empty")
        return next(self.store.get_samples(ids))

    def values(self, field: str) -> list[Any]:
        """The field's value on each sample (``id`` and ``filepath`` work too)."""
        if field in ("id", "filepath", "media_type"):
            return [getattr(s, field) for s in self.iter_samples(fields=())]
        path = FieldPath.parse(field)
        return [_field_value(s, path) for s in self.iter_samples(fields=[field])]


@attrs.frozen(eq=False)
class DatasetView(SampleCollection):
    """A dataset seen through stages; cheap to build, evaluated on use."""

    dataset: Any
    stages: tuple[Stage, ...] = ()

    @property
    def store(self) -> "LabelStore":  # type: ignore[override]
        return self.dataset.store

    def _with(self, stage: Stage) -> "DatasetView":
        return DatasetView(self.dataset, self.stages + (stage,))

    def _dataset_of(self) -> Any:
        return self.dataset

    def view_stages(self) -> Sequence[Stage]:
        return self.stages
