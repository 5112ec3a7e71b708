"""Where import_annotations() finds a frame a server names, in the folder the user gave: never outside it."""

from __future__ import annotations

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.application.import_tasks import import_fields, in_folder
from annoflow.domain.project_schema import ProjectLabel


def test_a_frame_is_found_by_its_relative_path_or_its_base_name_inside_the_folder(tmp_path):
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jpg").write_bytes(b"a")
    (folder / "b.jpg").write_bytes(b"b")
    (tmp_path / "secret.jpg").write_bytes(b"s")
    assert in_folder(str(folder), "sub/a.jpg") == str(folder / "sub" / "a.jpg")
    assert in_folder(str(folder), "sub\\a.jpg") == str(folder / "sub" / "a.jpg")
    assert in_folder(str(folder), "elsewhere/b.jpg") == str(folder / "b.jpg")
    assert in_folder(str(folder), "/abs/b.jpg") == str(folder / "b.jpg")
    assert in_folder(str(folder), "../secret.jpg") is None  # the base name is not in the folder either
    assert in_folder(str(folder), "C:\\x\\b.jpg") == str(folder / "b.jpg")
    assert in_folder(str(folder), "..") is None and in_folder(str(folder), "") is None
    assert in_folder(str(folder), "a\x00.jpg") is None


def test_fields_are_the_label_types_the_labels_can_draw():
    labels = [ProjectLabel("cat", [], object_kind="rectangle"), ProjectLabel("dog", [], object_kind="points")]
    assert import_fields(labels, None, CVAT_CAPABILITIES) == {"detections": "detections", "keypoints": "keypoints"}
    assert import_fields(labels, {"detections": "boxes", "polylines": "lines"}, CVAT_CAPABILITIES) == {
        "boxes": "detections"
    }
    assert import_fields([ProjectLabel("any", [])], ["polylines"], CVAT_CAPABILITIES) == {"polylines": "polylines"}
