"""The ``annoflow`` command line, on the embedded defaults (see adapters/wiring.py).

Each command prints what it was asked for on stdout; warnings (an HTTP retry) go to stderr,
more with ``-v``. An error ends the command with one line on stderr and exit status 2, not a
traceback (``-v`` shows the traceback too).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from annoflow.adapters import wiring
from annoflow.adapters.export_formats import ALL_FIELDS, EXPORT_FORMATS
from annoflow.application.audit import change_lines, dataset_history, run_history
from annoflow.application.ports.label_store import DuplicateSampleError

if TYPE_CHECKING:
    from annoflow.adapters.datasets import Dataset

EXIT_ERROR = 2

EPILOG = """\
examples:
  annoflow demo                       the whole workflow against the built-in CVAT simulator
  annoflow quickstart --samples 50    build a 50-image dataset named 'quickstart'
  annoflow datasets                   the datasets in the data dir
  annoflow datasets create mine --images DIR --coco labels.json
                                      a dataset of your own images and labels
  annoflow export mine --format yolo out/
                                      its labels as a YOLO dataset (or --format coco FILE)
  annoflow runs list                  the annotation runs of 'quickstart'
  annoflow status my_run              tasks and jobs of a run, as CVAT reports them now
  annoflow audit my_run               a run's history, from its events
  python -m annoflow --help           the same command, from any Python with annoflow

The data dir is the user's data dir, or ANNOFLOW_DATA_DIR; run records may go to PostgreSQL
through eventsourcing's variables (PERSISTENCE_MODULE=eventsourcing.postgres, POSTGRES_*), and
datasets with ANNOFLOW_LABEL_STORE=postgres (POSTGRES_* or ANNOFLOW_POSTGRES_DSN).
"""


def _version() -> str:
    # From the installed metadata, as annoflow.__version__ (the face, which this layer may not import).
    try:
        return metadata.version("annoflow")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(isinstance(row[i], int) for row in rows) and bool(rows) for i in range(len(header))]
    return [
        "  ".join(
            cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in cells
    ]


def _when(moment: datetime.datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


# --- commands -------------------------------------------------------------------------------


def _quickstart(args: argparse.Namespace) -> int:
    from annoflow.adapters.quickstart import load_quickstart

    dataset = wiring.open_dataset(args.dataset)
    if len(dataset.store) and not args.force:
        print(f"dataset {args.dataset!r} already holds {len(dataset.store)} samples (use --force to rebuild)")
    else:
        if len(dataset.store):
            dataset.store.delete_samples(dataset.store.sample_ids())
        media = Path(args.media_dir) if args.media_dir else wiring.data_dir() / "media" / args.dataset
        try:
            load_quickstart(dataset.store, media, video=args.video, num_samples=args.samples, seed=args.seed)
        except DuplicateSampleError as error:
            # The samples' ids follow the seed: another dataset in the same file was built with it.
            raise DuplicateSampleError(
                f"{error}: another dataset was built with seed {args.seed}; pass another --seed"
            ) from None
        print(f"built dataset {args.dataset!r}: {len(dataset.store)} samples, media in {media}")
    schema = dataset.store.field_schema()
    for path, kind in sorted(schema.items()):
        print(f"  {path}: {kind.value}")
    print(f"store: {wiring.label_store_location()}")
    return 0


def _copy_dataset(args: argparse.Namespace) -> int:
    from annoflow.adapters.label_stores.copying import copy_dataset

    where = wiring.label_store_location(spec=args.to)  # a bad --to is refused before anything is opened
    if args.name not in wiring.list_datasets():
        raise LookupError(f"no dataset {args.name!r} in {wiring.label_store_location()}")
    source = wiring.open_label_store(args.name)
    try:
        target = wiring.open_store_at(args.to, args.name)
        try:
            copied = copy_dataset(source, target)
            print(
                f"copied {copied} samples of dataset {args.name!r} to {where} ({len(target)} there now), "
                "sample and label ids kept"
            )
        finally:
            target.close()
    finally:
        source.close()
    return 0


def _create_dataset(args: argparse.Namespace) -> int:
    from annoflow.adapters.datasets import Dataset

    labels = {"coco": args.coco, "yolo": args.yolo, "voc": args.voc}
    given = [kind for kind, path in labels.items() if path]
    if args.videos and (args.images or given):
        raise ValueError("--videos makes a dataset of videos alone: give it without --images or label files")
    if args.images and given == ["yolo"]:
        raise ValueError("--yolo DIR names its images in its data.yaml: give it without --images")
    if not args.images and not args.videos and not (given and given[0] in ("yolo", "voc")):
        raise ValueError("give --images DIR (with --coco FILE), --yolo DIR, --voc DIR or --videos DIR")
    recursive = not args.no_recursive
    if args.videos:
        dataset = Dataset.from_videos_dir(args.name, args.videos, recursive=recursive)
    elif not given:
        dataset = Dataset.from_images_dir(args.name, args.images, recursive=recursive)
    elif given == ["coco"]:
        dataset = Dataset.from_dir(
            args.name, "coco", labels_path=args.coco, data_path=args.images, label_field=args.label_field
        )
    elif given == ["yolo"]:
        dataset = Dataset.from_dir(args.name, "yolo", args.yolo, label_field=args.label_field)
    else:
        dataset = Dataset.from_dir(args.name, "voc", args.voc, data_path=args.images, label_field=args.label_field)
    print(f"created dataset {args.name!r}: {len(dataset.store)} samples (media left where they are)")
    for path, kind in sorted(dataset.store.field_schema().items()):
        print(f"  {path}: {kind.value}")
    print(f"store: {wiring.label_store_location()}")
    return 0


def _export(args: argparse.Namespace) -> int:
    if len(args.target) > 2:
        raise ValueError(f"export takes a dataset and a path, got {' '.join(args.target)}")
    if len(args.target) == 2:
        name, path = args.target
        if args.dataset and args.dataset != name:
            raise ValueError(f"two datasets named: {name!r} and --dataset {args.dataset!r}")
    elif args.dataset:
        name, path = args.dataset, args.target[0]
    else:
        raise ValueError("name the dataset: annoflow export NAME --format FORMAT PATH (or --dataset NAME)")
    if name not in wiring.list_datasets():
        raise LookupError(f"no dataset {name!r} in {wiring.label_store_location()}")
    options = {key: value for key, value in (("data_path", args.data_path), ("split", args.split)) if value}
    if args.export_media is not None:
        options["export_media"] = {"none": False}.get(args.export_media, args.export_media)
    fields = args.label_field or []
    if len(fields) > 1 and args.format not in ALL_FIELDS:
        raise ValueError(f"--format {args.format} writes one label field, got {', '.join(fields)}")
    dataset = wiring.open_dataset(name)
    label_field = fields if len(fields) > 1 else (fields[0] if fields else None)
    print(dataset.export(path, args.format, label_field=label_field, **options))
    return 0


def _datasets(args: argparse.Namespace) -> int:
    if args.action == "copy":
        return _copy_dataset(args)
    if args.action == "create":
        return _create_dataset(args)
    names = wiring.list_datasets()
    if not names:
        print(f"no datasets in {wiring.label_store_location()} (build one with `annoflow quickstart`)")
        return 0
    rows = []
    for name in names:
        store = wiring.open_label_store(name)
        fields = ", ".join(f"{path} ({kind.value})" for path, kind in sorted(store.field_schema().items()))
        rows.append((name, len(store), fields or "-"))
        store.close()
    for line in _table(("dataset", "samples", "fields"), rows):
        print(line)
    return 0


def _runs(args: argparse.Namespace) -> int:
    dataset = wiring.open_dataset(args.dataset)
    if args.action == "list":
        keys = dataset.list_annotation_runs()
        if not keys:
            print(f"dataset {args.dataset!r} has no annotation runs")
            return 0
        rows = []
        for key in keys:
            run = dataset.registry.get_run(dataset.name, key)
            last_load = dataset.registry.last_event_time(run.id, "LoadCompleted")
            rows.append(
                (
                    key,
                    run.status.value.replace("_", " "),
                    len(run.task_ids),
                    len(run.sample_ids),
                    _when(run.created_on),
                    _when(last_load),
                )
            )
        for line in _table(("key", "status", "tasks", "samples", "created", "last load"), rows):
            print(line)
    elif args.action == "info":
        print(dataset.get_annotation_info(args.key))
    elif args.action == "rename":
        dataset.rename_annotation_run(args.key, args.new_key)
        print(f"renamed {args.key!r} -> {args.new_key!r}")
    elif args.action == "delete":
        dataset.delete_annotation_run(args.key)
        print(f"deleted the record of run {args.key!r} (labels and CVAT tasks untouched)")
    return 0


def _status(args: argparse.Namespace) -> int:
    dataset = wiring.open_dataset(args.dataset)
    results = dataset.load_annotation_results(args.key, url=args.url, username=args.username)
    print(f"run {args.key!r} of dataset {args.dataset!r}: tasks {results.task_ids}")
    results.print_status()
    return 0


def _audit(args: argparse.Namespace) -> int:
    registry = wiring.open_registry()
    if args.key:
        run = registry.get_run(args.dataset, args.key)
        histories = [(run, run_history(registry, run.id))]
    else:
        histories = list(dataset_history(registry, args.dataset))
    if not histories:
        print(f"dataset {args.dataset!r} has no annotation runs")
    for run, entries in histories:
        state = "deleted" if run.is_deleted else run.status.value
        print(f"run {run.key!r} ({state}, id {run.id}):")
        for entry in entries:
            print(f"  {entry}")
        if args.details:
            for line in change_lines(registry.iter_history(run.id, details=True), only_load=args.load):
                print(f"    {line}")
    return 0


def _import(args: argparse.Namespace) -> int:
    dataset = wiring.open_dataset(args.dataset)
    before = len(dataset.store)
    if args.xml:
        from annoflow.adapters.cvat_xml.importing import import_cvat_xml

        summary = import_cvat_xml(dataset, args.xml, args.data_path)
        fields = ", ".join(f"{f} ({t})" for f, t in summary.fields.items())
        print(
            f"imported {summary.format} {args.xml} into dataset {args.dataset!r}: {summary.samples} samples "
            f"({summary.new_samples} new), {summary.labels} labels in {fields}; {summary.left_out} objects left out"
        )
        for problem in summary.problems:
            print(f"  left out: {problem}")
        return 0
    selection = {"project_name": args.project} if args.project else {"task_ids": args.task}
    if args.from_export:
        return _import_exports(args, dataset, before)
    key = dataset.import_annotations(
        **selection, data_path=args.data_path, download_media=args.download_media, url=args.url, username=args.username
    )
    loaded = dataset.last_load.summary
    print(
        f"imported into dataset {args.dataset!r} as run {key!r}: {len(dataset.store) - before} new samples, "
        f"{loaded.added} labels added, {loaded.edited} edited, {loaded.unchanged_tasks} tasks unchanged"
    )
    print(f"its history: annoflow audit {key} --dataset {args.dataset}")
    return 0


def _import_exports(args: argparse.Namespace, dataset: Dataset, before: int) -> int:
    from annoflow.adapters.cvat.api import connect_to_api
    from annoflow.adapters.cvat_backend.importing import find_tasks
    from annoflow.adapters.cvat_xml.server_export import import_from_exports

    if args.xml:
        raise ValueError("--from-export asks a server for its export: give --project or --task, not --xml")
    with connect_to_api(url=args.url, username=args.username) as api:
        found = find_tasks(api.client, project_name=args.project, project_id=None, task_ids=args.task or [])
        summaries = import_from_exports(
            dataset, api.client, list(found.task_ids), args.data_path, download_media=args.download_media
        )
    labels = sum(s.labels for s in summaries)
    print(
        f"imported CVAT's export of tasks {list(found.task_ids)} into dataset {args.dataset!r}: "
        f"{len(dataset.store) - before} new samples, {labels} labels, "
        f"{sum(s.left_out for s in summaries)} objects left out"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from annoflow.adapters.demo import run_demo

    return run_demo(samples=args.samples)


# --- the parser -------------------------------------------------------------------------------


def _dataset_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", default="quickstart", metavar="NAME", help="the dataset whose runs to use (default: %(default)s)"
    )


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="annoflow",
        formatter_class=formatter,
        epilog=EPILOG,
        description="FiftyOne's CVAT annotation workflow, every run an event-sourced record.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more on stderr: -v what is done (requests waited on, tasks made or skipped), "
        "-vv every request; errors then show their traceback",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        formatter_class=formatter,
        help="the workflow end to end: quickstart, simulator, annotate, edits, load, audit, cleanup",
        description="Build the quickstart dataset (if needed), start the CVAT simulator in this process, send the "
        "samples with the most high-confidence false positives to it, play an annotator's edits, load "
        "them back (twice: the second load changes nothing), print the audit trail and clean up.",
        epilog="example:\n  annoflow demo --samples 50",
    )
    demo.add_argument(
        "--samples",
        type=int,
        default=200,
        metavar="N",
        help="images in the quickstart dataset when it is built (default: %(default)s)",
    )
    demo.set_defaults(handler=_demo)

    quick = commands.add_parser(
        "quickstart",
        formatter_class=formatter,
        help="build the synthetic quickstart dataset into the data dir",
        description="Draw synthetic stand-ins for FiftyOne's zoo quickstart dataset (JPEGs with ground_truth and "
        "predictions detections, or MP4s with frames.detections) and add them to the data dir's label "
        "store. A dataset that already holds samples is left alone unless --force.",
        epilog="examples:\n  annoflow quickstart --samples 50\n"
        "  annoflow quickstart --video --dataset quickstart-video --samples 3",
    )
    quick.add_argument(
        "--dataset", default="quickstart", metavar="NAME", help="the dataset's name (default: %(default)s)"
    )
    quick.add_argument("--samples", type=int, default=200, metavar="N", help="how many samples (default: %(default)s)")
    quick.add_argument(
        "--seed",
        type=int,
        default=51,
        help="the random seed: the same seed draws the same media and sample ids (default: %(default)s)",
    )
    quick.add_argument("--media-dir", metavar="DIR", help="where the media go (default: media/NAME in the data dir)")
    quick.add_argument("--force", action="store_true", help="rebuild a dataset that already holds samples")
    quick.add_argument(
        "--video", action="store_true", help="the video quickstart: one MP4 per sample, frames.detections"
    )
    quick.set_defaults(handler=_quickstart)

    datasets = commands.add_parser(
        "datasets",
        formatter_class=formatter,
        help="list the datasets in the data dir, with sample counts and fields",
        description="The datasets in the data dir's label store: name, sample count, fields and their kinds.",
        epilog="examples:\n  ANNOFLOW_DATA_DIR=/tmp/af annoflow datasets\n"
        "  annoflow datasets copy quickstart --to postgres\n"
        "  annoflow datasets copy quickstart --to fiftyone\n"
        "  ANNOFLOW_LABEL_STORE=postgres annoflow datasets copy quickstart --to sqlite:/tmp/q.sqlite",
    )
    dataset_actions = datasets.add_subparsers(dest="action", metavar="ACTION")
    copy = dataset_actions.add_parser(
        "copy",
        formatter_class=formatter,
        help="copy a dataset to another label store, keeping its ids",
        description="Copy a dataset of the environment's label store to another store, with its sample and label "
        "ids, so its annotation runs load into the copy. An interrupted copy goes on where it stopped.",
    )
    copy.add_argument("name", metavar="NAME", help="the dataset to copy")
    copy.add_argument(
        "--to",
        required=True,
        metavar="STORE",
        help="fiftyone (a FiftyOne dataset of the same name, in FiftyOne's database; the fiftyone "
        "extra), postgres (the server the POSTGRES_* variables or ANNOFLOW_POSTGRES_DSN name), "
        "sqlite (the data dir's file) or sqlite:PATH",
    )
    create = dataset_actions.add_parser(
        "create",
        formatter_class=formatter,
        help="a new dataset of your own images or videos, with their labels",
        description="Make a dataset of the images in a folder (with their labels from a COCO file, a YOLO dataset "
        "or Pascal VOC XML files), or of the videos in a folder. The media stay where they are; their "
        "sizes (a video's frame count and rate too) are read from the files. Every file is checked first: "
        "a bad one is named with its entry, and nothing is added.",
        epilog="examples:\n  annoflow datasets create mine --images ~/photos\n"
        "  annoflow datasets create coco-val --images val2017 --coco instances_val2017.json\n"
        "  annoflow datasets create parts --yolo datasets/parts     (the folder holding data.yaml)\n"
        "  annoflow datasets create voc --voc VOC2012 --images VOC2012/JPEGImages\n"
        "  annoflow datasets create clips --videos ~/videos",
    )
    create.add_argument("name", metavar="NAME", help="the new dataset's name")
    create.add_argument(
        "--images", metavar="DIR", help="the folder of images (with --coco: the folder file names are relative to)"
    )
    create.add_argument("--videos", metavar="DIR", help="a folder of videos, instead of images")
    formats = create.add_mutually_exclusive_group()
    formats.add_argument("--coco", metavar="FILE", help="a COCO detection/segmentation JSON file")
    formats.add_argument("--yolo", metavar="DIR", help="a YOLO v5/v8 dataset: the folder holding data.yaml")
    formats.add_argument(
        "--voc", metavar="DIR", help="Pascal VOC: a folder of XML files (or one holding Annotations/ and JPEGImages/)"
    )
    create.add_argument(
        "--label-field",
        default="ground_truth",
        metavar="FIELD",
        help="the field the labels go in (default: %(default)s)",
    )
    create.add_argument("--no-recursive", action="store_true", help="only the folder's own files, not its subfolders'")
    datasets.set_defaults(handler=_datasets, action=None)

    runs = commands.add_parser(
        "runs",
        formatter_class=formatter,
        help="list, inspect, rename or delete a dataset's annotation runs",
        description="A dataset's annotation runs, from their records.",
        epilog="examples:\n  annoflow runs list\n  annoflow runs info my_run\n  annoflow runs rename my_run reviewed\n"
        "  annoflow runs --dataset other delete my_run",
    )
    _dataset_option(runs)
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "list",
        help="a table of the runs: key, status, tasks, samples, created, last load",
        description="One line per run: its key, status (requested, uploaded, loading, loaded, "
        "cleaned up), tasks, samples, when it was created and when it was last loaded.",
    )
    info = actions.add_parser(
        "info",
        help="what a run was asked for and where it stands",
        description="The run's key, time, backend, status, samples, tasks, recorded options "
        "(never a credential) and label schema.",
    )
    info.add_argument("key", help="the run's key")
    rename = actions.add_parser(
        "rename", help="give a run a new key", description="Give a run a new key; the old one stays in its history."
    )
    rename.add_argument("key", help="the run's key")
    rename.add_argument("new_key", help="the new key, free in the dataset")
    delete = actions.add_parser(
        "delete",
        help="delete a run's record (labels and CVAT tasks stay)",
        description="Delete the run's record: its key is freed, its events stay for the "
        "audit trail, the dataset's labels and the CVAT tasks are untouched.",
    )
    delete.add_argument("key", help="the run's key")
    runs.set_defaults(handler=_runs)

    status = commands.add_parser(
        "status",
        formatter_class=formatter,
        help="a run's CVAT tasks and jobs, as the server reports them now",
        description="Ask CVAT for the status of the run's tasks and jobs and print it as print_status() does. "
        "The URL recorded at annotate() is used unless --url; credentials come from ANNOFLOW_CVAT_* or "
        "FIFTYONE_CVAT_* variables, a config file, or a prompt on a terminal.",
        epilog="examples:\n  annoflow status my_run\n"
        "  FIFTYONE_CVAT_PASSWORD=... annoflow status my_run --url http://localhost:8080 --username me",
    )
    status.add_argument("key", help="the run's key")
    _dataset_option(status)
    status.add_argument("--url", help="CVAT's address (default: the one recorded at annotate())")
    status.add_argument("--username", help="the CVAT user (default: from the environment or a config file)")
    status.set_defaults(handler=_status)

    audit = commands.add_parser(
        "audit",
        formatter_class=formatter,
        help="replay runs' events as a readable history",
        description="Every event of a run (or of every run the dataset ever had, deleted ones included), oldest "
        "first; each load summed into one line of what it added, edited, deleted and rejected.",
        epilog="examples:\n  annoflow audit\n  annoflow audit my_run --dataset quickstart\n"
        "  annoflow audit my_run --details --load 3f2a9c1b7d40",
    )
    audit.add_argument("key", nargs="?", help="one run (default: every run the dataset ever had)")
    audit.add_argument(
        "--details",
        action="store_true",
        help="after each run's history, every change its loads made and every edit they refused, "
        "one line each, read page by page from the tasks' ledgers",
    )
    audit.add_argument("--load", metavar="LOAD_ID", help="with --details: only this load's changes")
    _dataset_option(audit)
    audit.set_defaults(handler=_audit)

    export = commands.add_parser(
        "export",
        formatter_class=formatter,
        help="write a dataset's labels in a label format (COCO, YOLO, CVAT XML)",
        description="Write a dataset's labels in a label format: coco (one JSON file; file names relative to "
        "--data-path, default the deepest folder holding every image), yolo (a new folder with "
        'data.yaml, images/ linked to the media, labels/), cvat-images ("CVAT for images 1.1" XML) or '
        'cvat-video ("CVAT for video 1.1", one file per video in PATH when there are several), as '
        "CVAT's UI exports them and `annoflow import --xml` reads them back. Written whole or not at all.",
        epilog="examples:\n  annoflow export mine --format coco out/labels.json\n"
        "  annoflow export mine --format yolo out/yolo --label-field predictions --export-media copy\n"
        "  annoflow export quickstart --format cvat-images labels.xml\n"
        "  annoflow export --dataset quickstart-video --format cvat-video labels/",
    )
    export.add_argument(
        "target",
        nargs="+",
        metavar="[NAME] PATH",
        help="the dataset (or --dataset) and where to write: a file or folder, as the format has it",
    )
    export.add_argument("--dataset", metavar="NAME", help="the dataset to export, instead of NAME")
    export.add_argument("--format", required=True, choices=sorted(EXPORT_FORMATS), help="the format to write")
    export.add_argument(
        "--label-field",
        metavar="FIELD",
        action="append",
        help="the field to export (default: the dataset's only detections or polylines field; "
        "CVAT XML: repeat for several, default every label field)",
    )
    export.add_argument("--data-path", metavar="DIR", help="coco: the folder the images' file names are relative to")
    export.add_argument(
        "--export-media",
        choices=("symlink", "copy", "none"),
        help="yolo: link the media into images/ (default), copy them, or write labels only",
    )
    export.add_argument(
        "--split", metavar="NAME", help="yolo: the split of samples without a train/val/test tag (default: val)"
    )
    export.set_defaults(handler=_export)

    imports = commands.add_parser(
        "import",
        formatter_class=formatter,
        help="import CVAT tasks made outside annoflow into a dataset",
        description="Import the tasks of a CVAT project (or the tasks given) into the dataset, as "
        "import_annotations() does: each object a label in a field named by its type (a video task's on "
        "its frames), each media file found in --data-path (or an image task's frames downloaded into "
        "it with --download-media), files the dataset lacks added as samples. The import is recorded as "
        "a run (see `annoflow audit`); importing the same tasks again adds nothing twice. With "
        "--from-export, the server's own export of each task (CVAT for images/video 1.1) is imported "
        "instead; with --xml, a CVAT XML file exported before. Credentials come from ANNOFLOW_CVAT_* or "
        "FIFTYONE_CVAT_* variables, a config file, or a prompt on a terminal.",
        epilog="examples:\n  annoflow import --project my_project --dataset mine --data-path media --download-media\n"
        "  annoflow import --task 12 13 --dataset mine --data-path /data/images --url http://localhost:8080\n"
        "  annoflow import --task 12 --from-export --dataset mine --data-path /data/images\n"
        "  annoflow import --xml annotations.xml --dataset mine --data-path /data/images",
    )
    which = imports.add_mutually_exclusive_group(required=True)
    which.add_argument("--project", metavar="NAME", help="the CVAT project whose tasks to import")
    which.add_argument("--task", metavar="ID", type=int, nargs="+", help="the CVAT tasks to import")
    which.add_argument(
        "--xml",
        metavar="FILE",
        help='a CVAT XML file ("CVAT for images 1.1" or "CVAT for video 1.1", as CVAT\'s UI exports '
        "it) whose media are in --data-path",
    )
    imports.add_argument("--dataset", required=True, metavar="NAME", help="the dataset to import into")
    imports.add_argument(
        "--data-path",
        required=True,
        metavar="DIR",
        help="the folder holding the tasks' media (or to download them into)",
    )
    imports.add_argument(
        "--from-export",
        action="store_true",
        help="ask the server for each task's export (CVAT for images/video 1.1, as its UI exports "
        "it) and import that, instead of reading the tasks' annotations",
    )
    imports.add_argument(
        "--download-media",
        action="store_true",
        help="download the frames' original images into --data-path (files already there are kept)",
    )
    imports.add_argument("--url", help="CVAT's address (default: from the environment or a config file)")
    imports.add_argument("--username", help="the CVAT user (default: from the environment or a config file)")
    imports.set_defaults(handler=_import)

    return parser


@contextmanager
def _logging_to_stderr(verbosity: int) -> Iterator[None]:
    """annoflow's log records on stderr for this command: warnings, or more with -v."""
    logger = logging.getLogger("annoflow")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("annoflow: %(levelname)s: %(message)s"))
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _one_line(error: BaseException) -> str:
    """The error as one line: a multi-line list of problems joined with '; '."""
    lines = [line.strip().removeprefix("- ") for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if len(lines) > 1:
        text = text.rstrip(":") + ": " + "; ".join(lines[1:])
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes a command's positionals in one run: `export NAME --format coco PATH` leaves PATH over.
    if extra and args.command == "export" and not any(a.startswith("-") for a in extra):
        args.target += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    with _logging_to_stderr(args.verbose):
        try:
            return args.handler(args)
        except KeyboardInterrupt:
            print("annoflow: interrupted", file=sys.stderr)
            return 130
        except Exception as error:  # noqa: BLE001 - a command ends with one line, not a traceback
            if args.verbose:
                traceback.print_exc()
            known = type(error).__module__.startswith("annoflow.")
            prefix = "" if known else f"{type(error).__name__}: "
            print(f"annoflow: error: {prefix}{_one_line(error)}", file=sys.stderr)
            return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
