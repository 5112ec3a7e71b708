"""What a video's frame labels must be before they go up: checked for every video before anything is sent.

An ``index`` names one object through a video, so two labels of a field on one frame may not share
it; labels lie on frames of the video; and a field holding tracks (labels with an index) cannot go
up with ``frame_step`` > 1, since the tool would interpolate the object over frames the task skips.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from annoflow.domain.fields import FieldPath
from annoflow.domain.labels import labels_in
from annoflow.domain.samples import Sample, VideoMetadata


def frame_label_problems(sample: Sample, fields: Sequence[str], frame_step: int | None) -> list[str]:
    """The problems of ``sample``'s frame ``fields`` (paths ``frames.<name>``), each naming the video."""
    problems: list[str] = []
    count = sample.metadata.frame_count if isinstance(sample.metadata, VideoMetadata) else None
    for field in fields:
        name = FieldPath.parse(field).name
        tracked = False
        for number, frame in sample.frames.items():
            labels = labels_in(frame.get(name))
            if not labels:
                continue
            indexes = Counter(index for label in labels if (index := getattr(label, "index", None)) is not None)
            tracked = tracked or bool(indexes)
            shared = sorted(index for index, seen in indexes.items() if seen > 1)
            if shared:
                problems.append(f"{sample.filepath}: frame {number} of {field} has several labels with index "
                                f"{', '.join(map(str, shared))}: an index is one object, on a frame once")
            if count is not None and number > count:
                problems.append(f"{sample.filepath}: {field} has labels on frame {number}, past the video's "
                                f"{count} frames")
        if tracked and (frame_step or 1) > 1:
            problems.append(f"{sample.filepath}: {field} holds tracks (labels with an index), which cannot go up "
                            f"with frame_step {frame_step}: the task would skip frames the tracks have")
    return problems
