"""CVAT's mask layout: run lengths over the mask's box, row by row, starting with a run of
zeros (0 when the first pixel is set), followed by the box's inclusive pixel bounds
``left, top, right, bottom``. Vectorised: no Python loop over pixels."""

from __future__ import annotations

import numpy as np


def encode(mask: np.ndarray, left: int, top: int) -> list[float]:
    """A bool mask whose top-left pixel sits at (left, top) in the image, in CVAT's layout."""
    height, width = mask.shape
    flat = np.ascontiguousarray(mask, dtype=np.bool_).ravel()
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs.insert(0, 0)
    return [float(r) for r in runs] + [float(left), float(top), float(left + width - 1), float(top + height - 1)]


def decode(points: list[float]) -> tuple[np.ndarray, int, int]:
    """The bool mask of a CVAT mask shape, with its top-left pixel (left, top)."""
    left, top, right, bottom = (int(round(v)) for v in points[-4:])
    width, height = right - left + 1, bottom - top + 1
    runs = np.asarray(points[:-4], dtype=np.int64)
    values = np.zeros(runs.size, dtype=np.bool_)
    values[1::2] = True
    flat = np.repeat(values, runs)
    if flat.size != width * height:
        raise ValueError(f"mask runs cover {flat.size} pixels, its box {width}x{height}")
    return flat.reshape(height, width), left, top


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) inclusive bounds of the set pixels, or None when none is set."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
