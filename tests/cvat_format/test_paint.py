"""Boxes and polygons of a mask target's class paint the pixels whose centres they cover, and only those."""

from __future__ import annotations

import numpy as np

from annoflow.adapters.cvat_format.paint import paint


def test_a_box_and_a_triangle_paint_their_pixels_and_leave_the_rest():
    mask = np.full((6, 8), 9, np.uint8)
    paint(mask, "rectangle", [1.0, 1.0, 3.0, 4.0], 2)
    expected = np.full((6, 8), 9, np.uint8)
    expected[1:4, 1:3] = 2
    assert (mask == expected).all()
    mask = np.zeros((6, 8), np.uint8)
    paint(mask, "polygon", [0.0, 0.0, 6.0, 0.0, 0.0, 6.0], 5)  # the triangle below the anti-diagonal x + y = 6
    ys, xs = np.nonzero(mask)
    assert ((xs + 0.5) + (ys + 0.5) < 6).all() and len(xs) == sum(
        1 for y in range(6) for x in range(8) if x + y + 1 < 6
    )


def test_a_shape_outside_the_frame_paints_nothing_and_one_across_its_edge_is_clipped():
    mask = np.zeros((4, 4), np.uint8)
    paint(mask, "polygon", [10.0, 10.0, 12.0, 10.0, 11.0, 12.0], 3)
    assert not mask.any()
    paint(mask, "rectangle", [-5.0, -5.0, 2.0, 2.0], 3)
    assert mask[:2, :2].all() and mask.sum() == 3 * 4
