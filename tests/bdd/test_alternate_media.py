"""Step code for features/alternate_media.feature: FiftyOne's CVAT guide, "Uploading alternate media" example."""

from __future__ import annotations

import numpy as np
from PIL import Image
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.domain.changes import SetValue
from tests.bdd.cvat_steps import annotator, task_id

scenarios("alternate_media.feature")


@given(parsers.parse('every sample has blurred copies in the field "{field}"'))
def blurred(world, field):
    changes = []
    for sample in world["store"].get_samples():
        image = np.asarray(Image.open(sample.filepath))
        path = world["tmp"] / f"blurred_{sample.id}.png"
        Image.fromarray(np.full_like(image, int(image.mean()))).save(path)  # as blurred as it gets
        changes.append(SetValue(sample.id, field, str(path)))
    world["store"].apply(changes)


@when("the annotator looks at the image in CVAT")
def annotator_looks(world):
    with annotator(world) as client:
        answer = client.client.get(
            f"/api/tasks/{task_id(world)}/data", params={"type": "frame", "number": 0, "quality": "original"}
        )
    answer.raise_for_status()
    world["seen"] = answer.content


@then("the annotator saw the blurred image, not the original")
def saw_blurred(world):
    with (
        open(world["sample"].fields["alt_filepath"], "rb") as blurred_file,
        open(world["sample"].filepath, "rb") as original,
    ):
        assert world["seen"] == blurred_file.read() and world["seen"] != original.read()


@then("the sample still points at its original image and its blurred copy")
def paths_kept(world):
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    assert (sample.filepath, sample.fields["alt_filepath"]) == (
        world["sample"].filepath,
        world["sample"].fields["alt_filepath"],
    )


@then(parsers.parse('the annotation info of "{key}" names the media field "{field}"'))
def info_media_field(world, key, field):
    assert world["dataset"].get_annotation_info(key).media_field == field
