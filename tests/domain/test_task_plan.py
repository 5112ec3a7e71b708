"""Samples are cut into CVAT tasks as the "CVAT parameters" of FiftyOne's CVAT guide describe."""

from __future__ import annotations

import pytest

from annoflow.domain.ids import new_id
from annoflow.domain.task_plan import MediaItem, TaskPlanError, plan_tasks


def images(n):
    return [MediaItem(new_id(), f"/img/{i}.jpg", "image") for i in range(n)]


def videos(n):
    return [MediaItem(new_id(), f"/vid/{i}.mp4", "video") for i in range(n)]


def test_images_go_into_one_task_unless_task_size_cuts_them():
    items = images(5)
    (only,) = plan_tasks(items, base_name="annoflow_qs")
    assert only.sample_ids == tuple(i.sample_id for i in items) and only.name == "annoflow_qs"
    plans = plan_tasks(items, base_name="b", task_size=2, task_assignee=["a1", "a2"], issue_tracker="http://bugs")
    assert [len(p.sample_ids) for p in plans] == [2, 2, 1]
    assert [p.name for p in plans] == ["b_1", "b_2", "b_3"]
    assert [p.assignee for p in plans] == ["a1", "a2", "a1"]
    assert {p.issue_tracker for p in plans} == {"http://bugs"}


def test_videos_go_one_per_task_with_their_frame_ranges():
    items = videos(3)
    plans = plan_tasks(items, base_name="v", task_name="clips", frame_start={items[0].media_path: 10, items[1].media_path: 5},
                       frame_step=[1, 10], frame_stop=100, task_assignee=["u1", "u2"])
    assert [p.sample_ids for p in plans] == [(i.sample_id,) for i in items]
    assert [p.name for p in plans] == ["clips_1", "clips_2", "clips_3"]
    assert [(p.frame_start, p.frame_stop, p.frame_step) for p in plans] == [(10, 100, 1), (5, 100, 10), (None, 100, 1)]
    assert [p.assignee for p in plans] == ["u1", "u2", "u1"]


@pytest.mark.parametrize(
    "items, options, message",
    [
        (images(2), {"task_size": 0}, "task_size must be a positive integer, got 0"),
        (images(2), {"task_size": "3"}, "task_size must be a positive integer, got '3'"),
        (images(2), {"frame_step": 2}, "apply to videos only"),
        (images(2), {"task_assignee": []}, "task_assignee is an empty list"),
        (images(2), {"task_assignee": 5}, "task_assignee must be a string or a list of strings, got int"),
        (images(2), {"issue_tracker": ["ok", 3]}, "issue_tracker must hold non-empty strings"),
        (images(2), {"task_name": ""}, "task_name must be a non-empty string"),
        (videos(2), {"frame_step": 0}, "frame_step values must be integers >= 1, got 0"),
        (videos(2), {"frame_start": -1}, "frame_start values must be integers >= 0, got -1"),
        (videos(1), {"frame_start": {"/elsewhere.mp4": 3}}, "frame_start names media that the run does not include"),
        (videos(1), {"frame_start": 50, "frame_stop": 10}, "frame_stop 10 comes before frame_start 50"),
        (images(1) + videos(1), {}, "cannot mix images and videos"),
        ([], {}, "the run has no samples"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(items, options, message):
    with pytest.raises(TaskPlanError, match=message):
        plan_tasks(items, base_name="x", **options)


def test_every_problem_is_reported_at_once():
    with pytest.raises(TaskPlanError) as caught:
        plan_tasks(images(2), base_name="x", task_size=0, frame_step=2, task_assignee=[])
    assert len(caught.value.problems) == 3
