"""evaluate_detections(): match a collection's predictions to its ground truth and write the outcome.

Each label gets ``<eval_key>`` ("tp", "fp" or "fn"), ``<eval_key>_id`` (the matched label's id,
"" for none) and ``<eval_key>_iou`` (left out for none) as attributes; each sample gets the
``<eval_key>_tp``, ``_fp`` and ``_fn`` counts as int fields. Everything is written as one batch
through the label store port, so an evaluation is in the store whole or not at all. These are
plain field writes, not an event-sourced run (see ARCHITECTURE.md, "Evaluations"): running it
again with the same key overwrites them. Its record (fields, options, time) goes to the dataset's
info under ``evaluations``, for ``list_evaluations``, ``get_evaluation_info`` and ``delete_evaluation``.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from annoflow.application.ports.label_store import Batch
from annoflow.domain.changes import LabelChange, PutLabel, SetValue
from annoflow.domain.detection_eval import Match, SampleMatching, coco_map, match_sample
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import RESERVED_ATTRIBUTE_NAMES, Detection, FieldValue, labels_in
from annoflow.domain.samples import RESERVED_FIELD_NAMES

if TYPE_CHECKING:
    from annoflow.application.dataset import Dataset
    from annoflow.application.views import SampleCollection


class EvaluationError(AnnoflowError, ValueError):
    """An evaluation that cannot run: a field that holds no detections, a bad key or option."""


@attrs.frozen
class DetectionResults:
    """What evaluate_detections() returns: the matches, per-class report and (when computed) mAP."""

    eval_key: str
    matches: tuple[Match, ...]
    classes: tuple[str, ...]
    map: float | None = None

    def report(self, classes: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
        """Per class: precision, recall, F1 and support (its ground truth objects), as FiftyOne's.

        Args:
            classes: the classes to report, in this order (default: every class of the evaluation).

        Returns:
            Class -> ``{"precision", "recall", "f1-score", "support"}``; a class with no prediction
            or no ground truth scores 0.
        """
        pairs = [(m.gt_label, m.pred_label) for m in self.matches]
        rows: dict[str, dict[str, float]] = {}
        for cls in classes if classes is not None else self.classes:
            tp = sum(1 for gt, pred in pairs if gt == cls and pred == cls)
            predicted = sum(1 for _, pred in pairs if pred == cls)
            support = sum(1 for gt, _ in pairs if gt == cls)
            precision = tp / predicted if predicted else 0.0
            recall = tp / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows[cls] = {"precision": precision, "recall": recall, "f1-score": f1, "support": support}
        return rows

    def print_report(self, classes: Sequence[str] | None = None, print_fn: Callable[[str], object] = print) -> None:
        """Print ``report()`` as a table, one row per class.

        Args:
            classes: the classes to print, in this order (default: every class of the evaluation).
            print_fn: where each line goes (default: ``print``, to stdout).
        """
        rows = self.report(classes)
        width = max([len(c) for c in rows] + [9])
        print_fn(f"{'':>{width}}  precision    recall  f1-score   support")
        for cls, row in rows.items():
            print_fn(
                f"{cls:>{width}}  {row['precision']:9.2f} {row['recall']:9.2f} {row['f1-score']:9.2f} "
                f"{int(row['support']):9d}"
            )

    def mAP(self) -> float:  # noqa: N802 - FiftyOne's name
        """COCO's mAP (pycocotools' figure).

        Returns:
            The mean average precision, from 0 to 1.

        Raises:
            EvaluationError: the evaluation ran without ``compute_mAP=True``.
        """
        if self.map is None:
            raise EvaluationError("this evaluation did not compute mAP: run evaluate_detections(..., compute_mAP=True)")
        return self.map


def evaluate_detections(
    collection: SampleCollection,
    pred_field: str,
    gt_field: str = "ground_truth",
    eval_key: str | None = "eval",
    iou: float = 0.5,
    classwise: bool = True,
    compute_mAP: bool = False,  # noqa: N803 - FiftyOne's name
) -> DetectionResults:
    """Evaluate the collection's ``pred_field`` against ``gt_field`` (FiftyOne's COCO method) and,
    with an ``eval_key``, write the outcome to the labels and samples in one batch.

    Args:
        collection: the dataset or view whose samples are evaluated.
        pred_field: the detections field of the predictions.
        gt_field: the detections field of the ground truth.
        eval_key: where the outcome is written (``<eval_key>``, ``<eval_key>_id``, ``<eval_key>_iou`` on
            each label, ``<eval_key>_tp``/``_fp``/``_fn`` on each sample); None writes nothing.
        iou: the overlap a prediction needs to match, in (0, 1].
        classwise: match only labels of the same class.
        compute_mAP: also compute COCO's mAP (``DetectionResults.mAP()``).

    Returns:
        The matches, the classes seen and, when computed, the mAP.

    Raises:
        EvaluationError: a field that holds no detections, an iou out of range, or an eval_key that is
            not an identifier or would overwrite fields that hold something else.
    """
    schema = collection.store.field_schema()
    _check_options(schema, pred_field, gt_field, eval_key, iou)
    changes: list[LabelChange] = []
    matches: list[Match] = []
    pairs: list[tuple[tuple[Detection, ...], tuple[Detection, ...]]] = []
    for sample in collection.iter_samples(fields=(pred_field, gt_field)):
        preds = _detections(sample.fields.get(pred_field))
        gts = _detections(sample.fields.get(gt_field))
        matching = match_sample(preds, gts, iou, classwise)
        matches.extend(matching.matches)
        if compute_mAP:
            pairs.append((preds, gts))
        if eval_key is not None:
            changes += _outcome_changes(sample.id, eval_key, matching, preds=(pred_field, preds), gts=(gt_field, gts))
    if eval_key is not None:
        _write(
            collection,
            changes,
            eval_key,
            {
                "type": "detection",
                "method": "coco",
                "pred_field": pred_field,
                "gt_field": gt_field,
                "iou": iou,
                "classwise": classwise,
            },
        )
    classes = sorted({m.gt_label for m in matches if m.gt_label} | {m.pred_label for m in matches if m.pred_label})
    return DetectionResults(eval_key or "", tuple(matches), tuple(classes), coco_map(pairs) if compute_mAP else None)


def _detections(value: FieldValue) -> tuple[Detection, ...]:
    """The detections of a field that holds detections (``_check_options`` saw to it)."""
    return tuple(label for label in labels_in(value) if isinstance(label, Detection))


def _check_options(
    schema: Mapping[str, FieldKind], pred_field: str, gt_field: str, eval_key: str | None, iou: float
) -> None:
    for field in (pred_field, gt_field):
        if schema.get(field) is not FieldKind.DETECTIONS:
            held = schema.get(field)
            raise EvaluationError(
                f"evaluate_detections(): field {field!r} "
                f"{'does not exist' if held is None else f'holds {held.value}, not detections'}"
            )
    if not 0 < iou <= 1:
        raise EvaluationError(f"evaluate_detections(): iou must be in (0, 1], got {iou!r}")
    if eval_key is not None:
        _check_key(eval_key, schema)


def _outcome_changes(
    sample_id: str,
    eval_key: str,
    matching: SampleMatching,
    *,
    preds: tuple[str, Sequence[Detection]],
    gts: tuple[str, Sequence[Detection]],
) -> list[LabelChange]:
    """One sample's writes: each label (the predictions', then the ground truth's) with its outcome,
    then the sample's tp, fp and fn counts (tp counts the predictions matched)."""
    changes: list[LabelChange] = [
        PutLabel(sample_id, field, _with_outcome(label, eval_key, matching.outcomes[label.id]))
        for field, labels in (preds, gts)
        for label in labels
    ]
    counts = Counter(value for value, _, _ in matching.outcomes.values() if value)
    tp_preds = sum(1 for p in preds[1] if matching.outcomes[p.id][0] == "tp")
    changes += [
        SetValue(sample_id, f"{eval_key}_{suffix}", count)
        for suffix, count in (("tp", tp_preds), ("fp", counts["fp"]), ("fn", counts["fn"]))
    ]
    return changes


def _write(collection: SampleCollection, changes: list[LabelChange], eval_key: str, record: dict[str, Any]) -> None:
    """One batch: the writes with their record, in the store whole or not at all."""
    dataset = collection._dataset_of()
    evaluations = dict(dataset.info.get(EVALUATIONS) or {})
    evaluations[eval_key] = {**record, "timestamp": _now()}
    dataset.write_batch(Batch(changes=changes, info={**dataset.info, EVALUATIONS: evaluations}))


EVALUATIONS = "evaluations"  # the dataset info's key of its evaluations' records


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def delete_evaluation(dataset: Dataset, eval_key: str) -> None:
    """Remove an evaluation's writes (its label attributes and sample counts) and its record, in one
    batch: all of them or none."""
    evaluations = dict(dataset.info.get(EVALUATIONS) or {})
    if eval_key not in evaluations:
        raise EvaluationError(f"the dataset has no evaluation {eval_key!r}: it has {sorted(evaluations)}")
    record = evaluations[eval_key]
    names = {eval_key, f"{eval_key}_id", f"{eval_key}_iou"}
    schema = dataset.store.field_schema()
    fields = [f for f in (record["pred_field"], record["gt_field"]) if f in schema]
    changes: list[LabelChange] = []
    for sample in dataset.iter_samples(fields=fields):
        for field in fields:
            changes.extend(
                PutLabel(
                    sample.id,
                    field,
                    label.replace(attributes={k: v for k, v in label.attributes.items() if k not in names}),
                )
                for label in _detections(sample.fields.get(field))
                if names & set(label.attributes)
            )
    counts = [f"{eval_key}_{s}" for s in ("tp", "fp", "fn") if f"{eval_key}_{s}" in schema]
    del evaluations[eval_key]
    dataset.write_batch(Batch(changes=changes, delete_fields=counts, info={**dataset.info, EVALUATIONS: evaluations}))


def _with_outcome(label: Detection, key: str, outcome: tuple[str, str, float | None]) -> Detection:
    value, matched, overlap = outcome
    attributes = {k: v for k, v in label.attributes.items() if k != f"{key}_iou"}
    attributes.update({key: value, f"{key}_id": matched})
    if overlap is not None:
        attributes[f"{key}_iou"] = overlap
    return attrs.evolve(label, attributes=attributes)


def _check_key(key: object, schema: Mapping[str, FieldKind]) -> None:
    if not isinstance(key, str) or not key.isidentifier():
        raise EvaluationError(f"eval_key must be an identifier, got {key!r}")
    taken = [name for name in (key, f"{key}_id", f"{key}_iou") if name in RESERVED_ATTRIBUTE_NAMES]
    taken += [
        name
        for name in (f"{key}_tp", f"{key}_fp", f"{key}_fn")
        if name in RESERVED_FIELD_NAMES or (name in schema and schema[name] is not FieldKind.INT)
    ]
    if taken:
        raise EvaluationError(f"eval_key {key!r} would write {', '.join(map(repr, taken))}, which hold something else")
