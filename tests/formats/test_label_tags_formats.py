"""Label tags and files: COCO, YOLO and CVAT XML have no place for a label's tags, so an export is the
same with or without them and an import makes untagged labels; a clone keeps them."""

from __future__ import annotations

import json
import re
import shutil

import annoflow as af


def _coco(tmp_path, images):
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
    return af.Dataset.from_dir("coco", "coco", labels_path=tmp_path / "labels.json", data_path=images)


def _exported(dataset, folder, name, images):
    """The files an export writes, by path; the folder is emptied afterwards (a YOLO export writes
    its folder's path into data.yaml, so both exports go to the same place)."""
    options = {"labels_path": folder / "labels.json", "data_path": images} if name == "coco" else {}
    dataset.export(str(folder), name, label_field="ground_truth", **options)
    if folder.is_file():  # CVAT XML: one file, stamped with the time it was written
        lines = folder.read_text().splitlines()
        folder.unlink()
        return {folder.name: [line for line in lines if not re.match(r"\s*<(created|updated|dumped)>", line)]}
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    shutil.rmtree(folder)
    return files


def test_exports_leave_label_tags_out_and_clones_keep_them(env, tmp_path, images):
    dataset = _coco(tmp_path, images)
    formats = ("coco", "yolov5", "cvat-images")
    untagged = {name: _exported(dataset, tmp_path / name, name, images) for name in formats}
    dataset.tag_labels(["reviewed", "hard"])
    assert dataset.count_label_tags() == {"hard": 3, "reviewed": 3}
    for name in formats:
        assert _exported(dataset, tmp_path / name, name, images) == untagged[name], name
    (tmp_path / "tagged.json").write_bytes(untagged["coco"]["labels.json"])  # what a tagged dataset exports
    again = af.Dataset.from_dir("again", "coco", labels_path=tmp_path / "tagged.json", data_path=images)
    assert len(again.values("ground_truth")) == 2 and again.count_label_tags() == {}
    assert dataset.clone("copy").count_label_tags() == {"hard": 3, "reviewed": 3}
