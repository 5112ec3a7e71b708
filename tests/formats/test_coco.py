"""COCO in and out: boxes, polygons, RLE, iscrowd, scores, categories and extra attributes; a round
trip gives the same labels; bad files are refused naming file and entry, adding nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as coco_mask

from annoflow.adapters.formats import masks
from annoflow.adapters.formats.coco import read_coco, write_coco
from annoflow.adapters.formats.errors import DataExportError, DataImportError
from annoflow.domain.labels import Detection, Detections, Polyline, Polylines
from annoflow.domain.samples import Sample
from tests.formats.conftest import without_ids, write_image


def _doc(**changes):
    doc = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 40, "height": 30}, {"id": 9, "file_name": "sub/b.png"}],
        "categories": [{"id": 3, "name": "cat"}, {"id": 5, "name": "dog"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 7,
                "category_id": 3,
                "bbox": [1.5, 2.25, 10.125, 7.1],
                "area": 5.0,
                "iscrowd": 0,
                "segmentation": [[2, 3, 10, 3, 10, 9, 2, 9]],
                "occluded": True,
                "attributes": {"pose": "left"},
            },
            {
                "id": 2,
                "image_id": 7,
                "category_id": 5,
                "bbox": [0, 0, 40, 30],
                "iscrowd": 1,
                "segmentation": {"size": [30, 40], "counts": [5, 100, 1095]},
            },
            {"id": 3, "image_id": 9, "category_id": 5, "bbox": [3, 1, 4, 4], "score": 0.75},
        ],
    }
    doc.update(changes)
    return doc


def _write(tmp_path, doc, name="labels.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_a_coco_file_becomes_samples_with_detections(tmp_path, images):
    samples = read_coco(_write(tmp_path, _doc()), images)
    assert [s.filepath for s in samples] == [str(images / "a.jpg"), str(images / "sub" / "b.png")]
    assert [(s.metadata.width, s.metadata.height) for s in samples] == [(40, 30), (20, 10)]  # b's size from its file
    cat, crowd = samples[0].fields["ground_truth"].detections
    assert (cat.label, cat.bounding_box) == ("cat", (1.5 / 40, 2.25 / 30, 10.125 / 40, 7.1 / 30))
    assert dict(cat.attributes) == {"pose": "left", "occluded": True, "iscrowd": 0}
    # The polygon, filled at pixel centres, over the box's pixels (columns 2..11, rows 2..8).
    assert cat.mask.shape == (7, 10) and cat.mask.sum() == 8 * 6
    assert cat.mask[1:7, :8].all() and not cat.mask[0].any() and not cat.mask[:, 8:].any()
    # The RLE, as pycocotools decodes it, cut to the (whole-image) box.
    expected = coco_mask.decode(coco_mask.frPyObjects({"size": [30, 40], "counts": [5, 100, 1095]}, 30, 40)).astype(
        bool
    )
    assert crowd.attributes["iscrowd"] == 1 and np.array_equal(crowd.mask, expected)
    (dog,) = samples[1].fields["ground_truth"].detections
    assert dog.confidence == 0.75 and dog.mask is None and dog.bounding_box == (0.15, 0.1, 0.2, 0.4)


def test_compressed_rle_strings_decode_as_pycocotools_does():
    rng = np.random.default_rng(3)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        mask = rng.random((h, w)) < rng.random()
        counts = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode()
        assert np.array_equal(masks.decode({"size": [h, w], "counts": counts}, h, w), mask)
        assert np.array_equal(coco_mask.decode(coco_mask.frPyObjects(masks.encode(mask), h, w)).astype(bool), mask)


def test_import_export_import_gives_the_same_labels(tmp_path, images):
    first = read_coco(_write(tmp_path, _doc()), images)
    written = write_coco(first, tmp_path / "out.json", "ground_truth", images)
    second = read_coco(tmp_path / "out.json", images)
    assert without_ids(second) == without_ids(first)
    # The numbers written are the file's own (6 decimals): boxes, categories by name, attributes.
    assert [a["bbox"] for a in written["annotations"]] == [[1.5, 2.25, 10.125, 7.1], [0, 0, 40, 30], [3, 1, 4, 4]]
    assert [c["name"] for c in written["categories"]] == ["cat", "dog"]
    assert written["annotations"][0]["pose"] == "left" and written["annotations"][0]["occluded"] is True
    assert written["annotations"][1]["iscrowd"] == 1 and written["annotations"][2]["score"] == 0.75
    assert [i["file_name"] for i in written["images"]] == ["a.jpg", "sub/b.png"]


def test_export_takes_the_category_ids_given(tmp_path, images):
    samples = read_coco(_write(tmp_path, _doc()), images)
    written = write_coco(samples, tmp_path / "out.json", "ground_truth", images, classes={3: "cat", 5: "dog", 8: "cow"})
    assert [(c["id"], c["name"]) for c in written["categories"]] == [(3, "cat"), (5, "dog"), (8, "cow")]
    assert [a["category_id"] for a in written["annotations"]] == [3, 5, 5]
    with pytest.raises(DataExportError, match=r"labels \['dog'\] are not in classes"):
        write_coco(samples, tmp_path / "other.json", "ground_truth", images, classes=["cat"])
    assert not (tmp_path / "other.json").exists()


_unit = st.integers(0, 10**6).map(lambda v: v / 10**6)


@settings(max_examples=40, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(_unit, _unit, _unit, _unit, st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), _unit)), max_size=6
    )
)
def test_any_boxes_survive_the_round_trip(tmp_path_factory, boxes):
    tmp_path = tmp_path_factory.mktemp("rt")
    write_image(tmp_path / "i.png", (37, 23))
    annotations = [
        {
            "id": i + 1,
            "image_id": 1,
            "category_id": ["a", "b", "c"].index(name) + 1,
            # pixels with 2 decimals, as real files have them (the format keeps 6)
            "bbox": [round(x * 37, 2), round(y * 23, 2), round(w * (37 - x * 37), 2), round(h * (23 - y * 23), 2)],
            **({"score": s} if s is not None else {}),
        }
        for i, (x, y, w, h, name, s) in enumerate(boxes)
    ]
    doc = {
        "images": [{"id": 1, "file_name": "i.png"}],
        "annotations": annotations,
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
    }
    first = read_coco(_write(tmp_path, doc), tmp_path)
    write_coco(first, tmp_path / "out.json", "ground_truth", tmp_path)
    second = read_coco(tmp_path / "out.json", tmp_path)
    write_coco(second, tmp_path / "again.json", "ground_truth", tmp_path)
    assert without_ids(second) == without_ids(first)
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "out.json").read_bytes()


def test_polylines_go_out_as_polygons(tmp_path, images):
    sample = Sample(filepath=str(images / "a.jpg"), media_type="image")  # no metadata: the size comes from the file
    shape = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)]
    sample = sample.with_value("polys", Polylines([Polyline(label="roof", points=[shape], closed=True, filled=True)]))
    written = write_coco([sample], tmp_path / "p.json", "polys", images)
    (entry,) = written["annotations"]
    assert entry["segmentation"] == [[4, 3, 20, 3, 20, 15]] and entry["bbox"] == [4, 3, 16, 12]
    assert entry["area"] == 96


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            {"images": [{"id": 1, "file_name": "../outside.jpg"}]},
            r"images\[0\] \(id 1\): file_name '../outside.jpg' is not a path inside",
        ),
        (
            {"images": [{"id": 1, "file_name": "/etc/passwd"}]},
            r"images\[0\] \(id 1\): file_name '/etc/passwd' is not a path inside",
        ),
        (
            {"images": [{"id": 1, "file_name": "missing.jpg"}]},
            r"images\[0\] \(id 1\): .*missing.jpg: it does not exist",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.jpg", "width": 41, "height": 30}]},
            r"width x height 41x30 but the file is 40x30",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "sub/b.png"}]},
            r"images\[1\] \(id 1\): id 1 is taken",
        ),
    ],
)
def test_bad_images_are_named(tmp_path, images, change, expected):
    (tmp_path / "outside.jpg").write_bytes((images / "a.jpg").read_bytes())
    with pytest.raises(DataImportError, match=expected):
        read_coco(_write(tmp_path, _doc(annotations=[], **change)), images)


def test_every_bad_annotation_is_named_at_once(tmp_path, images):
    doc = _doc()
    doc["annotations"] += [
        {"id": 10, "image_id": 99, "category_id": 3, "bbox": [0, 0, 1, 1]},
        {"id": 11, "image_id": 7, "category_id": 42, "bbox": [0, 0, 1, 1]},
        {"id": 12, "image_id": 7, "category_id": 3, "bbox": [30, 0, 20, 5]},
        {
            "id": 13,
            "image_id": 7,
            "category_id": 3,
            "bbox": [0, 0, 1, 1],
            "segmentation": {"size": [3, 4], "counts": [12]},
        },
        {"id": 14, "image_id": 7, "category_id": 3, "bbox": [0, 0, 1, 1], "iscrowd": 2},
        {"id": 15, "image_id": 7, "category_id": 3, "bbox": [0, 0, 1, 1], "label": "x"},
    ]
    path = _write(tmp_path, doc)
    with pytest.raises(DataImportError) as caught:
        read_coco(path, images)
    problems = caught.value.problems
    assert [p.split(": ", 2)[1] for p in problems] == [f"annotations[{i}] (id {i + 7})" for i in range(3, 9)]
    assert all(p.startswith(str(path)) for p in problems)
    assert "image_id 99 names no" in problems[0] and "category_id 42 names no category" in problems[1]
    assert "outside the 40x30 image" in problems[2] and "not the image's [height, width] [30, 40]" in problems[3]
    assert "iscrowd 2 is not 0 or 1" in problems[4] and "'label' names a label property" in problems[5]


def test_a_corrupt_image_is_named(tmp_path, images):
    data = (images / "a.jpg").read_bytes()
    (images / "a.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataImportError, match=r"images\[0\] \(id 7\): .*a.jpg: it is a JPEG file cut short"):
        read_coco(_write(tmp_path, _doc()), images)


def test_not_json_is_named(tmp_path, images):
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(DataImportError, match=r"bad.json: not JSON"):
        read_coco(tmp_path / "bad.json", images)


def test_a_video_or_a_label_type_coco_cannot_hold_is_refused(tmp_path, images):
    video = Sample(filepath=str(tmp_path / "v.mp4"), media_type="video")
    with pytest.raises(DataExportError, match="is a video"):
        write_coco([video], tmp_path / "v.json", "ground_truth")
    from annoflow.domain.labels import Classification

    image = Sample(filepath=str(images / "a.jpg"), media_type="image", fields={"gt": Classification(label="x")})
    with pytest.raises(DataExportError, match="holds Classification"):
        write_coco([image], tmp_path / "c.json", "gt")
    assert not list(tmp_path.glob("*.json"))


def test_an_instance_mask_goes_out_over_its_box(tmp_path, images):
    mask = np.zeros((6, 8), bool)
    mask[1:5, 2:6] = True
    det = Detection(label="x", bounding_box=(4 / 40, 3 / 30, 8 / 40, 6 / 30), mask=mask)
    sample = Sample(filepath=str(images / "a.jpg"), media_type="image", fields={"gt": Detections([det])})
    (entry,) = write_coco([sample], tmp_path / "m.json", "gt", images)["annotations"]
    full = coco_mask.decode(coco_mask.frPyObjects(entry["segmentation"], 30, 40)).astype(bool)
    assert full.sum() == entry["area"] == 16 and full[4:8, 6:10].all()
