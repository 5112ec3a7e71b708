"""Dataset views: the sample selections that the workflows of FiftyOne's CVAT guide annotate.

A view is a dataset plus a chain of stages (select, limit, skip, take, match,
match_labels, exists, sort_by, filter_labels, select_fields, exclude_fields),
evaluated against the label store when its samples are needed. Stages read only
the fields they look at, so a view over a large dataset never loads labels nobody
asked for. Conditions are Python callables or ``F`` expressions
(``annoflow.domain.expressions``); the stages that change what a sample shows are
in ``label_stages``, and each stage reads samples as the stages before it show them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from annoflow.application.editing import EditableSample, editable, value_changes
from annoflow.application.evaluate import DetectionResults, EvaluationError, evaluate_detections
from annoflow.application.label_stages import (
    ExcludeFields,
    FilterLabels,
    MatchLabels,
    SelectFields,
    ShapingStage,
    Stage,
    ViewReader,
    label_ids,
)
from annoflow.application.label_tags import count_tags, label_field_list, retag_changes, tag_list
from annoflow.application.ports.annotation_backend import MAX_OBJECTS_PER_FRAME
from annoflow.application.progress import ProgressOption
from annoflow.application.secrets import seal_connection, seal_credentials
from annoflow.domain.expressions import (
    ExpressionError,
    F,
    Field,
    Op,
    ViewExpression,
    evaluate,
    fields_read,
    order_key,
    truthy,
)
from annoflow.domain.fields import LABEL_TYPE_OF_KIND, FieldKind, FieldPath
from annoflow.domain.labels import LabelList, labels_in
from annoflow.domain.samples import Sample

if TYPE_CHECKING:
    from annoflow.application.dataset import Dataset
    from annoflow.application.load import LoadReport
    from annoflow.application.ports.label_store import LabelStore
    from annoflow.application.results import AnnotationResults


def _check_expression(expr: object, stage: str) -> None:
    if not isinstance(expr, ViewExpression):
        raise ExpressionError(f"{stage}() takes an F expression as its filter, got {expr!r}")


# A video option given once for all videos, per video (round robin) or per media path.
FrameOption = int | Sequence[int] | Mapping[str, int] | None


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    """A converter a type checker reads (with ``converter=tuple`` the field takes "an iterable of _T_co")."""
    return tuple(values)


@attrs.frozen
class Select(Stage):
    ids: tuple[str, ...] = attrs.field(converter=_strings)
    ordered: bool = False

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        wanted = set(self.ids)
        if self.ordered:
            present = set(ids)
            return [i for i in dict.fromkeys(self.ids) if i in present]
        return [i for i in ids if i in wanted]


@attrs.frozen
class Limit(Stage):
    count: int

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        return ids[: max(self.count, 0)]


@attrs.frozen
class Skip(Stage):
    count: int

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        return ids[max(self.count, 0) :]


@attrs.frozen
class Take(Stage):
    """A random subset of ``count`` samples; the same seed takes the same samples."""

    count: int
    seed: int | None = None

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        chosen = list(ids) if self.count >= len(ids) else random.Random(self.seed).sample(ids, max(self.count, 0))
        random.Random(self.seed).shuffle(chosen)
        return chosen


@attrs.frozen(eq=False)
class Match(Stage):
    """Keep samples for which ``predicate(sample)`` is true; only ``fields`` are read. An ``F``
    expression reads the fields it names."""

    predicate: Callable[[Sample], bool] | ViewExpression
    fields: tuple[str, ...] | None = None

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        if isinstance(self.predicate, ViewExpression):
            expr = self.predicate
            fields = (
                self.fields if self.fields is not None else tuple(sorted(fields_read(expr, relative_to_sample=True)))
            )
            return [s.id for s in store.get_samples(ids, fields=fields) if truthy(evaluate(expr, s))]
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

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        path = FieldPath.parse(self.field)
        return [
            s.id for s in store.get_samples(ids, fields=[self.field]) if _is_set(_field_value(s, path)) == self.present
        ]


@attrs.frozen(eq=False)
class SortBy(Stage):
    """Order by a field's value (label lists by their length), by ``key(sample)`` or by an ``F``
    expression's value (values of different types in MongoDB's order, as FiftyOne's).

    Samples with no value sort last, whatever the direction, as FiftyOne does
    with missing values in descending sorts.
    """

    key: str | Callable[[Sample], Any] | ViewExpression
    reverse: bool = False
    fields: tuple[str, ...] | None = None

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        key_of, fields = self._sort_key()
        counted = _counted_keys(self, store, ids) if self.fields is None else None
        if counted is None:
            keyed = [(key_of(s), s.id) for s in store.get_samples(ids, fields=fields)]
        else:  # the store counted the labels; only samples it could not decide are read
            keys, unsure = counted
            if unsure:
                keys.update((s.id, key_of(s)) for s in store.get_samples(unsure, fields=fields))
            keyed = [(keys[i], i) for i in ids]
        present = [(k, i) for k, i in keyed if k is not None]
        missing = [i for k, i in keyed if k is None]
        present.sort(key=lambda pair: pair[0], reverse=self.reverse)
        return [i for _, i in present] + missing

    def _sort_key(self) -> tuple[Callable[[Sample], Any], tuple[str, ...] | None]:
        """A sample's sort key (None: no value), and the fields it reads (None: all)."""
        if isinstance(self.key, ViewExpression):
            expr = self.key
            fields = (
                self.fields if self.fields is not None else tuple(sorted(fields_read(expr, relative_to_sample=True)))
            )
            return _expression_key(expr), fields
        if callable(self.key):
            return self.key, self.fields
        return _field_key(FieldPath.parse(self.key)), (self.key,)


def _expression_key(expr: ViewExpression) -> Callable[[Sample], Any]:
    def key_of(sample: Sample) -> Any:
        value = evaluate(expr, sample)
        return None if value is None else order_key(value)

    return key_of


def _field_key(path: FieldPath) -> Callable[[Sample], Any]:
    """A field's value; a label list's length (a frame field's: its labels over all frames)."""

    def key_of(sample: Sample) -> Any:
        value = _field_value(sample, path)
        if isinstance(value, list):
            return sum(len(labels_in(v)) for v in value)
        if isinstance(value, LabelList):
            return len(value)
        return value

    return key_of


def _label_list_key(key: object, schema: Mapping[str, FieldKind]) -> tuple[str, bool] | None:
    """(the sample label list field, whether an unset field has no value) when ``key`` orders by
    that list's length: ``F("<field>.<list>").length()`` (an unset field's length is 0) or the
    field's name (an unset field has no value); else None."""
    if isinstance(key, Op) and key.name == "length" and isinstance(target := key.args[0], Field):
        parts = target.parts
        if target.from_root or len(parts) != 2:
            return None
        kind = schema.get(parts[0])
        if kind is None or not kind.is_list or parts[1] != attrs.fields(LABEL_TYPE_OF_KIND[kind])[0].name:
            return None
        return parts[0], False
    if isinstance(key, str):
        kind = schema.get(key)
        if kind is None or not kind.is_list or FieldPath.parse(key).on_frames:
            return None
        return key, True
    return None


def _counted_keys(stage: SortBy, reader: object, ids: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    """The sort keys of the samples the store counted the labels of (no sample built), and the ids it
    could not decide; None when the key is not a label list's length or the store cannot count
    the labels as the view shows them."""
    if not isinstance(reader, ViewReader):
        return None
    found = _label_list_key(stage.key, reader.store.field_schema())
    if found is None:
        return None
    field, unset_is_missing = found
    counts = reader.count_labels(ids, field)
    if counts is None:
        return None
    decided = [i for i in ids if i not in counts.unsure]
    keys: dict[str, Any]  # a count, None (no value) or a count's order key
    if unset_is_missing:
        keys = {i: counts.counts.get(i) for i in decided}
    else:  # the Python path's key: the value's order key
        keys = {i: order_key(counts.counts.get(i, 0)) for i in decided}
    return keys, [i for i in ids if i in counts.unsure]


def _ranked_by_count(store: LabelStore, stages: Sequence[Stage], limit: int | None) -> list[str] | None:
    """The ids of ``filter_labels(field, filter).sort_by(<field's length>)`` at the start of a view,
    as the store decides them in one go (filter, count and order shared; the first ``limit`` only);
    None when the view does not start so or the store cannot."""
    if len(stages) < 2:
        return None
    filtering, sorting = stages[0], stages[1]
    if not (
        isinstance(filtering, FilterLabels)
        and filtering.only_matches
        and isinstance(sorting, SortBy)
        and sorting.fields is None
    ):
        return None
    found = _label_list_key(sorting.key, store.field_schema())
    if found is None or found[0] != filtering.field:
        return None  # with only_matches every sample kept has a label: an unset field never shows
    ranked = getattr(store, "samples_by_label_count", None)
    return None if ranked is None else ranked(filtering.field, filtering.filter, sorting.reverse, limit)


def _named_labels(
    labels: Iterable[Mapping[str, Any]], ids: str | Iterable[str] | None, fields: str | Iterable[str] | None
) -> tuple[list[str], str | Iterable[str]]:
    """match_labels(labels=...) in FiftyOne's form, dicts naming each label's sample_id, field and
    label_id: the ids with theirs, and the fields (theirs, unless ``fields`` names some)."""
    try:
        given = [(str(d["field"]), str(d["label_id"])) for d in labels]
    except (KeyError, TypeError):
        raise ExpressionError(
            "match_labels(labels=...) takes dicts with 'field' and 'label_id' (and 'sample_id'), as FiftyOne's"
        ) from None
    all_ids = [*(label_ids(ids) or ()), *(label_id for _, label_id in given)]
    return all_ids, fields if fields is not None else sorted({field for field, _ in given})


def _label_filter(filter: ViewExpression | None, tags: str | Iterable[str] | None) -> ViewExpression | None:  # noqa: A002
    """match_labels' filter: as FiftyOne's, the label's tags hold one of ``tags``, and ``filter`` holds."""
    if filter is not None:
        _check_expression(filter, "match_labels")
    if tags is None:
        return filter
    with_tags = F("tags").contains(list(tag_list(tags, "match_labels(tags=...)")))
    return with_tags if filter is None else with_tags & filter


class SampleCollection:
    """What datasets and views share: selection stages and sample access."""

    store: LabelStore
    stages: tuple[Stage, ...]

    def _with(self, stage: Stage) -> DatasetView:
        raise NotImplementedError

    # --- stages -------------------------------------------------------------

    def select(self, sample_ids: str | Iterable[str], ordered: bool = False) -> DatasetView:
        """Only the samples with these ids, as FiftyOne's ``select``.

        Args:
            sample_ids: a sample id or a list of them.
            ordered: in the order given, instead of the collection's.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        ids = (sample_ids,) if isinstance(sample_ids, str) else tuple(sample_ids)
        return self._with(Select(ids, ordered))

    def limit(self, count: int) -> DatasetView:
        """The first ``count`` samples.

        Args:
            count: how many samples at most.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(Limit(int(count)))

    def skip(self, count: int) -> DatasetView:
        """Every sample but the first ``count``.

        Args:
            count: how many samples to leave out.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(Skip(int(count)))

    def take(self, size: int, seed: int | None = None) -> DatasetView:
        """``size`` random samples; without a seed one is drawn now, so the view shows the same samples
        each time it is read (as FiftyOne's ``take``: edit them, then annotate the same ones).

        Args:
            size: how many samples (all of them when the collection holds fewer).
            seed: the random seed; None draws one now.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(Take(int(size), seed if seed is not None else random.randrange(2**32)))

    def match(
        self,
        filter: Callable[[Sample], bool] | ViewExpression,  # noqa: A002 - FiftyOne's name
        fields: Collection[str] | None = None,
    ) -> DatasetView:
        """Samples for which ``filter`` is true: an ``F`` expression over the sample
        (``F("predictions.detections").length() > 2``) or a callable taking the sample (which
        reads only ``fields`` when given).

        Args:
            filter: an ``F`` expression, or a callable taking a sample and returning a bool.
            fields: the fields a callable reads (default: all of them); an expression reads its own.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(Match(filter, None if fields is None else tuple(fields)))

    def filter_labels(
        self,
        field: str,
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
        only_matches: bool = True,
    ) -> DatasetView:
        """Only the labels of ``field`` for which ``filter`` is true, as FiftyOne's ``filter_labels``:
        paths in ``filter`` are the label's (``F("confidence") > 0.8``, ``F("eval") == "fp"``),
        ``F("$name")`` the sample's. With ``only_matches``, only samples left with a label.
        Annotating the view uploads only those labels; a load leaves the others as they are.

        Args:
            field: a label field (``frames.<name>`` for a video's).
            filter: an ``F`` expression over the label.
            only_matches: keep only the samples left with a label.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).

        Raises:
            ExpressionError: a filter that is not an ``F`` expression, or a field that holds no labels.
        """
        _check_expression(filter, "filter_labels")
        self._check_label_field(field, "filter_labels")
        return self._with(FilterLabels(field, filter, bool(only_matches)))

    def match_labels(
        self,
        labels: Iterable[Mapping[str, Any]] | None = None,
        ids: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        filter: ViewExpression | None = None,  # noqa: A002 - FiftyOne's name
        fields: str | Iterable[str] | None = None,
        bool: bool = True,  # noqa: A002 - FiftyOne's name
    ) -> DatasetView:
        """Samples with a label (of ``fields``, else of every label field) that matches every
        criterion given (``ids``; ``tags``, a tag or a list: labels with any of them; ``filter``), as
        FiftyOne's ``match_labels``; with ``bool=False``, samples with none. Labels are not
        filtered: see ``filter_labels``.

        Args:
            labels: FiftyOne's form: dicts naming each label's ``sample_id``, ``field`` and ``label_id``
                (their fields are searched unless ``fields`` names some).
            ids: a label id or a list of them.
            tags: a tag or a list of tags: labels with any of them.
            filter: an ``F`` expression over the label.
            fields: a label field or a list of them; default: every label field.
            bool: False keeps the samples with no such label instead.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).

        Raises:
            ExpressionError: labels not in FiftyOne's form, a bad tag, a filter that is not an ``F``
                expression, or a field that holds no labels.
        """
        if labels is not None:
            ids, fields = _named_labels(labels, ids, fields)
        label_filter = _label_filter(filter, tags)
        names = (
            (fields,)
            if isinstance(fields, str)
            else tuple(fields)
            if fields is not None
            else tuple(path for path, kind in self.store.field_schema().items() if kind.is_label)
        )
        for name in names:
            self._check_label_field(name, "match_labels")
        return self._with(MatchLabels(names, label_filter, label_ids(ids), bool))

    # --- label tags ---------------------------------------------------------

    def tag_labels(self, tags: str | Iterable[str], label_fields: str | Iterable[str] | None = None) -> None:
        """Add the tag(s) to every label this collection shows that lacks them, as FiftyOne's
        ``tag_labels``, in one atomic batch (a ``filter_labels`` view tags only the labels it kept).
        Label tags are annoflow's own: they never go to an annotation tool, and a load keeps them.

        Args:
            tags: a tag or a list of tags.
            label_fields: a label field or a list of them (``frames.<name>`` for a video's);
                default: every label field.

        Raises:
            ExpressionError: a tag that is not a string, or a field that holds no labels.
        """
        tags = tag_list(tags, "tag_labels()")
        fields = label_field_list(self, label_fields, "tag_labels")
        self.store.apply(retag_changes(self, fields, add=tags))

    def untag_labels(self, tags: str | Iterable[str], label_fields: str | Iterable[str] | None = None) -> None:
        """Remove the tag(s) from every label this collection shows, as FiftyOne's ``untag_labels``,
        in one atomic batch.

        Args:
            tags: a tag or a list of tags.
            label_fields: a label field or a list of them; default: every label field.

        Raises:
            ExpressionError: a tag that is not a string, or a field that holds no labels.
        """
        tags = tag_list(tags, "untag_labels()")
        fields = label_field_list(self, label_fields, "untag_labels")
        self.store.apply(retag_changes(self, fields, remove=tags))

    def count_label_tags(self, label_fields: str | Iterable[str] | None = None) -> dict[str, int]:
        """How many labels this collection shows hold each tag, as FiftyOne's ``count_label_tags``.

        Args:
            label_fields: a label field or a list of them; default: every label field.

        Returns:
            Tag -> count, by tag (labels without tags count nowhere).
        """
        return count_tags(self, label_field_list(self, label_fields, "count_label_tags"))

    def select_fields(self, field_names: str | Iterable[str] | None = None) -> DatasetView:
        """Only these fields show (the sample's id, filepath, metadata and tags always do).

        Args:
            field_names: a field or a list of them; None shows none but those always shown.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        names = () if field_names is None else (field_names,) if isinstance(field_names, str) else tuple(field_names)
        return self._with(SelectFields(names))

    def exclude_fields(self, field_names: str | Iterable[str]) -> DatasetView:
        """Every field but these shows.

        Args:
            field_names: a field or a list of them.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        names = (field_names,) if isinstance(field_names, str) else tuple(field_names)
        return self._with(ExcludeFields(names))

    def _check_label_field(self, field: str, stage: str) -> None:
        kind = self.store.field_schema().get(field)
        if kind is None:
            raise ExpressionError(f"{stage}(): the dataset has no field {field!r}")
        if not kind.is_label:
            raise ExpressionError(f"{stage}(): field {field!r} holds {kind.value} values, not labels")

    def exists(self, field: str, bool: bool = True) -> DatasetView:  # noqa: A002 - FiftyOne's name
        """Samples whose ``field`` holds a value (an empty label list holds none), as FiftyOne's ``exists``.

        Args:
            field: a field of the samples.
            bool: False keeps the samples without a value instead.

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(Exists(field, bool))

    def sort_by(
        self,
        key: str | Callable[[Sample], Any] | ViewExpression,
        reverse: bool = False,
        fields: Collection[str] | None = None,
    ) -> DatasetView:
        """Samples ordered by a field (a label list by its length), an ``F`` expression
        (``F("predictions.detections").length()``) or a callable; samples without a value last.

        Args:
            key: a field's name, an ``F`` expression over the sample, or a callable taking a sample.
            reverse: in descending order (samples without a value still last).
            fields: the fields ``key`` reads (default: a field's own, an expression's, or all for a callable).

        Returns:
            A view of this collection with the stage added (this collection is unchanged).
        """
        return self._with(SortBy(key, reverse, None if fields is None else tuple(fields)))

    # --- evaluation ---------------------------------------------------------

    def evaluate_detections(
        self,
        pred_field: str,
        gt_field: str = "ground_truth",
        eval_key: str | None = "eval",
        iou: float = 0.5,
        classwise: bool = True,
        compute_mAP: bool = False,  # noqa: N803 - FiftyOne's name
        method: str = "coco",
    ) -> DetectionResults:
        """Match ``pred_field``'s detections to ``gt_field``'s, COCO style, as FiftyOne's
        ``evaluate_detections`` (FiftyOne's CVAT guide, "Basic recipe").

        Predictions in decreasing confidence each take the best unmatched ground truth object at
        IoU >= ``iou`` (of the same class when ``classwise``); an object with ``iscrowd`` set may
        take several. With an ``eval_key``, each label gets ``eval`` ("tp"/"fp"/"fn"),
        ``eval_id`` and ``eval_iou`` attributes and each sample ``eval_tp``/``eval_fp``/``eval_fn``
        counts (named after the key), written in one batch; running it again overwrites them.

        Args:
            pred_field: the detections field of predictions.
            gt_field: the detections field of ground truth.
            eval_key: the name the outcome is written under (None: write nothing).
            iou: the IoU a match needs.
            classwise: whether only objects of the same class match.
            compute_mAP: whether to compute COCO's mAP (``results.mAP()``).
            method: the evaluation method; only ``"coco"``.

        Returns:
            The results: ``print_report()``, ``report()``, ``mAP()``.

        Raises:
            EvaluationError: a field that holds no detections, a bad key, iou or method.
        """
        if method != "coco":
            raise EvaluationError(f"evaluate_detections(): method {method!r} is not supported; use 'coco'")
        return evaluate_detections(self, pred_field, gt_field, eval_key, iou, classwise, compute_mAP)

    # --- export -------------------------------------------------------------

    def export(
        self,
        export_dir: str | None = None,
        dataset_type: Any = None,
        *,
        labels_path: str | None = None,
        label_field: str | Sequence[str] | None = None,
        **options: Any,
    ) -> str:
        """Write these samples' labels in a label format, as FiftyOne's ``export()``: ``dataset_type``
        ``"coco"`` (a JSON file: ``labels_path``, or ``export_dir/labels.json``; ``data_path=`` the
        folder file names are relative to, ``classes=``) or ``"yolo"`` (a folder ``export_dir`` with
        ``data.yaml``, ``images/`` and ``labels/``; ``export_media="symlink"|"copy"|False``,
        ``split=``, ``classes=``). ``label_field`` defaults to the dataset's only detections or
        polylines field. Media are not moved.

        Args:
            export_dir: the folder written (YOLO), or where ``labels.json`` goes (COCO).
            dataset_type: the format: ``"coco"`` or ``"yolo"``.
            labels_path: the COCO JSON file's path, instead of ``export_dir/labels.json``.
            label_field: the field exported (default: the dataset's only detections or polylines field); the
                CVAT XML formats take several (default: every label field).
            **options: the format's own options (``data_path``, ``classes``, ``export_media``, ``split``).

        Returns:
            The path written.

        Raises:
            TypeError: no ``dataset_type``, or neither ``export_dir`` nor ``labels_path``.
            DataExportError: a format annoflow does not write, or labels it cannot hold; nothing was written.
        """
        path = labels_path if labels_path is not None else export_dir
        if path is None or dataset_type is None:
            raise TypeError("export() needs dataset_type and export_dir (or labels_path)")
        return self._dataset_of().export_collection(self, path, dataset_type, label_field, **options)

    # --- annotation ---------------------------------------------------------

    def annotate(
        self,
        anno_key: str,
        backend: str | None = None,
        label_schema: Mapping[str, Any] | None = None,
        label_field: str | None = None,
        label_type: str | None = None,
        classes: Sequence[Any] | None = None,
        attributes: bool | Sequence[str] | Mapping[str, Any] = True,
        mask_targets: Mapping[int, str] | None = None,
        allow_additions: bool = True,
        allow_deletions: bool = True,
        allow_label_edits: bool = True,
        allow_index_edits: bool = True,
        allow_spatial_edits: bool = True,
        media_field: str = "filepath",
        launch_editor: bool = False,
        *,
        progress: ProgressOption = None,
        resume: bool = False,
        task_size: int | None = None,
        segment_size: int | None = None,
        image_quality: int | None = None,
        use_cache: bool | None = None,
        use_zip_chunks: bool | None = None,
        chunk_size: int | None = None,
        task_assignee: str | Sequence[str] | None = None,
        job_assignees: Sequence[str] | None = None,
        job_reviewers: Sequence[str] | None = None,
        project_name: str | None = None,
        project_id: int | None = None,
        task_name: str | None = None,
        occluded_attr: str | None = None,
        group_id_attr: str | None = None,
        issue_tracker: str | Sequence[str] | None = None,
        organization: str | None = None,
        frame_start: FrameOption = None,
        frame_stop: FrameOption = None,
        frame_step: FrameOption = None,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AnnotationResults:
        """Send these samples (and their labels) for annotation, as FiftyOne's ``annotate()`` does.

        Everything is checked before anything is sent (schema, task plan, backend options, media);
        the run is recorded before the first request, and each task as soon as it exists, so an
        interrupted call leaves a run that ``resume=True`` finishes or ``cleanup()`` removes
        (see ``annoflow.application.annotate`` for the order of work). The parameters are those of
        FiftyOne's CVAT guide ("Requesting annotations"); the CVAT-specific ones are passed to the
        backend only when given, so ``None`` means the backend's default.

        Args:
            anno_key: a key for the run, unique within the dataset (letters, digits, ``_``, ``-``).
            backend: the annotation backend (default: the dataset's, ``"cvat"``).
            label_schema: field name -> field spec (``type``, ``classes``, ``attributes``,
                ``mask_targets``, ``allow_*``); takes precedence over ``label_field`` and
                ``label_type``.
            label_field: a new or existing label field to annotate.
            label_type: the type of a new field: ``"classification"``, ``"classifications"``,
                ``"detections"``, ``"instances"``, ``"polylines"``, ``"polygons"``,
                ``"keypoints"``, ``"segmentation"`` or ``"scalar"``.
            classes: the class options of ``label_field``, or of every field of ``label_schema``
                without its own; an existing field's observed classes when not given.
            attributes: the label attributes to annotate: True (all of them), False (none), a
                list of names, or name -> ``{"type", "values", "default"}``.
            mask_targets: pixel value -> class name, for a segmentation field.
            allow_additions: whether annotators may add labels to existing fields.
            allow_deletions: whether annotators may delete existing labels.
            allow_label_edits: whether annotators may change an existing label's class.
            allow_index_edits: whether annotators may change an existing video track's index.
            allow_spatial_edits: whether annotators may move or reshape existing labels.
            media_field: the sample field holding the path of the media to upload.
            launch_editor: whether to open the first task in the browser once uploaded.
            progress: whether to show a progress bar per task and stage (uploading media,
                uploading labels) on stderr: True, False, or None (when stderr is a terminal);
                a ``Progress`` reports to it instead.
            resume: finish this run's interrupted upload instead of starting a run (annoflow's).
            task_size: the most images per task (default: one task); videos go one per task.
            segment_size: the most images per job (images only; CVAT's default).
            image_quality: the image quality CVAT keeps, in [0, 100] (CVAT: 75).
            use_cache: whether CVAT prepares chunks on the fly when asked (CVAT: True).
            use_zip_chunks: whether video frames go up in ZIP chunks (CVAT: True).
            chunk_size: frames per chunk (CVAT's default).
            task_assignee: the username assigned each task, or a list taken round robin.
            job_assignees: usernames assigned the jobs, round robin.
            job_reviewers: usernames to review the jobs; a CVAT 1 option that CVAT 2 servers
                ignore (a ``UserWarning`` says so).
            project_name: the CVAT project to upload to; made, with the run's classes, when no
                project has this name.
            project_id: the id of an existing CVAT project to upload to.
            task_name: the tasks' name (default: ``annoflow_<dataset>_<fields>``, numbered).
            occluded_attr: an attribute holding (and receiving) CVAT's occluded flag.
            group_id_attr: an attribute holding (and receiving) CVAT's group ids.
            issue_tracker: an issue tracker URL for the tasks, or a list taken round robin.
            organization: the CVAT organization to send requests in.
            frame_start: the first frame of each video: an int, a list (one per video, round
                robin) or a dict of media path -> int.
            frame_stop: the last frame of each video, in the same forms.
            frame_step: the step between uploaded video frames, in the same forms.
            url: CVAT's address (else ``FIFTYONE_CVAT_URL``/``ANNOFLOW_CVAT_URL``, a config file,
                or ``https://app.cvat.ai``).
            username: the CVAT user (else the environment, a config file, or a terminal prompt).
            password: the user's password (never recorded, logged or shown).
            email: the user's email, instead of the username.
            headers: extra HTTP headers for every request (their values are never shown).
            **kwargs: options of another annotation backend, passed to it as they are; a name
                the backend does not know is refused. The CVAT backend also takes the request
                bounds (``connect_timeout``, ``read_timeout``, ``request_deadline``) and
                ``pause_gc`` (default True): whether Python's cyclic collector is paused while a
                task's objects are built, which is faster but process-wide (the caller's other
                threads run without it meanwhile); never recorded.

        Returns:
            The run's results: task, job and project ids, status, cleanup.

        Raises:
            RunError: the key is taken (or, with ``resume``, there is nothing to resume).
            LabelSchemaError: the schema cannot work; every problem is listed.
            TaskPlanError: the task options cannot work; every problem is listed.
            BackendConfigError: backend options that cannot work, or no credentials.
            MediaNotFoundError: media files that do not exist.
            ProjectNotFoundError: ``project_id`` names no project the user can see.
            CVATError: CVAT refused a request or could not be reached.
        """
        url, password, headers = seal_connection(url, password, headers)  # first: no frame holds one in the clear
        kwargs = seal_credentials(kwargs)
        schema = {
            "label_schema": label_schema,
            "label_field": label_field,
            "label_type": label_type,
            "classes": classes,
            "attributes": attributes,
            "mask_targets": mask_targets,
            "allow_additions": allow_additions,
            "allow_deletions": allow_deletions,
            "allow_label_edits": allow_label_edits,
            "allow_index_edits": allow_index_edits,
            "allow_spatial_edits": allow_spatial_edits,
            "occluded_attr": occluded_attr,
            "group_id_attr": group_id_attr,
        }
        # Given only: the task plan records what was asked, and a backend refuses names it does not know.
        optional = {
            "task_size": task_size,
            "task_name": task_name,
            "task_assignee": task_assignee,
            "issue_tracker": issue_tracker,
            "frame_start": frame_start,
            "frame_stop": frame_stop,
            "frame_step": frame_step,
            "segment_size": segment_size,
            "image_quality": image_quality,
            "use_cache": use_cache,
            "use_zip_chunks": use_zip_chunks,
            "chunk_size": chunk_size,
            "job_assignees": job_assignees,
            "job_reviewers": job_reviewers,
            "project_name": project_name,
            "project_id": project_id,
            "organization": organization,
            "url": url,
            "username": username,
            "password": password,
            "email": email,
            "headers": headers,
        }
        options = {
            "media_field": media_field,
            "launch_editor": launch_editor,
            "resume": resume,
            **schema,
            **{name: value for name, value in optional.items() if value is not None},
            **kwargs,
        }
        return self._dataset_of().annotate_collection(self, anno_key, backend, options, progress)

    def load_annotations(
        self,
        anno_key: str,
        dest_field: str | Mapping[str, str] | None = None,
        unexpected: str = "prompt",
        cleanup: bool = False,
        progress: ProgressOption = None,
        *,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
        job_stage: str | None = None,
        job_state: str | None = None,
        recheck: bool = False,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> LoadReport:
        """Merge the run's annotations back, as FiftyOne's ``view.load_annotations(anno_key)``.

        A load merges task by task, exactly once, so it updates every sample the run sent,
        whatever this view shows now.

        Args:
            anno_key: the run's key.
            dest_field: where the labels go instead of the run's fields (see ``Dataset.load_annotations``).
            unexpected: labels made outside the run's schema: ``"prompt"``, ``"ignore"``, ``"keep"`` or
                ``"return"``.
            cleanup: whether to delete the run's tasks (and the projects it made) after loading.
            progress: whether to show a progress bar: True, False, None (when stderr is a terminal) or
                a ``Progress``.
            max_objects_per_frame: objects past it on a frame are refused, not read (default 10,000).
            job_stage: merge only the jobs in this stage; a later load merges the rest, exactly once.
            job_state: merge only the jobs in this state, likewise.
            recheck: download every task, even one whose revision stamp is its last merged download's.
            url: the server's address (default: the one recorded at annotate()).
            username: the user (else the environment, a config file, or a terminal prompt).
            password: the user's password (never recorded, logged or shown).
            email: the user's email, instead of the username.
            headers: extra HTTP headers for every request.
            **kwargs: other backend options, as annotate() takes them.

        Returns:
            What the load merged, refused and left, as ``Dataset.load_annotations``.

        Raises:
            As ``Dataset.load_annotations``.
        """
        url, password, headers = seal_connection(url, password, headers)  # first: no frame holds one in the clear
        kwargs = seal_credentials(kwargs)
        return self._dataset_of().load_annotations(
            anno_key,
            dest_field=dest_field,
            unexpected=unexpected,
            cleanup=cleanup,
            progress=progress,
            max_objects_per_frame=max_objects_per_frame,
            job_stage=job_stage,
            job_state=job_state,
            recheck=recheck,
            url=url,
            username=username,
            password=password,
            email=email,
            headers=headers,
            **kwargs,
        )

    def _dataset_of(self) -> Dataset:
        raise NotImplementedError

    # --- access -------------------------------------------------------------

    @property
    def sample_ids(self) -> list[str]:
        return self._ids()

    def _ids(self, limit: int | None = None) -> list[str]:
        """The ids the view shows, in order; at least the first ``limit`` of them when given."""
        stages = self.stages
        fused = _ranked_by_count(self.store, stages, limit if len(stages) == 2 else None)
        if fused is None:
            ids = self.store.sample_ids()
            shaping: tuple[ShapingStage, ...] = ()
        else:  # the store filtered, counted and ordered in one go: the stages after them run on
            # _ranked_by_count fuses only a view that starts with filter_labels
            ids, shaping, stages = fused, (cast(FilterLabels, stages[0]),), stages[2:]
        for stage in stages:
            ids = stage.apply(ViewReader(self.store, shaping), ids)
            if isinstance(stage, ShapingStage):
                shaping += (stage,)
        return ids

    @property
    def reader(self) -> ViewReader:
        """Reads samples as this collection shows them (filtered labels, selected fields)."""
        return ViewReader(self.store, tuple(s for s in self.stages if isinstance(s, ShapingStage)))

    def iter_samples(self, fields: Collection[str] | None = None) -> Iterator[Sample]:
        """The samples as this collection shows them, as frozen `Sample`s, read lazily.

        Args:
            fields: the fields read (default: every field the collection shows).

        Returns:
            The samples, in the collection's order.
        """
        return self.reader.get_samples(self.sample_ids, fields=fields)

    def __iter__(self) -> Iterator[EditableSample]:
        """The samples as FiftyOne hands them out: ``sample[field] = value; sample.save()`` writes a field."""
        return editable(self.iter_samples(), self.store)

    def __len__(self) -> int:
        return len(self.sample_ids)

    def first(self) -> EditableSample:
        """The collection's first sample, as FiftyOne's ``first()``: set its fields, then ``save()``.

        Returns:
            The sample, editable.

        Raises:
            ValueError: the collection is empty.
        """
        ids = self._ids(limit=1)[:1]
        if not ids:
            raise ValueError("the collection is empty")
        return EditableSample(next(self.reader.get_samples(ids)), self.store)

    def __getitem__(self, sample_id: str) -> EditableSample:
        """The sample with this id, if this collection shows it."""
        if not isinstance(sample_id, str):
            raise TypeError(f"samples are looked up by id, got {sample_id!r}")
        if sample_id not in set(self.sample_ids):
            raise KeyError(f"no sample {sample_id!r} in this collection")
        return EditableSample(next(self.reader.get_samples([sample_id])), self.store)

    # --- editing ------------------------------------------------------------

    def set_values(self, field: str, values: Sequence[Any] | Mapping[str, Any]) -> None:
        """Set ``field`` on every sample of this collection in one atomic batch, as FiftyOne's
        ``set_values``: ``values`` in the collection's order, or sample id -> value; None clears a
        sample's value. A frame field (``frames.<name>``) takes frame number -> value per sample.

        Args:
            field: the field set (``frames.<name>`` for a video's frame field).
            values: one value per sample in the collection's order, or sample id -> value.

        Raises:
            ValueError: as many values as samples, or a frame field's values not per frame.
            KeyError: a sample id the collection does not show.
            FieldSchemaError: a sample property (``id``, ``filepath``...), or a value that does not fit the field.
        """
        self.store.apply(value_changes(field, self.sample_ids, values))

    def clone(self, name: str | None = None) -> Dataset:
        """A new dataset holding these samples as this collection shows them (new sample ids, the same
        label ids and media), written in one batch, as FiftyOne's ``clone()``. Annotation runs are
        not copied: they belong to the dataset they were made on.

        Args:
            name: the new dataset's name (default: this dataset's name with a free ``_<n>`` suffix).

        Returns:
            The new dataset.

        Raises:
            ValueError: a name whose dataset already holds samples or fields.
        """
        return self._dataset_of().clone_collection(self, name)

    def values(self, field: str) -> list[Any]:
        """The field's value on each sample (``id`` and ``filepath`` work too); a path into labels
        (``"predictions.detections.label"``, ``"ground_truth.detections.confidence"``) gives each
        sample's list of those values, as FiftyOne's ``values``.

        Args:
            field: a field, ``id``, ``filepath``, ``media_type``, or a path into a field's labels.

        Returns:
            One value per sample, in the collection's order: None where the field is unset; for a frame
            field, the list of its frames' values.
        """
        if field in ("id", "filepath", "media_type"):
            return [getattr(s, field) for s in self.iter_samples(fields=())]
        head, _, rest = field.removeprefix("frames.").partition(".")
        if rest:  # a path into a field's value, resolved as an F expression would
            stored = f"frames.{head}" if field.startswith("frames.") else head
            expr = F(field)
            return [evaluate(expr, s) for s in self.iter_samples(fields=[stored])]
        path = FieldPath.parse(field)
        return [_field_value(s, path) for s in self.iter_samples(fields=[field])]


# The runs a view's dataset holds, managed from the view as FiftyOne offers it on every collection.
RUN_MANAGEMENT = (
    "list_annotation_runs",
    "has_annotation_run",
    "get_annotation_info",
    "load_annotation_results",
    "load_annotation_view",
    "rename_annotation_run",
    "delete_annotation_run",
    "delete_annotation_runs",
    "list_evaluations",
    "get_evaluation_info",
    "delete_evaluation",
    "delete_evaluations",
)


def _on_the_dataset(name: str) -> Callable[..., Any]:
    def method(self: DatasetView, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.dataset, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name  # the dataset's signature and docstring are copied onto it
    return method


@attrs.frozen(eq=False)
class DatasetView(SampleCollection):
    """A dataset seen through stages; cheap to build, evaluated on use."""

    dataset: Dataset
    stages: tuple[Stage, ...] = ()

    list_annotation_runs = _on_the_dataset("list_annotation_runs")
    has_annotation_run = _on_the_dataset("has_annotation_run")
    get_annotation_info = _on_the_dataset("get_annotation_info")
    load_annotation_results = _on_the_dataset("load_annotation_results")
    load_annotation_view = _on_the_dataset("load_annotation_view")
    rename_annotation_run = _on_the_dataset("rename_annotation_run")
    delete_annotation_run = _on_the_dataset("delete_annotation_run")
    delete_annotation_runs = _on_the_dataset("delete_annotation_runs")
    list_evaluations = _on_the_dataset("list_evaluations")
    get_evaluation_info = _on_the_dataset("get_evaluation_info")
    delete_evaluation = _on_the_dataset("delete_evaluation")
    delete_evaluations = _on_the_dataset("delete_evaluations")

    @property
    def store(self) -> LabelStore:  # type: ignore[override]  # a view's store is its dataset's: read-only
        return self.dataset.store

    def _with(self, stage: Stage) -> DatasetView:
        return DatasetView(self.dataset, (*self.stages, stage))

    def _dataset_of(self) -> Dataset:
        return self.dataset

    def view_stages(self) -> Sequence[Stage]:
        """The view's stages, in the order they apply (``match``, ``filter_labels``, ...).

        Returns:
            The stages.
        """
        return self.stages
