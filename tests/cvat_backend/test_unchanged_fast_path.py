"""Objects CVAT returns as uploaded skip conversion: the merge must come out exactly as without the shortcut."""

from __future__ import annotations

import attrs
import pytest

import annoflow.adapters.cvat_backend.backend as backend_module
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.application.annotate import PLAN_OPTIONS
from annoflow.application.ports.annotation_backend import UploadRequest
from annoflow.domain.labels import labels_in
from annoflow.domain.merge import merge_task
from tests.cvat_backend.conftest import PASSWORD, USER

FIXED_ID = "f" * 24


def _outcome(dataset, key, login):
    """The changes and refusals a load would record now, without applying them."""
    run = dataset.registry.get_run("quickstart", key)
    backend = dataset.backends["cvat"]
    first = next(dataset.store.get_samples(run.sample_ids[:1], fields=()))
    config = backend.parse_config(
        {**{k: v for k, v in run.config.items() if k not in PLAN_OPTIONS}, **login}, first.media_type
    )
    request = UploadRequest("quickstart", key, run.label_schema, run.media_field, first.media_type, config)
    fields = tuple(f.path for f in run.label_schema)
    (task_id,) = run.tasks
    task = dataset.registry.get_ledger(run, task_id).record()
    samples = {s.id: s for s in dataset.store.get_samples(task.sample_ids, fields=fields)}
    with backend.connect(config) as session:
        downloaded = session.download_task(
            request,
            task_id,
            lambda: task,
            lambda: {label.id: label for s in samples.values() for f in fields for label in labels_in(s.get(f))},
        )
    changes, refused = merge_task(run.label_schema, task, samples, downloaded.imported)

    # New labels get fresh ids each time: compare them without.
    def comparable(change):
        if change.action.value != "added":
            return repr(change)
        return repr(attrs.evolve(change, label_id=FIXED_ID, label=change.label.replace(id=FIXED_ID)))

    return sorted(map(comparable, changes)), sorted(map(repr, refused))


@pytest.mark.parametrize("widgets", [False, True])
@pytest.mark.parametrize("restricted", [False, True])
def test_the_shortcut_changes_nothing_in_what_a_load_merges(dataset, login, cvat_sim, monkeypatch, restricted, widgets):
    schema = {"predictions": {"attributes": {"note": {"type": "text"}}}, "keypoints": {}}
    if restricted:
        schema["predictions"].update(allow_spatial_edits=False, allow_label_edits=False)
    # A new occluded attribute comes back on every label (CVAT always sends the flag): no shortcut then.
    linked = {"occluded_attr": "occluded", "group_id_attr": "group"} if widgets else {}
    results = dataset.limit(3).annotate("fast", label_schema=schema, **linked, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        labels = annotator.labels(task_id)
        boxes = [label for label in labels.values() if any(a["name"] == "note" for a in label["attributes"])]
        box_ids = {label["id"] for label in boxes}
        shapes = [s for s in annotator.annotations(task_id)["shapes"] if s["label_id"] in box_ids]
        assert len(shapes) >= 7
        names = {label["id"]: name for name, label in labels.items()}
        annotator.move_shape(task_id, shapes[0]["id"], [1.0, 2.0, 30.0, 40.0])
        annotator.set_attribute(task_id, shapes[1]["id"], "note", "checked")
        annotator.set_flags(task_id, shapes[2]["id"], occluded=True)
        annotator.set_flags(task_id, shapes[6]["id"], group=3)
        annotator.relabel(
            task_id,
            shapes[3]["id"],
            next(names[label["id"]] for label in boxes if label["id"] != shapes[3]["label_id"]),
        )
        annotator.delete(task_id, shapes[4]["id"])
        # A copy-paste in CVAT copies the label_id too: neither copy may take the shortcut.
        copied = shapes[5]
        spec_names = {a["id"]: a["name"] for label in boxes for a in label["attributes"]}
        annotator.add_shape(
            task_id,
            names[copied["label_id"]],
            copied["frame"],
            copied["type"],
            copied["points"],
            attributes={spec_names[a["spec_id"]]: a["value"] for a in copied["attributes"]},
        )
    shortcuts = []
    split = backend_module.split_unchanged
    monkeypatch.setattr(
        backend_module, "split_unchanged", lambda *args: shortcuts.append(split(*args)) or shortcuts[-1]
    )
    with_shortcut = _outcome(dataset, "fast", login)
    assert (len(shortcuts[0][1]) > 0) is not widgets  # the shortcut was taken, where it may be
    monkeypatch.setattr(backend_module, "split_unchanged", lambda data, *args: (data, []))
    without = _outcome(dataset, "fast", login)
    assert with_shortcut == without
    assert with_shortcut[0] or with_shortcut[1]  # the edits did change something
