"""Labels read as rows go up exactly as the same labels read as samples (property tests).

annotate() converts an image task's boxes and classifications straight from the store's rows
(`Uploader.objects_of_rows`); every other label goes through the label path. Both must send
the same CVAT objects, whatever the labels' classes, attributes, groups and occlusion.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.ports.label_store import rows_of_sample
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Classifications, Detections
from annoflow.domain.samples import ImageMetadata, Sample
from tests import strategies as strat
from tests.cvat_format.test_round_trip import CLASSES, _server

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["iscrowd", "note", "score", "occluded", "group_id"]
values = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-10, 10, allow_nan=False) | st.text("ab1 ", max_size=4)
)
# a group id is a number (the group_id attribute of FiftyOne's guide, "Annotating groups")
attributes = st.builds(
    lambda a, group: {**a, **({} if group is None else {"group_id": group})},
    st.dictionaries(st.sampled_from([n for n in NAMES if n != "group_id"] + ["other"]), values, max_size=4),
    st.none() | st.integers(0, 5),
)
classes = st.sampled_from([*CLASSES, "not in the schema"])
boxes = st.builds(
    lambda d, c, a, masked: d.replace(
        label=c, attributes={k: v for k, v in a.items() if v is not None}, mask=d.mask if masked else None
    ),
    strat.detections,
    classes,
    attributes,
    st.booleans(),
)
tags = st.builds(
    lambda t, c, a: t.replace(label=c, attributes={k: v for k, v in a.items() if v is not None}),
    strat.classifications,
    classes,
    attributes,
)


def _schema(label_type: str, linked: bool):
    field = "gt" if label_type == "instances" else "weather"
    schema = {
        field: {
            "type": label_type,
            "classes": CLASSES,
            "attributes": {
                "iscrowd": {"type": "checkbox"},
                "note": {"type": "text"},
                "score": {"type": "text"},
                "occluded": {"type": "checkbox"},
                "group_id": {"type": "text"},
            },
        }
    }
    links = {"occluded_attr": "occluded", "group_id_attr": "group_id"} if linked else {}
    return field, build_label_schema(label_schema=schema, field_schema={}, **links)


@SETTINGS
@given(
    st.lists(boxes, max_size=6), st.lists(tags, max_size=4), st.booleans(), st.integers(1, 3000), st.integers(1, 3000)
)
def test_rows_and_labels_send_the_same_objects(detections, classifications, linked, width, height):
    detections = strat.unique_ids(detections)
    classifications = strat.unique_ids(c for c in classifications if c.id not in {d.id for d in detections})
    sample = Sample(
        filepath="/x.jpg",
        media_type="image",
        metadata=ImageMetadata(width, height),
        fields={"gt": Detections(detections), "weather": Classifications(classifications)},
    )
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteLabelStore(Path(folder) / "labels.sqlite", name="ds")
        try:
            store.add_samples([sample])
            (read,) = store.get_label_rows([sample.id], ("gt", "weather"))
            (stored,) = store.get_samples([sample.id], fields=("gt", "weather"))
        finally:
            store.close()
    for label_type in ("instances", "classifications"):
        field, schema = _schema(label_type, linked)
        uploader = Uploader(schema[field], _server(schema))
        rows = [row for row in read.rows if row.field == field]
        from_rows = list(uploader.objects_of_rows(rows, 3, width, height))
        from_labels = list(uploader.objects(stored.get(field), 3, width, height))
        assert from_rows == from_labels
        # and the rows a sample already built gives (the default of every store) send the same too
        built = [row for row in rows_of_sample(stored, (field,)).rows]
        assert list(uploader.objects_of_rows(built, 3, width, height)) == from_labels
