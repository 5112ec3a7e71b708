"""A crash at any step of an import, of evaluate_detections or of delete_evaluation leaves the store
as before the call or as after it, and the call made again finishes: each writes one batch
(``LabelStore.write_batch``), so no step leaves part of its writes."""

from __future__ import annotations

import pytest

from annoflow.adapters.datasets import Dataset as FileDataset
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.application.test_evaluate_detections import _samples
from tests.crashes import Crash, Steps, Tap

SAMPLES = _samples(3, n=8)  # one list, so every run's file holds the same ids
IMPORTED = _samples(5, n=4)


def _registry():
    return RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def _state(store):
    return (dict(store.field_schema()), store.read_info(), [(s.id, s.fields) for s in store.get_samples()])


def _without_timestamps(state):
    schema, info, samples = state
    info = {
        k: ({e: {n: v for n, v in r.items() if n != "timestamp"} for e, r in v.items()} if k == "evaluations" else v)
        for k, v in info.items()
    }
    return schema, info, samples


def _runs(make, call, tmp_path):
    """Every (step, before or after) a clean call makes, as (crash_at, after)."""
    steps = Steps()
    call(make(tmp_path / "clean", steps))
    return [(k, after) for k in range(len(steps.calls)) for after in (False, True)]


def _make_evaluated(folder, steps, evaluated=False):
    store = SqliteLabelStore(folder / "l.sqlite", name="ds")
    if not store.sample_ids():
        store.add_samples(SAMPLES)
        if evaluated:
            Dataset(store, _registry()).evaluate_detections("predictions", eval_key="eval")
    return Dataset(Tap(store, steps, "store"), _registry()), store


@pytest.mark.parametrize("evaluated", [False, True], ids=["evaluate", "delete_evaluation"])
def test_a_crash_in_an_evaluation_or_its_deletion_leaves_it_whole_or_absent(tmp_path, evaluated):
    def call(dataset):
        if evaluated:
            dataset.delete_evaluation("eval")
        else:
            dataset.evaluate_detections("predictions", eval_key="eval")

    def make(folder, steps):
        return _make_evaluated(folder, steps, evaluated)[0]

    clean_dataset, clean_store = _make_evaluated(tmp_path / "clean2", Steps(), evaluated)
    before = _without_timestamps(_state(clean_store))
    call(clean_dataset)
    after = _without_timestamps(_state(clean_store))
    assert before != after
    for number, (crash_at, crash_after) in enumerate(_runs(make, call, tmp_path)):
        folder = tmp_path / f"run{number}"
        steps = Steps(crash_at=crash_at, after=crash_after)
        dataset, store = _make_evaluated(folder, steps, evaluated)
        with pytest.raises(Crash):
            call(dataset)
        found = _without_timestamps(_state(store))
        assert found in (before, after), f"a crash at step {crash_at} ({steps.names[-1]}) left part of the writes"
        if found == before:  # the call made again finishes
            call(Dataset(store, _registry()))
        assert _without_timestamps(_state(store)) == after
        store.close()


def test_a_crash_in_an_import_leaves_its_samples_and_info_together_or_neither(tmp_path):
    samples = IMPORTED
    info = {"categories": [{"id": 1, "name": "cat"}]}

    def make(folder, steps):
        store = SqliteLabelStore(folder / "l.sqlite", name="ds")
        return FileDataset(Tap(store, steps, "store"), _registry()), store

    steps = Steps()
    dataset, clean = make(tmp_path / "clean", steps)
    dataset._add(samples, info)
    after = _state(clean)
    for number, (crash_at, crash_after) in enumerate([(k, a) for k in range(len(steps.calls)) for a in (False, True)]):
        crashing = Steps(crash_at=crash_at, after=crash_after)
        dataset, store = make(tmp_path / f"run{number}", crashing)
        with pytest.raises(Crash):
            dataset._add(samples, info)
        if not store.sample_ids():  # nothing landed, the info neither: the import made again adds both
            assert store.read_info() == {}
            FileDataset(store, _registry())._add(samples, info)
        assert _state(store) == after
        store.close()
