"""annotate() of a field the FiftyOne dataset does not have yet: the load declares it in FiftyOne's schema
with FiftyOne's own label type, so FiftyOne's App and views read what the annotators made."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart

pytestmark = pytest.mark.fiftyone
LOGIN = {"username": USER, "password": PASSWORD}


def test_a_new_classifications_field_lands_in_fiftyones_schema(fiftyone, fo_dataset, cvat_sim, tmp_path, monkeypatch):
    import annoflow.fiftyone as aff
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    load_quickstart(FiftyOneLabelStore(fo_dataset), tmp_path / "media", num_samples=2, image_size=(64, 48))
    view = fo_dataset.limit(1)
    results = aff.annotate(
        view,
        "tags",
        label_field="weather",
        label_type="classifications",
        classes=["sunny", "rainy"],
        url=cvat_sim.url,
        **LOGIN,
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_tag(task_id, "rainy", 0)
    aff.load_annotations(fo_dataset, "tags", url=cvat_sim.url, **LOGIN)
    field = fo_dataset.get_field("weather")
    assert isinstance(field, fiftyone.EmbeddedDocumentField) and field.document_type is fiftyone.Classifications
    assert fo_dataset.count_values("weather.classifications.label") == {"rainy": 1}
    assert view.first().weather.classifications[0].label == "rainy"
