from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from annoflow.application.audit import dataset_history

scenarios("managing_annotation_runs.feature")


@when(parsers.parse('I rename the annotation run "{old}" to "{new}"'))
def rename(world, old, new):
    world["dataset"].rename_annotation_run(old, new)


@when(parsers.parse('I delete the annotation run "{key}"'))
def delete(world, key):
    world["dataset"].delete_annotation_run(key)


@then(parsers.parse('the annotation info of "{key}" shows {count:d} samples and the field "{field}"'))
def info(world, key, count, field):
    info = world["dataset"].get_annotation_info(key)
    assert info.sample_count == count and info.label_schema.field_names == (field,)


@then(parsers.parse('asking for the annotation run "{key}" fails with "{message}"'))
def asking_fails(world, key, message):
    try:
        world["dataset"].get_annotation_info(key)
    except ValueError as error:
        assert message in str(error)
    else:
        raise AssertionError(f"run {key!r} is still there")


@then(parsers.parse('the audit trail tells "{text}"'))
def audit_tells(world, text):
    entries = [e.text for _, history in dataset_history(world["dataset"].registry, "quickstart") for e in history]
    assert text in entries, entries


@then("the dataset has no annotation runs")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []


@then(parsers.parse("the dataset still has {count:d} samples with their ground_truth labels"))
def samples_kept(world, count):
    samples = list(world["dataset"].iter_samples())
    assert len(samples) == count and all(len(s.fields["ground_truth"]) > 0 for s in samples)
