"""Put the simulator back as it was: the same tasks, jobs, labels, annotations, ids and sessions.

A model-based test starts every example from the same annotated task. Annotating anew for each
example would cost most of the example's time; instead the state the simulator keeps (what it
writes to ``state.json`` when it persists, plus its id counters and sessions) is copied once after
annotate() and copied back before each example. The media stay where they are: nothing an example
does deletes them (no cleanup). Restored ids are the same in every example, so a failing example
replays with the same CVAT ids.
"""

from __future__ import annotations

import copy
from typing import Any

from annoflow.adapters.cvat_sim.state import SimState

_KEPT = (*SimState._SAVED, "_ids", "sessions")


def snapshot(state: SimState) -> dict[str, Any]:
    with state.lock:
        return {name: copy.deepcopy(getattr(state, name)) for name in _KEPT}


def restore(state: SimState, saved: dict[str, Any]) -> None:
    with state.lock:
        for name, value in saved.items():
            setattr(state, name, copy.deepcopy(value))
