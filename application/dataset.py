"""The dataset facade users hold: samples through the label store, runs through the registry.

Method names follow FiftyOne's (``list_annotation_runs``,
``get_annotation_info``, ...), so the workflows of FiftyOne's CVAT guide read the same.
"""

from __future__ import annotations

import datetime
import functools
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.application.annotate import PLAN_OPTIONS, SCHEMA_OPTIONS, AnnotateRequest, Annotator, pick_backend
from annoflow.application.editing import EditableSample, field_kind, frame_path, new_copies, refuse_if_used
from annoflow.application.evaluate import EVALUATIONS, EvaluationError, delete_evaluation
from annoflow.application.import_tasks import Importer
from annoflow.application.label_stages import Stage
from annoflow.application.load import Loader, LoadReport
from annoflow.application.ports.annotation_backend import MAX_OBJECTS_PER_FRAME, AnnotationBackend
from annoflow.application.ports.label_store import Batch, FieldSchemaError, LabelStore
from annoflow.application.progress import ProgressFactory, ProgressOption, given_progress
from annoflow.application.results import AnnotationResults
from annoflow.application.runs.registry import RunRegistry
from annoflow.application.secrets import seal_connection, seal_credentials
from annoflow.application.views import RUN_MANAGEMENT, DatasetView, SampleCollection
from annoflow.domain.annotation_run import AnnotationRun, RunStatus
from annoflow.domain.fields import FieldPath
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.samples import RESERVED_FIELD_NAMES, MediaType, Sample


@attrs.frozen
class AnnotationInfo:
    """What get_annotation_info() reports about a run.

    Attributes:
        key: the run's key.
        timestamp: when annotate() recorded the run.
        backend: the annotation backend's name.
        config: the options recorded at annotate() (task plan and backend options; never a credential).
        label_schema: the run's resolved label schema (an existing project's, once adopted).
        media_field: the sample field the media were read from.
        sample_count: how many samples the run sent.
        task_ids: the backend's ids of the run's tasks.
        status: requested, uploaded, loaded or cleaned up.
        previous_keys: the keys the run had before a rename.
    """

    key: str
    timestamp: datetime.datetime
    backend: str
    config: Mapping[str, Any]
    label_schema: LabelSchema
    media_field: str
    sample_count: int
    task_ids: tuple[int, ...]
    status: str
    previous_keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, run: AnnotationRun) -> AnnotationInfo:
        """The info of a run as the registry holds it.

        Args:
            run: the run's record (``registry.get_run(dataset, key)``).

        Returns:
            The run's info.
        """
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
        return "\n".join([*lines, ")"])


class Dataset(SampleCollection):
    """A named collection of samples with its annotation runs.

    ``progress`` turns a call's ``progress=`` into a reporter; the default shows nothing but a
    ``Progress`` given as such (``annoflow.open_dataset`` wires tqdm bars).
    """

    stages: tuple[Stage, ...] = ()

    def __init__(
        self,
        store: LabelStore,
        registry: RunRegistry,
        backends: Mapping[str, AnnotationBackend] | None = None,
        *,
        default_backend: str = "cvat",
        open_url: Callable[[str], Any] | None = None,
        progress: ProgressFactory = given_progress,
        exporters: Mapping[str, Callable[..., Any]] | None = None,
        open_store: Callable[[str], LabelStore] | None = None,
    ) -> None:
        self.store = store
        self._open_store = open_store  # another dataset's store by name, for clone()
        self._info: dict[str, Any] | None = None  # read on first use
        self.registry = registry
        self.backends = dict(backends or {})
        self.default_backend = default_backend
        self._open_url = open_url
        self._progress = progress  # a call's progress= -> the reporter (the wiring's: tqdm bars)
        self.exporters = dict(exporters or {})  # file format name -> writer (the wiring's: adapters/export_formats.py)

    def _dataset_of(self) -> Dataset:
        return self

    def _open(self, url: str) -> None:
        if self._open_url is None:
            raise RuntimeError("launch_editor=True needs a browser opener; none is configured")
        self._open_url(url)

    def _backend(self, name: str | None) -> AnnotationBackend:
        return pick_backend(self.backends, name or self.default_backend)

    def annotate_collection(
        self,
        collection: SampleCollection,
        anno_key: str,
        backend: str | None,
        options: Mapping[str, Any],
        progress: ProgressOption = None,
    ) -> AnnotationResults:
        """annotate() of a dataset or view; ``SampleCollection.annotate`` calls it and documents the options.

        Args:
            collection: this dataset or a view of it: the samples and labels to send.
            anno_key: the new run's key.
            backend: the annotation backend's name (None: the dataset's default, ``"cvat"``).
            options: annotate()'s other arguments by name (schema, task plan, connection, backend options).
            progress: whether to show progress bars on stderr (True, False, None: on a terminal),
                or a ``Progress`` to report to.

        Returns:
            The run's results.

        Raises:
            ValueError: no backend of that name; the others as ``SampleCollection.annotate`` lists them.
        """
        options = seal_credentials(dict(options))  # first: no frame holds a password in the clear
        backend_name = backend or self.default_backend
        self._backend(backend_name)
        annotator = Annotator(self.store, self.registry, self.backends, self._open, self._progress(progress))
        run = annotator.annotate(collection, AnnotateRequest.of(anno_key, backend_name, **options))
        connection = {k: v for k, v in options.items() if k not in SCHEMA_OPTIONS + PLAN_OPTIONS}
        return self._results(run, connection)

    def load_annotations(
        self,
        anno_key: str,
        dest_field: str | Mapping[str, str] | None = None,
        unexpected: str = "prompt",
        cleanup: bool = False,
        progress: ProgressOption = None,
        *,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
        job_stage: str | None = None,
        job_state: str | None = None,
        recheck: bool = False,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> LoadReport:
        """Merge the run's annotations back into the dataset, exactly once, as FiftyOne's
        ``load_annotations()`` does (FiftyOne's CVAT guide, "Loading annotations").

        Task by task: a task whose annotations did not change since the last load is skipped
        (its revision stamp on the server tells, before any download; see ``recheck``);
        otherwise the merge's changes and refusals are recorded, then applied to the label store.
        A load merges every task of the run, whatever view it is called on. The load's figures
        are in the run's audit trail (``annoflow audit``). Connection settings not given are the
        ones recorded at annotate() (the URL), then the environment and config files.

        Args:
            anno_key: the run's key.
            dest_field: where to load a field's labels instead of the field itself: a field name
                (a run of one field) or field -> destination.
            unexpected: what to do with labels annotators made outside the run's schema:
                ``"prompt"`` (ask on a terminal for a field per label type; refused without
                one), ``"ignore"``, ``"keep"`` (in a field named after their type) or
                ``"return"`` (returned, not stored).
            cleanup: whether to delete the run's CVAT tasks (and the projects it made) after
                loading.
            progress: whether to show a progress bar over the run's tasks (each downloaded,
                then merged) on stderr: True, False, or None (when stderr is a terminal); a
                ``Progress`` reports to it instead.
            max_objects_per_frame: annoflow's own bound on what one frame's answer may cost
                (default 10,000): objects past it on a frame are not read but refused (rule
                ``max_objects_per_frame``), as an object the server sends malformed is (rule
                ``malformed``); both are recorded as the run's ``Rejected`` events, and the labels
                those objects stand for are kept as they are.
            job_stage: merge only the jobs in this stage (``"annotation"``, ``"validation"`` or
                ``"acceptance"``); a later load merges the rest, exactly once. annoflow's own: FiftyOne
                merges every job.
            job_state: merge only the jobs in this state (``"new"``, ``"in progress"``,
                ``"rejected"`` or ``"completed"``), likewise.
            recheck: download every task, even one whose revision stamp on the server (CVAT: its
                ``updated_date``, which every change of its annotations sets) is the one of its last
                merged download; by default such a task is skipped without a download. For a
                server whose answers changed without a new stamp (a proxy that rewrote them).
            url: CVAT's address (default: the one recorded at annotate()).
            username: the CVAT user (else the environment, a config file, or a terminal prompt).
            password: the user's password (never recorded, logged or shown).
            email: the user's email, instead of the username.
            headers: extra HTTP headers for every request.
            **kwargs: options of another annotation backend, passed to it as they are. The CVAT
                backend also takes the request bounds and ``pause_gc`` (default True; False keeps
                Python's cyclic collector running while the annotations are read, as annotate()
                says).

        Returns:
            A `LoadReport`: as a dict, what FiftyOne returns with ``unexpected="return"`` (label
            type -> the unexpected labels; empty otherwise, where FiftyOne returns None); its
            attributes say what the load did (``added``, ``edited``, ``deleted``, ``rejected``,
            ``unexpected``, ``unchanged_tasks``, ``missing_tasks``, ``rejections``).

        Raises:
            RunError: no such run, a run already cleaned up, or unexpected labels with
                ``unexpected="prompt"`` and no terminal to ask.
            BackendConfigError: backend options that cannot work, or no credentials.
            CVATError: CVAT refused a request or could not be reached.
        """
        url, password, headers = seal_connection(url, password, headers)  # first: no frame holds one in the clear
        kwargs = seal_credentials(kwargs)
        connection = {**_given(url=url, username=username, password=password, email=email, headers=headers), **kwargs}
        result = Loader(self.store, self.registry, self.backends, progress=self._progress(progress)).load(
            self.name,
            anno_key,
            unexpected=unexpected,
            cleanup=cleanup,
            dest_field=dest_field,
            max_objects_per_frame=max_objects_per_frame,
            job_stage=job_stage,
            job_state=job_state,
            recheck=recheck,
            **connection,
        )
        self.last_load = result
        return LoadReport(result, returned=unexpected == "return")

    def import_annotations(
        self,
        project_name: str | None = None,
        project_id: int | None = None,
        task_ids: Sequence[int] | int | None = None,
        data_path: str | os.PathLike[str] | Mapping[str, str] | None = None,
        label_types: Sequence[str] | Mapping[str, str] | None = None,
        insert_new: bool = True,
        download_media: bool = False,
        occluded_attr: str | None = None,
        group_id_attr: str | None = None,
        backend: str = "cvat",
        progress: ProgressOption = None,
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        """Import tasks made outside annoflow (a project's, or given by id) into this dataset
        (FiftyOne's CVAT guide, "Importing existing tasks"), recorded as an annotation run.
        Image tasks or video tasks (not both in one import): a video task's media is its video,
        its labels go to frame fields (``frames.detections``, ...), its tracks frame by frame.

        Each CVAT object becomes a label in a field named by its type (``detections``,
        ``polylines``, ``keypoints``, ``classifications``) or as ``label_types`` says; each frame's
        media is the file of that name in ``data_path`` (a folder, or CVAT file name -> local path),
        or, with ``download_media``, the frame's original image downloaded into ``data_path``
        under a name that cannot leave it. A frame whose file is not in the dataset becomes a new
        sample (``insert_new``). The run (key ``cvat_import_project_<id>`` or
        ``cvat_import_tasks_<ids>``) shows in ``annoflow audit``; importing the same tasks again
        loads that run again, which adds nothing twice.

        Args:
            project_name: the CVAT project whose tasks to import.
            project_id: the CVAT project's id, instead of its name.
            task_ids: the CVAT tasks to import, instead of a project.
            data_path: the folder holding the media (or to download them into), a dict of CVAT
                file name -> local path, the path of a JSON file holding that dict, or None: the
                dataset's own files, matched by base name.
            label_types: None (every type, in fields named by type), a list of label types to
                import, or label type -> field name.
            insert_new: add a sample for each file the dataset does not hold (else such files are refused).
            download_media: download the frames' original images into ``data_path`` (files already
                there are kept).
            occluded_attr: a label attribute in which to store CVAT's occluded flag of each spatial label.
            group_id_attr: a label attribute in which to store CVAT's group id of each label.
            backend: the annotation backend (``"cvat"``).
            progress: whether to show progress bars on stderr (True, False, None: on a terminal).
            url: CVAT's address (else the environment or a config file).
            username: the CVAT user.
            password: the user's password (never recorded, logged or shown).
            email: the user's email, instead of the username.
            headers: extra HTTP headers for every request.
            **kwargs: options of another annotation backend, passed to it as they are.

        Returns:
            The import run's key.

        Raises:
            ValueError: not exactly one of project_name, project_id and task_ids; no data_path; a
                label type annoflow does not know; files with no sample and ``insert_new=False``.
            MediaNotFoundError: frames whose file is not in ``data_path``, all named, before anything is written.
            ProjectNotFoundError: no such project; TaskGoneError: no such task.
            UnsafeMediaPathError: a download that would write through a symlink in ``data_path``.
            CVATError: CVAT refused a request or could not be reached.
        """
        url, password, headers = seal_connection(url, password, headers)  # first: no frame holds one in the clear
        kwargs = seal_credentials(kwargs)
        connection = {**_given(url=url, username=username, password=password, email=email, headers=headers), **kwargs}
        importer = Importer(self.store, self.registry, self.backends, progress=self._progress(progress))
        result = importer.import_tasks(
            self.name,
            project_name=project_name,
            project_id=project_id,
            task_ids=task_ids,
            data_path=data_path,
            download_media=download_media,
            label_types=label_types,
            insert_new=insert_new,
            occluded_attr=occluded_attr,
            group_id_attr=group_id_attr,
            backend=backend,
            **connection,
        )
        self.last_load = result.load
        return result.key

    def load_annotation_results(
        self,
        anno_key: str,
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AnnotationResults:
        """The run's results object, as annotate() returned it (FiftyOne's ``load_annotation_results``).

        Nothing is sent until the results are asked for status, cleanup or the API; connection
        settings not given are the ones recorded at annotate(), then the environment.

        Args:
            anno_key: the run's key.
            url: CVAT's address (default: the one recorded at annotate()).
            username: the CVAT user.
            password: the user's password (never recorded, logged or shown).
            email: the user's email, instead of the username.
            headers: extra HTTP headers for every request.
            **kwargs: options of another annotation backend, passed to it as they are.

        Returns:
            The run's results.

        Raises:
            RunError: the dataset has no run with this key.
        """
        url, password, headers = seal_connection(url, password, headers)  # first: no frame holds one in the clear
        kwargs = seal_credentials(kwargs)
        connection = {**_given(url=url, username=username, password=password, email=email, headers=headers), **kwargs}
        return self._results(self.registry.get_run(self.name, anno_key), connection)

    def _results(self, run: AnnotationRun, connection: Mapping[str, Any]) -> AnnotationResults:
        backend = self._backend(run.backend)
        media_type = MediaType(run.media_type)  # from the run's record: its samples may be gone from the dataset
        recorded = {k: v for k, v in run.config.items() if k not in PLAN_OPTIONS}
        drop = ("media_field", "launch_editor", "resume")
        options = {**recorded, **{k: v for k, v in connection.items() if k not in drop}}
        return AnnotationResults(
            self.registry, run, backend, lambda: backend.parse_config(options, media_type), recorded, media_type
        )

    # --- evaluations -----------------------------------------------------------------------

    def list_evaluations(self) -> list[str]:
        """The keys of the dataset's evaluations (``evaluate_detections(eval_key=...)``), sorted.

        Returns:
            The evaluation keys.
        """
        return sorted(self.info.get(EVALUATIONS) or {})

    def get_evaluation_info(self, eval_key: str) -> dict[str, Any]:
        """What the evaluation was run on and how: fields, method, iou, classwise, when.

        Args:
            eval_key: the evaluation's key.

        Returns:
            A dict with ``key``, ``type``, ``method``, ``pred_field``, ``gt_field``, ``iou``,
            ``classwise`` and ``timestamp`` (ISO 8601, UTC).

        Raises:
            EvaluationError: no evaluation with this key.
        """
        evaluations = self.info.get(EVALUATIONS) or {}
        if eval_key not in evaluations:
            raise EvaluationError(f"the dataset has no evaluation {eval_key!r}: it has {sorted(evaluations)}")
        return {"key": eval_key, **evaluations[eval_key]}

    def delete_evaluation(self, eval_key: str) -> None:
        """Remove an evaluation's label attributes, its sample counts and its record, in one batch.

        Args:
            eval_key: the evaluation's key.

        Raises:
            EvaluationError: no evaluation with this key.
        """
        delete_evaluation(self, eval_key)

    def delete_evaluations(self) -> None:
        """Delete every evaluation (see ``delete_evaluation``), one after the other."""
        for key in self.list_evaluations():
            self.delete_evaluation(key)

    # --- samples and fields ---------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        """The dataset's info (FiftyOne's ``dataset.info``): JSON values by name, such as the
        ``categories`` of a COCO import or the ``classes`` of a YOLO one, which exports number classes
        by. Change it in place and ``save()``, or assign a new dict (written at once)."""
        if self._info is None:
            self._info = self.store.read_info()
        return self._info

    @info.setter
    def info(self, value: Mapping[str, Any]) -> None:
        self.store.write_info(value)
        self._info = dict(value)

    def save(self) -> None:
        """Write the dataset's ``info`` as changed in place.

        Samples are not saved here: each is saved by its own ``sample.save()``.
        """
        if self._info is not None:
            self.store.write_info(self._info)

    def write_batch(self, batch: Batch) -> None:
        """Make a batch's writes in one transaction through the store: all of them or none.

        Args:
            batch: the samples to add, label changes to apply, fields to delete and the info to
                write (``Batch(add=..., changes=..., delete_fields=..., info=...)``); its info, when
                not None, becomes the dataset's.

        Raises:
            DuplicateSampleError: a sample id the store holds already; nothing was written.
            FieldSchemaError: a change or sample that does not fit its field; nothing was written.
            UnknownSampleError: a change to a sample the dataset does not hold; nothing was written.
        """
        self.store.write_batch(batch)
        if batch.info is not None:
            self._info = dict(batch.info)

    def add_samples(self, samples: Iterable[Sample]) -> list[str]:
        """Add samples in one batch; their fields are declared from their values' kinds.

        Args:
            samples: frozen `Sample`s, or the editable samples a collection hands out.

        Returns:
            The samples' ids, in the order given.

        Raises:
            DuplicateSampleError: a sample id the store holds already; nothing was added.
            FieldSchemaError: a value that does not fit its field's kind; nothing was added.
        """
        samples = [s.sample if isinstance(s, EditableSample) else s for s in samples]
        self.store.add_samples(samples)
        return [s.id for s in samples]

    def add_sample(self, sample: Sample) -> str:
        """Add one sample (see ``add_samples``).

        Args:
            sample: a frozen `Sample`, or an editable sample a collection handed out.

        Returns:
            The sample's id.

        Raises:
            DuplicateSampleError: the store holds a sample with this id already.
            FieldSchemaError: a value that does not fit its field's kind.
        """
        return self.add_samples([sample])[0]

    def delete_samples(self, samples: Any) -> None:
        """Delete samples and their labels in one batch. Annotation runs keep their records.

        Args:
            samples: a sample id, a sample, an iterable of ids or samples, or a view of this
                dataset (its samples); ids the dataset does not hold are ignored.
        """
        if isinstance(samples, SampleCollection):
            ids = samples.sample_ids
        else:
            items = [samples] if isinstance(samples, (str, Sample, EditableSample)) else list(samples)
            ids = [item if isinstance(item, str) else item.id for item in items]
        self.store.delete_samples(ids)

    def add_sample_field(self, field_name: str, ftype: Any) -> None:
        """Declare a sample field, as FiftyOne's ``add_sample_field``; declaring it again with the same type does nothing.

        Args:
            field_name: the field's name (not a reserved name such as ``id`` or ``filepath``, nor
                ``frames.<name>``: see ``add_frame_field``).
            ftype: a `FieldKind` (or its name, such as ``"detections"``), ``int``, ``float``,
                ``str``, ``bool`` or a label class (``Detections``, ...).

        Raises:
            FieldSchemaError: a reserved or frame field name, an ftype that is no field type, or a
                field the dataset holds as another type.
        """
        if field_name in RESERVED_FIELD_NAMES or FieldPath.parse(field_name).on_frames:
            raise FieldSchemaError(f"{field_name!r} is not a sample field name")
        self.store.declare_field(field_name, field_kind(ftype))

    def add_frame_field(self, field_name: str, ftype: Any) -> None:
        """Declare a frame field of the dataset's videos; declaring it again with the same type does nothing.

        Args:
            field_name: the field's name, ``frames.`` optional.
            ftype: as ``add_sample_field`` takes it.

        Raises:
            FieldSchemaError: an ftype that is no field type, or a field the dataset holds as another type.
        """
        self.store.declare_field(frame_path(field_name), field_kind(ftype))

    def delete_sample_fields(self, field_names: str | Iterable[str]) -> None:
        """Delete sample fields from every sample and from the schema, in one batch.

        Args:
            field_names: a field name or several (sample fields; ``delete_frame_fields`` deletes frame fields).

        Raises:
            FieldSchemaError: a field the dataset does not have, a frame field, or one an annotation
                run uses (the message names the run); nothing was deleted.
        """
        names = [field_names] if isinstance(field_names, str) else list(field_names)
        bad = [n for n in names if FieldPath.parse(n).on_frames]
        if bad:
            raise FieldSchemaError(f"{bad[0]!r} is a frame field: use delete_frame_field()")
        refuse_if_used(self, names, "delete")
        self.store.delete_fields(names)

    def delete_sample_field(self, field_name: str) -> None:
        """Delete one sample field (see ``delete_sample_fields``).

        Args:
            field_name: the field's name.

        Raises:
            FieldSchemaError: a field the dataset does not have, a frame field, or one an annotation
                run uses; nothing was deleted.
        """
        self.delete_sample_fields([field_name])

    def delete_frame_fields(self, field_names: str | Iterable[str]) -> None:
        """Delete frame fields from every frame and from the schema, in one batch.

        Args:
            field_names: a frame field's name or several, ``frames.`` optional.

        Raises:
            FieldSchemaError: a field the dataset does not have, or one an annotation run uses (the
                message names the run); nothing was deleted.
        """
        names = [frame_path(n) for n in ([field_names] if isinstance(field_names, str) else field_names)]
        refuse_if_used(self, names, "delete")
        self.store.delete_fields(names)

    def delete_frame_field(self, field_name: str) -> None:
        """Delete one frame field (see ``delete_frame_fields``).

        Args:
            field_name: the field's name, ``frames.`` optional.

        Raises:
            FieldSchemaError: a field the dataset does not have, or one an annotation run uses;
                nothing was deleted.
        """
        self.delete_frame_fields([field_name])

    def rename_sample_field(self, field_name: str, new_field_name: str) -> None:
        """Rename a sample field on every sample and in the schema, in one batch.

        Args:
            field_name: the field's name (a sample field; ``rename_frame_field`` renames frame fields).
            new_field_name: its new name, one the dataset does not hold.

        Raises:
            FieldSchemaError: a field the dataset does not have, a frame field, a new name taken,
                reserved or of a frame field, or a field an annotation run uses (the message names
                the run); nothing changed.
        """
        if FieldPath.parse(field_name).on_frames:
            raise FieldSchemaError(f"{field_name!r} is a frame field: use rename_frame_field()")
        refuse_if_used(self, [field_name], "rename")
        self.store.rename_field(field_name, new_field_name)

    def rename_frame_field(self, field_name: str, new_field_name: str) -> None:
        """Rename a frame field on every frame and in the schema, in one batch.

        Args:
            field_name: the field's name, ``frames.`` optional.
            new_field_name: its new name, ``frames.`` optional, one the dataset does not hold.

        Raises:
            FieldSchemaError: a field the dataset does not have, a new name taken, or a field an
                annotation run uses (the message names the run); nothing changed.
        """
        refuse_if_used(self, [frame_path(field_name)], "rename")
        self.store.rename_field(frame_path(field_name), frame_path(new_field_name))

    def clone_collection(self, collection: SampleCollection, name: str | None) -> Dataset:
        """``clone()`` of this dataset or a view of it; ``SampleCollection.clone`` calls it.

        Args:
            collection: this dataset or a view of it: the samples to copy, as it shows them.
            name: the new dataset's name (None: this dataset's name with a free ``_<n>`` suffix).

        Returns:
            The new dataset.

        Raises:
            ValueError: a name whose dataset already holds samples or fields, or no free name.
            RuntimeError: a dataset built by hand on a store, which cannot open another dataset's store.
        """
        if self._open_store is None:
            raise RuntimeError(
                "clone() needs to open another dataset's store; open datasets with annoflow.load_dataset()"
            )
        name = name if name is not None else self._free_name(self._open_store)
        target = self._open_store(name)
        if len(target) or target.field_schema():
            target.close()
            raise ValueError(f"dataset {name!r} already exists: clone() makes a new dataset")
        if self.info:
            target.write_info(self.info)
        if collection is self:
            for path, kind in self.store.field_schema().items():
                target.declare_field(path, kind)
        target.add_samples(new_copies(collection.iter_samples()))
        return type(self)(
            target,
            self.registry,
            self.backends,
            default_backend=self.default_backend,
            open_url=self._open_url,
            progress=self._progress,
            open_store=self._open_store,
        )

    def _free_name(self, open_store: Callable[[str], LabelStore]) -> str:
        for number in range(1, 10_000):
            name = f"{self.name}_{number}"
            store = open_store(name)
            try:
                if not len(store) and not store.field_schema():
                    return name
            finally:
                store.close()
        raise ValueError(f"no free name {self.name}_<n> for a clone: pass clone(name)")

    def export_collection(
        self,
        collection: SampleCollection,
        export_path: Any,
        dataset_type: Any,
        label_field: str | Sequence[str] | None,
        **options: Any,
    ) -> str:
        """Write ``collection`` in a label format; ``SampleCollection.export`` calls it and documents the options.

        The file formats are adapters', so a dataset built by hand on a store has none
        (``annoflow.load_dataset`` gives one that has).

        Args:
            collection: this dataset or a view of it.
            export_path: the file or folder to write.
            dataset_type: the format's name (``"coco"``, ``"yolo"``, ...).
            label_field: the label field or fields to write (None: the format's default).
            **options: the format's own options.

        Returns:
            The path written.

        Raises:
            RuntimeError: always, here; ``annoflow.Dataset`` writes the files.
        """
        raise RuntimeError("exporting needs annoflow's file formats: open the dataset with annoflow.load_dataset()")

    @property
    def name(self) -> str:
        return self.store.name

    def export_cvat_xml(
        self,
        path: str | os.PathLike[str],
        label_fields: Sequence[str] | str | None = None,
        *,
        occluded_attr: str | None = None,
        group_id_attr: str | None = None,
        z_order_attr: str | None = None,
        rel_dir: str | os.PathLike[str] | None = None,
    ) -> Any:
        """Write the dataset's labels as CVAT XML, the format CVAT's UI exports: "CVAT for images 1.1"
        for images, "CVAT for video 1.1" for videos (one file per video when ``path`` is for several).

        Args:
            path: the XML file to write (for several videos, the folder to write one file each into).
            label_fields: the label fields to write (default: every label field; a video's frame fields).
            occluded_attr: the label attribute written as CVAT's ``occluded`` flag.
            group_id_attr: the label attribute written as CVAT's ``group_id``.
            z_order_attr: the label attribute written as CVAT's ``z_order`` of an image's shapes.
            rel_dir: the folder image names are relative to (default: the folder all the files share).

        Returns:
            What was written: path, format, samples, objects.
        """
        media = {s.media_type for s in self.store.get_samples(self.store.sample_ids()[:1], fields=())}
        name = "cvat-video" if MediaType.VIDEO in media else "cvat-images"
        if name not in self.exporters:
            raise RuntimeError(f"no {name} exporter is configured (annoflow.open_dataset configures them)")
        return self.exporters[name](
            self,
            path,
            label_fields=label_fields,
            occluded_attr=occluded_attr,
            group_id_attr=group_id_attr,
            z_order_attr=z_order_attr,
            **({} if rel_dir is None else {"rel_dir": rel_dir}),
        )

    def _with(self, stage: Stage) -> DatasetView:
        return DatasetView(self, (stage,))

    def view(self) -> DatasetView:
        """A view of the whole dataset, with no stage (FiftyOne's ``dataset.view()``).

        Returns:
            The view.
        """
        return DatasetView(self)

    # --- annotation runs --------------------------------------------------------

    def list_annotation_runs(self) -> list[str]:
        """The keys of the dataset's annotation runs, sorted.

        Returns:
            The run keys.
        """
        return self.registry.list_runs(self.name)

    def has_annotation_run(self, anno_key: str) -> bool:
        """Whether the dataset has an annotation run with this key.

        Args:
            anno_key: a run key.

        Returns:
            True when the run exists (and is not deleted).
        """
        return self.registry.has_run(self.name, anno_key)

    def get_annotation_info(self, anno_key: str) -> AnnotationInfo:
        """What the run was asked for and where it stands.

        Args:
            anno_key: the run's key.

        Returns:
            The run's key, creation time, backend, status, samples, tasks, recorded options
            (no credentials) and label schema.

        Raises:
            RunError: the dataset has no run with this key.
        """
        return AnnotationInfo.of(self.registry.get_run(self.name, anno_key))

    def rename_annotation_run(self, anno_key: str, new_anno_key: str) -> None:
        """Give a run a new key; the old one is kept in its history.

        Args:
            anno_key: the run's key.
            new_anno_key: the new key, free within the dataset.

        Raises:
            RunError: no run with ``anno_key``, ``new_anno_key`` taken or not a valid key.
        """
        self.registry.rename_run(self.name, anno_key, new_anno_key)

    def delete_annotation_run(self, anno_key: str, cleanup: bool = False, **connection: Any) -> None:
        """Delete the run's record: its labels stay as they are, and its events stay for the audit
        trail. The CVAT tasks stay too, as FiftyOne leaves them, unless ``cleanup=True``; an upload
        that never finished leaves tasks nobody can use, so deleting it without a cleanup warns.

        Args:
            anno_key: the run's key.
            cleanup: whether to delete the run's CVAT tasks (and the projects it made) first, as
                the results' ``cleanup()`` does.
            **connection: connection settings for that cleanup (url, credentials), as
                ``load_annotation_results`` takes them.

        Raises:
            RunError: the dataset has no run with this key.
        """
        run = self.registry.get_run(self.name, anno_key)
        if cleanup:
            self.load_annotation_results(anno_key, **connection).cleanup()
        elif run.status is RunStatus.REQUESTED and (run.tasks or run.started_tasks or run.created_projects):
            left = sorted({*run.tasks, *run.started_tasks})
            warnings.warn(
                f"run {anno_key!r} never finished its upload and leaves tasks {left}"
                + (f" and projects {list(run.created_projects)}" if run.created_projects else "")
                + f" on the server: delete_annotation_run({anno_key!r}, cleanup=True) removes them too",
                UserWarning,
                stacklevel=2,
            )
        self.registry.delete_run(self.name, anno_key)

    def delete_annotation_runs(self) -> None:
        """Delete every run's record (see ``delete_annotation_run``); the CVAT tasks stay."""
        for key in self.list_annotation_runs():
            self.delete_annotation_run(key)

    def load_annotation_view(self, anno_key: str) -> DatasetView:
        """The samples the run sent for annotation, in the order it sent them.

        Args:
            anno_key: the run's key.

        Returns:
            A view of those samples.

        Raises:
            RunError: the dataset has no run with this key.
        """
        run = self.registry.get_run(self.name, anno_key)
        return self.select(run.sample_ids, ordered=True)


def _given(**options: Any) -> dict[str, Any]:
    """The options given (not None): one not given keeps the value recorded at annotate()."""
    return {name: value for name, value in options.items() if value is not None}


# A view's run management is its dataset's: the same signature and docstring.
for _name in RUN_MANAGEMENT:
    functools.update_wrapper(getattr(DatasetView, _name), getattr(Dataset, _name), updated=())
