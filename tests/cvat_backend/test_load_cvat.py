"""load_annotations() against the simulator, with the scripted annotator making the edits."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.domain.annotation_run import RunError
from annoflow.domain.labels import labels_in
from tests.cvat_backend.conftest import PASSWORD, USER


def _shapes_by_label_id(annotator, task_id):
    labels = annotator.labels(task_id)
    spec = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next(a["value"] for a in s["attributes"] if a["spec_id"] in spec): s
        for s in annotator.annotations(task_id)["shapes"]
    }


def test_annotator_edits_come_back_exactly_once(dataset, login, cvat_sim):
    view = dataset.limit(2)
    results = view.annotate("edit", label_field="predictions", **login)
    (task_id,) = results.task_ids
    before = {label.id: label for s in view.iter_samples() for label in labels_in(s.fields["predictions"])}
    cvat_sim.state.renumber_on_save = True  # CVAT may change object ids: label_id still matches
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        shapes = _shapes_by_label_id(annotator, task_id)
        moved_id, deleted_id, *_ = list(shapes)
        annotator.move_shape(task_id, _shapes_by_label_id(annotator, task_id)[moved_id]["id"], [1.0, 2.0, 30.0, 40.0])
        annotator.delete(task_id, _shapes_by_label_id(annotator, task_id)[deleted_id]["id"])
        some_class = next(iter(annotator.labels(task_id)))
        annotator.add_shape(task_id, some_class, 0, "rectangle", [5.0, 5.0, 20.0, 20.0])
        annotator.add_shape(task_id, some_class, 1, "polyline", [1.0, 1.0, 9.0, 9.0])  # the wrong type
    strays = dataset.load_annotations("edit", unexpected="return", **login)
    after = {label.id: label for s in view.iter_samples() for label in labels_in(s.fields["predictions"])}
    assert deleted_id not in after
    assert after[moved_id].bounding_box == (1.0 / 96, 2.0 / 64, 29.0 / 96, 38.0 / 64)
    untouched = set(before) - {moved_id, deleted_id}
    assert all(after[i] == before[i] for i in untouched)  # unedited labels come back bit-identical
    assert len(set(after) - set(before)) == 1
    assert [u.label_type for u in strays["polylines"]] == ["polylines"]
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.unexpected) == (1, 1, 1, 1)
    dataset.load_annotations("edit", unexpected="ignore", **login)
    assert dataset.last_load.summary.unchanged_tasks == 1 and {
        label.id for s in view.iter_samples() for label in labels_in(s.fields["predictions"])
    } == set(after)


def test_prompt_without_a_terminal_names_the_choices(dataset, login, cvat_sim):
    results = dataset.limit(1).annotate("strays", label_field="ground_truth", **login)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        task_id = results.task_ids[0]
        annotator.add_shape(task_id, next(iter(annotator.labels(task_id))), 0, "polyline", [1.0, 1.0, 9.0, 9.0])
    with pytest.raises(RunError, match="pass unexpected='keep', 'ignore' or 'return'"):
        dataset.load_annotations("strays", **login)
    before = len(dataset.limit(1).first().fields["polylines"])
    dataset.load_annotations("strays", unexpected="keep", cleanup=True, **login)
    kept = labels_in(dataset.limit(1).first().fields["polylines"])  # the field named after the label type
    assert len(kept) == before + 1 and kept[-1].points == (((1.0 / 96, 1.0 / 64), (9.0 / 96, 9.0 / 64)),)
    assert dataset.get_annotation_info("strays").status == "cleaned_up"
    assert results.task_ids[0] not in cvat_sim.state.tasks


def test_unedited_labels_with_typed_attributes_come_back_identical(dataset, login, cvat_sim):
    view = dataset.limit(2)
    view.annotate("typed", label_field="ground_truth", attributes=["iscrowd"], **login)  # iscrowd holds ints
    before = [s.fields["ground_truth"] for s in view.iter_samples()]
    dataset.load_annotations("typed", unexpected="ignore", **login)
    assert [s.fields["ground_truth"] for s in view.iter_samples()] == before
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0)


def test_the_prompt_asks_where_unexpected_labels_go(dataset, login, cvat_sim):
    from annoflow.application.load import Loader

    results = dataset.limit(1).annotate("ask", label_field="ground_truth", **login)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        task_id = results.task_ids[0]
        annotator.add_shape(task_id, next(iter(annotator.labels(task_id))), 0, "polyline", [1.0, 1.0, 9.0, 9.0])
    asked = []
    loader = Loader(
        dataset.store, dataset.registry, dataset.backends, ask=lambda q: asked.append(q) or "my_lines", interactive=True
    )
    loader.load("quickstart", "ask", **login)
    assert asked == ["Found 1 unexpected polylines: a field to store them in (empty to discard)? "]
    (line,) = labels_in(dataset.limit(1).first().fields["my_lines"])
    assert line.points == (((1.0 / 96, 1.0 / 64), (9.0 / 96, 9.0 / 64)),)


def test_a_new_label_s_text_attribute_takes_the_type_the_existing_values_hold(tmp_path, login, cvat_sim):
    from annoflow.adapters.cvat_backend import CVATBackend
    from annoflow.adapters.label_stores import InMemoryLabelStore
    from annoflow.adapters.quickstart import load_quickstart
    from annoflow.application.dataset import Dataset
    from annoflow.application.runs.registry import RunRegistry

    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=2, image_size=(96, 64))
    dataset = Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.01})},
    )
    (task_id,) = dataset.annotate("types", label_field="ground_truth", **login).task_ids
    before = {label.id for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])}
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_shape(
            task_id,
            next(iter(annotator.labels(task_id))),
            0,
            "rectangle",
            [5.0, 5.0, 20.0, 20.0],
            attributes={"iscrowd": "1"},
        )
    dataset.load_annotations("types", **login)
    (new,) = [
        label for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"]) if label.id not in before
    ]
    assert new.attributes["iscrowd"] == 1 and type(new.attributes["iscrowd"]) is int
