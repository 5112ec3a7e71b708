"""COCO-style evaluation of detections: FiftyOne's matching of one sample, and pycocotools' mAP.

The rules each follows are in ARCHITECTURE.md, "Detection evaluation".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import attrs
import numpy as np

from annoflow.domain.labels import Detection

IOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
MAX_DETECTIONS = 100


def is_crowd(label: Detection) -> bool:
    return bool(label.attributes.get("iscrowd"))


def iou(pred: Detection, gt: Detection, crowd: bool = False) -> float:
    """Box IoU (relative coordinates: IoU does not depend on the image's size); for a crowd,
    the intersection over the prediction's area, as COCO's."""
    px, py, pw, ph = pred.bounding_box
    gx, gy, gw, gh = gt.bounding_box
    w = min(px + pw, gx + gw) - max(px, gx)
    h = min(py + ph, gy + gh) - max(py, gy)
    inter = w * h if w > 0 and h > 0 else 0.0
    union = pw * ph if crowd else pw * ph + gw * gh - inter
    return inter / union if union > 0 else 0.0


@attrs.frozen
class Match:
    """One row of an evaluation: a matched pair, a false positive (no gt) or a false negative (no pred)."""

    gt_label: str | None
    pred_label: str | None
    iou: float | None
    confidence: float | None
    gt_id: str | None
    pred_id: str | None
    crowd: bool = False


@attrs.frozen
class SampleMatching:
    """A sample's matches and what each label gets: label id -> (eval, matched id or "", iou or None)."""

    matches: tuple[Match, ...]
    outcomes: Mapping[str, tuple[str, str, float | None]]

    def count(self, outcome: str) -> int:
        return sum(1 for value, _, _ in self.outcomes.values() if value == outcome)


def _greedy(
    preds: Sequence[Detection], gts: Sequence[Detection], threshold: float, classwise: bool, crowd: Sequence[bool]
) -> list[tuple[int | None, float | None]]:
    """For each prediction (in the order given: by decreasing confidence), its gt index and IoU."""
    taken = [False] * len(gts)
    found: list[tuple[int | None, float | None]] = []
    for pred in preds:
        best, best_iou = None, threshold
        for g, gt in enumerate(gts):
            if classwise and gt.label != pred.label:
                continue
            if taken[g] and not crowd[g]:
                continue  # only a crowd takes several predictions
            if best is not None and not crowd[best] and crowd[g]:
                break  # matched to an object: crowds (sorted last) do not count
            value = iou(pred, gt, crowd[g])
            if value < best_iou:
                continue
            best, best_iou = g, value
        if best is not None:
            taken[best] = True
        found.append((best, best_iou if best is not None else None))
    return found


def _confidence(pred: Detection) -> float:
    return pred.confidence if pred.confidence is not None else -1.0


def _by_confidence(preds: Iterable[Detection]) -> list[Detection]:
    return sorted(preds, key=_confidence, reverse=True)


def _crowds_last(gts: Iterable[Detection]) -> list[Detection]:
    return sorted(gts, key=is_crowd)  # stable: non-crowd objects in their order, then the crowds


def match_sample(
    preds: Sequence[Detection], gts: Sequence[Detection], iou_threshold: float = 0.5, classwise: bool = True
) -> SampleMatching:
    """One sample's matching, as FiftyOne's COCO evaluation makes it."""
    preds, gts = _by_confidence(preds), _crowds_last(gts)
    crowd = [is_crowd(g) for g in gts]
    outcomes: dict[str, tuple[str, str, float | None]] = {}
    matches: list[Match] = []
    for pred, (g, value) in zip(preds, _greedy(preds, gts, iou_threshold, classwise, crowd), strict=True):
        if g is None:
            outcomes[pred.id] = ("fp", "", None)
            matches.append(
                Match(
                    gt_label=None,
                    pred_label=pred.label,
                    iou=None,
                    confidence=pred.confidence,
                    gt_id=None,
                    pred_id=pred.id,
                )
            )
            continue
        gt = gts[g]
        outcomes[pred.id] = ("tp", gt.id, value)
        if gt.id not in outcomes:  # a crowd keeps its first (most confident) match
            outcomes[gt.id] = ("tp", pred.id, value)
        matches.append(
            Match(
                gt_label=gt.label,
                pred_label=pred.label,
                iou=value,
                confidence=pred.confidence,
                gt_id=gt.id,
                pred_id=pred.id,
                crowd=crowd[g],
            )
        )
    for gt in gts:
        if gt.id not in outcomes:
            outcomes[gt.id] = ("fn", "", None)
            matches.append(
                Match(
                    gt_label=gt.label,
                    pred_label=None,
                    iou=None,
                    confidence=None,
                    gt_id=gt.id,
                    pred_id=None,
                    crowd=is_crowd(gt),
                )
            )
    return SampleMatching(tuple(matches), outcomes)


def coco_map(samples: Iterable[tuple[Sequence[Detection], Sequence[Detection]]]) -> float:
    """pycocotools' mAP (``COCOeval.stats[0]`` for boxes) over (predictions, ground truth) per sample;
    -1 when no class has ground truth, as pycocotools reports."""
    scored, positives = _scored_predictions(samples)
    precisions = [
        _interpolated_precision(rows, count)
        for cls, count in positives.items()
        if count > 0  # no ground truth: pycocotools leaves the class out
        for rows in scored[cls]
    ]
    return float(np.mean(precisions)) if precisions else -1.0


class _Scored(NamedTuple):
    """A prediction as COCO's precision counts it: matched to a crowd, it is ignored rather than counted."""

    confidence: float
    matched: bool
    ignored: bool


def _scored_predictions(
    samples: Iterable[tuple[Sequence[Detection], Sequence[Detection]]],
) -> tuple[dict[str, list[list[_Scored]]], dict[str, int]]:
    """Per class and IoU threshold, every prediction kept, scored; and per class, the ground truth objects that count."""
    scored: dict[str, list[list[_Scored]]] = defaultdict(lambda: [[] for _ in IOU_THRESHOLDS])
    positives: dict[str, int] = defaultdict(int)
    for preds, gts in samples:
        for cls in {p.label for p in preds} | {g.label for g in gts}:
            rows, count = _class_scores(cls, preds, gts)
            positives[cls] += count
            for per_threshold, threshold_rows in zip(scored[cls], rows, strict=True):
                per_threshold.extend(threshold_rows)
    return scored, positives


def _class_scores(cls: str, preds: Sequence[Detection], gts: Sequence[Detection]) -> tuple[list[list[_Scored]], int]:
    """One sample's predictions of a class scored at each IoU threshold, and its non-crowd objects of the class."""
    class_gts = _crowds_last(g for g in gts if g.label == cls)
    crowd = [is_crowd(g) for g in class_gts]
    class_preds = _by_confidence(p for p in preds if p.label == cls)[:MAX_DETECTIONS]
    rows = []
    for threshold in IOU_THRESHOLDS:
        found = _greedy(class_preds, class_gts, min(threshold, 1 - 1e-10), True, crowd)
        rows.append(
            [
                _Scored(confidence=_confidence(p), matched=g is not None, ignored=g is not None and crowd[g])
                for p, (g, _) in zip(class_preds, found, strict=True)
            ]
        )
    return rows, crowd.count(False)


def _interpolated_precision(rows: list[_Scored], positives: int) -> np.ndarray:
    """Precision at COCO's 101 recall points, as pycocotools' ``accumulate``."""
    confidences = np.array([r.confidence for r in rows], dtype=float)
    order = np.argsort(-confidences, kind="mergesort")
    matched = np.array([r.matched for r in rows], dtype=bool)[order]
    ignored = np.array([r.ignored for r in rows], dtype=bool)[order]
    tp = np.cumsum(matched & ~ignored).astype(float)
    fp = np.cumsum(~matched & ~ignored).astype(float)
    recall = tp / positives
    precision = tp / (tp + fp + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    return np.array([precision[i] if i < len(precision) else 0.0 for i in at])
