"""What a video's frame labels must be before they go up: checked for every video before anything is sent.

An ``index`` names one object through a video, so two labels of a field on one frame may not share
it; labels lie on frames of the video; and a field holding tracks (labels with an index) cannot go
up with ``frame_step`` > 1, since the tool would interpolate the object over frames the task skips.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from annoflow.domain.fields import FieldPath
from annoflow.domain.labels import labels_in
from annoflow.domain.samples import Sample, VideoMetadata


def frame_label_problems(sample: Sample, fields: Sequence[str], frame_step: int | None) -> list[str]:
    """The problems of ``sample``'s frame ``fields`` (paths ``frames.<name>``), each naming the video."""
    count = sample.metadata.frame_count if isinstance(sample.metadata, VideoMetadata) else None
    indexes = {
        field: [
            (number, [getattr(label, "index", None) for label in labels_in(frame.get(FieldPath.parse(field).name))])
            for number, frame in sample.frames.items()
        ]
        for field in fields
    }
    return frame_index_problems(sample.filepath, count, indexes, frame_step)


def frame_index_problems(
    filepath: str,
    frame_count: int | None,
    indexes: Mapping[str, Iterable[tuple[int, Sequence[int | None]]]],
    frame_step: int | None,
) -> list[str]:
    """`frame_label_problems` from what they need of each label: per field, each frame's number and its
    labels' indexes (None for a label without one), so a store's rows are checked without building labels."""
    problems: list[str] = []
    for field, frames in indexes.items():
        tracked = False
        for number, found in frames:
            if not found:
                continue
            seen = Counter(index for index in found if index is not None)
            tracked = tracked or bool(seen)
            shared = sorted(index for index, times in seen.items() if times > 1)
            if shared:
                problems.append(
                    f"{filepath}: frame {number} of {field} has several labels with index "
                    f"{', '.join(map(str, shared))}: an index is one object, on a frame once"
                )
            if frame_count is not None and number > frame_count:
                problems.append(
                    f"{filepath}: {field} has labels on frame {number}, past the video's {frame_count} frames"
                )
        if tracked and (frame_step or 1) > 1:
            problems.append(
                f"{filepath}: {field} holds tracks (labels with an index), which cannot go up "
                f"with frame_step {frame_step}: the task would skip frames the tracks have"
            )
    return problems
