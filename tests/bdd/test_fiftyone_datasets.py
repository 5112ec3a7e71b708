"""Step code for features/fiftyone_datasets.feature: FiftyOne's CVAT guide, "Basic recipe", on a FiftyOne
dataset with FiftyOne's own views (``filter_labels``, ``sort_by``, ``F``, ``evaluate_detections``) and
annoflow's CVAT engine (``annoflow.fiftyone``) against the simulator."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.audit import run_history

pytestmark = pytest.mark.fiftyone
scenarios("fiftyone_datasets.feature")
BOX = [10.0, 10.0, 40.0, 30.0]  # pixels of a 96 x 64 image: x1, y1, x2, y2


@pytest.fixture
def world(fiftyone, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    for name in ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME", "ANNOFLOW_LABEL_STORE"):
        monkeypatch.delenv(name, raising=False)
    import annoflow.fiftyone as aff

    world = {"fo": fiftyone, "aff": aff}
    yield world
    if "dataset" in world:
        world["dataset"].delete()


def login(world):
    return {"url": world["sim"].url, "username": USER, "password": PASSWORD}


def labels_now(world):
    """Every sample's ground_truth and predictions as annoflow reads them from the FiftyOne dataset."""
    store = world["aff"].annoflow_dataset(world["dataset"]).store
    return {s.id: s for s in store.get_samples(fields=["ground_truth", "predictions"])}


def ids_on(world, sample_id):
    return [d.id for d in world["dataset"][sample_id].ground_truth.detections]


@given(
    parsers.parse(
        "a FiftyOne dataset of the quickstart with {count:d} samples, evaluated with FiftyOne's evaluate_detections"
    )
)
def fiftyone_quickstart(world, tmp_path, count):
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    dataset = world["fo"].Dataset()
    world["dataset"] = dataset
    load_quickstart(FiftyOneLabelStore(dataset), tmp_path / "media", num_samples=count, image_size=(96, 64))
    dataset.evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval")  # FiftyOne's own
    world["before"] = labels_now(world)


@given("a CVAT server")
def cvat_server(world, cvat_sim):
    world["sim"] = cvat_sim


@when("I select with FiftyOne's filter_labels and sort_by the sample with the most high-confidence false positives")
def most_false_positives(world):
    F = world["fo"].ViewField  # noqa: N806 - FiftyOne's recipes write `from fiftyone import ViewField as F`
    dataset = world["dataset"]
    most_fp_view = dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp")).sort_by(
        F("predictions.detections").length(), reverse=True
    )
    world["sample_id"] = most_fp_view.first().id
    world["view"] = dataset.select(world["sample_id"])
    counts = {
        s.id: sum(1 for d in s.fields["predictions"].detections if d.confidence > 0.8 and d.attributes["eval"] == "fp")
        for s in world["before"].values()
    }
    assert counts[world["sample_id"]] == max(counts.values()) > 0  # checked apart from FiftyOne's stages


@when(parsers.parse('I annotate its "{field}" through annoflow.fiftyone with key "{key}"'))
def annotate_selected(world, field, key):
    world["results"] = world["aff"].annotate(
        world["view"], key, label_field=field, attributes=["iscrowd"], **login(world)
    )
    world["key"] = key


@when(
    parsers.parse('I annotate the "{field}" labels FiftyOne\'s filter_labels keeps of class "{cls}" with key "{key}"')
)
def annotate_filtered(world, field, cls, key):
    F = world["fo"].ViewField  # noqa: N806 - FiftyOne's recipes write `from fiftyone import ViewField as F`
    view = world["dataset"].filter_labels(field, F("label") == cls).limit(2)
    world["sample_id"] = view.first().id
    world["results"] = world["aff"].annotate(view, key, label_field=field, **login(world))
    world["key"] = key
    with ScriptedAnnotator(world["sim"].url, USER, PASSWORD) as annotator:
        task = world["results"].task_ids[0]
        names = {spec["id"]: name for name, spec in annotator.labels(task).items()}
        world["uploaded"] = {names[shape["label_id"]] for shape in annotator.annotations(task)["shapes"]}


@when("the annotator deletes the first box and draws a new one")
def annotator_edits(world):
    with ScriptedAnnotator(world["sim"].url, USER, PASSWORD) as annotator:
        task = world["results"].task_ids[0]
        shapes = [s for s in annotator.annotations(task)["shapes"] if s["frame"] == 0]
        annotator.delete(task, shapes[0]["id"])
        annotator.add_shape(task, next(iter(annotator.labels(task))), 0, "rectangle", BOX)


@when(parsers.parse('I load the annotations of "{key}" into the FiftyOne dataset'))
def load(world, key):
    world["report"] = world["aff"].load_annotations(world["dataset"], key, **login(world))
    world["after"] = labels_now(world)


@then("FiftyOne shows the new box on the sample under its own ObjectId, and not the deleted one")
def new_box_shown(world):
    before = [d.id for d in world["before"][world["sample_id"]].fields["ground_truth"].detections]
    now = world["dataset"][world["sample_id"]].ground_truth.detections
    assert len([d for d in now if d.id not in before]) == 1 and len(set(before) - {d.id for d in now}) == 1
    (new,) = [d for d in now if d.id not in before]
    assert type(new._id).__name__ == "ObjectId" and str(new._id) == new.id
    assert new.bounding_box == pytest.approx([10 / 96, 10 / 64, 30 / 96, 20 / 64])


@then("FiftyOne shows every other label of the dataset as it was")
def others_as_they_were(world):
    for sample_id, sample in world["before"].items():
        after = world["after"][sample_id]
        assert after.fields["predictions"] == sample.fields["predictions"]
        if sample_id != world["sample_id"]:
            assert after.fields["ground_truth"] == sample.fields["ground_truth"]
    kept = {d.id for d in world["before"][world["sample_id"]].fields["ground_truth"].detections} & set(
        ids_on(world, world["sample_id"])
    )
    old = {d.id: d for d in world["before"][world["sample_id"]].fields["ground_truth"].detections}
    new = {d.id: d for d in world["after"][world["sample_id"]].fields["ground_truth"].detections}
    assert kept and all(new[i] == old[i] for i in kept)


@then(parsers.parse('the audit trail of the FiftyOne run "{key}" shows a load with "{counts}"'))
def audit(world, key, counts):
    registry = world["aff"].annoflow_dataset(world["dataset"]).registry
    run = registry.get_run(world["dataset"].name, key)
    loads = [entry.text for entry in run_history(registry, run.id) if entry.event == "load"]
    assert loads and f": {counts} from " in loads[0], loads


@then(parsers.parse('loading "{key}" into the FiftyOne dataset again changes nothing'))
def load_again(world, key):
    report = world["aff"].load_annotations(world["dataset"], key, **login(world))
    assert (report.added, report.edited, report.deleted) == (0, 0, 0)
    assert labels_now(world) == world["after"]


@then("FiftyOne's view of the run holds the annotated sample")
def run_view(world):
    view = world["aff"].load_annotation_view(world["dataset"], world["key"])
    assert isinstance(view, world["fo"].DatasetView) and view.values("id") == [world["sample_id"]]


@then("after cleanup and delete_annotation_run the FiftyOne dataset has no run and keeps its labels")
def cleanup(world):
    aff, dataset, key = world["aff"], world["dataset"], world["key"]
    assert aff.list_annotation_runs(dataset) == [key]
    assert aff.get_annotation_info(dataset, key).sample_count == 1
    aff.load_annotation_results(dataset, key, **login(world)).cleanup()
    aff.delete_annotation_run(dataset, key)
    assert aff.list_annotation_runs(dataset) == []
    assert labels_now(world) == world["after"]


@then(parsers.parse('the run uploaded only "{cls}" boxes'))
def uploaded_only(world, cls):
    assert world["uploaded"] == {cls}


@then(parsers.parse('FiftyOne shows every "{field}" label the view hid as it was'))
def hidden_kept(world, field):
    for sample_id, sample in world["before"].items():
        hidden = {d.id: d for d in sample.fields[field].detections if d.label != "person"}
        now = {d.id: d for d in world["after"][sample_id].fields[field].detections}
        assert all(now.get(i) == d for i, d in hidden.items()), sample_id
    assert any(d.label != "person" for s in world["before"].values() for d in s.fields[field].detections)
