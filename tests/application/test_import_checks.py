"""import_annotations() refuses what names no single import, each with its own message, before anything
is written (FiftyOne's CVAT guide, "Importing existing tasks")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.import_tasks import Importer, import_fields
from annoflow.application.ports.annotation_backend import BackendConfigError, ImportSelection, MediaNotFoundError
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.project_schema import ProjectLabel
from tests.fakes import FakeBackend, FakeSession

BOX = ProjectLabel("cat", object_kind="rectangle")


class _ImportingSession(FakeSession):
    """A session that finds the scripted tasks and labels and names seven frames per task."""

    found: ClassVar[list[dict]] = []  # every session's find_tasks calls, read through the class

    selection = ImportSelection(())
    labels: Sequence[ProjectLabel] = ()  # connect() gives each session its backend's

    def find_tasks(self, *, project_name, project_id, task_ids):
        self.found.append({"project_name": project_name, "project_id": project_id, "task_ids": list(task_ids)})
        return self.selection

    def import_labels(self, selection):
        return self.labels

    def media_names(self, task_id):
        return [f"frame_{i}.jpg" for i in range(7)]


class _ImportingBackend(FakeBackend):
    def __init__(self, selection: ImportSelection, labels: list[ProjectLabel]) -> None:
        super().__init__()
        self.selection, self.labels = selection, labels
        _ImportingSession.found = []

    def connect(self, config):
        self.server.connections += 1
        session = _ImportingSession(self.server, config)
        session.selection, session.labels = self.selection, self.labels
        return session


def _importer(selection=ImportSelection((1,)), labels=(BOX,)):
    backend = _ImportingBackend(selection, list(labels))
    store = InMemoryLabelStore("made_elsewhere")
    return Importer(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), {"fake": backend}), store


@pytest.mark.parametrize(
    "choice, message",
    [
        ({}, r"give exactly one of project_name, project_id and task_ids \(got none\)"),
        ({"project_id": 3, "task_ids": [1]}, r"give exactly one of .* \(got \['project_id', 'task_ids'\]\)"),
        ({"task_ids": [1, 0]}, r"task_ids must be positive integers, got \[1, 0\]"),
        ({"task_ids": [True]}, r"task_ids must be positive integers, got \[True\]"),
        ({"task_ids": 1, "download_media": True}, "download_media=True needs data_path"),
        ({"task_ids": 1, "download_media": True, "data_path": "map.json"}, "download_media=True needs data_path"),
    ],
)
def test_a_choice_naming_no_single_import_is_refused_before_any_request(choice, message):
    importer, _ = _importer()
    with pytest.raises(ValueError, match=message):
        importer.import_tasks("made_elsewhere", backend="fake", **choice)
    assert importer.backends["fake"].server.connections == 0 and _ImportingSession.found == []


def test_an_unknown_backend_is_refused():
    importer, _ = _importer()
    with pytest.raises(BackendConfigError, match="no backend named 'labelbox'"):
        importer.import_tasks("made_elsewhere", task_ids=[1], backend="labelbox")


def test_one_task_id_is_a_list_of_one():
    importer, _ = _importer(selection=ImportSelection((), project_id=None))
    with pytest.raises(ValueError):
        importer.import_tasks("made_elsewhere", task_ids=4, backend="fake")
    assert _ImportingSession.found == [{"project_name": None, "project_id": None, "task_ids": [4]}]


def test_a_project_with_no_task_is_refused():
    importer, _ = _importer(selection=ImportSelection((), project_id=5))
    with pytest.raises(ValueError, match="CVAT's project 5 holds no task to import"):
        importer.import_tasks("made_elsewhere", project_id=5, backend="fake")


def test_labels_drawing_none_of_the_label_types_asked_for_are_refused():
    importer, _ = _importer()
    with pytest.raises(
        ValueError, match=r"the tasks' labels draw none of the label types asked for \(\['keypoints'\]\)"
    ):
        importer.import_tasks("made_elsewhere", task_ids=[1], label_types=["keypoints"], data_path={}, backend="fake")


def test_missing_media_past_five_are_counted_not_named(tmp_path):
    importer, store = _importer()
    with pytest.raises(MediaNotFoundError) as refused:
        importer.import_tasks("made_elsewhere", task_ids=[1], data_path={}, backend="fake")
    assert str(refused.value).startswith(
        "7 media file(s) of the tasks are not in data_path {}: task 1: 'frame_0.jpg'; "
    )
    assert "task 1: 'frame_4.jpg' (and 2 more). Pass download_media=True" in str(refused.value)
    assert not list(store.sample_ids())  # nothing written


@pytest.mark.parametrize(
    "label_types, fields",
    [
        (None, {"detections": "detections"}),
        ("detections", {"detections": "detections"}),
        (["detections", "keypoints"], {"detections": "detections"}),
        ({"detections": "boxes"}, {"boxes": "detections"}),
    ],
)
def test_import_fields_take_label_types_as_a_name_a_list_or_a_dict(label_types, fields):
    assert import_fields([BOX], label_types, CVAT_CAPABILITIES) == fields


@pytest.mark.parametrize(
    "label_types, message",
    [
        (3, r"label_types must be None, a list of label types or a dict of label type -> field, got 3"),
        (
            ["boxes"],
            r"label_types: unknown label types \['boxes'\] \(known: classifications, detections, polylines, keypoints\)",
        ),
        ({"detections": ""}, r"label_types: each label type needs its own field name, got \{'detections': ''\}"),
        ({"detections": "a", "keypoints": "a"}, r"label_types: each label type needs its own field name"),
    ],
)
def test_import_fields_refuse_label_types_naming_no_fields(label_types, message):
    with pytest.raises(ValueError, match=message):
        import_fields([BOX], label_types, CVAT_CAPABILITIES)
