"""RunRegistry.last_event_time: the latest event of a kind, read newest first in batches."""

from __future__ import annotations

from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.label_schema import LabelSchema


def test_the_latest_event_of_a_kind_across_batches():
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    run = AnnotationRun.request(
        dataset="ds", key="k0", backend="cvat", config={}, label_schema=LabelSchema(()), sample_ids=["a"]
    )
    registry.add_run(run)
    for n in range(1, 6):
        registry.rename_run("ds", f"k{n - 1}", f"k{n}")
    events = registry.history(run.id)
    renames = [e for e in events if type(e).__name__ == "Renamed"]
    assert registry.last_event_time(run.id, "Renamed", batch=2) == renames[-1].timestamp
    assert registry.last_event_time(run.id, "Requested", batch=2) == events[0].timestamp  # found in the last batch
    assert registry.last_event_time(run.id, "LoadCompleted", batch=2) is None
    assert registry.last_event_time(run.id, "LoadCompleted", batch=len(events)) is None
