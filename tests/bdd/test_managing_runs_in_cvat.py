"""Step code for features/managing_runs_in_cvat.feature: FiftyOne's CVAT guide, "Managing annotation runs"
section, end to end against the CVAT simulator (features/managing_annotation_runs.feature runs it
on a fake backend)."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from annoflow.application.audit import run_history
from tests.bdd.cvat_steps import run_of

scenarios("managing_runs_in_cvat.feature")


@then(parsers.parse('the annotation info of "{key}" shows {count:d} sample, the field "{field}" and the run\'s task'))
def info(world, key, count, field):
    info = world["dataset"].get_annotation_info(key)
    assert (info.key, info.sample_count, info.label_schema.field_names) == (key, count, (field,))
    assert list(info.task_ids) == world["results"].task_ids
    assert key in str(info) and "password" not in str(info)


@when(parsers.parse('I rename the annotation run "{old}" to "{new}"'))
def rename(world, old, new):
    world["dataset"].rename_annotation_run(old, new)
    world["run"] = world["dataset"].registry.get_run("quickstart", new)


@when(parsers.parse('I clean up the results of "{key}", my CVAT login in the environment'))
def clean_up(world, key, monkeypatch):
    for name, setting in (("URL", world["sim"].url), ("USERNAME", "annotator"), ("PASSWORD", "pw")):
        monkeypatch.setenv(f"FIFTYONE_CVAT_{name}", setting)
    world["dataset"].load_annotation_results(key).cleanup()


@when(parsers.parse('I delete the annotation run "{key}"'))
def delete(world, key):
    world["dataset"].delete_annotation_run(key)


@then("the dataset has no annotation runs")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []


@then(parsers.parse('the audit trail of "{key}" tells, in this order, "{names}"'))
def audit_in_order(world, key, names):
    entries = run_history(world["dataset"].registry, run_of(world, key).id)
    told = iter(e.event for e in entries)
    missing = [name.strip() for name in names.split(",") if name.strip() not in told]  # consumes in order
    assert not missing, (missing, [e.text for e in entries])
    assert entries[-1].event == "Deleted"
