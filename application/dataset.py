"""The dataset facade users hold: samples through the label store, runs through the registry.

Method names follow FiftyOne's (``list_annotation_runs``,
``get_annotation_info``, ...), so the workflows of FiftyOne's CVAT guide read the same.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from annoflow.application.annotate import PLAN_OPTIONS, SCHEMA_OPTIONS, AnnotateRequest, Annotator, pick_backend
from annoflow.application.load import Loader
from annoflow.application.ports.annotation_backend import MAX_OBJECTS_PER_FRAME, AnnotationBackend
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.results import AnnotationResults
from annoflow.application.runs.registry import RunRegistry
from annoflow.application.views import DatasetView, SampleCollection, Stage
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.samples import MediaType


@attrs.frozen
class AnnotationInfo:
    """What get_annotation_info() reports about a run."""

    key: str
    timestamp: datetime.datetime
    backend: str
    config: Mapping[str, Any]
    label_schema: Any
    media_field: str
    sample_count: int
    task_ids: tuple[int, ...]
    status: str
    previous_keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, run: AnnotationRun) -> "AnnotationInfo":
        return cls(
            key=run.key,
            timestamp=run.created_on,
            backend=run.backend,
            config=run.config,
            label_schema=run.label_schema,
            media_field=run.media_field,
            sample_count=len(run.sample_ids),
            task_ids=run.task_ids,
            status=run.status.value,
            previous_keys=tuple(run.previous_keys),
        )

    def __str__(self) -> str:
        lines = [
            f"{type(self).__name__}(",
            f"    key={self.key!r},",
            f"    timestamp={self.timestamp.isoformat()},",
            f"    backend={self.backend!r},",
            f"    status={self.status!r},",
            f"    samples={self.sample_count}, tasks={list(self.task_ids)},",
            f"    media_field={self.media_field!r},",
            f"    config={dict(self.config)!r},",
            f"    label_schema={self.label_schema!r},",
        ]
        if self.previous_keys:
            lines.append(f"    previous_keys={list(self.previous_keys)!r},")
        return "\n".join(lines + [")"])


class Dataset(SampleCollection):
    """A named collection of samples with its annotation runs."""

    stages: tuple[Stage, ...] = ()

    def __init__(
        self,
        store: LabelStore,
        registry: RunRegistry,
        backends: Mapping[str, AnnotationBackend] | None = None,
        *,
        default_backend: str = "cvat",
        open_url: Callable[[str], Any] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.backends = dict(backends or {})
        self.default_backend = default_backend
        self._open_url = open_url

    def _dataset_of(self) -> "Dataset":
        return self

    def _open(self, url: str) -> None:
        if self._open_url is None:
            raise RuntimeError("launch_editor=True needs a browser opener; none is configured")
        self._open_url(url)

    def _backend(self, name: str | None) -> AnnotationBackend:
        return pick_backend(self.backends, name or self.default_backend)

    def annotate_collection(
        self, collection: SampleCollection, anno_key: str, backend: str | None = None, **kwargs: Any
    ) -> AnnotationResults:
        backend_name = backend or self.default_backend
        self._backend(backend_name)
        annotator = Annotator(self.store, self.registry, self.backends, self._open)
        run = annotator.annotate(collection, AnnotateRequest.of(anno_key, backend_name, **kwargs))
        connection = {k: v for k, v in kwargs.items() if k not in SCHEMA_OPTIONS + PLAN_OPTIONS}
        return self._results(run, connection)

    def load_annotations(
        self,
        anno_key: str,
        *,
        unexpected: str = "prompt",
        cleanup: bool = False,
        dest_field: str | Mapping[str, str] | None = None,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
        **connection: Any,
    ) -> Any:
        """Merge the run's annotations back, exactly once; returns the unexpected labels when asked
        (``unexpected="return"``), else None, as FiftyOne does. The load's figures are in the audit trail.

        ``max_objects_per_frame`` (annoflow's own, default 10,000) bounds what one frame's answer may
        cost: objects past it on a frame are not read but refused (rule ``max_objects_per_frame``),
        as an object the server sends malformed is (rule ``malformed``): both are recorded as the run's
        ``Rejected`` events, and the labels those objects stand for are kept as they are."""
        result = Loader(self.store, self.registry, self.backends).load(
            self.name, anno_key, unexpected=unexpected, cleanup=cleanup, dest_field=dest_field,
            max_objects_per_frame=max_objects_per_frame, **connection)
        self.last_load = result
        return dict(result.unexpected) if unexpected == "return" else None

    def load_annotation_results(self, anno_key: str, **connection: Any) -> AnnotationResults:
        """The run's results object; connection settings (url, credentials) may be given again."""
        return self._results(self.registry.get_run(self.name, anno_key), connection)

    def _results(self, run: AnnotationRun, connection: Mapping[str, Any]) -> AnnotationResults:
        backend = self._backend(run.backend)
        media_type = MediaType.VIDEO if run.sample_ids and next(
            self.store.get_samples(run.sample_ids[:1], fields=())).media_type is MediaType.VIDEO else MediaType.IMAGE
        recorded = {k: v for k, v in run.config.items() if k not in PLAN_OPTIONS}
        drop = ("media_field", "launch_editor", "resume")
        options = {**recorded, **{k: v for k, v in connection.items() if k not in drop}}
        return AnnotationResults(self.registry, run, backend, lambda: backend.parse_config(options, media_type))

    @property
    def name(self) -> str:
        return self.store.name

    def _with(self, stage: Stage) -> DatasetView:
        return DatasetView(self, (stage,))

    def view(self) -> DatasetView:
        return DatasetView(self)

    # --- annotation runs --------------------------------------------------------

    def list_annotation_runs(self) -> list[str]:
        return self.registry.list_runs(self.name)

    def has_annotation_run(self, anno_key: str) -> bool:
        return self.registry.has_run(self.name, anno_key)

    def get_annotation_info(self, anno_key: str) -> AnnotationInfo:
        return AnnotationInfo.of(self.registry.get_run(self.name, anno_key))

    def rename_annotation_run(self, anno_key: str, new_anno_key: str) -> None:
        self.registry.rename_run(self.name, anno_key, new_anno_key)

    def delete_annotation_run(self, anno_key: str) -> None:
        """Delete the run's record only: labels and the CVAT tasks stay as they are."""
        self.registry.delete_run(self.name, anno_key)

    def delete_annotation_runs(self) -> None:
        for key in self.list_annotation_runs():
            self.delete_annotation_run(key)

    def load_annotation_view(self, anno_key: str) -> DatasetView:
        """The samples the run sent for annotation, in the order it sent them."""
        run = self.registry.get_run(self.name, anno_key)
        return self.select(run.sample_ids, ordered=True)
