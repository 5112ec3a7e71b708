"""A video load that crashes at any step is finished by a restarted process, exactly once.

Two worlds, each its own SQLite files and the same video quickstart (same seed, same ids), have
their frame detections annotated (keyframes on frames 1, 4 and 8) into the simulator and edited
alike by the scripted annotator: a keyframe moved, a track split, a track drawn, a track deleted.
The reference world loads once through `tests.crashes` taps, which lists the load's steps. For
each step, a new world crashes once it returned (and one before the first step), then a new process
(new store, registry and backend on the same files) loads again: its frame labels must be the
reference's, bit-exact (the labels loads add compared without their ids, which follow from the run and
its CVAT objects, so differ between worlds), its LabelMerged events the reference's, and a further load
changes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import Detections
from annoflow.domain.task_ledger import merged_in
from tests.crashes import Crash, Steps, tapped
from tests.cvat_backend.conftest import PASSWORD, USER

KEY = "video-restart"
NAME = "quickstart-video"
KEYFRAMES = {1, 4, 8}


class World:
    def __init__(self, directory: Path, login: dict[str, Any]) -> None:
        self.directory = directory
        self.login = login

    def process(self, steps: Steps | None = None) -> Dataset:
        store = SqliteLabelStore(self.directory / "datasets.sqlite", name=NAME)
        registry = RunRegistry(
            env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.directory / "runs.sqlite")}
        )
        backends = {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        }
        if steps is not None:
            store, registry, backends = tapped(store, registry, backends, steps)
        return Dataset(store, registry, backends)

    def load(self, steps: Steps | None = None) -> Dataset:
        dataset = self.process(steps)
        dataset.load_annotations(KEY, **self.login)
        return dataset


def make_world(root: Path, login: dict[str, Any], cvat_sim, name: str) -> tuple[World, frozenset[str]]:
    world = World(root / name, login)
    dataset = world.process()
    load_quickstart(
        dataset.store, root / "media", video=True, num_samples=2, num_frames=8, size=(64, 48), tracks_per_video=[2, 2]
    )
    dataset.store.apply(
        [
            SetValue(
                s.id,
                "frames.detections",
                Detections([attrs.evolve(d, keyframe=n in KEYFRAMES) for d in frame["detections"].detections]),
                n,
            )
            for s in dataset.iter_samples()
            for n, frame in s.frames.items()
        ]
    )
    originals = frozenset(
        d.id for s in dataset.iter_samples() for f in s.frames.values() for d in f["detections"].detections
    )
    results = dataset.annotate(KEY, label_field="frames.detections", attributes=False, **login)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        for position, task_id in enumerate(results.task_ids):
            first, second = sorted(annotator.annotations(task_id)["tracks"], key=lambda t: t["id"])
            annotator.move_keyframe(task_id, first["id"], 3, [1.0, 2.0, 21.0, 12.0])
            if position == 0:
                annotator.split_track(task_id, second["id"], 3)
            else:
                annotator.delete(task_id, second["id"], kind="tracks")
            annotator.add_track(task_id, "vehicle", {2: [1.0, 1.0, 9.0, 9.0], 5: [3.0, 3.0, 11.0, 11.0]}, outside=7)
    return world, originals


NEW = "0" * 24


def _canon(label: Any, originals: frozenset[str]) -> Any:
    return label if label is None or label.id in originals else label.replace(id=NEW)


def snapshot(dataset: Dataset, originals: frozenset[str]) -> list[tuple[str, dict[int, Any]]]:
    return [
        (
            s.id,
            {n: tuple(_canon(d, originals) for d in f["detections"].detections) for n, f in sorted(s.frames.items())},
        )
        for s in dataset.iter_samples()
    ]


def merged(dataset: Dataset, originals: frozenset[str]) -> Counter:
    run = dataset.registry.get_run(NAME, KEY)
    out: Counter = Counter()
    for e in dataset.registry.iter_history(run.id, details=True):
        if type(e).__name__ == "LabelMerged":
            for c in merged_in(e):
                out[
                    (
                        c.action.value,
                        c.sample_id,
                        c.field,
                        c.frame,
                        c.label_id if c.label_id in originals else NEW,
                        _canon(c.label, originals),
                    )
                ] += 1
    return out


def test_a_restarted_process_finishes_a_video_load_crashed_at_any_step(tmp_path, login, cvat_sim):
    reference, originals = make_world(tmp_path, login, cvat_sim, "reference")
    clean = Steps()
    done = reference.load(clean)
    steps = len(clean.names)  # the load's; reading the outcome below adds more
    expected, expected_merged = snapshot(done, originals), merged(done, originals)
    actions = Counter(key[0] for key in expected_merged.elements())
    assert actions["added"] and actions["edited"] and actions["deleted"]  # the edits reach every kind of change
    assert "store.apply" in clean.names and "registry.save_run" in clean.names
    # a crash after step k leaves what a crash before step k + 1 leaves (nothing happens between), so
    # crashing after every step, and before the first, reaches every state a crash can leave
    for crash_at, after in [(0, False), *((k, True) for k in range(steps))]:
        world, _ = make_world(tmp_path, login, cvat_sim, f"crash-{crash_at}-{after}")
        crashed = Steps(crash_at=crash_at, after=after)
        with pytest.raises(Crash):
            world.load(crashed)
        # the same path as the reference up to the crash (a download's own reads are steps inside it)
        assert crashed.names[: crash_at + 1] == clean.names[: crash_at + 1], (crash_at, after)
        restarted = world.load()
        assert snapshot(restarted, originals) == expected, (clean.names[crash_at], after)
        assert merged(restarted, originals) == expected_merged, (clean.names[crash_at], after)
        again = world.process()
        again.load_annotations(KEY, **login)
        assert again.last_load.summary.unchanged_tasks == 2 and snapshot(again, originals) == expected
