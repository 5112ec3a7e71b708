"""A FiftyOne video dataset through annoflow.fiftyone end to end: frame labels go up as CVAT tracks from
FiftyOne's frames, an annotator moves a track's keyframe, and the load lands on that frame of the FiftyOne
dataset under the label's own id; the other frames stay as they were, and a second load changes nothing."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import generate_quickstart_video

pytestmark = pytest.mark.fiftyone
FRAMES = 6
LOGIN = {"username": USER, "password": PASSWORD}


def _frames(fo_sample):
    return {
        (number, d.id): list(d.bounding_box)
        for number, frame in fo_sample.frames.items()
        for d in (frame.detections.detections if frame.detections else [])
    }


def test_a_fiftyone_video_goes_up_as_tracks_and_a_moved_keyframe_loads_on_its_frame(
    fiftyone, fo_dataset, cvat_sim, tmp_path, monkeypatch
):
    import annoflow.fiftyone as aff
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    FiftyOneLabelStore(fo_dataset).add_samples(
        generate_quickstart_video(
            tmp_path / "media", num_samples=2, num_frames=FRAMES, size=(64, 48), tracks_per_video=(1, 1)
        )
    )
    assert fo_dataset.media_type == "video" and fo_dataset.count("frames") == 2 * FRAMES
    view = fo_dataset.match(fiftyone.ViewField("filepath").ends_with(fo_dataset.first().filepath.rsplit("/", 1)[1]))
    sample = view.first()
    before = _frames(sample)
    assert len(before) == FRAMES

    results = aff.annotate(view, "video", label_field="frames.detections", url=cvat_sim.url, **LOGIN)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        (track,) = annotator.annotations(task_id)["tracks"]
        annotator.move_keyframe(task_id, track["id"], 0, [1.0, 2.0, 33.0, 26.0])
    report = aff.load_annotations(fo_dataset, "video", url=cvat_sim.url, **LOGIN)
    assert report.added == report.deleted == 0 and report.edited >= 1

    after = _frames(fo_dataset[sample.id])
    assert set(after) == set(before)  # every label kept its FiftyOne id, on its frame
    ((_first_id, box),) = [(key, box) for key, box in after.items() if key[0] == 1]
    assert box == pytest.approx([1 / 64, 2 / 48, 32 / 64, 24 / 48])
    other = fo_dataset.exclude([sample.id]).first()
    assert all(d.id for frame in other.frames.values() for d in frame.detections.detections)
    again = aff.load_annotations(fo_dataset, "video", url=cvat_sim.url, **LOGIN)
    assert (again.added, again.edited, again.deleted) == (0, 0, 0) and _frames(fo_dataset[sample.id]) == after
