"""evaluate_detections() matches as COCO does (checked against pycocotools on the same data) and
writes its outcome in one batch."""

from __future__ import annotations

import contextlib
import io
import random

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.evaluate import EvaluationError
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import Detection, Detections, labels_in
from annoflow.domain.samples import ImageMetadata, Sample

W, H = 640, 480
CLASSES = ["cat", "dog", "bird"]


def _box(rng, near=None):
    if near is not None:
        x, y, w, h = near
        x, y = x + rng.uniform(-0.05, 0.05) * w * 4, y + rng.uniform(-0.05, 0.05) * h * 4
        w, h = w * rng.uniform(0.7, 1.3), h * rng.uniform(0.7, 1.3)
    else:
        w, h = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)
        x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
    x, y = min(max(x, 0.0), 0.95), min(max(y, 0.0), 0.95)
    return (x, y, min(w, 1 - x), min(h, 1 - y))


def _samples(seed, n=40, crowds=True):
    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        gts, preds = [], []
        for _ in range(rng.randint(0, 6)):
            box = _box(rng)
            gts.append(
                Detection(
                    label=rng.choice(CLASSES),
                    bounding_box=box,
                    attributes={"iscrowd": int(crowds and rng.random() < 0.15)},
                )
            )
            for _ in range(rng.choice([0, 1, 1, 1, 2])):  # found, sometimes twice, sometimes with the wrong class
                label = gts[-1].label if rng.random() < 0.85 else rng.choice(CLASSES)
                preds.append(Detection(label=label, bounding_box=_box(rng, box), confidence=rng.random()))
        for _ in range(rng.randint(0, 3)):  # false positives
            preds.append(Detection(label=rng.choice(CLASSES), bounding_box=_box(rng), confidence=rng.random()))
        samples.append(
            Sample(
                filepath=f"/{len(samples)}.jpg",
                media_type="image",
                metadata=ImageMetadata(W, H),
                fields={"ground_truth": Detections(gts), "predictions": Detections(preds)},
            )
        )
    return samples


def _dataset(samples):
    store = InMemoryLabelStore("ds")
    store.add_samples(samples)
    return Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))


def _pixels(box):
    x, y, w, h = box
    return [x * W, y * H, w * W, h * H]


def _cocoeval(samples):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    cat_ids = {c: i + 1 for i, c in enumerate(CLASSES)}
    images, anns, dets, ids = [], [], [], {}
    for number, sample in enumerate(samples, 1):
        images.append({"id": number, "width": W, "height": H})
        for gt in labels_in(sample.fields["ground_truth"]):
            box = _pixels(gt.bounding_box)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": number,
                    "category_id": cat_ids[gt.label],
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": gt.attributes["iscrowd"],
                }
            )
            ids[("gt", anns[-1]["id"])] = gt.id
        for pred in labels_in(sample.fields["predictions"]):
            dets.append(
                {
                    "image_id": number,
                    "category_id": cat_ids[pred.label],
                    "bbox": _pixels(pred.bounding_box),
                    "score": pred.confidence,
                }
            )
            ids[("dt", len(dets))] = pred.id  # loadRes numbers results from 1 in order
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = {
            "images": images,
            "annotations": anns,
            "categories": [{"id": i, "name": c} for c, i in cat_ids.items()],
        }
        truth.createIndex()
        found = truth.loadRes(dets)
        evaluation = COCOeval(truth, found, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation, ids


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_map_is_pycocotools_figure(seed):
    samples = _samples(seed)
    results = _dataset(samples).evaluate_detections("predictions", eval_key=None, compute_mAP=True)
    evaluation, _ = _cocoeval(samples)
    assert results.mAP() == pytest.approx(evaluation.stats[0], abs=1e-9)


@pytest.mark.parametrize("seed", [4, 5])
def test_each_prediction_matches_what_pycocotools_matches(seed):
    samples = _samples(seed)
    dataset = _dataset(samples)
    dataset.evaluate_detections("predictions", eval_key="eval")
    evaluation, ids = _cocoeval(samples)
    expected = {}  # pred id -> matched gt id ("" for none), COCO at IoU 0.5, area "all", 100 detections
    for image in evaluation.evalImgs:
        if image is None or image["aRng"] != [0, 1e10] or image["maxDet"] != 100:
            continue
        for dt, gt in zip(image["dtIds"], image["dtMatches"][0], strict=True):
            expected[ids[("dt", dt)]] = ids[("gt", int(gt))] if gt else ""
    got = {d.id: d.attributes["eval_id"] for s in dataset.iter_samples() for d in labels_in(s.fields["predictions"])}
    assert got == expected
    assert {
        v for s in dataset.iter_samples() for d in labels_in(s.fields["predictions"]) for v in [d.attributes["eval"]]
    } == {"tp", "fp"}


def test_the_outcome_is_written_on_labels_and_samples():
    gt = [
        Detection(label="cat", bounding_box=(0.1, 0.1, 0.4, 0.4), attributes={"iscrowd": 0}),
        Detection(label="dog", bounding_box=(0.6, 0.6, 0.3, 0.3), attributes={"iscrowd": 0}),
        Detection(label="cat", bounding_box=(0.0, 0.5, 0.5, 0.5), attributes={"iscrowd": 1}),
    ]
    pred = [
        Detection(label="cat", bounding_box=(0.12, 0.1, 0.4, 0.4), confidence=0.9),
        Detection(label="cat", bounding_box=(0.1, 0.1, 0.4, 0.38), confidence=0.8),  # the cat is taken
        Detection(label="cat", bounding_box=(0.1, 0.6, 0.2, 0.2), confidence=0.7),  # inside the crowd
        Detection(label="cat", bounding_box=(0.2, 0.7, 0.2, 0.2), confidence=0.6),
    ]  # inside it too
    dataset = _dataset(
        [
            Sample(
                filepath="/a.jpg",
                media_type="image",
                fields={"ground_truth": Detections(gt), "predictions": Detections(pred)},
            )
        ]
    )
    results = dataset.evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval")
    sample = dataset.first()
    p = {d.id: d for d in sample.fields["predictions"].detections}
    g = {d.id: d for d in sample.fields["ground_truth"].detections}
    assert [p[d.id].attributes["eval"] for d in pred] == ["tp", "fp", "tp", "tp"]
    assert p[pred[0].id].attributes["eval_id"] == gt[0].id and p[pred[1].id].attributes["eval_id"] == ""
    assert p[pred[0].id].attributes["eval_iou"] == pytest.approx(0.152 / 0.168)
    assert "eval_iou" not in p[pred[1].id].attributes
    assert p[pred[2].id].attributes["eval_iou"] == pytest.approx(1.0)  # a crowd's IoU is over the prediction's area
    assert [g[d.id].attributes["eval"] for d in gt] == ["tp", "fn", "tp"]
    assert g[gt[2].id].attributes["eval_id"] == pred[2].id  # the crowd keeps its most confident match
    assert g[gt[0].id].attributes["iscrowd"] == 0  # other attributes kept
    assert (sample.fields["eval_tp"], sample.fields["eval_fp"], sample.fields["eval_fn"]) == (3, 1, 1)
    report = results.report()
    assert report["cat"] == {"precision": 0.75, "recall": 1.0, "f1-score": pytest.approx(6 / 7), "support": 3}
    assert report["dog"]["recall"] == 0.0 and report["dog"]["support"] == 1
    lines = []
    results.print_report(print_fn=lines.append)
    assert "precision" in lines[0] and lines[1].split()[0] == "cat"
    with pytest.raises(EvaluationError, match="compute_mAP=True"):
        results.mAP()
    # classwise=False lets a prediction match an object of another class
    dataset.evaluate_detections("predictions", eval_key="eval", classwise=False)
    assert dataset.first().fields["eval_fn"] == 1


def test_a_failed_write_leaves_nothing(monkeypatch):
    dataset = _dataset(_samples(7, n=5))
    before = list(dataset.iter_samples())

    def refuse(changes):
        raise RuntimeError("disk full")

    monkeypatch.setattr(dataset.store, "apply", refuse)
    with pytest.raises(RuntimeError):
        dataset.evaluate_detections("predictions")
    monkeypatch.undo()
    assert list(dataset.iter_samples()) == before


def test_bad_arguments_are_refused_before_anything_is_written():
    dataset = _dataset(_samples(8, n=3))
    with pytest.raises(EvaluationError, match="'nope' does not exist"):
        dataset.evaluate_detections("nope")
    dataset.store.add_samples([Sample(filepath="/img/x.jpg", media_type="image", fields={"note": "a string"})])
    with pytest.raises(EvaluationError, match=r"field 'note' holds \w+, not detections"):
        dataset.evaluate_detections("predictions", gt_field="note")
    with pytest.raises(EvaluationError, match=r"iou must be in \(0, 1\], got 1.5"):
        dataset.evaluate_detections("predictions", iou=1.5)
    with pytest.raises(EvaluationError, match="identifier"):
        dataset.evaluate_detections("predictions", eval_key="my eval")
    with pytest.raises(EvaluationError, match="iou"):
        dataset.evaluate_detections("predictions", iou=0)
    with pytest.raises(EvaluationError, match="method"):
        dataset.evaluate_detections("predictions", method="open-images")
    assert "eval_tp" not in dataset.store.field_schema()


def test_evaluations_are_listed_described_and_deleted():
    dataset = _dataset(_samples(9, n=6))
    before = list(dataset.iter_samples())
    dataset.evaluate_detections("predictions", eval_key="eval", iou=0.75)
    dataset.limit(3).evaluate_detections("predictions", eval_key="eval2", classwise=False)
    assert dataset.list_evaluations() == ["eval", "eval2"] == dataset.limit(1).list_evaluations()
    info = dataset.get_evaluation_info("eval")
    assert {k: info[k] for k in ("key", "type", "method", "pred_field", "gt_field", "iou", "classwise")} == {
        "key": "eval",
        "type": "detection",
        "method": "coco",
        "pred_field": "predictions",
        "gt_field": "ground_truth",
        "iou": 0.75,
        "classwise": True,
    }
    dataset.delete_evaluation("eval2")
    assert dataset.list_evaluations() == ["eval"] and "eval2_tp" not in dataset.store.field_schema()
    assert not any("eval2" in d.attributes for s in dataset.iter_samples() for d in s.fields["predictions"].detections)
    dataset.delete_evaluations()
    assert dataset.list_evaluations() == [] and list(dataset.iter_samples()) == before  # as before, label ids and all
    with pytest.raises(EvaluationError, match="no evaluation 'eval'"):
        dataset.delete_evaluation("eval")
    with pytest.raises(EvaluationError, match="no evaluation 'eval'"):
        dataset.get_evaluation_info("eval")
