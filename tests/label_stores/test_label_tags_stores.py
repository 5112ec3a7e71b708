"""Every label store keeps label tags (memory, SQLite, PostgreSQL): through add, replace and rows;
tags do not change what a label's schema summary says, and untagged labels are stored as before."""

from __future__ import annotations

import numpy as np

from annoflow.adapters.label_stores.rows import label_row
from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import Classification, Detection, Detections, Segmentation
from annoflow.domain.samples import ImageMetadata, Sample


def _sample(tags=()):
    return Sample(
        filepath="/img.jpg",
        media_type="image",
        metadata=ImageMetadata(64, 48),
        fields={
            "gt": Detections(
                [
                    Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), attributes={"iscrowd": 0}, tags=tags),
                    Detection(label="dog", bounding_box=(0, 0, 1, 1)),
                ]
            ),
            "weather": Classification(label="sunny", tags=tags),
            "seg": Segmentation(mask=np.eye(4, dtype=np.uint8), tags=tags),
        },
    )


def test_a_store_keeps_label_tags_through_add_replace_and_rows(make_store):
    store = make_store()
    sample = _sample(("reviewed", "hard"))
    store.add_samples([sample])
    (back,) = store.get_samples()
    assert back == sample and back.fields["gt"].detections[0].tags == ("reviewed", "hard")
    assert back.fields["gt"].detections[1].tags == ()

    cat = sample.fields["gt"].detections[0]
    store.apply(
        [
            PutLabel(sample.id, "gt", cat.replace(tags=("fp",))),
            PutLabel(sample.id, "weather", sample.fields["weather"].replace(tags=())),
        ]
    )
    (back,) = store.get_samples()
    assert [d.tags for d in back.fields["gt"].detections] == [("fp",), ()]
    assert back.fields["weather"].tags == ()

    (rows,) = store.get_label_rows([sample.id], ["gt", "weather", "seg"])
    tags = {row.label_id: tuple(row.values.get("tags", ())) for row in rows.rows}
    assert tags == {
        cat.id: ("fp",),
        sample.fields["gt"].detections[1].id: (),
        sample.fields["weather"].id: (),
        sample.fields["seg"].id: ("reviewed", "hard"),
    }
    assert [row.label() for row in rows.rows if row.field == "gt"] == list(back.fields["gt"].detections)


def test_tags_do_not_change_what_the_labels_observe_as(make_store):
    tagged, untagged = make_store(), make_store()
    a, b = _sample(("reviewed",)), _sample()
    tagged.add_samples([a])
    untagged.add_samples([b])
    paths = ["gt", "seg", "weather"]
    assert tagged.observe([a.id], paths) == untagged.observe([b.id], paths)


def test_an_untagged_label_is_stored_as_before_tags_and_its_summary_ignores_tags():
    label = Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), attributes={"iscrowd": 1})
    _kind, data, _, summary = label_row(label)
    assert '"tags"' not in data  # rows written before tags are exactly these, and read as untagged
    _, tagged_data, _, tagged_summary = label_row(label.replace(tags=("reviewed",)))
    assert '"tags":["reviewed"]' in tagged_data
    assert tagged_summary == summary  # observe() groups rows by their summary: class, attributes, unfilled
