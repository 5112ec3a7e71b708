"""Export then import gives the same labels: every image label type, attributes of each type, CVAT's
occluded flag, groups and z_order, instance masks bit-exact, coordinates exact when they are on CVAT's grid
of hundredths of a pixel and within it otherwise; a video's tracks with their keyframes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from annoflow.adapters.cvat_xml.exporting import export_cvat_xml
from annoflow.adapters.cvat_xml.importing import import_cvat_xml
from annoflow.domain.labels import (
    Classification,
    Classifications,
    Detection,
    Detections,
    Keypoint,
    Keypoints,
    Polyline,
    Polylines,
)
from annoflow.domain.samples import ImageMetadata, MediaType, Sample, VideoMetadata

W, H = 640, 480


def px(x: float, y: float) -> tuple[float, float]:
    """A point given in pixels (hundredths at most), relative as annoflow holds it."""
    return x / W, y / H


def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    # a box read from CVAT's pixels is (x1/W, y1/H, (x2-x1)/W, (y2-y1)/H): one given in hundredths of
    # a pixel that way is written and read back as the same doubles
    return x / W, y / H, w / W, h / H


def image_samples(media: Path) -> list[Sample]:
    media.mkdir(parents=True, exist_ok=True)
    mask = np.zeros((20, 30), dtype=bool)
    mask[3:15, 4:25] = True
    mask[7, 9] = False
    samples = []
    for n in range(3):
        (media / f"img{n}.jpg").write_bytes(b"not decoded by the import")
        samples.append(
            Sample(
                filepath=str(media / f"img{n}.jpg"),
                media_type=MediaType.IMAGE,
                metadata=ImageMetadata(W, H),
                fields={
                    "classifications": Classifications([Classification(label="sunny", attributes={"note": f"n{n}"})]),
                    "detections": Detections(
                        [
                            Detection(
                                label="car",
                                bounding_box=box(10.25, 20.5, 100.75, 50.0),
                                attributes={"age": 3 + n, "color": "red", "occluded": True, "group_id": 2, "z": 1},
                            ),
                            Detection(
                                label="person",
                                bounding_box=box(300, 200, 30, 20),
                                mask=mask,
                                attributes={"age": 1, "color": "blue", "occluded": False, "group_id": 2, "z": 0},
                            ),
                        ]
                    ),
                    "polylines": Polylines(
                        [
                            Polyline(
                                label="road",
                                points=[[px(1, 2), px(100.5, 2.25), px(50, 80)]],
                                closed=True,
                                filled=True,
                                attributes={"lanes": 2, "occluded": False, "group_id": 5, "z": 3},
                            ),
                            Polyline(
                                label="road",
                                points=[[px(5, 5), px(6.5, 7.75)], [px(10, 10), px(20, 30), px(40, 50)]],
                                attributes={"lanes": 1, "occluded": True, "group_id": 6, "z": 2},
                            ),
                        ]
                    ),
                    "keypoints": Keypoints(
                        [
                            Keypoint(
                                label="face",
                                points=[px(1, 1), px(2.5, 3.75), px(639, 479)],
                                attributes={"occluded": False, "group_id": 7, "z": -1},
                            )
                        ]
                    ),
                },
            )
        )
    return samples


def test_images_round_trip(open_ds, tmp_path: Path) -> None:
    source = open_ds("source")
    source.store.add_samples(image_samples(tmp_path / "media"))
    xml = tmp_path / "export" / "annotations.xml"

    links = {"occluded_attr": "occluded", "group_id_attr": "group_id", "z_order_attr": "z"}
    export_cvat_xml(source, xml, **links)
    text = xml.read_text()
    assert 'z_order="3" group_id="5"' in text and '<attribute name="z">' not in text and "<name>z</name>" not in text
    target = open_ds("target")
    summary = import_cvat_xml(target, xml, tmp_path / "media", **links)

    assert summary.fields == {
        "classifications": "classifications",
        "detections": "detections",
        "polylines": "polylines",
        "keypoints": "keypoints",
    }
    assert (summary.samples, summary.new_samples, summary.left_out) == (3, 3, 0)
    before = {s.filepath: s for s in source.iter_samples()}
    after = {s.filepath: s for s in target.iter_samples()}
    assert before.keys() == after.keys()
    for path, sample in before.items():
        for field in ("classifications", "detections", "polylines", "keypoints"):
            assert after[path].fields[field] == sample.fields[field], (path, field)
    mask = after[str(tmp_path / "media" / "img0.jpg")].fields["detections"].items[1].mask
    assert mask.dtype == bool and mask.shape == (20, 30)


def test_coordinates_off_the_grid_come_back_to_cvats_precision(open_ds, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    media = tmp_path / "media"
    media.mkdir()
    samples = []
    for n in range(5):
        (media / f"{n}.png").write_bytes(b"x")
        boxes = [Detection(label="thing", bounding_box=(x, y, 0.1, 0.1)) for x, y in rng.uniform(0, 0.8, (20, 2))]
        samples.append(
            Sample(
                filepath=str(media / f"{n}.png"),
                media_type=MediaType.IMAGE,
                metadata=ImageMetadata(W, H),
                fields={"detections": Detections(boxes)},
            )
        )
    source = open_ds("source")
    source.store.add_samples(samples)
    export_cvat_xml(source, tmp_path / "a.xml")
    target = open_ds("target")
    import_cvat_xml(target, tmp_path / "a.xml", media)
    after = {s.filepath: s for s in target.iter_samples()}
    for sample in source.iter_samples():
        for original, imported in zip(
            sample.fields["detections"].items, after[sample.filepath].fields["detections"].items, strict=True
        ):
            assert imported.id == original.id and imported.label == original.label
            x, y, w, h = original.bounding_box
            corners = np.array([x * W, y * H, (x + w) * W, (y + h) * H])
            x2, y2, w2, h2 = imported.bounding_box
            back = np.array([x2 * W, y2 * H, (x2 + w2) * W, (y2 + h2) * H])
            assert np.all(np.abs(back - corners) <= 0.005 + 1e-9)


def test_importing_the_same_file_twice_changes_nothing(open_ds, tmp_path: Path) -> None:
    source = open_ds("source")
    source.store.add_samples(image_samples(tmp_path / "media"))
    export_cvat_xml(source, tmp_path / "a.xml")
    target = open_ds("target")
    import_cvat_xml(target, tmp_path / "a.xml", tmp_path / "media")
    first = sorted(target.iter_samples(), key=lambda s: s.filepath)
    again = import_cvat_xml(target, tmp_path / "a.xml", tmp_path / "media")
    assert again.new_samples == 0
    assert sorted(target.iter_samples(), key=lambda s: s.filepath) == first
    assert len(target.store) == 3


def video_sample(media: Path) -> Sample:
    media.mkdir(parents=True, exist_ok=True)
    (media / "clip.mp4").write_bytes(b"not decoded")
    frames = {}
    for number in range(1, 9):  # a car moving on frames 1-6 (keyframes 1, 4, 6), a person on 3-4, gone, back on 8
        labels = []
        if number <= 6:
            x = 10.0 + 10 * (number - 1)
            labels.append(
                Detection(
                    label="car",
                    bounding_box=box(x, 20, 50, 40),
                    index=1,
                    keyframe=number in (1, 4, 6),
                    attributes={"model": "sedan"},
                )
            )
        if number in (3, 4, 8):
            labels.append(Detection(label="person", bounding_box=box(100, 100, 20, 40), index=2, keyframe=True))
        frames[number] = {"detections": Detections(labels)}
    return Sample(
        filepath=str(media / "clip.mp4"),
        media_type=MediaType.VIDEO,
        metadata=VideoMetadata(W, H, 10, 25.0),
        frames=frames,
    )


def test_video_round_trip_keeps_tracks_and_keyframes(open_ds, tmp_path: Path) -> None:
    source = open_ds("source")
    source.store.add_samples([video_sample(tmp_path / "media")])
    xml = tmp_path / "clip.xml"
    export_cvat_xml(source, xml)
    text = xml.read_text()
    assert '<track id="1" label="car"' in text and 'keyframe="0"' in text  # interpolated frames written, as CVAT does
    target = open_ds("target")
    summary = import_cvat_xml(target, xml, tmp_path / "media")
    assert summary.fields == {"frames.detections": "detections"}
    (before,), (after,) = list(source.iter_samples()), list(target.iter_samples())
    for number in range(1, 11):
        old = before.frames.get(number, {}).get("detections")
        new = after.frames.get(number, {}).get("detections")
        if number in (7, 9, 10):
            assert new is None or not new.items
            continue
        by_index = {label.index: label for label in new.items}
        for label in old.items:
            back = by_index[label.index]
            assert (back.label, back.keyframe, back.attributes) == (label.label, label.keyframe, label.attributes)
            assert np.allclose(back.bounding_box, label.bounding_box, atol=1e-12)
            if label.keyframe:
                assert back.id == label.id and back.bounding_box == label.bounding_box


def test_the_datasets_own_files_are_found_by_base_name(open_ds, tmp_path: Path) -> None:
    source = open_ds("source")
    source.store.add_samples(image_samples(tmp_path / "media"))
    links = {"occluded_attr": "occluded", "group_id_attr": "group_id", "z_order_attr": "z"}
    export_cvat_xml(source, tmp_path / "a.xml", label_fields=["keypoints"], **links)
    before = {s.id: s for s in source.iter_samples()}
    summary = import_cvat_xml(source, tmp_path / "a.xml", None, label_types={"keypoints": "keypoints"}, **links)
    assert (summary.samples, summary.new_samples) == (3, 0)
    assert {s.id: s for s in source.iter_samples()} == before  # the same labels, ids and all: nothing changed


VIDEO_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version><meta><task><id>3</id><name>v</name><size>3</size><mode>interpolation</mode>
<start_frame>0</start_frame><stop_frame>4</stop_frame><frame_filter>step=2</frame_filter>
<labels><label><name>car</name><type>any</type><attributes/></label></labels>
<original_size><width>100</width><height>50</height></original_size><source>clip.mp4</source></task></meta>
<track id="7" label="car" source="manual">
<box frame="0" keyframe="1" outside="0" occluded="0" xtl="0.00" ytl="0.00" xbr="10.00" ybr="10.00" z_order="0"/>
<box frame="2" keyframe="0" outside="0" occluded="0" xtl="5.00" ytl="0.00" xbr="15.00" ybr="10.00" z_order="0"/>
<box frame="4" keyframe="1" outside="0" occluded="0" xtl="20.00" ytl="0.00" xbr="30.00" ybr="10.00" z_order="0"/>
</track></annotations>"""


def test_a_video_task_of_every_second_frame_sets_those_frames_only(open_ds, tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"x")
    (tmp_path / "v.xml").write_text(VIDEO_XML)
    dataset = open_ds("videos")
    summary = import_cvat_xml(dataset, tmp_path / "v.xml", tmp_path)
    (sample,) = dataset.iter_samples()
    shown = {n: f["detections"].items for n, f in sample.frames.items() if f.get("detections")}
    assert sorted(shown) == [1, 3, 5]  # video frames 0, 2, 4 of the task; keyframes only are read, as CVAT reads
    (middle,) = shown[3]
    assert middle.bounding_box == (10 / 100, 0.0, 10 / 100, 10 / 50) and middle.keyframe is False
    assert middle.index == 7 and summary.labels == 3


def test_a_segmentation_comes_back_as_one_instance_mask_per_class(open_ds, tmp_path: Path) -> None:
    from annoflow.domain.labels import Segmentation

    mask = np.zeros((8, 10), np.uint8)
    mask[1:4, 2:5] = 1
    mask[5:7, 6:9] = 2
    mask[2, 3] = 0
    (tmp_path / "a.png").write_bytes(b"x")
    source = open_ds("source")
    source.store.add_samples(
        [
            Sample(
                filepath=str(tmp_path / "a.png"),
                media_type=MediaType.IMAGE,
                metadata=ImageMetadata(10, 8),
                fields={"seg": Segmentation(mask=mask)},
            )
        ]
    )
    export_cvat_xml(source, tmp_path / "a.xml")
    target = open_ds("target")
    import_cvat_xml(target, tmp_path / "a.xml", tmp_path)
    (sample,) = target.iter_samples()
    one, two = sample.fields["detections"].items
    assert (one.label, two.label) == ("1", "2") and one.id != two.id  # the segmentation's id, claimed twice
    for label, value in ((one, 1), (two, 2)):
        x, y, _w, _h = label.bounding_box
        left, top = round(x * 10), round(y * 8)
        assert np.array_equal(
            label.mask, mask[top : top + label.mask.shape[0], left : left + label.mask.shape[1]] == value
        )


PROJECT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version><meta><project><id>4</id><name>p</name>
<labels><label><name>car</name><type>any</type><attributes><attribute><name>speed</name><mutable>True</mutable>
<input_type>number</input_type><default_value>0</default_value><values>0
200
1</values></attribute></attributes></label>
<label><name>face</name><type>skeleton</type><attributes/></label></labels>
<tasks><task><id>8</id><name>a</name><size>1</size><mode>annotation</mode></task>
<task><id>9</id><name>b</name><size>1</size><mode>annotation</mode></task></tasks></project></meta>
<image id="0" name="a.jpg" subset="default" task_id="8" width="100" height="50">
<box label="car" source="manual" occluded="0" xtl="1.00" ytl="2.00" xbr="30.00" ybr="40.00" z_order="0">
<attribute name="speed">42</attribute></box>
<ellipse label="car" source="manual" occluded="0" cx="50.00" cy="20.00" rx="5.00" ry="3.00" z_order="0"/>
<cuboid label="car" source="manual" occluded="0" xtl1="1" ytl1="1" xbl1="1" ybl1="2" xtr1="2" ytr1="1" xbr1="2"
 ybr1="2" xtl2="3" ytl2="3" xbl2="3" ybl2="4" xtr2="4" ytr2="3" xbr2="4" ybr2="4" z_order="0"/>
<skeleton label="face" source="manual" z_order="0"><points label="eye" source="manual" outside="0" occluded="0"
 points="3.00,4.00"/></skeleton>
<box label="nobody" source="manual" occluded="0" xtl="1.00" ytl="2.00" xbr="3.00" ybr="4.00" z_order="0"/>
</image>
<image id="1" name="b.jpg" subset="default" task_id="9" width="100" height="50"/>
</annotations>"""


def test_a_project_export_with_shapes_no_field_takes(open_ds, tmp_path: Path) -> None:
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "p.xml").write_text(PROJECT_XML)
    dataset = open_ds("project")
    summary = import_cvat_xml(dataset, tmp_path / "p.xml", tmp_path)
    assert summary.fields == {
        "detections": "detections",
        "polylines": "polylines",
        "keypoints": "keypoints",
        "classifications": "classifications",
    }  # what the "any" label can draw
    assert (summary.samples, summary.labels, summary.left_out) == (2, 1, 4)  # ellipse, cuboid, skeleton, unknown label
    assert summary.problems == (
        "image 'a.jpg': an ellipse of 'car', which no imported field takes",
        "image 'a.jpg': a cuboid of 'car', which no imported field takes",
        "image 'a.jpg': a skeleton of 'face', which no imported field takes",
        "image 'a.jpg': a rectangle of 'nobody', a label the file's meta does not define",
    )
    samples = {Path(s.filepath).name: s for s in dataset.iter_samples()}
    (box,) = samples["a.jpg"].fields["detections"].items
    assert box.attributes == {"speed": 42} and box.bounding_box == (0.01, 0.04, 0.29, 0.76)
    assert not samples["b.jpg"].fields


def test_several_videos_are_one_file_each_in_a_folder(open_ds, tmp_path: Path) -> None:
    first = video_sample(tmp_path / "media")
    (tmp_path / "media" / "other.mp4").write_bytes(b"x")
    second = Sample(
        filepath=str(tmp_path / "media" / "other.mp4"),
        media_type=MediaType.VIDEO,
        metadata=VideoMetadata(W, H, 3, 25.0),
        frames={2: {"detections": Detections([Detection(label="car", bounding_box=box(1, 2, 3, 4), index=5)])}},
    )
    source = open_ds("source")
    source.store.add_samples([first, second])
    summary = export_cvat_xml(source, tmp_path / "labels")
    assert summary.samples == 2
    assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == ["clip.mp4.xml", "other.mp4.xml"]
    target = open_ds("target")
    for xml in sorted((tmp_path / "labels").iterdir()):
        import_cvat_xml(target, xml, tmp_path / "media")
    back = {Path(s.filepath).name: s for s in target.iter_samples()}
    (label,) = back["other.mp4"].frames[2]["detections"].items
    assert (label.bounding_box, label.index, label.keyframe) == (box(1, 2, 3, 4), 5, True)
    assert sorted(n for n, f in back["other.mp4"].frames.items() if f.get("detections")) == [2]
    assert len(back) == 2


def test_a_view_exports_cvat_xml_through_the_same_table_as_coco(open_ds, tmp_path: Path) -> None:
    """``collection.export(dataset_type="cvat-images")`` (and FiftyOne's name for it) writes what
    export_cvat_xml() writes: every label field when none is named, or the one named."""
    source = open_ds("source")
    source.store.add_samples(image_samples(tmp_path / "media"))
    said = source.export(labels_path=str(tmp_path / "all.xml"), dataset_type="cvat-images")
    assert said.startswith("exported dataset 'source' as CVAT for images 1.1: 3 samples")
    export_cvat_xml(source, tmp_path / "direct.xml")

    def without_dates(path: Path) -> str:  # each file says when it was written
        return re.sub(r"<(created|updated|dumped)>[^<]*</\1>", "", path.read_text())

    assert without_dates(tmp_path / "all.xml") == without_dates(tmp_path / "direct.xml")
    source.limit(2).export(
        labels_path=str(tmp_path / "two.xml"), dataset_type="CVATImageDataset", label_field="detections"
    )
    target = open_ds("target")
    summary = import_cvat_xml(target, tmp_path / "two.xml", tmp_path / "media")
    assert summary.samples == 2 and set(summary.fields) == {"detections"}
