"""The run registry stores runs and rebuilds them equal, on every persistence module."""

from __future__ import annotations

import copyreg
import subprocess
import sys
import textwrap
import uuid
from types import MappingProxyType

import numpy as np
import pytest

from annoflow.application.runs.registry import RunConflictError, RunRegistry
from annoflow.domain.annotation_run import AnnotationRun, RunCatalog, RunError, RunStatus
from annoflow.domain.ids import new_id
from annoflow.domain.labels import Detection, Keypoint, Segmentation
from annoflow.domain.run_records import (
    FrameRef,
    LoadSummary,
    MergedChange,
    Rejection,
    RemoteAttributeRef,
    RemoteLabelRef,
    TaskRecord,
    UploadedObject,
)
from annoflow.domain.task_ledger import TaskLedger, merged_in


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def registry_env(request, tmp_path):
    if request.param == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if request.param == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
    server = request.getfixturevalue("postgres_server")
    dbname = f"runs_{uuid.uuid4().hex[:12]}"
    server.create_database(dbname)
    return server.env(dbname)


def _full_run(dataset: str = "quickstart", key: str = "anno") -> tuple[AnnotationRun, TaskLedger]:
    samples = [new_id() for _ in range(4)]
    run = AnnotationRun.request(
        dataset=dataset,
        key=key,
        backend="cvat",
        config={"segment_size": 2, "task_size": None, "job_assignees": ["ann1", "ann2"]},
        label_schema={"ground_truth": {"type": "detections", "classes": ["cat", "dog"]}},
        sample_ids=samples,
    )
    uploaded = new_id()
    ledger = run.record_task(
        TaskRecord(
            task_id=7,
            project_id=3,
            job_ids=(11, 12),
            frames=[FrameRef(s) for s in samples],
            uploaded=[UploadedObject("ground_truth", uploaded, samples[0], "shape", 101)],
            labels=[RemoteLabelRef(5, "cat", "ground_truth", "cat")],
            attributes=[RemoteAttributeRef(9, 5, "label_id")],
        )
    )
    run.complete_upload()
    added = Detection(
        label="dog",
        bounding_box=(0.25, 0.5, 0.125, 0.1 + 0.2),
        mask=np.random.default_rng(0).random((7, 5)) > 0.5,
        confidence=0.3,
        attributes={"iscrowd": 0, "note": "x"},
    )
    kp = Keypoint(label="person", points=[(0.1, 0.2), (float("nan"), float("nan"))])
    seg = Segmentation(mask=np.arange(12, dtype=np.uint16).reshape(3, 4))
    run.record_import(
        load_id="load-1",
        task_id=7,
        digest="d1",
        shape_count=3,
        ledger=ledger,
        changes=[
            MergedChange("added", samples[1], "ground_truth", added.id, label=added, remote_id=102),
            MergedChange("edited", samples[1], "kps", kp.id, label=kp),
            MergedChange("edited", samples[2], "seg", seg.id, label=seg),
            MergedChange("deleted", samples[0], "ground_truth", uploaded, remote_id=101),
        ],
        rejections=[Rejection(samples[3], "ground_truth", "allow_additions", "add 'cat' box", remote_id=103)],
    )
    return run, ledger


# Labels hold read-only mappings; teach pickle to carry them for the restart test.
def _read_only(mapping: dict) -> MappingProxyType:
    return MappingProxyType(mapping)


copyreg.pickle(MappingProxyType, lambda m: (_read_only, (dict(m),)))


def _state(run: AnnotationRun) -> dict:
    return dict(vars(run))


def test_a_run_is_rebuilt_equal_from_its_events(registry_env):
    registry = RunRegistry(env=registry_env)
    run, ledger = _full_run()
    registry.add_run(run, ledger)
    rebuilt = registry.get_run("quickstart", "anno")
    assert _state(rebuilt) == _state(run)
    rebuilt_ledger = registry.get_ledger(rebuilt, 7)
    assert _state(rebuilt_ledger) == _state(ledger)
    assert rebuilt_ledger.changes_of("load-1") == ledger.changes_of("load-1")
    # the provenance now: the deleted upload is gone, the added box is tracked by its CVAT id
    record = rebuilt_ledger.record()
    assert list(zip(record.uploaded.label_ids, record.uploaded.remote_ids, strict=True)) == [
        (ledger.changes_of("load-1")[0].label_id, 102)
    ]
    run.mark_applied(7)
    run.complete_load(LoadSummary("load-1", added=1, edited=2, deleted=1, rejected=1))
    registry.save_run(run)
    rebuilt = registry.get_run("quickstart", "anno")
    assert _state(rebuilt) == _state(run)
    assert rebuilt.status is RunStatus.LOADED
    assert [type(e).__name__ for e in registry.iter_history(run.id)] == [
        "Requested",
        "TaskCreated",
        "UploadCompleted",
        "ShapesImported",
        "ChangesApplied",
        "LoadCompleted",
    ]
    assert [type(e).__name__ for e in registry.history(run.id)] == [  # with each load's details from the ledgers
        "Requested",
        "TaskCreated",
        "UploadCompleted",
        "ShapesImported",
        "LabelMerged",
        "Rejected",  # the load's four changes of the task in one event
        "ChangesApplied",
        "LoadCompleted",
    ]
    ledger_events = list(registry.ledger_history(run, 7))
    assert [type(e).__name__ for e in ledger_events] == ["Opened", "Imported", "LabelMerged", "Rejected"]
    assert list(merged_in(ledger_events[2])) == ledger.changes_of("load-1") and len(ledger.changes_of("load-1")) == 4


def test_rename_moves_the_key_and_keeps_history(registry_env):
    registry = RunRegistry(env=registry_env)
    registry.add_run(*_full_run(key="old"))
    registry.rename_run("quickstart", "old", "new")
    assert registry.list_runs("quickstart") == ["new"]
    with pytest.raises(RunError, match="no annotation run with key 'old'"):
        registry.get_run("quickstart", "old")
    run = registry.get_run("quickstart", "new")
    assert run.key == "new" and run.previous_keys == ["old"]
    assert type(registry.history(run.id)[-1]).__name__ == "Renamed"
    # the old key is free again
    registry.add_run(*_full_run(key="old"))
    assert registry.list_runs("quickstart") == ["new", "old"]


def test_delete_frees_the_key_and_keeps_the_audit_trail(registry_env):
    registry = RunRegistry(env=registry_env)
    run, ledger = _full_run()
    registry.add_run(run, ledger)
    registry.delete_run("quickstart", "anno")
    assert registry.list_runs("quickstart") == []
    assert registry.run_ids("quickstart", include_deleted=True) == [run.id]
    assert registry.get_run_by_id(run.id).is_deleted
    assert type(registry.history(run.id)[-1]).__name__ == "Deleted"


def test_keys_are_unique_per_dataset(registry_env):
    registry = RunRegistry(env=registry_env)
    registry.add_run(*_full_run(dataset="a", key="k"))
    registry.add_run(*_full_run(dataset="b", key="k"))
    with pytest.raises(RunError, match="dataset 'a' already has an annotation run with key 'k'"):
        registry.add_run(*_full_run(dataset="a", key="k"))
    assert registry.list_runs("a") == ["k"] and registry.list_runs("b") == ["k"]


def test_a_concurrent_add_of_the_same_key_is_refused(registry_env):
    if registry_env["PERSISTENCE_MODULE"] == "eventsourcing.popo":
        pytest.skip("two processes share no in-memory store")
    first, second = RunRegistry(env=registry_env), RunRegistry(env=registry_env)
    first.add_run(*_full_run(key="warmup"))
    catalog_seen_by_second = second.list_runs("quickstart")  # second reads the catalog now
    assert catalog_seen_by_second == ["warmup"]
    first.add_run(*_full_run(key="same"))
    # second's catalog copy is stale: it cannot see "same", but saving must still fail
    stale = second.repository.get(RunCatalog.create_id("quickstart"), version=2)
    run, _ledger = _full_run(key="same")
    assert "same" not in stale.runs
    stale.add("same", run.id)
    with pytest.raises(RunConflictError):
        second._save(stale, run, conflict="conflict")
    assert second.list_runs("quickstart") == ["warmup", "same"]


def test_run_rebuilt_equal_after_a_process_restart(registry_env, tmp_path):
    if registry_env["PERSISTENCE_MODULE"] == "eventsourcing.popo":
        pytest.skip("memory does not outlive a process")
    writer = textwrap.dedent(
        f"""
        import pickle, sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parents[2])!r})
        from tests.runs.test_registry import _full_run, _state
        from annoflow.application.runs.registry import RunRegistry
        registry = RunRegistry(env={registry_env!r})
        run, ledger = _full_run()
        registry.add_run(run, ledger)
        registry.close()
        with open({str(tmp_path / "state.pickle")!r}, 'wb') as f:
            pickle.dump((run.id, _state(run)), f)
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    import pickle

    run_id, state = pickle.loads((tmp_path / "state.pickle").read_bytes())
    rebuilt = RunRegistry(env=registry_env).get_run("quickstart", "anno")
    assert rebuilt.id == run_id
    assert _state(rebuilt) == state


def test_a_label_schema_travels_in_the_requested_event(registry_env):
    from annoflow.domain.fields import FieldKind
    from annoflow.domain.label_schema import build_label_schema

    schema = build_label_schema(
        label_schema={
            "gt": {
                "type": "detections",
                "classes": [
                    {
                        "classes": ["a"],
                        "attributes": {"x": {"type": "radio", "values": [True, False], "default": False}},
                    },
                    "b",
                ],
                "attributes": {"occ": {"type": "occluded"}},
                "allow_deletions": False,
            },
            "seg": {"type": "segmentation", "mask_targets": {1: "road", 255: "sky"}},
        },
        field_schema={"other": FieldKind.INT},
    )
    run = AnnotationRun.request(
        dataset="ds",
        key="k",
        backend="cvat",
        config={"frame_start": {"/a.mp4": 3}},
        label_schema=schema,
        sample_ids=[new_id()],
    )
    registry = RunRegistry(env=registry_env)
    registry.add_run(run)
    in_memory = registry_env["PERSISTENCE_MODULE"] == "eventsourcing.popo"
    rebuilt = (registry if in_memory else RunRegistry(env=registry_env)).get_run("ds", "k")
    assert rebuilt.label_schema == schema
    assert rebuilt.label_schema["seg"].mask_targets_dict == {1: "road", 255: "sky"}
    assert rebuilt.config["frame_start"]["/a.mp4"] == 3


def test_an_adopted_project_schema_travels_in_its_event(registry_env):
    from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
    from annoflow.domain.label_schema import build_label_schema
    from annoflow.domain.project_schema import ProjectAttribute, ProjectLabel, adopt_project_labels

    requested = build_label_schema(
        label_field="boxes", label_type="detections", occluded_attr="hidden", field_schema={}, classes_from_project=True
    )
    run = AnnotationRun.request(
        dataset="ds", key="k", backend="cvat", config={}, label_schema=requested, sample_ids=[new_id()]
    )
    adopted = adopt_project_labels(
        requested,
        [ProjectLabel("car", [ProjectAttribute("size", "number", ("0", "9", "1"))]), ProjectLabel("dog")],
        CVAT_CAPABILITIES,
    )
    run.adopt_project_schema(adopted)
    registry = RunRegistry(env=registry_env)
    registry.add_run(run)
    in_memory = registry_env["PERSISTENCE_MODULE"] == "eventsourcing.popo"
    rebuilt = (registry if in_memory else RunRegistry(env=registry_env)).get_run("ds", "k")
    assert rebuilt.label_schema == adopted and rebuilt.project_schema_adopted
    assert rebuilt.label_schema["boxes"].project_links == requested["boxes"].project_links != ()


def test_a_schema_recorded_before_projects_were_followed_still_decodes():
    """Requested events stored before FieldSchema.project_links and LabelSchema.from_project existed."""
    import json

    from eventsourcing.persistence import JSONTranscoder

    from annoflow.application.runs.registry import event_value_objects
    from annoflow.application.runs.transcodings import register_value_objects
    from annoflow.domain.label_schema import build_label_schema

    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    schema = build_label_schema(label_field="boxes", label_type="detections", classes=["a"], field_schema={})
    stored = json.loads(transcoder.encode(schema))
    del stored["_data_"]["from_project"]
    for field in stored["_data_"]["fields"]:
        del field["_data_"]["project_links"]
    assert transcoder.decode(json.dumps(stored).encode()) == schema


def test_scalar_changes_come_back_with_their_types(registry_env):
    registry = RunRegistry(env=registry_env)
    run, ledger = _full_run()
    sample = run.sample_ids[0]
    values = [True, 0, 2**64 + 1, -0.0, float("nan"), float("inf"), 0.1, "", "ünï text", "1"]
    changes = [MergedChange("added", sample, f"f{i}", None, value=v, remote_id=i) for i, v in enumerate(values)]
    changes.append(MergedChange("deleted", sample, "gone", None))
    run.mark_applied(7)
    run.record_import(
        load_id="load-2", task_id=7, digest="d2", shape_count=len(values), ledger=ledger, changes=changes, rejections=[]
    )
    registry.add_run(run, ledger)
    rerun = registry.get_run("quickstart", "anno")
    rebuilt = registry.get_ledger(rerun, 7).changes_of(rerun.unapplied[7])
    assert [repr(c) for c in rebuilt] == [
        repr(c) for c in changes
    ]  # repr tells True from 1, -0.0 from 0.0, and shows nan
    assert [type(c.value) for c in rebuilt] == [type(c.value) for c in changes]
    assert all(c.is_scalar and c.label is None for c in rebuilt)


@pytest.mark.parametrize("other_key, wins", [("other", True), ("same", False)])
def test_a_key_added_by_another_process_meanwhile_conflicts_only_when_it_is_the_same(tmp_path, other_key, wins):
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
    mine, theirs = RunRegistry(env=env), RunRegistry(env=env)
    mine.add_run(*_full_run(key="warmup"))
    read = mine._catalog
    raced = []

    def read_then_race(dataset):  # another process adds its run right after this one read the catalog
        catalog = read(dataset)
        if not raced:
            raced.append(True)
            theirs.add_run(*_full_run(key=other_key))
        return catalog

    mine._catalog = read_then_race
    run, ledger = _full_run(key="same")
    if wins:
        mine.add_run(run, ledger)
        assert theirs.list_runs("quickstart") == ["warmup", "other", "same"]
        assert theirs.get_run("quickstart", "same").id == run.id
    else:
        with pytest.raises(RunError, match="already has an annotation run with key 'same'"):
            mine.add_run(run, ledger)
        assert theirs.get_run("quickstart", "same").id != run.id


def test_rename_and_delete_retry_when_another_key_changed_meanwhile(tmp_path):
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
    mine, theirs = RunRegistry(env=env), RunRegistry(env=env)
    for key in ("a", "b", "c"):
        mine.add_run(*_full_run(key=key))
    read = mine._catalog
    moves = iter([lambda: theirs.rename_run("quickstart", "b", "b2"), lambda: theirs.delete_run("quickstart", "c")])

    def read_then_race(dataset):
        catalog = read(dataset)
        next(moves, lambda: None)()
        return catalog

    mine._catalog = read_then_race
    mine.rename_run("quickstart", "a", "a2")
    mine.delete_run("quickstart", "a2")
    assert theirs.list_runs("quickstart") == ["b2"]
