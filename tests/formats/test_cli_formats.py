"""``annoflow datasets create`` and ``annoflow export``: a user's own data in and out from the shell."""

from __future__ import annotations

import json

import pytest
import yaml

from annoflow.adapters import cli, wiring
from tests.formats.conftest import write_image

COCO = {
    "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "sub/b.png"}],
    "categories": [{"id": 1, "name": "cat"}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 3, 20, 15]}],
}


def test_create_from_coco_then_export_coco_and_yolo(env, tmp_path, images, capsys):
    (tmp_path / "labels.json").write_text(json.dumps(COCO))
    assert (
        cli.main(["datasets", "create", "mine", "--images", str(images), "--coco", str(tmp_path / "labels.json")]) == 0
    )
    out = capsys.readouterr().out
    assert "created dataset 'mine': 2 samples" in out and "ground_truth: detections" in out
    assert cli.main(["export", "mine", "--format", "coco", str(tmp_path / "out.json")]) == 0
    written = json.loads((tmp_path / "out.json").read_text())
    assert [i["file_name"] for i in written["images"]] == ["a.jpg", "sub/b.png"]
    assert [a["bbox"] for a in written["annotations"]] == [[4, 3, 20, 15]]
    assert cli.main(["export", "--dataset", "mine", "--format", "yolo", str(tmp_path / "yolo")]) == 0
    assert "wrote a YOLO dataset of 2 images" in capsys.readouterr().out
    assert yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())["names"] == {0: "cat"}
    assert (tmp_path / "yolo/labels/val/a.txt").read_text() == "0 0.35 0.35 0.5 0.5\n"
    # and back in from the YOLO folder
    assert cli.main(["datasets", "create", "back", "--yolo", str(tmp_path / "yolo")]) == 0
    back = wiring.open_dataset("back")
    assert [len(v) for v in back.values("ground_truth")] == [1, 0]


def test_create_images_only_videos_and_voc(env, tmp_path, images, capsys):
    assert cli.main(["datasets", "create", "plain", "--images", str(images), "--no-recursive"]) == 0
    assert "'plain': 1 samples" in capsys.readouterr().out
    voc = tmp_path / "voc"
    write_image(voc / "JPEGImages" / "a.jpg", (40, 30))
    (voc / "Annotations").mkdir()
    (voc / "Annotations" / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><object><name>cat</name>"
        "<bndbox><xmin>4</xmin><ymin>3</ymin><xmax>24</xmax><ymax>18</ymax></bndbox></object></annotation>"
    )
    assert cli.main(["datasets", "create", "voc", "--voc", str(voc)]) == 0
    assert wiring.open_dataset("voc").first().fields["ground_truth"].detections[0].label == "cat"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["datasets", "create", "x"], "give --images DIR"),
        (["datasets", "create", "x", "--images", "{tmp}/media", "--yolo", "{tmp}"], "give it without --images"),
        (["datasets", "create", "x", "--images", "{tmp}/nowhere"], "nowhere: not a folder"),
        (
            ["datasets", "create", "x", "--images", "{tmp}/media", "--coco", "{tmp}/bad.json"],
            "bad.json: annotations[0] (id 1): category_id 9 names no category",
        ),
        (["export", "nothing", "--format", "coco", "{tmp}/o.json"], "no dataset 'nothing'"),
        (["export", "{tmp}/o.json", "--format", "coco"], "name the dataset"),
    ],
)
def test_bad_input_ends_with_one_line_and_adds_nothing(env, tmp_path, images, capsys, argv, message):
    bad = {**COCO, "annotations": [{"id": 1, "image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert "x" not in wiring.list_datasets()
