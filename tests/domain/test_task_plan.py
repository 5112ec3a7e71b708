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
    plans = plan_tasks(
        items,
        base_name="v",
        task_name="clips",
        frame_start={items[0].media_path: 10, items[1].media_path: 5},
        frame_step=[1, 10],
        frame_stop=100,
        task_assignee=["u1", "u2"],
    )
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


def test_a_frame_start_past_a_videos_last_frame_is_refused():
    items = [
        MediaItem(new_id(), "/v/0.mp4", "video", frame_count=10),
        MediaItem(new_id(), "/v/1.mp4", "video", frame_count=5),
    ]
    with pytest.raises(TaskPlanError) as caught:
        plan_tasks(items, base_name="x", frame_start=[12, 5], frame_stop=[], frame_step=[1, 0])
    assert caught.value.problems == [
        "frame_stop is an empty list",
        "frame_step values must be integers >= 1, got 0",
        "frame_start 12 selects no frame of /v/0.mp4: it has 10 frames (0 to 9)",
        "frame_start 5 selects no frame of /v/1.mp4: it has 5 frames (0 to 4)",
    ]
    (plan, _) = plan_tasks(items, base_name="x", frame_start=[9, 4], frame_stop=100)
    assert (plan.frame_start, plan.frame_stop) == (9, 100)  # a frame_stop past the end is cut there, as CVAT does


def test_problems_are_listed_in_the_order_they_are_checked():
    items = [
        MediaItem("s1", "/v/0.mp4", "video", frame_count=10),
        MediaItem("s2", "/v/1.mp4", "video"),
        MediaItem("s3", "/i.jpg", "image"),
    ]
    with pytest.raises(TaskPlanError) as caught:
        plan_tasks(
            items,
            base_name="x",
            task_size=0,
            task_name="",
            task_assignee=[],
            issue_tracker=5,
            frame_start={"/v/0.mp4": 12, "/v/1.mp4": 3, "/nope.mp4": 1},
            frame_stop=[2, 20],
            frame_step=[],
        )
    assert caught.value.problems == [
        "a run cannot mix images and videos",
        "task_size must be a positive integer, got 0",
        "task_name must be a non-empty string, got ''",
        "task_assignee is an empty list",
        "issue_tracker must be a string or a list of strings, got int",
        "frame_start names media that the run does not include: ['/nope.mp4']",
        "frame_step is an empty list",
        "frame_stop 2 comes before frame_start 12 for /v/0.mp4",
    ]
    with pytest.raises(TaskPlanError) as caught:
        plan_tasks(items[:1], base_name="x", frame_start=[-1], frame_stop=True)
    assert caught.value.problems == [
        "frame_start values must be integers >= 0, got -1",
        "frame_stop values must be integers >= 0, got True",
    ]
