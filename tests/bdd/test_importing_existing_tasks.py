"""Step code for features/importing_existing_tasks.feature: FiftyOne's CVAT guide, "Importing existing
tasks", against the CVAT simulator: a project made by an annotate() run, imported into a new dataset
(media downloaded) or into the dataset itself (media mapped by CVAT file name, as the guide's data_map)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.bdd.cvat_steps import login

scenarios("importing_existing_tasks.feature")


@given(parsers.parse('I annotated the first sample with key "{key}" into the project "{project}"'))
def annotated(world, key, project):
    dataset = world["dataset"]
    world["results"] = dataset.limit(1).annotate(key, label_field="ground_truth", project_name=project, **login(world))
    world["sample"] = dataset.limit(1).first()


def _new_dataset(world):
    if "new" not in world:
        world["new"] = Dataset(
            InMemoryLabelStore("imported"),
            RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
            world["dataset"].backends,
        )
    return world["new"]


def _import(world, dataset, **kwargs):
    try:
        world["import_key"] = dataset.import_annotations(**kwargs, **login(world))
        world["error"] = None
    except Exception as error:  # noqa: BLE001 - the Then steps check it
        world["error"] = error


@when(parsers.parse('I import the project "{project}" into a new dataset, downloading its media into "{folder}"'))
def import_downloading(world, project, folder):
    world["folder"] = world["tmp"] / folder
    _import(world, _new_dataset(world), project_name=project, data_path=str(world["folder"]), download_media=True)
    assert world["error"] is None, world["error"]


@when(parsers.parse('I import the project "{project}" into the same dataset again'))
def import_again(world, project):
    _import(world, _new_dataset(world), project_name=project, data_path=str(world["folder"]), download_media=True)
    assert world["error"] is None, world["error"]


@when(
    parsers.parse('I import the project "{project}" into the dataset itself, with the media mapped by their CVAT names')
)
def import_mapped(world, project):
    dataset = world["dataset"]
    view = dataset.limit(1)  # the guide's data_map, over the samples the run sent
    data_map = {"%06d_%s" % (idx, os.path.basename(p)): p for idx, p in enumerate(view.values("filepath"))}  # noqa: UP031 - as the guide writes it
    _import(world, dataset, project_name=project, data_path=data_map)
    assert world["error"] is None, world["error"]


@when(parsers.parse('I import the project "{project}" into a new dataset from an empty folder'))
def import_empty(world, project):
    (world["tmp"] / "empty").mkdir()
    _import(world, _new_dataset(world), project_name=project, data_path=str(world["tmp"] / "empty"))


def _samples(dataset):
    return list(dataset.store.get_samples(dataset.store.sample_ids()))


@then(parsers.parse('the new dataset has {count:d} sample, whose file in "{folder}" is a copy of the first sample\'s'))
def new_sample(world, count, folder):
    samples = _samples(world["new"])
    assert len(samples) == count
    path = Path(samples[0].filepath)
    assert path.parent == (world["tmp"] / folder).resolve()
    assert path.name == "000000_" + os.path.basename(world["sample"].filepath)  # the name annoflow gave it in CVAT
    assert path.read_bytes() == Path(world["sample"].filepath).read_bytes()
    world["imported_sample"] = samples[0]


def _boxes(detections):
    return sorted((d.label, *d.bounding_box) for d in detections.detections)


def _check_boxes(imported, original):
    got, want = _boxes(imported), _boxes(original)
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want, strict=True):  # CVAT holds pixel coordinates: as close as the frame's pixels allow
        assert g[1:] == pytest.approx(w[1:], abs=1e-3)


@then(parsers.parse('its "{field}" are the first sample\'s "{source}" boxes, as the project holds them'))
def its_boxes(world, field, source):
    _check_boxes(world["imported_sample"].fields[field], world["sample"].fields[source])


@then(parsers.parse('the first sample\'s "{field}" are its "{source}" boxes, as the project holds them'))
def first_sample_boxes(world, field, source):
    sample = world["dataset"].store.get_samples([world["sample"].id]).__next__()
    _check_boxes(sample.fields[field], sample.fields[source])


@then(parsers.parse("the dataset still has {count:d} samples"))
def still(world, count):
    assert len(world["dataset"].store) == count


@then("the import is a run of the new dataset whose audit trail shows its tasks and a load")
def audited(world):
    dataset = world["new"]
    assert dataset.list_annotation_runs() == [world["import_key"]]
    run = dataset.registry.get_run("imported", world["import_key"])
    entries = run_history(dataset.registry, run.id)
    events = [e.event for e in entries]
    assert events[0] == "Requested" and "TaskCreated" in events and "load" in events, events
    added = len(world["sample"].fields["ground_truth"].detections)
    assert any(f": {added} added, 0 edited, 0 deleted, 0 rejected" in e.text for e in entries if e.event == "load"), [
        e.text for e in entries
    ]


@then("the import fails naming the first sample's CVAT file name")
def fails(world):
    name = "000000_" + os.path.basename(world["sample"].filepath)
    assert world["error"] is not None and name in str(world["error"]), world["error"]


@then("the new dataset has no samples and no annotation runs")
def nothing(world):
    assert len(world["new"].store) == 0 and world["new"].list_annotation_runs() == []


@then("the last import found its task unchanged")
def unchanged(world):
    summary = world["new"].last_load.summary
    assert (summary.added, summary.unchanged_tasks) == (0, 1), summary


@when(
    parsers.parse(
        'I export the project\'s task from CVAT as "{fmt}" and import the file into a new dataset, '
        "with the media mapped by their CVAT names"
    )
)
def import_export(world, fmt):
    from annoflow.adapters.cvat.api import connect_to_api
    from annoflow.adapters.cvat_xml.importing import import_cvat_xml
    from annoflow.adapters.cvat_xml.server_export import fetch_export

    (task_id,) = world["results"].task_ids
    with connect_to_api(**login(world), poll_interval=0.01) as api:
        xml = fetch_export(api.client, task_id, world["tmp"], fmt=fmt)
    data_map = {"000000_" + os.path.basename(world["sample"].filepath): world["sample"].filepath}
    world["summary"] = import_cvat_xml(_new_dataset(world), xml, data_map)


@then("the new dataset has 1 sample, the first sample's own file")
def own_file(world):
    (sample,) = _samples(world["new"])
    assert sample.filepath == world["sample"].filepath
    world["imported_sample"] = sample


@then(
    parsers.parse('its "{field}" are the first sample\'s "{source}" boxes, as the project holds them, with their ids')
)
def boxes_with_ids(world, field, source):
    _check_boxes(world["imported_sample"].fields[field], world["sample"].fields[source])
    assert sorted(d.id for d in world["imported_sample"].fields[field].detections) == sorted(
        d.id for d in world["sample"].fields[source].detections
    )  # the label_id attribute annoflow's tasks carry


@when("I export the new dataset as CVAT XML and import that file into another dataset")
def export_import(world):
    from annoflow.adapters.cvat_xml.exporting import export_cvat_xml
    from annoflow.adapters.cvat_xml.importing import import_cvat_xml

    export_cvat_xml(world["new"], world["tmp"] / "again.xml")
    world["other"] = Dataset(InMemoryLabelStore("other"), RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    import_cvat_xml(world["other"], world["tmp"] / "again.xml", os.path.dirname(world["sample"].filepath))


@then(parsers.parse("the other dataset's \"{field}\" are the new dataset's, to the bit"))
def to_the_bit(world, field):
    (sample,) = _samples(world["other"])
    assert sample.fields[field] == world["imported_sample"].fields[field]
