"""The SQLite store's confidence column and ``labels_hot`` index, which the compiled filters read
instead of each row's JSON: filled for files from before them, kept up with every write of the
JSON (whichever program writes it), and left to Python where they cannot say."""

from __future__ import annotations

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.expressions import F
from annoflow.domain.labels import Keypoint, Keypoints
from annoflow.domain.samples import Sample
from tests.label_stores.test_expression_sql import NoReads, _dataset_samples

REGISTRY = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
RECIPE = (F("confidence") > 0.5) & (F("eval") == "fp")


def _recipe(store):
    return (
        Dataset(store, REGISTRY)
        .filter_labels("predictions", RECIPE)
        .sort_by(F("predictions.detections").length(), reverse=True)
    )


def _python(samples):
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)
    return _recipe(memory).sample_ids


def _confidences(store):
    return dict(store._db.execute("SELECT id, confidence FROM labels WHERE path = 'predictions'"))


def test_a_file_from_before_the_confidence_column_gets_it_filled_when_opened(tmp_path):
    samples = _dataset_samples()
    old = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    old.add_samples(samples)
    expected = {d.id: d.confidence for s in samples for d in s.fields["predictions"].detections}
    old._db.executescript(
        "DROP INDEX labels_hot; DROP TRIGGER labels_confidence; ALTER TABLE labels DROP COLUMN confidence"
    )  # the layout such a file has
    old.close()
    store = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    assert _confidences(store) == expected
    assert _recipe(NoReads(store)).sample_ids == _python(samples)
    store.close()


def test_a_write_of_a_rows_json_by_a_program_that_knows_no_confidence_column_refills_it(tmp_path):
    samples = _dataset_samples()
    store = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    store.add_samples(samples)
    label_id, data = store._db.execute(
        "SELECT id, data FROM labels WHERE path = 'predictions' AND confidence < 0.5 LIMIT 1"
    ).fetchone()
    # as an annoflow from before the column writes a label: kind, data, mask, summary only
    store._db.execute(
        "UPDATE labels SET data = ? WHERE id = ?", (data.replace('"confidence":', '"confidence":0.9,"x":'), label_id)
    )
    assert _confidences(store)[label_id] == 0.9
    assert _recipe(NoReads(store)).sample_ids == _python(list(store.get_samples()))
    store.close()


def test_a_keypoints_confidence_list_is_left_to_python(tmp_path):
    samples = [
        Sample(
            filepath=f"/{i}.jpg",
            media_type="image",
            fields={"kp": Keypoints([Keypoint(label="p", points=[(0.1, 0.1), (0.2, 0.2)], confidence=[c, 0.1])])},
        )
        for i, c in enumerate([0.2, 0.9])
    ]
    store = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    store.add_samples(samples)
    found = store.samples_with_labels([s.id for s in samples], ["kp"], F("confidence") > 0.5)
    assert found is not None and not found.matched and found.unsure == {s.id for s in samples}
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)
    view = lambda d: d.match_labels(filter=F("confidence").exists(), fields="kp")  # noqa: E731
    assert view(Dataset(store, REGISTRY)).sample_ids == view(Dataset(memory, REGISTRY)).sample_ids
    store.close()
