"""What a backend did not read (DownloadedTask.unread) is recorded as Rejected events with the merge's
refusals, counted, and keeps the labels it names; max_objects_per_frame reaches the backend."""

from __future__ import annotations

from annoflow.domain.labels import labels_in
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.run_records import Rejection
from tests.application.test_load import _events, dataset  # noqa: F401  (the fixture)


def test_unread_objects_are_recorded_counted_and_keep_their_labels(dataset):  # noqa: F811
    (task_id,) = dataset.annotate("u", label_field="ground_truth").task_ids
    first, second = [s for s in dataset.iter_samples()]
    cat, dog = labels_in(first.fields["ground_truth"])
    server = dataset.backends["fake"].server
    # CVAT returns the first sample's cat only: its dog is malformed there, the second sample's labels are gone
    server.edits[task_id] = [ImportedLabel("ground_truth", first.id, cat, cat.id)]
    unread = Rejection(
        first.id, "ground_truth", "malformed", f"task {task_id}, job 9, frame 0: shape 7: ...", dog.id, None, 7
    )
    server.unread[task_id] = [unread]
    dataset.load_annotations("u", unexpected="ignore", max_objects_per_frame=123)
    assert server.limits == [123]
    now = {s.id: s for s in dataset.iter_samples()}
    assert {label.id for label in labels_in(now[first.id].fields["ground_truth"])} == {cat.id, dog.id}
    assert list(labels_in(now[second.id].fields.get("ground_truth"))) == []
    result = dataset.last_load
    assert (result.summary.deleted, result.summary.rejected) == (2, 1) and result.rejections == (unread,)
    run = dataset.registry.get_run("quickstart", "u")
    recorded = [e.rejection for e in dataset.registry.history(run.id) if type(e).__name__ == "Rejected"]
    assert recorded == [unread] and "Rejected" in _events(dataset, "u")


def test_the_default_limit_reaches_the_backend(dataset):  # noqa: F811
    dataset.annotate("d", label_field="ground_truth")
    dataset.load_annotations("d", unexpected="ignore")
    assert dataset.backends["fake"].server.limits == [10_000]
