"""The import_annotations() use case: tasks made outside annoflow into a dataset, as a recorded run.

FiftyOne's guide, "Importing existing tasks"; docs/importing.md gives how the tasks become a run
and what is checked before anything is written.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.application.load import Loader, LoadResult
from annoflow.application.ports.annotation_backend import (
    AnnotationBackend,
    BackendConfig,
    BackendConfigError,
    BackendSession,
    ImportSelection,
    MediaNotFoundError,
    UploadRequest,
)
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.progress import NO_PROGRESS, Progress
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.fields import FRAMES_PREFIX
from annoflow.domain.ids import derived_id
from annoflow.domain.label_schema import LabelSchema, build_label_schema
from annoflow.domain.project_schema import ProjectLabel, adopt_project_labels
from annoflow.domain.samples import MediaType, Sample
from annoflow.domain.tool_capabilities import ToolCapabilities

logger = logging.getLogger(__name__)

LABEL_TYPES = ("classifications", "detections", "polylines", "keypoints")


@attrs.frozen
class ImportResult:
    key: str  # the import run's
    load: LoadResult


def import_key(project_id: int | None, task_ids: Sequence[int]) -> str:
    """The run key of an import: the same tasks are the same run, so importing them again reloads it."""
    if project_id is not None:
        return f"cvat_import_project_{project_id}"
    return "cvat_import_tasks_" + "_".join(str(t) for t in sorted(task_ids))


def import_fields(labels: Sequence[ProjectLabel], label_types: Any, capabilities: ToolCapabilities) -> dict[str, str]:
    """Field name -> label type of an import: one field per label type the labels can draw (named by the
    type, as FiftyOne names them), or those ``label_types`` names (a list, or label type -> field name)."""
    wanted = {t: t for t in LABEL_TYPES} if label_types is None else _wanted_types(label_types)
    drawable = {t for t in LABEL_TYPES if any(capabilities.draws_for(label.object_kind, t) for label in labels)}
    return {field: label_type for label_type, field in wanted.items() if label_type in drawable}


def _wanted_types(label_types: Any) -> dict[str, str]:
    """``label_types`` given as a name, a list or a dict, as label type -> field name, checked."""
    if isinstance(label_types, str):
        label_types = [label_types]
    if isinstance(label_types, Mapping):
        wanted = dict(label_types)
    elif isinstance(label_types, Iterable):
        wanted = {t: t for t in label_types}
    else:
        raise ValueError(
            f"label_types must be None, a list of label types or a dict of label type -> field, got {label_types!r}"
        )
    unknown = sorted(set(wanted) - set(LABEL_TYPES))
    if unknown:
        raise ValueError(f"label_types: unknown label types {unknown} (known: {', '.join(LABEL_TYPES)})")
    bad = [f for f in wanted.values() if not isinstance(f, str) or not f]
    if bad or len(set(wanted.values())) != len(wanted):
        raise ValueError(f"label_types: each label type needs its own field name, got {wanted}")
    return wanted


def _task_id_list(task_ids: Sequence[int] | int | None) -> list[Any]:
    """``task_ids`` as a list: one id, several, or none."""
    if isinstance(task_ids, int):
        task_ids = [task_ids]
    return list(task_ids or ())


def _check_choice(
    project_name: str | None, project_id: int | None, task_ids: Sequence[Any], data_path: Any, download_media: bool
) -> None:
    """Refuse a choice of tasks or of media that names no single import, before anything is sent."""
    given = [
        name
        for name, value in (("project_name", project_name), ("project_id", project_id), ("task_ids", task_ids))
        if value not in (None, [])
    ]
    if len(given) != 1:
        raise ValueError(f"give exactly one of project_name, project_id and task_ids (got {given or 'none'})")
    if any(isinstance(t, bool) or not isinstance(t, int) or t < 1 for t in task_ids):
        raise ValueError(f"task_ids must be positive integers, got {task_ids!r}")
    if download_media and (not isinstance(data_path, (str, os.PathLike)) or os.fspath(data_path).endswith(".json")):
        raise ValueError("download_media=True needs data_path: the folder the media are downloaded into")


def in_folder(folder: str, name: str) -> str | None:
    """Where a frame named ``name`` by the server is in ``folder``: its relative path there (CVAT keeps the
    folders of an archive's files), else its base name; never a path leading out of the folder."""
    root = os.path.abspath(folder)
    for candidate in (name.replace("\\", "/"), os.path.basename(name.replace("\\", "/"))):
        if not candidate or os.path.isabs(candidate) or os.path.splitdrive(candidate)[0] or "\x00" in candidate:
            continue
        path = os.path.normpath(os.path.join(root, candidate))
        if os.path.commonpath([root, path]) == root and path != root and os.path.isfile(path):
            return path
    return None


def _located(data_path: Any, names: Sequence[str]) -> list[str | None]:
    """Where each file the server names is: through the dict of file name -> path, or in the folder."""
    if isinstance(data_path, Mapping):
        return [data_path.get(n) for n in names]
    folder = os.fspath(data_path)
    return [in_folder(folder, n) for n in names]


def _check_located(
    names: Mapping[int, Sequence[str]], located: Mapping[int, Sequence[str | None]], data_path: Any
) -> None:
    """Refuse, naming them, the frames whose file is not found."""
    missing = [
        f"task {t}: {name!r}"
        for t, frame_names in names.items()
        for name, path in zip(frame_names, located[t], strict=True)
        if path is None or not os.path.isfile(path)
    ]
    if missing:
        shown = "; ".join(missing[:5]) + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
        raise MediaNotFoundError(
            f"{len(missing)} media file(s) of the tasks are not in data_path {data_path!r}: "
            f"{shown}. Pass download_media=True to download them"
        )


class Importer:
    def __init__(
        self,
        store: LabelStore,
        registry: RunRegistry,
        backends: Mapping[str, AnnotationBackend],
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.store = store
        self.registry = registry
        self.backends = backends
        self.progress = progress

    def import_tasks(
        self,
        dataset: str,
        *,
        project_name: str | None = None,
        project_id: int | None = None,
        task_ids: Sequence[int] | int | None = None,
        data_path: str | os.PathLike[str] | Mapping[str, str] | None = None,
        download_media: bool = False,
        label_types: Any = None,
        insert_new: bool = True,
        occluded_attr: str | None = None,
        group_id_attr: str | None = None,
        backend: str = "cvat",
        **connection: Any,
    ) -> ImportResult:
        task_ids = _task_id_list(task_ids)
        _check_choice(project_name, project_id, task_ids, data_path, download_media)
        data_path = self._data_map(data_path)
        # what no field takes (another type than label_types names, an ellipse) is not kept
        unexpected = "keep" if label_types is None else "ignore"
        chosen = self._backend(backend)
        config = chosen.parse_config(dict(connection), MediaType.IMAGE)
        with chosen.connect(config) as session:
            selection = self._selection(session, project_name, project_id, task_ids)
            key = import_key(selection.project_id, selection.task_ids)
            run = self.registry.get_run(dataset, key) if self.registry.has_run(dataset, key) else None
            if run is not None and run.upload_completed:
                # the same tasks again: their run is loaded again, which adds nothing twice
                logger.info("tasks %s were imported before as run %r: loading it again", selection.task_ids, key)
                return self._load(dataset, key, unexpected, connection)
            media_type = self._media_type(selection)
            labels = list(session.import_labels(selection))
            schema = self._label_schema(
                labels, label_types, media_type, occluded_attr, group_id_attr, chosen.capabilities
            )
            media = self._media(session, selection.task_ids, data_path, download_media, chosen)
            sample_of = self._samples([p for paths in media.values() for p in paths], insert_new, media_type)
            if run is None:
                sample_ids = list(dict.fromkeys(sample_of[p] for paths in media.values() for p in paths))
                run = self._new_run(
                    dataset, key, backend, config, schema, labels, sample_ids, media_type, chosen.capabilities
                )
            # else: an import a crash interrupted, finished now (its new samples' ids follow from their files)
            request = UploadRequest(dataset, key, run.label_schema, run.media_field, media_type, config)
            self._adopt_tasks(
                session,
                run,
                request,
                selection.task_ids,
                {t: [sample_of[p] for p in media[t]] for t in selection.task_ids},
            )
            run.complete_upload()
            self.registry.save_run(run)
        return self._load(dataset, key, unexpected, connection)

    def _backend(self, name: str) -> AnnotationBackend:
        chosen = self.backends.get(name)
        if chosen is None:
            raise BackendConfigError([f"no backend named {name!r}"])
        return chosen

    @staticmethod
    def _selection(
        session: BackendSession, project_name: str | None, project_id: int | None, task_ids: Sequence[int]
    ) -> ImportSelection:
        """The tasks to import, as the server finds them; a project with no task is refused."""
        selection = session.find_tasks(project_name=project_name, project_id=project_id, task_ids=task_ids)
        if not selection.task_ids:
            raise ValueError(f"CVAT's project {selection.project_id} holds no task to import")
        return selection

    def _label_schema(
        self,
        labels: Sequence[ProjectLabel],
        label_types: Any,
        media_type: MediaType,
        occluded_attr: str | None,
        group_id_attr: str | None,
        capabilities: ToolCapabilities,
    ) -> LabelSchema:
        """The import run's fields, one per label type the labels can draw, with the labels' classes and
        attributes; refused here, before any file or sample is written."""
        fields = import_fields(labels, label_types, capabilities)
        if not fields:
            raise ValueError(f"the tasks' labels draw none of the label types asked for ({label_types!r})")
        if media_type is MediaType.VIDEO:  # a video's labels are on its frames
            fields = {f if f.startswith(FRAMES_PREFIX) else FRAMES_PREFIX + f: t for f, t in fields.items()}
        schema = build_label_schema(
            label_schema={f: {"type": t} for f, t in fields.items()},
            occluded_attr=occluded_attr,
            group_id_attr=group_id_attr,
            media_type=media_type.value,
            field_schema=self.store.field_schema(),
            classes_from_project=True,
        )
        adopt_project_labels(schema, labels, capabilities)
        return schema

    def _new_run(
        self,
        dataset: str,
        key: str,
        backend: str,
        config: BackendConfig,
        schema: LabelSchema,
        labels: Sequence[ProjectLabel],
        sample_ids: list[str],
        media_type: MediaType,
        capabilities: ToolCapabilities,
    ) -> AnnotationRun:
        """The import's run, requested and following the tasks' labels, added to the registry."""
        run = AnnotationRun.request(
            dataset=dataset,
            key=key,
            backend=backend,
            config={**config.recorded, "imported": True},
            label_schema=schema,
            sample_ids=sample_ids,
            media_type=media_type.value,
        )
        run.adopt_project_schema(adopt_project_labels(schema, labels, capabilities))
        self.registry.add_run(run)
        return run

    def _adopt_tasks(
        self,
        session: BackendSession,
        run: AnnotationRun,
        request: UploadRequest,
        task_ids: Sequence[int],
        samples: Mapping[int, list[str]],
    ) -> None:
        """Each task not yet in the run recorded as its own (TaskCreated), saved one by one."""
        for task_id in task_ids:
            if task_id in run.tasks:
                continue
            record = session.adopt_task(request, task_id, samples[task_id])
            ledger = run.record_task(record)
            self.registry.save_run(run, ledger)

    def _load(self, dataset: str, key: str, unexpected: str, connection: Mapping[str, Any]) -> ImportResult:
        return ImportResult(
            key,
            Loader(self.store, self.registry, self.backends, progress=self.progress).load(
                dataset, key, unexpected=unexpected, **connection
            ),
        )

    def _data_map(self, data_path: Any) -> Any:
        """data_path as FiftyOne takes it: a folder, a dict of CVAT file name -> local path, the path of a
        JSON file holding that dict, or None: the dataset's own files, by base name."""
        if data_path is None:
            return {
                os.path.basename(s.filepath): s.filepath
                for s in self.store.get_samples(self.store.sample_ids(), fields=())
            }
        if isinstance(data_path, (str, os.PathLike)) and os.fspath(data_path).endswith(".json"):
            try:
                with open(data_path, encoding="utf-8") as manifest:
                    data_map = json.load(manifest)
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"data_path {os.fspath(data_path)!r} is no JSON manifest of CVAT file name -> local path: {error}"
                ) from None
            if not isinstance(data_map, dict) or not all(isinstance(v, str) for v in data_map.values()):
                raise ValueError(
                    f"data_path {os.fspath(data_path)!r} must hold a JSON object of CVAT file name -> local path"
                )
            return data_map
        return data_path

    @staticmethod
    def _media(
        session: BackendSession, task_ids: Sequence[int], data_path: Any, download: bool, backend: AnnotationBackend
    ) -> dict[int, list[str]]:
        """Each task's frames as local files, in frame order; every missing one named before anything is written."""
        if download:
            return session.download_media(list(task_ids), os.fspath(data_path))
        names = {task_id: session.media_names(task_id) for task_id in task_ids}
        located = {t: _located(data_path, frame_names) for t, frame_names in names.items()}
        _check_located(names, located, data_path)
        paths = {t: [os.path.abspath(p) for p in located[t] if p] for t in task_ids}
        backend.check_media(sorted({p for ps in paths.values() for p in ps}))
        return paths

    @staticmethod
    def _media_type(selection: ImportSelection) -> MediaType:
        """Image tasks or video tasks: one run holds one kind (a video task holds one video)."""
        if not selection.videos:
            return MediaType.IMAGE
        images = [t for t in selection.task_ids if t not in selection.videos]
        if images:
            raise ValueError(
                f"tasks {list(selection.videos)} hold videos and tasks {images} images: import them "
                "separately (task_ids=...), one run each"
            )
        return MediaType.VIDEO

    def _samples(
        self, paths: Sequence[str], insert_new: bool, media_type: MediaType = MediaType.IMAGE
    ) -> dict[str, str]:
        """Each file's sample: the dataset's sample with that filepath, else a new one (``insert_new``)."""
        existing = {
            os.path.abspath(s.filepath): s.id for s in self.store.get_samples(self.store.sample_ids(), fields=())
        }
        new = [p for p in dict.fromkeys(paths) if p not in existing]
        if new and not insert_new:
            raise ValueError(
                f"{len(new)} media of the tasks have no sample in the dataset (e.g. {new[0]!r}): "
                "pass insert_new=True to add them"
            )
        # the sample's id follows from its file: a crash between adding it and recording the run is repaired
        # by the next import, which finds the sample by its file
        samples = [Sample(filepath=p, media_type=media_type, id=derived_id("import", p)) for p in new]
        if samples:
            self.store.add_samples(samples)
        return {**existing, **{s.filepath: s.id for s in samples}}
