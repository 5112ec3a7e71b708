"""Model-based test of iterative annotation: random annotator work in CVAT, loads, crashed loads.

A Hypothesis state machine plays an annotator working in CVAT's UI on one task of 5 samples cut
into jobs of 2 frames (each edit saved through the job of its frame, `JobAnnotator`): it adds,
moves, relabels, changes the attribute of, and deletes boxes, on the labels the dataset had
(``original``) and on those it drew itself and earlier loads added (``added``), and between its
edits the user loads, sometimes in a process that crashes at a random step of the load
(`tests.crashes`: before a call to the store, the registry or the backend is made, or after it
returned). A crashed process is gone; a new one (new store, registry and backend objects on the
same SQLite files) does the next load, whatever the annotator did meanwhile.

After every load that completes:
- the dataset holds what CVAT holds, label for label (`tests.workflows.agreement`: class, box to
  CVAT's precision, attributes, no duplicate), and each CVAT object that was paired with a label
  before is still paired with that same label (a label keeps its identity through edits);
- loading again with nothing changed in CVAT merges nothing and changes no label.

The machine runs against the real simulator (schema-checked HTTP), the SQLite label store and the
SQLite run registry, as a user's embedded setup does. The merge's provenance lives in CVAT's
``label_id`` attribute and object ids, which `tests/fakes.py`'s fake backend does not model (its
download returns labels a test scripts): a fake would need a CVAT model of its own and would leave
the CVAT adapter (download, provenance, digest) out of the test. The simulator is fast enough once
annotate() runs once, not per example (`World`). Measured on the project's shared 2-core machine,
with the simulator's schema validation on: an example (up to 25 steps; each completed load is
checked and loaded again, and every example ends with a load) costs about 0.9 s of CPU. On the
code of issue #15 section 1 (labels a load added are merged again by every later load), the
derandomized run reports the failure after 4 runs of the machine (3 examples generated, the
failing one replayed), 3.5 to 8.5 s into the test as other work loads the machine; 30 runs with
random seeds reported it after 4 to 10 runs, 2.5 to 9.5 s. On the fixed code (main at eccda97,
labels tracked per task) the 20 examples pass in about 18 s of CPU (13 s of wall time on a quiet
machine, 33 s while other suites ran), and 180 more with random seeds passed too.

CVAT ids stay stable (the simulator's ``renumber_on_save`` is off): an object keeps its id across
edits, which is what the identity check leans on. Settings are derandomized and use no example
database, so CI runs the same examples every time.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import labels_in
from tests.crashes import Crash, Steps, tapped
from tests.workflows.agreement import PROVENANCE, check_agreement, dataset_frames, frame_sizes, read_cvat, task_frames
from tests.workflows.job_annotator import JobAnnotator
from tests.workflows.sim_reset import restore, snapshot

KEY = "model"
FIELD = "ground_truth"
SAMPLES, SEGMENT, WIDTH, HEIGHT = 5, 2, 96, 64

# Shrinking a failure to its shortest sequence re-runs 100-200 examples (1-2 minutes here): asked for
# with ANNOFLOW_MODEL_SHRINK=1; CI reports the first failing sequence as found. No explain phase
# either: it re-runs failing examples under a line tracer, minutes for this machine.
SHRINK = bool(os.environ.get("ANNOFLOW_MODEL_SHRINK"))
SETTINGS = settings(
    max_examples=20,
    stateful_step_count=25,
    derandomize=True,  # the same examples on every run: CI cannot flake
    database=None,
    report_multiple_bugs=False,
    phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if SHRINK else ())),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_TLS = ssl.create_default_context()
POOLS = st.sampled_from(["original", "added"])
PICKS = st.integers(0, 1_000)
FRAMES = st.integers(0, SAMPLES - 1)
ISCROWD = st.sampled_from([None, "0", "1"])


@st.composite
def boxes(draw) -> list[float]:
    """A rectangle inside the frame, in whole pixels: x1, y1, x2, y2."""
    x1, y1 = draw(st.integers(0, WIDTH - 1)), draw(st.integers(0, HEIGHT - 1))
    x2, y2 = draw(st.integers(x1 + 1, WIDTH)), draw(st.integers(y1 + 1, HEIGHT))
    return [float(x1), float(y1), float(x2), float(y2)]


def step(method: Callable[..., None]) -> Callable[..., None]:
    """A rule that leaves ``broken`` set if it raises, so that teardown leaves the failure as it is."""

    @functools.wraps(method)
    def run(self: IterativeAnnotation, *args: Any, **kwargs: Any) -> None:
        self.broken = True
        method(self, *args, **kwargs)
        self.broken = False

    return run


def process(directory: Path, steps: Steps | None = None) -> Dataset:
    """A new process on a user's files; its calls are numbered steps when ``steps`` is given."""
    store = SqliteLabelStore(directory / "datasets.sqlite", name="quickstart")
    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / "runs.sqlite")}
    )
    # Plain HTTP to loopback, on a TLS context built once: httpx builds one per transport otherwise,
    # loading the CA bundle (50-70 ms here, more than a load of this task).
    transport = httpx.HTTPTransport(retries=0, verify=_TLS)
    backends = {
        "cvat": CVATBackend(
            interactive=False,
            client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001), "transport": transport},
        )
    }
    if steps is not None:
        store, registry, backends = tapped(store, registry, backends, steps)
    return Dataset(store, registry, backends)


class World:
    """What every example starts from: a user's files right after annotate(), and the simulator then.

    Annotated once; each example gets a copy of the files and the simulator put back
    (`tests.workflows.sim_reset`), which costs milliseconds where annotating costs a tenth of a second.
    """

    def __init__(self, cvat_sim: Any, root: Path) -> None:
        self.sim = cvat_sim
        self.login = {"url": cvat_sim.url, "username": USER, "password": PASSWORD}
        self.root = root
        self.template = root / "template"
        self.template.mkdir()
        dataset = process(self.template)
        load_quickstart(dataset.store, root / "media", num_samples=SAMPLES, image_size=(WIDTH, HEIGHT))
        self.originals = frozenset(label.id for s in dataset.iter_samples() for label in labels_in(s.fields[FIELD]))
        (self.task_id,) = dataset.annotate(KEY, label_field=FIELD, segment_size=SEGMENT, **self.login).task_ids
        self.frames = task_frames(dataset, KEY, self.task_id)
        dataset.store.close()
        dataset.registry.close()
        self.annotator = JobAnnotator(cvat_sim.url, USER, PASSWORD)  # logged in before the snapshot: its token is kept
        labels = self.annotator.labels(self.task_id)
        self.classes = sorted(labels)
        self.provenance = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == PROVENANCE}
        self.sizes = frame_sizes(self.annotator, self.task_id)
        assert len(self.annotator.jobs(self.task_id)) == 3 and len(self.originals) > SAMPLES
        self.cvat = snapshot(cvat_sim.state)
        self.examples = itertools.count()

    def fresh(self) -> Path:
        """A copy of the annotated files, and the simulator as annotate() left it."""
        directory = self.root / f"example-{next(self.examples)}"
        shutil.copytree(self.template, directory)
        restore(self.sim.state, self.cvat)
        return directory


class IterativeAnnotation(RuleBasedStateMachine):
    world: World  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.directory = self.world.fresh()
        self.task_id, self.annotator = self.world.task_id, self.world.annotator
        self.originals, self.classes, self.provenance = self.world.originals, self.world.classes, self.world.provenance
        self.known: dict[int, str] = {}  # CVAT object id -> the label it was paired with at the last check
        self.crashed = False
        self.broken = False

    def process(self, steps: Steps | None = None) -> Dataset:
        return process(self.directory, steps)

    def teardown(self) -> None:
        """Every example ends as a user's work does, with a load that completes, checked like the others."""
        if not self.broken:
            self._load()

    # --- the annotator, in CVAT ------------------------------------------------------------

    def _pick(self, pool: str, pick: int) -> dict[str, Any] | None:
        """A shape of the pool (the other pool when it is empty), by frame then id."""
        shapes = sorted(self.annotator.annotations(self.task_id)["shapes"], key=lambda s: (s["frame"], s["id"]))

        def original(shape: dict[str, Any]) -> bool:
            return any(a["spec_id"] in self.provenance and a["value"] in self.originals for a in shape["attributes"])

        pools = {"original": [s for s in shapes if original(s)], "added": [s for s in shapes if not original(s)]}
        chosen = pools[pool] or pools["added" if pool == "original" else "original"]
        return chosen[pick % len(chosen)] if chosen else None

    @initialize(drawn=st.lists(st.tuples(FRAMES, PICKS, boxes(), ISCROWD), min_size=1, max_size=3))
    @step
    def first_session(self, drawn: list[tuple[int, int, list[float], str | None]]) -> None:
        """The annotator's work before the first load: a few boxes drawn. (Hypothesis turns rules off at
        random per example, `add` included: without this, many examples would never touch an added label.)"""
        for frame, cls, box, iscrowd in drawn:
            self._add(frame, cls, box, iscrowd)

    @rule(frame=FRAMES, cls=PICKS, box=boxes(), iscrowd=ISCROWD)
    @step
    def add(self, frame: int, cls: int, box: list[float], iscrowd: str | None) -> None:
        self._add(frame, cls, box, iscrowd)

    def _add(self, frame: int, cls: int, box: list[float], iscrowd: str | None) -> None:
        attributes = {"iscrowd": iscrowd} if iscrowd is not None else None
        self.annotator.add_shape(
            self.task_id, self.classes[cls % len(self.classes)], frame, "rectangle", box, attributes=attributes
        )

    @rule(pool=POOLS, pick=PICKS, box=boxes())
    @step
    def move(self, pool: str, pick: int, box: list[float]) -> None:
        if shape := self._pick(pool, pick):
            self.annotator.move_shape(self.task_id, shape["id"], box)

    @rule(pool=POOLS, pick=PICKS, cls=PICKS)
    @step
    def relabel(self, pool: str, pick: int, cls: int) -> None:
        if shape := self._pick(pool, pick):
            self.annotator.relabel(self.task_id, shape["id"], self.classes[cls % len(self.classes)])

    @rule(pool=POOLS, pick=PICKS, value=st.sampled_from(["0", "1"]))
    @step
    def set_attribute(self, pool: str, pick: int, value: str) -> None:
        if shape := self._pick(pool, pick):
            self.annotator.set_attribute(self.task_id, shape["id"], "iscrowd", value)

    @rule(pool=POOLS, pick=PICKS)
    @step
    def delete(self, pool: str, pick: int) -> None:
        if shape := self._pick(pool, pick):
            self.annotator.delete(self.task_id, shape["id"])

    # --- the user, loading ---------------------------------------------------------------

    @rule()
    @step
    def load(self) -> None:
        self._load()

    def _load(self) -> None:
        dataset = self.process()
        dataset.load_annotations(KEY, **self.world.login)
        self._check_completed(dataset)

    @rule(crash_at=st.integers(0, 19), after=st.booleans())
    @step
    def crashing_load(self, crash_at: int, after: bool) -> None:
        """A load in a process that dies at step ``crash_at`` (a load with fewer steps completes: one that
        merges the task takes 12 to 14 steps, one that finds it unchanged 8)."""
        steps = Steps(crash_at=crash_at, after=after)
        dataset = self.process(steps)
        try:
            dataset.load_annotations(KEY, **self.world.login)
        except Crash:
            self.crashed = True
            return
        steps.crash_at = None  # the load had fewer steps and completed: the checks read through the same process
        self._check_completed(dataset)

    def _check_completed(self, dataset: Dataset) -> None:
        summary = dataset.last_load.summary
        counts = f"the load merged added={summary.added}, edited={summary.edited}, deleted={summary.deleted}"
        if self.crashed:
            counts += " (finishing a crashed load)"
        self.crashed = False
        frames = dataset_frames(dataset, self.world.frames, FIELD)
        try:
            self.known = check_agreement(read_cvat(self.annotator, self.task_id, self.world.sizes), frames, self.known)
        except AssertionError as problem:
            raise AssertionError(f"{counts}; {problem}") from None

        again = self.process()
        run = again.registry.get_run("quickstart", KEY)
        before = len(again.registry.history(run.id))
        again.load_annotations(KEY, **self.world.login)
        repeat = again.last_load.summary
        assert (repeat.added, repeat.edited, repeat.deleted, repeat.rejected) == (0, 0, 0, 0), (
            f"loading again with nothing changed in CVAT merged something: {repeat}"
        )
        merged = [
            type(e).__name__
            for e in again.registry.history(run.id)[before:]
            if type(e).__name__ in ("LabelMerged", "Rejected")
        ]
        assert not merged, f"loading again with nothing changed in CVAT recorded {merged}"
        assert dataset_frames(again, self.world.frames, FIELD) == frames, "loading again changed labels"


def _ram_folder() -> str | None:
    """Linux's RAM-backed /dev/shm where it exists: the examples' SQLite commits need not reach a disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _run_machine(cvat_sim: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="annoflow-model-", dir=_ram_folder()) as root:
        IterativeAnnotation.world = World(cvat_sim, Path(root))
        try:
            run_state_machine_as_test(IterativeAnnotation, settings=SETTINGS)
        finally:
            IterativeAnnotation.world.annotator.close()


def test_the_dataset_holds_what_cvat_holds_after_every_load(cvat_sim):
    _run_machine(cvat_sim)


def test_the_machine_catches_a_load_that_merges_nothing(cvat_sim, monkeypatch):
    """The machine cannot pass vacuously: a load that records every task but changes no label fails it."""
    monkeypatch.setattr("annoflow.application.load.merge_task", lambda *args, **kwargs: ([], []))
    with pytest.raises(AssertionError, match="the dataset does not hold what CVAT holds"):
        _run_machine(cvat_sim)
