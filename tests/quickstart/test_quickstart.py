"""The synthetic quickstart datasets: real media whose labels describe what is drawn."""

from __future__ import annotations

import hashlib
import math

import imageio_ffmpeg
import numpy as np
from PIL import Image

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.adapters.quickstart import (
    CLASSES,
    MASK_TARGETS,
    generate_quickstart,
    generate_quickstart_video,
    load_quickstart,
)
from annoflow.adapters.quickstart.images import _COLOURS
from annoflow.domain.fields import FieldKind


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_same_seed_same_samples_and_bytes(tmp_path):
    a = generate_quickstart(tmp_path / "a", num_samples=5, seed=3, with_masks=True, extra_fields=True)
    b = generate_quickstart(tmp_path / "b", num_samples=5, seed=3, with_masks=True, extra_fields=True)
    assert [s.fields for s in a] == [s.fields for s in b] and [s.id for s in a] == [s.id for s in b]
    assert [_digest(s.filepath) for s in a] == [_digest(s.filepath) for s in b]
    c = generate_quickstart(tmp_path / "c", num_samples=5, seed=4)
    assert [s.id for s in c] != [s.id for s in a]


def test_labels_describe_the_drawn_objects(tmp_path):
    samples = generate_quickstart(tmp_path, num_samples=20, image_size=(320, 240), with_masks=True)
    for sample in samples:
        assert (sample.metadata.width, sample.metadata.height) == (320, 240) and sample.tags == ("validation",)
        pixels = np.asarray(Image.open(sample.filepath).convert("RGB")).astype(int)
        dets = sample.fields["ground_truth"].detections
        for det in dets:
            x, y, w, h = det.bounding_box
            assert x >= 0 and y >= 0 and x + w <= 1 and y + h <= 1
            assert det.mask.shape == (round(h * 240), round(w * 320))  # the mask covers its box in pixels
            assert det.attributes["iscrowd"] in (0, 1) and det.label in CLASSES
        # the last object drawn is on top: the centre of its shape shows its colour (JPEG-close)
        top = dets[-1]
        x, y, w, h = top.bounding_box
        rows, cols = np.nonzero(top.mask)
        cy, cx = int(y * 240) + int(np.median(rows)), int(x * 320) + int(np.median(cols))
        colour = _COLOURS[CLASSES.index(top.label)]
        assert np.abs(pixels[cy, cx] - colour).max() < 40


def test_predictions_have_confidences_and_confident_false_positives(tmp_path):
    samples = generate_quickstart(tmp_path, num_samples=30, image_size=(160, 128))
    predictions = [d for s in samples for d in s.fields["predictions"].detections]
    assert predictions and all(0.3 <= d.confidence <= 1.0 for d in predictions)
    truth_boxes = {(s.id, d.label) for s in samples for d in s.fields["ground_truth"].detections}
    confident_strays = [
        d
        for s in samples
        for d in s.fields["predictions"].detections
        if d.confidence > 0.8 and (s.id, d.label) not in truth_boxes
    ]
    assert confident_strays


def test_benchmark_knob_and_extra_fields(tmp_path):
    samples = generate_quickstart(tmp_path, num_samples=3, num_objects=12, image_size=(64, 48), extra_fields=True)
    assert [len(s.fields["ground_truth"]) for s in samples] == [12, 12, 12]
    seg = samples[0].fields["segmentation"].mask
    assert seg.shape == (48, 64) and seg.dtype == np.uint8 and set(np.unique(seg)) <= {0, *MASK_TARGETS}
    kps = [k for s in samples for k in s.fields["keypoints"].keypoints]
    assert all(sum(math.isnan(p[0]) for p in k.points) == 1 for k in kps)
    assert [p.filled for p in samples[0].fields["polylines"].polylines] == [True, False]
    assert samples[0].fields["weather"].label in ("sunny", "cloudy", "rainy")


def test_videos_match_their_metadata_and_keep_track_indexes(tmp_path):
    (video,) = generate_quickstart_video(tmp_path, num_samples=1, num_frames=12, fps=6, size=(160, 96), seed=2)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(video.filepath)
    assert frames == video.metadata.frame_count == 12 and seconds == 2.0
    reader = imageio_ffmpeg.read_frames(video.filepath)
    meta = next(reader)
    assert tuple(meta["size"]) == (video.metadata.width, video.metadata.height) == (160, 96)
    assert sorted(video.frames) == list(range(1, 13))
    tracks = {}
    for frame in video.frames.values():
        for det in frame["detections"].detections:
            tracks.setdefault(det.index, set()).add(det.attributes["type"])
    assert tracks and all(len(types) == 1 for types in tracks.values())  # a track keeps its type


def test_load_quickstart_fills_a_store_and_reuses_media(tmp_path):
    store = InMemoryLabelStore("quickstart")
    ids = load_quickstart(store, tmp_path / "media", num_samples=4, image_size=(64, 48))
    assert store.sample_ids() == ids
    assert store.field_schema() == {"ground_truth": FieldKind.DETECTIONS, "predictions": FieldKind.DETECTIONS}
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "media").glob("*.jpg")}
    sqlite = SqliteLabelStore(tmp_path / "db.sqlite", name="quickstart")
    again = load_quickstart(sqlite, tmp_path / "media", num_samples=4, image_size=(64, 48))
    assert again == ids and list(sqlite.get_samples()) == list(store.get_samples())
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "media").glob("*.jpg")}
    assert after == before  # same arguments: files were reused, not rewritten


def test_load_quickstart_rewrites_media_missing_despite_the_manifest(tmp_path):
    media = tmp_path / "media"
    load_quickstart(InMemoryLabelStore("a"), media, num_samples=2, image_size=(64, 48))
    first = media / "000000.jpg"
    digest = _digest(first)
    first.unlink()
    load_quickstart(InMemoryLabelStore("b"), media, num_samples=2, image_size=(64, 48))
    assert _digest(first) == digest


def test_a_small_dataset_is_the_head_of_a_large_one(tmp_path):
    # Benchmarks at several sizes then share their first images, labels and ids.
    small = generate_quickstart(tmp_path / "s", num_samples=2, seed=8, image_size=(64, 48), extra_fields=True)
    large = generate_quickstart(tmp_path / "l", num_samples=5, seed=8, image_size=(64, 48), extra_fields=True)
    assert [(s.id, dict(s.fields)) for s in small] == [(s.id, dict(s.fields)) for s in large[:2]]
    assert [_digest(s.filepath) for s in small] == [_digest(s.filepath) for s in large[:2]]


def test_media_from_another_generator_version_are_redrawn(tmp_path):
    media = tmp_path / "media"
    load_quickstart(InMemoryLabelStore("a"), media, num_samples=1, image_size=(64, 48))
    manifest = media / "quickstart.json"
    old = manifest.read_text().replace('"version": 2', '"version": 1')
    assert old != manifest.read_text()
    manifest.write_text(old)
    (media / "000000.jpg").write_bytes(b"drawn by an older generator")
    load_quickstart(InMemoryLabelStore("b"), media, num_samples=1, image_size=(64, 48))
    assert Image.open(media / "000000.jpg").size == (64, 48)
