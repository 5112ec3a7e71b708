"""Which ``index`` each object track read back from an annotation tool takes in the dataset.

A tool keeps its own ids for tracks, and annotators split and merge them, so a track read back
is given the index of the dataset's track it continues, as FiftyOne's ``_update_tracks`` does:

- a track holding labels of the dataset (by their provenance) takes their index; one holding
  labels of several dataset tracks (tracks merged in the tool) takes the smallest of them;
- each dataset index goes to the first track (by first frame) that holds it: the later part
  of a track split in the tool is a new object, and gets a new index;
- a track holding no label of the dataset (drawn in the tool, or whose provenance the tool
  lost) gets the next index past every index the video's fields hold and those given before.

The merge then treats a label whose index differs from its original's as an index edit
(``allow_index_edits``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import attrs


@attrs.frozen
class TrackSeen:
    """A track read back: its key in the tool, its first frame, and the dataset labels it holds."""

    key: Hashable
    first_frame: int
    label_ids: tuple[str, ...]


def track_indexes(tracks: Sequence[TrackSeen], existing: Mapping[str, int], held: Iterable[int]) -> dict[Hashable, int]:
    """``key -> index`` for each track of one video; ``existing`` gives the index of each dataset label
    with one, ``held`` every index the video's fields hold (so a new track's never clashes)."""
    given: set[int] = set()
    top = max([*held, *existing.values()], default=0)
    indexes: dict[Hashable, int] = {}
    for track in sorted(tracks, key=lambda t: (t.first_frame, str(t.key))):
        own = {existing[label_id] for label_id in track.label_ids if label_id in existing} - given
        if own:
            indexes[track.key] = min(own)
            given |= own
        else:
            top += 1
            indexes[track.key] = top
    return indexes
