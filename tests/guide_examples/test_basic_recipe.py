"""FiftyOne's CVAT guide, "Basic recipe", as written, with ``import annoflow as af`` for FiftyOne.

Only the zoo loader is replaced (by annoflow's quickstart) and ``launch_app`` left out; the
annotator's work in CVAT is scripted through CVAT's REST API against the simulator. Credentials
come from the ``FIFTYONE_CVAT_*`` variables, as the guide's "Authentication" section sets them.
"""

from __future__ import annotations

import webbrowser

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart


@pytest.fixture
def guide_env(tmp_path, monkeypatch, cvat_sim):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIFTYONE_CVAT_URL", cvat_sim.url)
    monkeypatch.setenv("FIFTYONE_CVAT_USERNAME", USER)
    monkeypatch.setenv("FIFTYONE_CVAT_PASSWORD", PASSWORD)
    for name in ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME"):
        monkeypatch.delenv(name, raising=False)
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)  # launch_editor=True opens this
    return tmp_path, cvat_sim, opened


def test_the_basic_recipe_runs_as_written(guide_env):
    tmp_path, cvat_sim, opened = guide_env

    # --- the guide's first block -------------------------------------------------------
    import annoflow as af
    from annoflow import ViewField as F

    # Step 1: Load your data into annoflow (the guide: foz.load_zoo_dataset("quickstart", dataset_name=...))
    dataset = af.open_dataset("cvat-annotation-example")
    load_quickstart(dataset.store, tmp_path / "media", num_samples=20, image_size=(96, 64))
    dataset.persistent = True

    dataset.evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval")

    # Step 2: Locate a subset of your data requiring annotation
    most_fp_view = dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp")).sort_by(
        F("predictions.detections").length(), reverse=True
    )

    sample_id = most_fp_view.first().id
    view = dataset.select(sample_id)

    # Step 3: Send samples to CVAT
    anno_key = "cvat_basic_recipe"

    view.annotate(
        anno_key,
        label_field="ground_truth",
        attributes=["iscrowd"],
        launch_editor=True,
    )
    print(dataset.get_annotation_info(anno_key))

    # --- what the recipe found, checked independently of the stages ----------------------
    def high_conf_fps(sample):
        return sum(
            1 for d in sample.fields["predictions"].detections if d.confidence > 0.8 and d.attributes["eval"] == "fp"
        )

    counts = {s.id: high_conf_fps(s) for s in dataset.iter_samples()}
    assert counts[sample_id] == max(counts.values()) > 0
    assert len(most_fp_view) == sum(1 for c in counts.values() if c)
    assert opened and opened[0].startswith(cvat_sim.url)
    run = dataset.registry.get_run(dataset.name, anno_key)
    assert list(run.sample_ids) == [sample_id]

    # Step 4: Perform annotation in CVAT and save the tasks (scripted through CVAT's REST API)
    before = {d.id: d for d in dataset.select(sample_id).first().fields["ground_truth"].detections}
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        task_id = run.task_ids[0]
        shapes = annotator.annotations(task_id)["shapes"]
        assert len(shapes) == len(before)
        annotator.delete(task_id, shapes[0]["id"])
        some_class = next(iter(annotator.labels(task_id)))
        annotator.add_shape(task_id, some_class, 0, "rectangle", [10.0, 10.0, 40.0, 30.0])

    # --- the guide's second block --------------------------------------------------------
    anno_key = "cvat_basic_recipe"

    # Step 5: Merge annotations back into the dataset
    dataset = af.load_dataset("cvat-annotation-example")
    dataset.load_annotations(anno_key)

    # Load the view that was annotated (the guide then opens it in the App)
    view = dataset.load_annotation_view(anno_key)
    after = view.first().fields["ground_truth"].detections
    assert len(after) == len(before)  # one deleted, one drawn
    assert sum(1 for d in after if d.id not in before) == 1 and set(before) - {d.id for d in after}

    # Step 6: Cleanup

    # Delete tasks from CVAT
    results = dataset.load_annotation_results(anno_key)
    results.cleanup()

    # Delete run record (not the labels)
    dataset.delete_annotation_run(anno_key)

    assert dataset.list_annotation_runs() == []
    assert len(view.first().fields["ground_truth"]) == len(after)
