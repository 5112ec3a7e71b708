"""The shapes CVAT 2.52 shows between two keyframes of a track, computed as its server computes them.

docs/cvat-format.md ("Interpolation between keyframes") gives the rule for each shape type.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise

import numpy as np

LINEAR_TYPES = frozenset({"rectangle", "ellipse", "cuboid"})
OUTLINE_TYPES = frozenset({"polygon", "polyline"})

Point = tuple[np.float64, np.float64]


class NotInterpolableError(ValueError):
    """Two keyframes CVAT cannot interpolate between."""


def angle_step(right: float, left: float) -> float:
    """The signed turn from ``left`` to ``right`` degrees along the shorter arc, as CVAT 2.52 computes it."""
    diff = ((right - left + 180) % 360) - 180
    if abs(diff) >= 180:  # only an exact -180 gets here: CVAT's branch then gives 1 degree
        diff = 360 + abs(diff) if diff > 0 else 1
    return diff


def _linear(
    points0: Sequence[float], points1: Sequence[float], rotation0: float, rotation1: float, offset: float
) -> tuple[list[float], float]:
    diff = np.subtract(points1, points0)
    rotation = (rotation0 + angle_step(rotation1, rotation0) * offset + 360) % 360
    return (points0 + diff * offset).tolist(), rotation


def _pairs(points: Sequence[float]) -> list[Point]:
    flat = np.asarray(points).reshape(-1, 2)
    return [(row[0], row[1]) for row in flat]


def _distance(a: Point, b: Point) -> np.float64:
    return np.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)


def _length(points: Sequence[Point]) -> float | np.float64:
    total: float | np.float64 = 0
    for a, b in pairwise(points):
        total += _distance(b, a)
    return total


def _relative_positions(points: Sequence[Point]) -> list[float | np.float64]:
    """Each point's distance along the outline, over the outline's length (NaN when it has none)."""
    length = _length(points)
    positions: list[float | np.float64] = [0]
    travelled: float | np.float64 = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for a, b in pairwise(points):
            travelled += _distance(b, a)
            positions.append(np.float64(travelled) / np.float64(length))
    return positions


def _nearest(value: float | np.float64, positions: Sequence[float | np.float64]) -> int:
    """The first position closest to ``value`` (a NaN distance is never closer)."""
    best, best_distance = 0, abs(value - positions[0])
    for index in range(1, len(positions)):
        distance = abs(value - positions[index])
        if distance < best_distance:
            best, best_distance = index, distance
    return best


def _pairing(left: Sequence[float | np.float64], right: Sequence[float | np.float64]) -> list[list[int]]:
    """For each left point, the right points it moves to: its nearest, plus unpaired right points nearest it."""
    pairing = [[_nearest(position, right)] for position in left]
    taken = {index for matched in pairing for index in matched}
    for index in range(len(right)):
        if index not in taken:
            pairing[_nearest(right[index], left)].append(index)
    return [sorted(matched) for matched in pairing]


def _mean(points: Sequence[Point]) -> Point:
    sum_x = sum_y = np.float64(0)  # float64 from the start: a Point's coordinates are float64
    for x, y in points:
        sum_x += x
        sum_y += y
    return (sum_x / len(points), sum_y / len(points))


def _thin(moved: Sequence[Point], first: int, last: int, base_length: float | np.float64, count: int) -> list[Point]:
    """``moved[first..last]`` less the points closer than ``base_length / (2 * count)`` to the last kept
    one (the ends always kept); two ends that close become their mean."""
    threshold = base_length / (2 * count)
    kept = [moved[first]]
    latest = first
    for index in range(first + 1, last):
        if _distance(moved[latest], moved[index]) >= threshold:
            kept.append(moved[index])
            latest = index
    kept.append(moved[last])
    if len(kept) == 2 and _distance(moved[first], moved[last]) < threshold:
        return [_mean(kept)]
    return kept


def _reduce(
    moved: Sequence[Point], pairing: Sequence[Sequence[int]], left: Sequence[Point], right: Sequence[Point]
) -> list[Point]:
    """The moved points with crowded runs thinned: a run of left points that all move to one right
    point, measured along the left outline; a left point that moves to several right points, along
    the right one."""
    starts: list[int] = []  # where each left point's moved points begin in ``moved``
    position = 0
    for matched in pairing:
        starts.append(position)
        position += len(matched)
    reduced: list[Point] = []

    def left_run(start: int, stop: int) -> None:
        if starts[start] == starts[stop]:
            reduced.append(moved[starts[start]])
            return
        reduced.extend(_thin(moved, starts[start], starts[stop], _length(left[start : stop + 1]), stop - start + 1))

    def fan(index: int) -> None:
        first, last = pairing[index][0], pairing[index][-1]
        reduced.extend(
            _thin(
                moved,
                starts[index],
                starts[index] + len(pairing[index]) - 1,
                _length(right[first : last + 1]),
                last - first + 1,
            )
        )

    run_start: int | None = None
    for index, matched in enumerate(pairing):
        if len(matched) == 1:
            if run_start is None:
                run_start = index
            elif matched[0] != pairing[run_start][0]:
                left_run(run_start, index - 1)
                run_start = index
        else:
            if run_start is not None:
                left_run(run_start, index - 1)
                run_start = None
            fan(index)
    if run_start is not None:
        left_run(run_start, len(left) - 1)
    return reduced


def outline_between(points0: Sequence[float], points1: Sequence[float], offset: float, closed: bool) -> list[float]:
    """A polygon's (``closed``) or polyline's points at ``offset`` between two keyframes' points."""
    if closed:
        points0, points1 = list(points0) + list(points0[:2]), list(points1) + list(points1[:2])
    left, right = _pairs(points0), _pairs(points1)
    pairing = _pairing(_relative_positions(left), _relative_positions(right))
    moved = [
        (a[0] + (right[j][0] - a[0]) * offset, a[1] + (right[j][1] - a[1]) * offset)
        for a, matched in zip(left, pairing, strict=True)
        for j in matched
    ]
    flat = np.asarray([[x, y] for x, y in _reduce(moved, pairing, left, right)]).flatten().tolist()
    return flat[:-2] if closed else flat


def check_interpolable(shape0: dict, shape1: dict) -> None:
    """Raise `NotInterpolableError` for two keyframes CVAT cannot interpolate between (whether or not a frame lies
    between them: CVAT's export fails on such a track)."""
    kind = shape0["type"]
    if kind != shape1["type"]:
        raise NotInterpolableError(
            f"its shapes on frames {shape0['frame']} and {shape1['frame']} are a {kind} and a "
            f"{shape1['type']}, which CVAT cannot interpolate between"
        )
    if kind not in LINEAR_TYPES and kind not in OUTLINE_TYPES and kind != "points":
        raise NotInterpolableError(f"CVAT does not interpolate {kind} shapes")


def interpolate(shape0: dict, shape1: dict) -> Iterator[tuple[int, list[float], float]]:
    """(frame, points, rotation) of each frame strictly between two keyframes, as CVAT shows them."""
    check_interpolable(shape0, shape1)
    kind = shape0["type"]
    frame0, distance = shape0["frame"], shape1["frame"] - shape0["frame"]
    rotation0 = shape0.get("rotation", 0.0)
    one_point = kind == "points" and len(shape0["points"]) == 2 and len(shape1["points"]) == 2
    for frame in range(frame0 + 1, shape1["frame"]):
        offset = (frame - frame0) / distance
        if kind in LINEAR_TYPES or one_point:
            points, rotation = _linear(
                shape0["points"], shape1["points"], rotation0, shape1.get("rotation", 0.0), offset
            )
            yield frame, points, rotation
        elif kind in OUTLINE_TYPES:
            yield frame, outline_between(shape0["points"], shape1["points"], offset, kind == "polygon"), rotation0
        else:
            yield frame, list(shape0["points"]), rotation0
