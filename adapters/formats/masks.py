"""COCO's masks: run-length encodings (counts lists and pycocotools' compressed strings), polygons
filled at pixel centres, and an instance mask cut to its box's pixels as FiftyOne keeps it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def box_pixels(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), inclusive, of a relative box on a width x height image: the pixels
    an instance mask covers (as the CVAT upload cuts it)."""
    x, y, w, h = box
    left, top = min(int(round(x * width)), width - 1), min(int(round(y * height)), height - 1)  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
    right = min(max(int(round((x + w) * width)) - 1, left), width - 1)  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
    bottom = min(max(int(round((y + h) * height)) - 1, top), height - 1)  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
    return left, top, right, bottom


def decode_string(counts: str) -> list[int]:
    """pycocotools' compressed counts (``rleFrString``): 5 bits a character, a sign bit on the last,
    each count after the second a difference from the one two before."""
    out: list[int] = []
    position = 0
    while position < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(counts):
                raise ValueError("compressed RLE ends inside a count")
            c = ord(counts[position]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"compressed RLE holds {counts[position]!r}, not a count character")
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            position += 1
            shift += 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(out) > 2:
            value += out[-2]
        out.append(value)
    return out


def decode(rle: dict, height: int, width: int) -> np.ndarray:
    """A full-image boolean mask from COCO's RLE (column-major runs, starting with zeros).

    Raises:
        ValueError: a size other than the image's, negative runs, or runs that do not cover the image.
    """
    size = rle.get("size")
    if not isinstance(size, (list, tuple)) or [*size] != [height, width]:
        raise ValueError(f"RLE size {size!r} is not the image's [height, width] [{height}, {width}]")
    counts = rle.get("counts")
    if isinstance(counts, str):
        counts = decode_string(counts)
    if not isinstance(counts, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        raise ValueError("RLE counts are a list of integers or a compressed string")
    runs = np.asarray(counts, dtype=np.int64)
    if runs.size and runs.min() < 0:
        raise ValueError("RLE counts hold a negative run")
    if int(runs.sum()) != height * width:
        raise ValueError(f"RLE runs cover {int(runs.sum())} pixels, not the image's {height * width}")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    return flat.reshape((width, height)).T


def encode(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a full-image boolean mask."""
    height, width = mask.shape
    flat = np.asarray(mask, dtype=bool).T.reshape(-1)
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return {"size": [int(height), int(width)], "counts": [int(r) for r in runs]}


def fill_polygons(polygons: Sequence[Sequence[float]], left: int, top: int, right: int, bottom: int) -> np.ndarray:
    """The pixels of the region [left..right] x [top..bottom] whose centres lie inside any polygon
    (even-odd rule per polygon; absolute ``[x1, y1, x2, y2, ...]`` coordinates)."""
    ys = np.arange(top, bottom + 1, dtype=np.float64)[:, None] + 0.5
    xs = np.arange(left, right + 1, dtype=np.float64)[None, :] + 0.5
    out = np.zeros((ys.shape[0], xs.shape[1]), dtype=bool)
    for flat in polygons:
        points = np.asarray(flat, dtype=np.float64).reshape(-1, 2)
        inside = np.zeros_like(out)
        for (x1, y1), (x2, y2) in zip(points, np.roll(points, -1, axis=0), strict=True):
            if y1 == y2:
                continue
            crosses = (y1 > ys) != (y2 > ys)
            x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (xs < x_at)
        out |= inside
    return out


def cut_to_box(full: np.ndarray, box: Sequence[float]) -> np.ndarray:
    height, width = full.shape
    left, top, right, bottom = box_pixels(box, width, height)
    return full[top : bottom + 1, left : right + 1].copy()


def paste_from_box(mask: np.ndarray, box: Sequence[float], width: int, height: int) -> np.ndarray:
    """The full-image mask of an instance mask covering its box (resampled to the box's pixels if needed)."""
    left, top, right, bottom = box_pixels(box, width, height)
    rows, cols = bottom - top + 1, right - left + 1
    if mask.shape != (rows, cols):
        r = (np.arange(rows) * mask.shape[0] // max(rows, 1)).clip(0, mask.shape[0] - 1)
        c = (np.arange(cols) * mask.shape[1] // max(cols, 1)).clip(0, mask.shape[1] - 1)
        mask = mask[r[:, None], c[None, :]]
    full = np.zeros((height, width), dtype=bool)
    full[top : bottom + 1, left : right + 1] = mask
    return full
