"""The synthetic image quickstart: real JPEGs with drawn objects and labels that match them.

It stands in for FiftyOne's zoo "quickstart" (downloads are impossible
offline): ``ground_truth`` detections with an ``iscrowd`` attribute,
``predictions`` with confidences (jittered true positives plus confident
false positives, so FiftyOne's CVAT guide, "high-confidence false positives" recipe finds
something), and, on request, the other label types the guide's examples use.
Everything, ids included, follows from the seed, so two runs agree bit for bit.
"""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import numpy as np
from PIL import Image

from annoflow.domain.labels import (
    Classification,
    Detection,
    Detections,
    Keypoint,
    Keypoints,
    Polyline,
    Polylines,
    Segmentation,
)
from annoflow.domain.samples import ImageMetadata, Sample

CLASSES = ("person", "dog", "cat", "car", "bird", "bicycle", "truck", "horse")
WEATHER = ("sunny", "cloudy", "rainy")
# Pixel values of the `segmentation` field: 0 is background, then one per class.
MASK_TARGETS = {i + 1: name for i, name in enumerate(CLASSES)}
_COLOURS = np.array(
    [
        (220, 60, 60),
        (60, 180, 75),
        (255, 200, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
    ],
    np.uint8,
)


def sample_id(rng: np.random.Generator) -> str:
    """A 24-hex id drawn from the generator, so ids repeat with the seed."""
    return rng.bytes(12).hex()


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    # A coarse random field blown up to full size: texture without per-pixel Python work.
    coarse = rng.integers(40, 110, size=(math.ceil(height / 16), math.ceil(width / 16), 3), dtype=np.uint8)
    return np.repeat(np.repeat(coarse, 16, axis=0), 16, axis=1)[:height, :width].copy()


def _shape_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """The drawn object's pixels inside its box: a filled rectangle, ellipse or diamond (a polygon)."""
    # One draw whatever the shape, so the boxes, classes and ids of a seed stay put.
    choice = rng.random()
    if choice < 1 / 3:
        return np.ones((h, w), np.bool_)
    yy, xx = np.ogrid[:h, :w]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    if choice < 2 / 3:
        # pixel centres on the middle row and column reach every side: the box is tight
        return ((yy - cy) / max(h / 2, 0.5)) ** 2 + ((xx - cx) / max(w / 2, 0.5)) ** 2 <= 1.0
    # Half a pixel of slack: with an even side the middle row or column sits between
    # pixel centres, and without it the tips would stop one pixel short of the box.
    return np.abs(yy - cy) / (h / 2) + np.abs(xx - cx) / (w / 2) <= 1.0 + 1.0 / h + 1.0 / w


def _jitter_box(rng: np.random.Generator, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = box
    dx, dy = rng.normal(0, 0.02, 2)
    sw, sh = rng.uniform(0.9, 1.1, 2)
    w2, h2 = min(w * sw, 1.0), min(h * sh, 1.0)
    x2 = float(np.clip(x + dx, 0.0, 1.0 - w2))
    y2 = float(np.clip(y + dy, 0.0, 1.0 - h2))
    return (x2, y2, float(w2), float(h2))


def _random_box(rng: np.random.Generator, width: int, height: int) -> tuple[int, int, int, int]:
    bw = int(rng.integers(max(4, width // 12), max(5, width // 3)))
    bh = int(rng.integers(max(4, height // 12), max(5, height // 3)))
    x0 = int(rng.integers(0, width - bw + 1))
    y0 = int(rng.integers(0, height - bh + 1))
    return x0, y0, bw, bh


def _keypoints(rng: np.random.Generator, box: tuple[float, float, float, float], label: str) -> Keypoint:
    x, y, w, h = box
    points = [(x + w * float(rng.random()), y + h * float(rng.random())) for _ in range(5)]
    points[int(rng.integers(0, 5))] = (math.nan, math.nan)  # one point not visible
    return Keypoint(label=label, points=points, id=sample_id(rng))


def _polylines(rng: np.random.Generator) -> Polylines:
    polygon = [(float(a), float(b)) for a, b in rng.uniform(0.05, 0.95, (int(rng.integers(3, 7)), 2))]
    line = [(float(a), float(b)) for a, b in rng.uniform(0.0, 1.0, (int(rng.integers(2, 5)), 2))]
    return Polylines(
        [
            Polyline(label="region", points=[polygon], closed=True, filled=True, id=sample_id(rng)),
            Polyline(label="lane", points=[line], id=sample_id(rng), attributes={"dashed": bool(rng.random() < 0.5)}),
        ]
    )


@attrs.frozen
class ExtraFields:
    """Which optional fields besides ``ground_truth`` and ``predictions`` an image gets."""

    keypoints: bool = False  # `keypoints`: five points per person, one of them missing (NaN)
    polylines: bool = False  # `polylines`: a filled closed "region" polygon and an open "lane" line
    classification: bool = False  # `weather`: sunny, cloudy or rainy
    segmentation: bool = False  # `segmentation`: the drawn shapes' classes, values as MASK_TARGETS


def render_image(
    rng: np.random.Generator,
    width: int,
    height: int,
    count: int,
    *,
    with_masks: bool,
    extras: ExtraFields = ExtraFields(),
    extras_rngs: tuple[np.random.Generator, ...] = (),
) -> tuple[np.ndarray, dict]:
    """One image's pixels and fields; the labels describe exactly what is drawn.

    ``extras_rngs`` are one generator per optional field (keypoints, polylines,
    classification, segmentation): drawing an optional field from ``rng``
    would change the ground truth of everything drawn after it.
    """
    if any(attrs.astuple(extras)) and len(extras_rngs) != 4:
        raise ValueError("optional fields need their four generators")
    pixels = _background(rng, width, height)
    semantic = np.zeros((height, width), np.uint8) if extras.segmentation else None
    truth, predicted, keypoints = [], [], []
    for _ in range(count):
        cls = int(rng.integers(0, len(CLASSES)))
        x0, y0, bw, bh = _random_box(rng, width, height)
        shape = _shape_mask(rng, bh, bw)
        pixels[y0 : y0 + bh, x0 : x0 + bw][shape] = _COLOURS[cls]
        if semantic is not None:
            semantic[y0 : y0 + bh, x0 : x0 + bw][shape] = cls + 1
        box = (x0 / width, y0 / height, bw / width, bh / height)
        label = CLASSES[cls]
        truth.append(
            Detection(
                label=label,
                bounding_box=box,
                mask=shape if with_masks else None,
                attributes={"iscrowd": int(rng.random() < 0.1)},
                id=sample_id(rng),
            )
        )
        if rng.random() < 0.8:  # found by the "model", roughly where it is
            wrong = rng.random() < 0.1
            predicted.append(
                Detection(
                    label=CLASSES[int(rng.integers(0, len(CLASSES)))] if wrong else label,
                    bounding_box=_jitter_box(rng, box),
                    confidence=float(rng.uniform(0.3, 1.0)),
                    id=sample_id(rng),
                )
            )
        if extras.keypoints and label == "person":
            keypoints.append(_keypoints(extras_rngs[0], box, label))
    for _ in range(int(rng.integers(0, 3))):  # confident false positives on background
        x0, y0, bw, bh = _random_box(rng, width, height)
        predicted.append(
            Detection(
                label=CLASSES[int(rng.integers(0, len(CLASSES)))],
                bounding_box=(x0 / width, y0 / height, bw / width, bh / height),
                confidence=float(rng.uniform(0.8, 1.0)),
                id=sample_id(rng),
            )
        )
    fields: dict = {"ground_truth": Detections(truth), "predictions": Detections(predicted)}
    if extras.keypoints:
        fields["keypoints"] = Keypoints(keypoints)
    if extras.polylines:
        fields["polylines"] = _polylines(extras_rngs[1])
    if extras.classification:
        fields["weather"] = Classification(
            label=WEATHER[int(extras_rngs[2].integers(0, len(WEATHER)))], id=sample_id(extras_rngs[2])
        )
    if semantic is not None:
        fields["segmentation"] = Segmentation(mask=semantic, id=sample_id(extras_rngs[3]))
    return pixels, fields


def generate_quickstart(
    directory: str | Path,
    *,
    num_samples: int = 200,
    seed: int = 51,
    image_size: tuple[int, int] = (640, 480),
    objects_per_image: tuple[int, int] = (1, 8),
    num_objects: int | None = None,
    with_masks: bool = False,
    with_keypoints: bool = False,
    with_polylines: bool = False,
    with_classification: bool = False,
    with_segmentation: bool = False,
    extra_fields: bool = False,
    write_images: bool = True,
) -> list[Sample]:
    """Write ``num_samples`` JPEGs (``000000.jpg``...) into ``directory`` and return their samples.

    Every sample has ``ground_truth`` (one detection per drawn object, int
    ``iscrowd`` attribute, the shape's instance mask when ``with_masks``) and
    ``predictions`` (about 80% of the objects found with jittered boxes and
    confidences in [0.3, 1], a tenth of those with a wrong class, plus 0-2
    false positives with confidence in [0.8, 1]), ``ImageMetadata`` and the
    tag ``validation``. ``image_size`` is ``(width, height)``.

    ``num_objects`` fixes the number of ground-truth objects per image (for
    benchmarks); otherwise it is drawn from ``objects_per_image`` (inclusive).
    The ``with_*`` flags add the optional fields ``ExtraFields`` describes;
    ``extra_fields=True`` turns all four on. ``write_images=False`` rebuilds
    the samples of files already written with the same arguments.
    """
    width, height = image_size
    if width < 16 or height < 16:
        raise ValueError(f"image_size must be at least 16x16, got {image_size}")
    if num_samples < 0:
        raise ValueError(f"num_samples must be >= 0, got {num_samples}")
    low, high = objects_per_image
    if (num_objects is not None and num_objects < 0) or not 0 <= low <= high:
        raise ValueError(f"object counts must be >= 0 and min <= max, got {num_objects=}, {objects_per_image=}")
    extras = ExtraFields(
        keypoints=with_keypoints or extra_fields,
        polylines=with_polylines or extra_fields,
        classification=with_classification or extra_fields,
        segmentation=with_segmentation or extra_fields,
    )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    samples = []
    for index in range(num_samples):
        # A generator per image: image i is the same whatever num_samples is, so a
        # small dataset is the head of a large one with the same seed.
        rng = np.random.default_rng([seed, index])
        extras_rngs = tuple(np.random.default_rng([seed, index, field]) for field in range(1, 5))
        count = num_objects if num_objects is not None else int(rng.integers(low, high + 1))
        pixels, fields = render_image(
            rng, width, height, count, with_masks=with_masks, extras=extras, extras_rngs=extras_rngs
        )
        path = directory / f"{index:06d}.jpg"
        if write_images:
            Image.fromarray(pixels).save(path, quality=92)
        samples.append(
            Sample(
                id=sample_id(rng),
                filepath=str(path),
                media_type="image",
                metadata=ImageMetadata(width, height),
                fields=fields,
                tags=("validation",),
            )
        )
    return samples
