"""The ground truth describes the pixels: every box is tight around its shape, every shape is where its box says."""

from __future__ import annotations

import numpy as np
from PIL import Image

from annoflow.adapters.quickstart import CLASSES, generate_quickstart
from annoflow.adapters.quickstart.images import _COLOURS

W, H = 320, 240


def _pixel_box(det):
    x, y, w, h = det.bounding_box
    return round(x * W), round(y * H), round(w * W), round(h * H)


def _full_mask(det):
    x0, y0, bw, bh = _pixel_box(det)
    full = np.zeros((H, W), np.bool_)
    full[y0 : y0 + bh, x0 : x0 + bw] = det.mask
    return full


def _eroded(mask, steps):
    # Away from the shape's edge JPEG's chroma blur cannot reach: the colour there is the drawn one.
    for _ in range(steps):
        inner = mask.copy()
        inner[1:] &= mask[:-1]
        inner[:-1] &= mask[1:]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        mask = inner
    return mask


def test_every_mask_reaches_all_four_sides_of_its_box(tmp_path):
    samples = generate_quickstart(tmp_path, num_samples=15, image_size=(W, H), with_masks=True, write_images=False)
    kinds = set()
    for det in (d for s in samples for d in s.fields["ground_truth"].detections):
        m = det.mask
        assert m.shape == _pixel_box(det)[:1:-1]  # (height, width) in pixels
        assert m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any(), det.label
        fill = m.mean()  # a rectangle fills its box, an ellipse about pi/4 of it, a diamond about half
        kinds.add("rectangle" if fill == 1 else "ellipse" if fill > 0.68 else "diamond")
    assert kinds == {"rectangle", "ellipse", "diamond"}


def test_every_visible_object_shows_its_class_colour_not_the_background(tmp_path):
    samples = generate_quickstart(tmp_path, num_samples=10, image_size=(W, H), with_masks=True)
    checked = 0
    for sample in samples:
        pixels = np.asarray(Image.open(sample.filepath).convert("RGB")).astype(int)
        dets = sample.fields["ground_truth"].detections
        covered = np.zeros((H, W), np.bool_)
        for det in reversed(dets):  # later objects are drawn on top of earlier ones
            visible = _eroded(_full_mask(det) & ~covered, 2)
            covered |= _full_mask(det)
            if not visible.any():
                continue
            rows, cols = np.nonzero(visible)
            pick = len(rows) // 2
            value = pixels[rows[pick], cols[pick]]
            assert np.abs(value - _COLOURS[CLASSES.index(det.label)]).max() < 40, (sample.filepath, det.label)
            assert value.max() > 125  # the textured background never goes above 110 in any channel
            checked += 1
    assert checked >= 20
