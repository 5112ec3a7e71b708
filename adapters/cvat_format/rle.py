"""CVAT's mask layout: run lengths over the mask's box, row by row, starting with a run of
zeros (0 when the first pixel is set), followed by the box's inclusive pixel bounds
``left, top, right, bottom``. Vectorised: no Python loop over pixels.

What a server sends is checked before anything is allocated (`problem`): the box lies within
the frame and the runs are whole numbers that add up to the box's area, so a few bytes that
declare 10^18 pixels cost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def problem(points: Sequence[float], width: int, height: int) -> str | None:
    """What makes ``points`` no mask of a ``width`` x ``height`` frame, or None when they are one.

    The box may reach one pixel past the frame's right and bottom edges: an instance box that ends
    on the frame's edge uploads so when its left edge rounds onto it. Numbers are expected to be
    finite ints or floats (the answer's objects are checked for that first).
    """
    if len(points) < 5:
        return f"a mask is run lengths then left, top, right, bottom: {len(points)} number(s) are none"
    bounds = points[-4:]
    if not all(float(v).is_integer() for v in bounds):
        return f"its box {list(bounds)} is not in whole pixels"
    left, top, right, bottom = (int(v) for v in bounds)
    if not (0 <= left <= right <= width and 0 <= top <= bottom <= height):
        return (
            f"its box (left {left}, top {top}, right {right}, bottom {bottom}) does not lie within "
            f"the {width}x{height} frame"
        )
    area = (right - left + 1) * (bottom - top + 1)
    runs = np.asarray(points[:-4], dtype=np.float64)
    if runs.size > area + 1:
        return f"{runs.size} runs for a box of {area} pixels"
    if not ((runs >= 0).all() and (runs == np.floor(runs)).all()):
        return "its run lengths are not whole numbers from 0"
    if runs.size and runs.max() > area:
        return f"a run of {runs.max():.0f} pixels is longer than its box of {area}"
    # each run <= area and at most area + 1 runs: int64 holds the total for any box of a sane frame
    total = int(runs.astype(np.int64).sum()) if area < 2**31 else sum(int(r) for r in points[:-4])
    if total != area:
        return f"its runs cover {total} pixels, its {right - left + 1}x{bottom - top + 1} box {area}"
    return None


def decode(points: Sequence[float], width: int, height: int) -> tuple[np.ndarray, int, int]:
    """The bool mask of a CVAT mask shape on a ``width`` x ``height`` frame, with its top-left pixel
    (left, top). Raises ValueError naming the problem (`problem`) before allocating the mask."""
    found = problem(points, width, height)
    if found is not None:
        raise ValueError(found)
    left, top, right, bottom = (int(v) for v in points[-4:])
    box_width, box_height = right - left + 1, bottom - top + 1
    runs = np.asarray(points[:-4], dtype=np.int64)
    values = np.zeros(runs.size, dtype=np.bool_)
    values[1::2] = True
    return np.repeat(values, runs).reshape(box_height, box_width), left, top


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) inclusive bounds of the set pixels, or None when none is set."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
