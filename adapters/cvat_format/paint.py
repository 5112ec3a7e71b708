"""Boxes and polygons annotators draw with a mask target's class, painted into a segmentation mask.

Annotators often draw semantic segmentation with polygons. A rectangle or polygon of a
segmentation field's class sets the pixels whose centres it covers (even-odd rule) to the class's
value; every other pixel keeps its value. Work is bounded by the shape's box, clipped to the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAINTED_TYPES = ("rectangle", "polygon")


def paint(mask: np.ndarray, shape_type: str, points: Sequence[float], value: int) -> None:
    """Set the pixels of ``mask`` (height x width) that the shape covers to ``value``, in place."""
    height, width = mask.shape
    xs = np.asarray(points[0::2], dtype=np.float64)
    ys = np.asarray(points[1::2], dtype=np.float64)
    left, right = max(0, int(np.floor(xs.min()))), min(width, int(np.ceil(xs.max())))
    top, bottom = max(0, int(np.floor(ys.min()))), min(height, int(np.ceil(ys.max())))
    if left >= right or top >= bottom:
        return  # nothing of it inside the frame
    cx = np.arange(left, right, dtype=np.float64) + 0.5  # pixel centres of the shape's box
    cy = np.arange(top, bottom, dtype=np.float64)[:, None] + 0.5
    if shape_type == "rectangle":
        inside = (cx >= xs[0]) & (cx < xs[1]) & (cy >= ys[0]) & (cy < ys[1])
    else:
        inside = np.zeros((bottom - top, right - left), dtype=bool)
        for (x1, y1), (x2, y2) in zip(
            zip(xs, ys, strict=True), zip(np.roll(xs, -1), np.roll(ys, -1), strict=True), strict=True
        ):
            if y1 == y2:
                continue  # a horizontal edge crosses no row of centres
            crosses = (cy >= min(y1, y2)) & (cy < max(y1, y2))
            at = x1 + (cy - y1) * (x2 - x1) / (y2 - y1)  # where the edge meets each centre row
            inside ^= crosses & (cx < at)
    mask[top:bottom, left:right][inside] = value
