"""Each optional field has its own flag, and turning one on changes nothing else."""

from __future__ import annotations

from annoflow.adapters.quickstart import generate_quickstart

BASE = dict(num_samples=4, image_size=(64, 48), seed=11, objects_per_image=(3, 6), write_images=False)
FLAGS = {
    "with_keypoints": "keypoints",
    "with_polylines": "polylines",
    "with_classification": "weather",
    "with_segmentation": "segmentation",
}


def test_each_flag_adds_its_field_and_leaves_the_rest_alone(tmp_path):
    plain = generate_quickstart(tmp_path, **BASE)
    assert all(set(s.fields) == {"ground_truth", "predictions"} for s in plain)
    for flag, field in FLAGS.items():
        with_one = generate_quickstart(tmp_path, **BASE, **{flag: True})
        assert all(set(s.fields) == {"ground_truth", "predictions", field} for s in with_one), flag
        for a, b in zip(plain, with_one, strict=True):
            assert a.fields["ground_truth"] == b.fields["ground_truth"], flag
            assert a.fields["predictions"] == b.fields["predictions"], flag


def test_extra_fields_is_every_flag_at_once(tmp_path):
    every = generate_quickstart(tmp_path, **BASE, **{flag: True for flag in FLAGS})
    extra = generate_quickstart(tmp_path, **BASE, extra_fields=True)
    assert [dict(s.fields) for s in every] == [dict(s.fields) for s in extra]
    assert all(set(s.fields) == {"ground_truth", "predictions", *FLAGS.values()} for s in extra)
