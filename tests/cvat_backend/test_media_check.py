"""Media CVAT could not take are refused by name before anything is recorded or sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from annoflow.adapters.cvat_backend.media_check import unusable_media, why_unusable
from annoflow.application.ports.annotation_backend import BackendConfigError, UnusableMediaError


def test_real_media_pass(dataset):
    paths = [s.filepath for s in dataset.iter_samples()]
    assert unusable_media(paths) == []


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "it is empty (0 bytes)"),
        (b"just some notes\n", "its content is not an image or a video CVAT reads"),
        ("truncated-jpeg", "it is a JPEG file cut short (truncated)"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "it is a PNG file cut short (truncated)"),
    ],
)
def test_each_kind_of_bad_file_is_named(tmp_path, dataset, content, reason):
    if content == "truncated-jpeg":
        whole = Path(next(dataset.iter_samples()).filepath).read_bytes()
        content = whole[: len(whole) // 2]
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    assert why_unusable(str(path)) == reason
    assert why_unusable(str(tmp_path)) == "it is not a regular file"


def test_annotate_refuses_them_before_anything_is_recorded(dataset, login, cvat_sim):
    sample = next(dataset.iter_samples())
    with open(sample.filepath, "r+b") as file:  # an image the disk cut short
        file.truncate(100)
    with pytest.raises(
        UnusableMediaError, match=rf"1 media file\(s\) CVAT cannot take: {sample.filepath}: it is a JPEG file cut short"
    ):
        dataset.annotate("k", label_field="ground_truth", **login)
    assert not dataset.has_annotation_run("k") and cvat_sim.state.tasks == {}


def test_names_cvat_would_refuse_are_refused_before_anything_is_recorded(dataset, login, cvat_sim):
    long_class, long_attribute = "c" * 65, "a" * 65
    with pytest.raises(BackendConfigError) as caught:
        dataset.annotate(
            "k",
            label_field="new_boxes",
            label_type="detections",
            classes=[long_class, "ok"],
            attributes={long_attribute: {"type": "text"}},
            task_name="t" * 300,
            **login,
        )
    text = str(caught.value)
    assert f"label {long_class[:40]!r}... has 65 characters: CVAT takes at most 64" in text
    assert f"attribute {long_attribute[:40]!r} of label 'ok' has 65 characters" in text
    assert "task name 'tttt" in text and "characters: CVAT takes at most 256" in text
    with pytest.raises(BackendConfigError, match="project_name has 300 characters: CVAT takes at most 256"):
        dataset.annotate("k", label_field="ground_truth", project_name="p" * 300, **login)
    assert not dataset.has_annotation_run("k") and cvat_sim.state.tasks == {} and cvat_sim.state.projects == {}
