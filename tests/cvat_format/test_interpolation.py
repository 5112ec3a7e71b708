"""CVAT 2.52's interpolation between two keyframes, on cases worked out by hand from its rules."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_format.interpolation import NotInterpolableError, angle_step, interpolate, outline_between
from annoflow.adapters.cvat_format.tracks import expand_track


def _shape(kind, frame, points, rotation=0.0, outside=False):
    return {
        "type": kind,
        "frame": frame,
        "points": points,
        "rotation": rotation,
        "outside": outside,
        "occluded": False,
        "z_order": 0,
        "attributes": [],
    }


def test_a_rectangle_moves_linearly_and_turns_along_the_shorter_arc():
    frames = list(
        interpolate(
            _shape("rectangle", 0, [0.0, 0.0, 10.0, 10.0], 350.0), _shape("rectangle", 4, [4.0, 8.0, 14.0, 18.0], 10.0)
        )
    )
    assert [f for f, _, _ in frames] == [1, 2, 3]
    assert frames[1][1] == [2.0, 4.0, 12.0, 14.0]
    assert [r for _, _, r in frames] == [355.0, 0.0, 5.0]  # 350 -> 10 is 20 degrees forward, through 0


def test_an_exact_half_turn_is_one_degree_as_cvat_computes_it():
    assert angle_step(180.0, 0.0) == 1
    assert angle_step(10.0, 350.0) == 20.0 and angle_step(350.0, 10.0) == -20.0
    ((_, _, rotation),) = interpolate(
        _shape("rectangle", 0, [0.0, 0.0, 1.0, 1.0], 0.0), _shape("rectangle", 2, [0.0, 0.0, 1.0, 1.0], 180.0)
    )
    assert rotation == 0.5


def test_a_polygon_of_as_many_points_moves_point_by_point():
    square = [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]
    moved = [x + 10.0 if i % 2 == 0 else x for i, x in enumerate(square)]
    assert outline_between(square, moved, 0.5, closed=True) == [5.0, 0.0, 15.0, 0.0, 15.0, 10.0, 5.0, 10.0]


def test_a_polyline_point_added_in_between_appears_and_is_thinned_when_too_close():
    two, three = [0.0, 0.0, 10.0, 0.0], [0.0, 0.0, 5.0, 0.0, 10.0, 0.0]
    # the middle point (half way along) pairs with the first point of the two-point line and moves out of it
    assert outline_between(two, three, 0.5, closed=False) == [0.0, 0.0, 2.5, 0.0, 10.0, 0.0]
    # at 0.2 it is 1.0 from the first, under 5 / (2 * 2): the two become their mean
    assert outline_between(two, three, 0.2, closed=False) == [0.5, 0.0, 10.0, 0.0]


def test_points_move_linearly_when_one_and_hold_when_several():
    ((_, one, _),) = interpolate(_shape("points", 0, [0.0, 0.0]), _shape("points", 2, [4.0, 6.0]))
    assert one == [2.0, 3.0]
    held = list(interpolate(_shape("points", 0, [0.0, 0.0, 1.0, 1.0]), _shape("points", 3, [4.0, 6.0, 5.0, 7.0])))
    assert [p for _, p, _ in held] == [[0.0, 0.0, 1.0, 1.0]] * 2


def test_shapes_of_different_types_or_masks_are_not_interpolable():
    with pytest.raises(NotInterpolableError, match="a rectangle and a polygon"):
        list(
            interpolate(
                _shape("rectangle", 0, [0.0, 0.0, 1.0, 1.0]), _shape("polygon", 2, [0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
            )
        )
    with pytest.raises(NotInterpolableError, match="mask"):
        list(interpolate(_shape("mask", 0, [1.0, 0.0, 0.0, 0.0, 0.0]), _shape("mask", 2, [1.0, 0.0, 0.0, 0.0, 0.0])))


def test_a_polygon_track_expands_with_its_outline_interpolated_and_stops_at_outside():
    first = [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]
    last = [20.0, 0.0, 30.0, 0.0, 30.0, 10.0, 20.0, 10.0]
    track = {
        "id": 7,
        "frame": 0,
        "label_id": 1,
        "group": 0,
        "source": "manual",
        "attributes": [],
        "shapes": [_shape("polygon", 0, first), _shape("polygon", 4, last), _shape("polygon", 6, last, outside=True)],
    }
    shapes = expand_track(track, 10, set(), 3)
    assert [s["frame"] for s in shapes] == [0, 1, 2, 3, 4, 5]
    assert (
        shapes[2]["points"]
        == outline_between(first, last, 0.5, closed=True)
        == [10.0, 0.0, 20.0, 0.0, 20.0, 10.0, 10.0, 10.0]
    )
    assert [s["keyframe"] for s in shapes] == [True, False, False, False, True, False]
    assert {s["index"] for s in shapes} == {3}
