"""``af.Dataset.from_images_dir``, ``from_videos_dir``, ``from_dir``, ``add_images`` and ``export``:
a user's own media and labels in and out, media left where they are, nothing half-imported."""

from __future__ import annotations

import json

import pytest
import yaml

import annoflow as af
from annoflow import F
from annoflow.adapters.quickstart import generate_quickstart_video
from tests.formats.conftest import without_ids, write_image


def test_from_images_dir_reads_every_image_and_its_size(env, images):
    dataset = af.Dataset.from_images_dir("mine", images)
    assert [(s.filepath, s.metadata.width, s.metadata.height) for s in dataset] == [
        (str(images / "a.jpg"), 40, 30),
        (str(images / "sub" / "b.png"), 20, 10),
    ]
    assert af.load_dataset("mine").values("filepath") == dataset.values("filepath")
    flat = af.Dataset.from_images_dir("flat", images, recursive=False, tags=["raw"])
    assert flat.values("filepath") == [str(images / "a.jpg")] and flat.first().tags == ("raw",)
    with pytest.raises(af.DataImportError, match="'mine' already holds 2 samples"):
        af.Dataset.from_images_dir("mine", images)


def test_a_folder_without_images_or_a_corrupt_one_adds_nothing(env, tmp_path, images):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(af.DataImportError, match=r"empty: no image files"):
        af.Dataset.from_images_dir("empty", tmp_path / "empty")
    (images / "sub" / "c.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(af.DataImportError, match=r"sub/c.jpg: it is a JPEG file cut short"):
        af.Dataset.from_images_dir("broken", images)
    assert len(af.load_dataset("broken")) == 0
    dataset = af.load_dataset("adding")
    dataset.add_images([images / "a.jpg"])
    with pytest.raises(af.DataImportError, match=r"sub/c.jpg") as caught:
        dataset.add_images([images / "sub" / "b.png", images / "sub" / "c.jpg", images / "nope.png"])
    assert len(caught.value.problems) == 2 and "nope.png: it does not exist" in caught.value.problems[1]
    assert dataset.values("filepath") == [str(images / "a.jpg")]


def test_from_videos_dir_reads_size_frame_count_and_rate_from_the_files(env, tmp_path):
    made = generate_quickstart_video(tmp_path / "videos", num_samples=2, num_frames=7, fps=5, size=(64, 48))
    dataset = af.Dataset.from_videos_dir("clips", tmp_path / "videos")
    assert [s.metadata for s in dataset] == [m.metadata for m in made]
    assert all(s.media_type.value == "video" for s in dataset)


def test_coco_in_through_the_dataset_and_out_through_a_view(env, tmp_path, images):
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "sub/b.png"}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 7], "score": 0.9},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [5, 5, 3, 3], "score": 0.3},
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 4, 4]},
        ],
    }
    (tmp_path / "labels.json").write_text(json.dumps(doc))
    dataset = af.Dataset.from_dir("coco", "coco", labels_path=tmp_path / "labels.json", data_path=images)
    assert [[d.label for d in v.detections] for v in dataset.values("ground_truth")] == [["cat", "dog"], ["dog"]]
    confident = dataset.filter_labels("ground_truth", F("confidence") > 0.5)
    said = confident.export(labels_path=tmp_path / "out.json", dataset_type="coco", data_path=images)
    assert "1 images, 1 annotations" in said
    again = af.Dataset.from_dir("again", "coco", labels_path=tmp_path / "out.json", data_path=images)
    assert without_ids(again) == without_ids(confident)


def test_yolo_and_voc_through_the_dataset(env, tmp_path):
    root = tmp_path / "y"
    write_image(root / "images" / "val" / "a.jpg", (40, 30))
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "val" / "a.txt").write_text("0 0.5 0.5 0.25 0.5\n")
    (root / "data.yaml").write_text("val: images/val\nnames: [cat]\n")
    dataset = af.Dataset.from_dir("yolo", "yolo", root)
    dataset.export(tmp_path / "out", "yolo", label_field="ground_truth")
    assert (tmp_path / "out" / "labels" / "val" / "a.txt").read_text() == "0 0.5 0.5 0.25 0.5\n"
    voc = tmp_path / "voc"
    write_image(voc / "JPEGImages" / "a.jpg", (40, 30))
    (voc / "Annotations").mkdir()
    (voc / "Annotations" / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><object><name>cat</name>"
        "<bndbox><xmin>4</xmin><ymin>3</ymin><xmax>24</xmax><ymax>18</ymax></bndbox></object></annotation>"
    )
    from_voc = af.Dataset.from_dir("voc", "VOCDetectionDataset", voc)
    assert from_voc.first().fields["ground_truth"].detections[0].bounding_box == (0.1, 0.1, 0.5, 0.5)


def test_an_unknown_format_is_refused_before_a_dataset_is_made(env, tmp_path):
    with pytest.raises(af.DataImportError, match="dataset_type 'kitti' is not one annoflow reads"):
        af.Dataset.from_dir("k", "kitti", tmp_path)
    assert "k" not in af.list_datasets()
    dataset = af.load_dataset("k")
    with pytest.raises(af.DataExportError, match="format 'kitti' is not one annoflow writes"):
        dataset.export(tmp_path / "x", "kitti")


def test_an_imports_class_ids_survive_export(env, tmp_path, images):
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "categories": [{"id": 17, "name": "zebra", "supercategory": "animal"}, {"id": 3, "name": "ant"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 17, "bbox": [1, 2, 10, 7]},
            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [5, 5, 3, 3]},
        ],
    }
    (tmp_path / "labels.json").write_text(json.dumps(doc))
    dataset = af.Dataset.from_dir("ids", "coco", labels_path=tmp_path / "labels.json", data_path=images)
    assert af.load_dataset("ids").info["categories"] == [
        {"id": 17, "name": "zebra", "supercategory": "animal"},
        {"id": 3, "name": "ant"},
    ]
    dataset.export(labels_path=tmp_path / "out.json", dataset_type="coco")
    written = json.loads((tmp_path / "out.json").read_text())
    assert [(c["id"], c["name"], c["supercategory"]) for c in written["categories"]] == [
        (3, "ant", ""),
        (17, "zebra", "animal"),
    ]
    assert [a["category_id"] for a in written["annotations"]] == [17, 3]
    # YOLO: data.yaml's indices, whatever their names' order
    root = tmp_path / "y"
    write_image(root / "images" / "val" / "a.jpg", (40, 30))
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "val" / "a.txt").write_text("2 0.5 0.5 0.25 0.5\n0 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text("val: images/val\nnames: [zebra, ant, cat]\n")
    yolo = af.Dataset.from_dir("yolo-ids", "yolo", root)
    clone = yolo.clone()
    assert clone.info == {"classes": ["zebra", "ant", "cat"]}
    clone.export(tmp_path / "out", "yolo")
    assert (tmp_path / "out/labels/val/a.txt").read_text() == "2 0.5 0.5 0.25 0.5\n0 0.5 0.5 0.1 0.1\n"
    assert yaml.safe_load((tmp_path / "out/data.yaml").read_text())["names"] == {0: "zebra", 1: "ant", 2: "cat"}
    clone.info["note"] = "kept"
    clone.save()
    assert af.load_dataset(clone.name).info["note"] == "kept"
