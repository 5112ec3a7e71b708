"""YOLO v5/v8 in and out: data.yaml's names and splits, boxes (with confidences) or polygons, a
round trip that gives the same labels, bad lines named by file and line, nothing half-imported."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from annoflow.adapters.formats.errors import DataExportError, DataImportError
from annoflow.adapters.formats.yolo import label_path, read_yolo, write_yolo
from tests.formats.conftest import without_ids, write_image


def _dataset(root, labels, names=("cat", "dog"), splits=("train", "val")):
    """A YOLO dataset: per split an image a.jpg (40x30) and b.png (20x10), labels from ``labels``."""
    for split in splits:
        write_image(root / "images" / split / "a.jpg", (40, 30))
        write_image(root / "images" / split / "b.png", (20, 10))
        for name, text in labels.get(split, {}).items():
            path = root / "labels" / split / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    config = {"path": str(root), **{s: f"images/{s}" for s in splits}, "names": dict(enumerate(names))}
    (root / "data.yaml").write_text(yaml.safe_dump(config))
    return root


def test_boxes_with_their_classes_splits_and_confidences(tmp_path):
    root = _dataset(
        tmp_path / "y",
        {"train": {"a": "0 0.5 0.5 0.25 0.5\n1 0.125 0.25 0.25 0.5 0.875\n"}, "val": {"b": "\n1 0.5 0.5 1.0 1.0\n"}},
    )
    samples = read_yolo(root)
    assert [(os.path.relpath(s.filepath, root), s.tags) for s in samples] == [
        ("images/train/a.jpg", ("train",)),
        ("images/train/b.png", ("train",)),
        ("images/val/a.jpg", ("val",)),
        ("images/val/b.png", ("val",)),
    ]
    cat, dog = samples[0].fields["ground_truth"].detections
    assert (cat.label, cat.bounding_box, cat.confidence) == ("cat", (0.375, 0.25, 0.25, 0.5), None)
    assert (dog.label, dog.bounding_box, dog.confidence) == ("dog", (0.0, 0.0, 0.25, 0.5), 0.875)
    assert len(samples[1].fields["ground_truth"]) == 0  # no label file: a background image
    assert [d.label for d in samples[3].fields["ground_truth"].detections] == ["dog"]
    assert [len(s) for s in [read_yolo(root, splits=["val"])]] == [2]


def test_a_v5_names_list_and_v8_polygons(tmp_path):
    root = _dataset(tmp_path / "y", {"train": {"a": "1 0.1 0.1 0.5 0.1 0.5 0.5\n"}}, splits=("train",))
    (root / "data.yaml").write_text("train: images/train\nnc: 2\nnames: ['cat', 'dog']\n")  # no path: the yaml's folder
    (poly,) = read_yolo(root)[0].fields["ground_truth"].polylines
    assert (
        poly.label == "dog" and poly.closed and poly.filled and poly.points == ((((0.1, 0.1), (0.5, 0.1), (0.5, 0.5))),)
    )


def test_label_files_sit_beside_the_images_folder():
    assert label_path(__import__("pathlib").Path("/d/images/train/x.jpg")).as_posix() == "/d/labels/train/x.txt"
    assert label_path(__import__("pathlib").Path("/images/d/images/x.png")).as_posix() == "/images/d/labels/x.txt"


@pytest.mark.parametrize("export_media", ["symlink", "copy", False])
def test_import_export_import_gives_the_same_labels(tmp_path, export_media):
    root = _dataset(
        tmp_path / "y",
        {
            "train": {"a": "0 0.5 0.5 0.25 0.5\n1 0.125 0.25 0.25 0.5 0.875\n"},
            "val": {"b": "1 0.5 0.5 1.0 1.0\n", "a": "0 0.333333 0.5 0.123457 0.1\n"},
        },
    )
    first = read_yolo(root)
    written = write_yolo(first, tmp_path / "out", "ground_truth", export_media=export_media)
    config = yaml.safe_load(written.read_text())
    assert config == {
        "path": str((tmp_path / "out").resolve()),
        "train": "images/train",
        "val": "images/val",
        "names": {0: "cat", 1: "dog"},
    }
    assert (tmp_path / "out/labels/val/a.txt").read_text() == "0 0.333333 0.5 0.123457 0.1\n"
    if export_media is False:
        assert not (tmp_path / "out/images/val/a.jpg").exists()
        return
    assert (tmp_path / "out/images/val/a.jpg").is_symlink() == (export_media == "symlink")
    second = read_yolo(tmp_path / "out")
    assert [x[1:] for x in without_ids(second)] == [x[1:] for x in without_ids(first)]


_unit = st.integers(0, 10**6).map(lambda v: v / 10**6)


@settings(max_examples=30, deadline=None)
@given(lines=st.lists(st.tuples(st.integers(0, 2), _unit, _unit, _unit, _unit), max_size=5))
def test_any_boxes_survive_the_round_trip(tmp_path_factory, lines):
    tmp_path = tmp_path_factory.mktemp("rt")

    # boxes inside the image (no clipping), centres and sizes with 6 decimals as YOLO files have them
    def centre_size(start, size):
        half = int(size * 10**6 // 2)  # a size of an even number of millionths: its centre has 6 decimals
        first = int(start * (10**6 - 2 * half))
        return (first + half) / 10**6, 2 * half / 10**6

    def line(c, x, y, w, h):
        (xc, bw), (yc, bh) = centre_size(x, w), centre_size(y, h)
        return f"{c} {xc} {yc} {bw} {bh}\n"

    text = "".join(line(*args) for args in lines)
    root = _dataset(tmp_path / "y", {"train": {"a": text}}, names=("a", "b", "c"), splits=("train",))
    first = read_yolo(root)
    write_yolo(first, tmp_path / "out", "ground_truth", classes=["a", "b", "c"])
    second = read_yolo(tmp_path / "out")
    assert [x[1:] for x in without_ids(second)] == [x[1:] for x in without_ids(first)]


def test_bad_lines_are_named_by_file_and_line(tmp_path):
    root = _dataset(
        tmp_path / "y",
        {"train": {"a": "0 0.5 0.5 0.25 0.5\n7 0.5 0.5 0.1 0.1\nx y\n0 0.5 0.5\n0 1.5 0.5 0.1 0.1\n"}},
        splits=("train",),
    )
    with pytest.raises(DataImportError) as caught:
        read_yolo(root)
    a = root / "labels/train/a.txt"
    assert caught.value.problems == (
        f"{a}: line 2: class index 7 is not one of data.yaml's names (0..1)",
        f"{a}: line 3: 'x y' is not numbers",
        f"{a}: line 4: 2 coordinates: neither a box (4, or 5 with a confidence) nor a polygon (6 or more, even)",
        f"{a}: line 5: coordinates are relative, in [0, 1]",
    )


def test_missing_yaml_split_or_mixed_kinds_are_refused(tmp_path):
    with pytest.raises(DataImportError, match=re.escape("no data.yaml")):
        read_yolo(tmp_path)
    root = _dataset(
        tmp_path / "y", {"train": {"a": "0 0.5 0.5 0.2 0.2\n", "b": "0 0.1 0.1 0.5 0.1 0.5 0.5\n"}}, splits=("train",)
    )
    with pytest.raises(DataImportError, match="mix boxes and polygons"):
        read_yolo(root)
    with pytest.raises(DataImportError, match="no 'test' split"):
        read_yolo(root, splits=["test"])


def test_an_export_into_a_folder_holding_files_writes_nothing(tmp_path):
    root = _dataset(tmp_path / "y", {"train": {"a": "0 0.5 0.5 0.2 0.2\n"}}, splits=("train",))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DataExportError, match="not an empty folder"):
        write_yolo(read_yolo(root), tmp_path / "out", "ground_truth")
    with pytest.raises(DataExportError, match=r"labels \['cat'\] are not in classes \['dog'\]"):
        write_yolo(read_yolo(root), tmp_path / "new", "ground_truth", classes=["dog"])
    assert os.listdir(tmp_path / "out") == ["keep.txt"] and not (tmp_path / "new").exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_a_split_may_be_a_list_file(tmp_path):
    root = _dataset(tmp_path / "y", {"train": {"a": "0 0.5 0.5 0.25 0.5\n"}}, splits=("train",))
    (root / "lists").mkdir()
    # an absolute path, and one from the list's own folder ("./"), as ultralytics reads them
    (root / "lists" / "train.txt").write_text(f"{root}/images/train/b.png\n./../images/train/a.jpg\n")
    (root / "data.yaml").write_text("train: lists/train.txt\nnames: [cat, dog]\n")
    samples = read_yolo(root)
    assert [os.path.basename(s.filepath) for s in samples] == ["b.png", "a.jpg"]
    assert len(samples[1].fields["ground_truth"]) == 1
