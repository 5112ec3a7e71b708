"""The dataset users get from ``annoflow``: the application's `Dataset` plus what needs files and
the wiring: datasets made from a user's own media and label files, and exports to label formats
(FiftyOne's ``Dataset.from_images_dir``, ``from_videos_dir``, ``from_dir``, ``add_images``,
``add_dir`` and ``export``).

Media stay where they are: samples hold their absolute paths, sizes (and a video's frame count and
rate) read from the files. Every file is read and checked before the store is touched, and the
samples go in with one ``add_samples`` (one transaction): a bad file adds nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.export_formats import ALL_FIELDS, EXPORT_FORMATS, format_name
from annoflow.adapters.formats.errors import DataExportError, DataImportError
from annoflow.adapters.formats.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, find_media, image_samples, video_samples
from annoflow.adapters.import_formats import reader_for
from annoflow.application import dataset as application
from annoflow.application.ports.label_store import Batch
from annoflow.application.views import SampleCollection
from annoflow.domain.fields import FieldKind
from annoflow.domain.samples import Sample

PathLike = str | os.PathLike[str]


def _new(name: str, env: Mapping[str, str] | None) -> Dataset:
    from annoflow.adapters import wiring

    dataset = wiring.open_dataset(name, env=env)
    if len(dataset.store):
        raise DataImportError(
            [
                f"dataset {name!r} already holds {len(dataset.store)} samples: open it with "
                "af.load_dataset(name) and add to it (add_images, add_dir), or choose another name"
            ]
        )
    return dataset


class Dataset(application.Dataset):
    """A dataset on annoflow's stores, with its data in and out of files (see the module docstring)."""

    # --- new datasets from files ------------------------------------------------------------

    @classmethod
    def from_images_dir(
        cls,
        name: str,
        images_dir: PathLike,
        recursive: bool = True,
        tags: Iterable[str] = (),
        *,
        env: Mapping[str, str] | None = None,
    ) -> Dataset:
        """A new dataset of the images in ``images_dir``, sorted by path (FiftyOne's ``Dataset.from_images_dir``).

        Args:
            name: the new dataset's name.
            images_dir: the folder of images; they stay where they are.
            recursive: whether to take the images in its subfolders too.
            tags: tags every new sample gets.
            env: the environment to open the dataset's stores from, as ``annoflow.open_dataset`` reads
                it (default: ``os.environ``).

        Returns:
            The new dataset.

        Raises:
            DataImportError: no such folder, no image in it, an unreadable image (each named), or a
                dataset of that name that already holds samples; nothing was added.
        """
        dataset = _new(name, env)
        dataset.add_images_dir(images_dir, recursive=recursive, tags=tags)
        return dataset

    @classmethod
    def from_images(
        cls, name: str, paths: Iterable[PathLike], tags: Iterable[str] = (), *, env: Mapping[str, str] | None = None
    ) -> Dataset:
        """A new dataset of these image files (FiftyOne's ``Dataset.from_images``).

        Args:
            name: the new dataset's name.
            paths: the image files (or one path); they stay where they are.
            tags: tags every new sample gets.
            env: the environment to open the dataset's stores from, as ``annoflow.open_dataset`` reads
                it (default: ``os.environ``).

        Returns:
            The new dataset.

        Raises:
            DataImportError: no paths, every file that is missing, empty, cut short or not an image,
                or a dataset of that name that already holds samples; nothing was added.
        """
        dataset = _new(name, env)
        dataset.add_images(paths, tags=tags)
        return dataset

    @classmethod
    def from_videos_dir(
        cls,
        name: str,
        videos_dir: PathLike,
        recursive: bool = True,
        tags: Iterable[str] = (),
        *,
        env: Mapping[str, str] | None = None,
    ) -> Dataset:
        """A new dataset of the videos in ``videos_dir`` (FiftyOne's ``Dataset.from_videos_dir``); each
        sample's width, height, frame count and frame rate are read from its file.

        Args:
            name: the new dataset's name.
            videos_dir: the folder of videos; they stay where they are.
            recursive: whether to take the videos in its subfolders too.
            tags: tags every new sample gets.
            env: the environment to open the dataset's stores from, as ``annoflow.open_dataset`` reads
                it (default: ``os.environ``).

        Returns:
            The new dataset.

        Raises:
            DataImportError: no such folder, no video in it, an unreadable video (each named),
                or a dataset of that name that already holds samples; nothing was added.
        """
        dataset = _new(name, env)
        dataset.add_videos_dir(videos_dir, recursive=recursive, tags=tags)
        return dataset

    @classmethod
    def from_dir(
        cls,
        name: str,
        dataset_type: Any,
        dataset_dir: PathLike | None = None,
        *,
        data_path: PathLike | None = None,
        labels_path: PathLike | None = None,
        label_field: str = "ground_truth",
        tags: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Dataset:
        """A new dataset from a labelled dataset on disk (FiftyOne's ``Dataset.from_dir``); see `add_dir`
        for where each format's files are looked for.

        Args:
            name: the new dataset's name.
            dataset_type: ``"coco"``, ``"yolo"`` (``"yolov5"``, ``"yolov8"``) or ``"voc"``, or FiftyOne's
                ``COCODetectionDataset``, ``YOLOv5Dataset``, ``VOCDetectionDataset`` (the class or its name).
            dataset_dir: the dataset's folder.
            data_path: the folder of the media, instead of the format's place in ``dataset_dir``.
            labels_path: the labels file (COCO) or folder (VOC), instead of the format's place in ``dataset_dir``.
            label_field: the field the labels land in.
            tags: tags every new sample gets.
            env: the environment to open the dataset's stores from, as ``annoflow.open_dataset`` reads
                it (default: ``os.environ``).
            **options: the format's own options: ``splits`` (YOLO: the splits of data.yaml to read).

        Returns:
            The new dataset.

        Raises:
            DataImportError: a dataset_type annoflow does not read (before a dataset is made), every
                problem found in the files (each naming its file and entry), or a dataset of that name
                that already holds samples; nothing was added.
        """
        reader = reader_for(dataset_type)  # an unknown type is refused before a dataset is made
        dataset = _new(name, env)
        dataset._add(*reader(labels_path, data_path, dataset_dir, label_field, **options), tags=tags)
        return dataset

    # --- adding files -------------------------------------------------------------------------

    def _add(
        self, samples: list[Sample], info: Mapping[str, Any] | None = None, *, tags: Iterable[str] = ()
    ) -> list[str]:
        """Add the samples with the files' dataset info merged into the dataset's, in one transaction."""
        tags = tuple(tags)
        if tags:
            samples = [attrs.evolve(s, tags=tuple(dict.fromkeys(s.tags + tags))) for s in samples]
        self.write_batch(Batch(add=samples, info={**self.info, **info} if info else None))
        return [s.id for s in samples]

    def add_images(self, paths: Iterable[PathLike], tags: Iterable[str] = ()) -> list[str]:
        """Add a sample per image file (left where it is), in one transaction.

        Args:
            paths: the image files (or one path).
            tags: tags every new sample gets.

        Returns:
            The new samples' ids.

        Raises:
            DataImportError: every file that is missing, empty, cut short or not an image; nothing was added.
        """
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        if not paths:
            raise DataImportError(["add_images(): no paths given"])
        return self._add(image_samples(paths), tags=tags)

    def add_images_dir(self, images_dir: PathLike, recursive: bool = True, tags: Iterable[str] = ()) -> list[str]:
        """Add the images in ``images_dir``, sorted by path, in one transaction.

        Args:
            images_dir: the folder of images; they stay where they are.
            recursive: whether to take the images in its subfolders too.
            tags: tags every new sample gets.

        Returns:
            The new samples' ids.

        Raises:
            DataImportError: no such folder, no image in it, or an unreadable image (each named);
                nothing was added.
        """
        return self._add(image_samples(find_media(images_dir, IMAGE_EXTENSIONS, recursive)), tags=tags)

    def add_videos(self, paths: Iterable[PathLike], tags: Iterable[str] = ()) -> list[str]:
        """Add a sample per video file (left where it is), with its size, frame count and rate read from it.

        Args:
            paths: the video files (or one path).
            tags: tags every new sample gets.

        Returns:
            The new samples' ids.

        Raises:
            DataImportError: no paths, or every file that is missing or not a readable video; nothing was added.
        """
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        if not paths:
            raise DataImportError(["add_videos(): no paths given"])
        return self._add(video_samples(paths), tags=tags)

    def add_videos_dir(self, videos_dir: PathLike, recursive: bool = True, tags: Iterable[str] = ()) -> list[str]:
        """Add the videos in ``videos_dir``, sorted by path, in one transaction.

        Args:
            videos_dir: the folder of videos; they stay where they are.
            recursive: whether to take the videos in its subfolders too.
            tags: tags every new sample gets.

        Returns:
            The new samples' ids.

        Raises:
            DataImportError: no such folder, no video in it, or an unreadable video (each named);
                nothing was added.
        """
        return self._add(video_samples(find_media(videos_dir, VIDEO_EXTENSIONS, recursive, what="video")), tags=tags)

    def add_dir(
        self,
        dataset_dir: PathLike | None = None,
        dataset_type: Any = "coco",
        *,
        data_path: PathLike | None = None,
        labels_path: PathLike | None = None,
        label_field: str = "ground_truth",
        tags: Iterable[str] = (),
        **options: Any,
    ) -> list[str]:
        """Add the samples of a labelled dataset on disk (FiftyOne's ``add_dir``):

        - ``"coco"``: ``labels_path`` a COCO JSON file (default ``dataset_dir/labels.json``), images
          under ``data_path`` (default ``dataset_dir/data``, else the JSON file's folder);
        - ``"yolo"``: ``dataset_dir`` holds ``data.yaml`` (``splits=`` picks some of its splits);
        - ``"voc"``: XML files in ``labels_path`` (default ``dataset_dir/Annotations`` or ``labels``),
          images in ``data_path`` (default ``dataset_dir/JPEGImages`` or ``data``).

        Labels land in ``label_field``; COCO's categories and YOLO's class names go to the dataset's
        ``info`` (``categories``, ``classes``), which exports number classes by.

        Args:
            dataset_dir: the dataset's folder.
            dataset_type: ``"coco"``, ``"yolo"`` (``"yolov5"``, ``"yolov8"``) or ``"voc"``, or FiftyOne's
                ``COCODetectionDataset``, ``YOLOv5Dataset``, ``VOCDetectionDataset`` (the class or its name).
            data_path: the folder of the media, instead of the default above.
            labels_path: the labels file (COCO) or folder (VOC), instead of the default above.
            label_field: the field the labels land in.
            tags: tags every new sample gets.
            **options: the format's own options: ``splits`` (YOLO: the splits of data.yaml to read).

        Returns:
            The new samples' ids.

        Raises:
            DataImportError: every problem found, each naming its file and entry; nothing was added.
        """
        samples, info = reader_for(dataset_type)(labels_path, data_path, dataset_dir, label_field, **options)
        return self._add(samples, info, tags=tags)

    # --- export -------------------------------------------------------------------------------

    def export_collection(
        self,
        collection: SampleCollection,
        export_path: PathLike,
        dataset_type: Any,
        label_field: str | Sequence[str] | None,
        **options: Any,
    ) -> str:
        """Write ``collection`` in a label format; ``export()`` calls it and documents the formats.

        Args:
            collection: this dataset or a view of it.
            export_path: the file or folder to write.
            dataset_type: the format's name (``"coco"``, ``"yolo"``, ...) or FiftyOne's class of it.
            label_field: the label field or fields to write (None: the dataset's only detections or
                polylines field; every label field for the CVAT XML formats).
            **options: the format's own options.

        Returns:
            The path written.

        Raises:
            DataExportError: a format annoflow does not write, no single label field to default to,
                or labels the format cannot hold; nothing was written.
        """
        name = format_name(dataset_type)
        if label_field is None and name not in ALL_FIELDS:
            label_field = _only_label_field(self.store.field_schema())
        return EXPORT_FORMATS[name](collection, export_path, label_field, **options)


def _only_label_field(schema: Mapping[str, FieldKind]) -> str:
    fields = [p for p, k in schema.items() if k in (FieldKind.DETECTIONS, FieldKind.POLYLINES)]
    if len(fields) != 1:
        raise DataExportError(
            "give label_field: the dataset has "
            + (f"several detections or polylines fields {fields}" if fields else "no detections or polylines field")
        )
    return fields[0]
