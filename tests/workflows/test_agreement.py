"""The agreement check cannot pass vacuously: each way a dataset can differ from CVAT is named.

Right after annotate() the dataset holds exactly what CVAT holds: the check pairs every object.
Then one thing is changed on the dataset's side at a time (no labels at all, a copy, a box moved
by a pixel, another class, another attribute value, a label gone, a pairing broken) and the check
must fail naming it.
"""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.workflows.agreement import check_agreement, dataset_frames, read_cvat, task_frames


@pytest.fixture(scope="module")
def annotated(tmp_path_factory, cvat_schema):
    cvat_schema.take_problems()
    simulator = CvatSimulator(users={USER: PASSWORD}, on_exchange=cvat_schema.check)
    with simulator.serve():
        store = InMemoryLabelStore("quickstart")
        load_quickstart(store, tmp_path_factory.mktemp("media"), num_samples=3, image_size=(96, 64))
        dataset = Dataset(
            store,
            RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
            {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.01})},
        )
        (task_id,) = dataset.annotate(
            "agree", label_field="ground_truth", url=simulator.url, username=USER, password=PASSWORD
        ).task_ids
        with ScriptedAnnotator(simulator.url, USER, PASSWORD) as annotator:
            cvat = read_cvat(annotator, task_id)
        yield cvat, dataset_frames(dataset, task_frames(dataset, "agree", task_id), "ground_truth")
    simulator.close()
    assert not cvat_schema.take_problems()


def _changed(frames, change):
    """frames with ``change`` applied to the first label of the first frame holding several."""
    frame = next(f for f, labels in frames.items() if len(labels) > 1)
    first, *rest = frames[frame]
    return {**frames, frame: change(first) + rest}


def test_a_dataset_just_annotated_agrees_with_cvat(annotated):
    cvat, frames = annotated
    pairs = check_agreement(cvat, frames)
    assert len(pairs) == len(cvat.boxes) == sum(map(len, frames.values())) > 3
    assert check_agreement(cvat, frames, pairs) == pairs


MUTATIONS = {
    "no labels at all": (lambda frames: {f: [] for f in frames}, "has no label in the dataset"),
    "a copy": (
        lambda frames: _changed(frames, lambda label: [label, label.replace(id="f" * 24)]),
        "has no object in CVAT",
    ),
    "the same id twice": (lambda frames: _changed(frames, lambda label: [label, label]), "is held 2 times"),
    "a box moved by a pixel": (
        lambda frames: _changed(
            frames,
            lambda label: [label.replace(bounding_box=(label.bounding_box[0] + 1 / 96, *label.bounding_box[1:]))],
        ),
        "differs from",
    ),
    "another class": (
        lambda frames: _changed(frames, lambda label: [label.replace(label=label.label + "x")]),
        "differs from",
    ),
    "another attribute value": (
        lambda frames: _changed(
            frames, lambda label: [label.replace(attributes={"iscrowd": 1 - label.attributes["iscrowd"]})]
        ),
        "differs from",
    ),
    "a label gone": (lambda frames: _changed(frames, lambda label: []), "has no label in the dataset"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_difference_is_named(annotated, mutation):
    cvat, frames = annotated
    change, message = MUTATIONS[mutation]
    with pytest.raises(AssertionError, match=message):
        check_agreement(cvat, change(frames))


def test_an_object_paired_before_must_keep_its_label(annotated):
    """Two labels swapping ids still look right by content: the earlier pairing catches it."""
    cvat, frames = annotated
    pairs = check_agreement(cvat, frames)
    frame = next(f for f, labels in frames.items() if len(labels) > 1)
    first, second, *rest = frames[frame]
    swapped = {**frames, frame: [first.replace(id=second.id), second.replace(id=first.id), *rest]}
    with pytest.raises(AssertionError, match="was paired with"):
        check_agreement(cvat, swapped, pairs)
