"""The ``annoflow`` command line, on the embedded defaults (see adapters/wiring.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from annoflow.adapters import wiring
from annoflow.application.audit import dataset_history, run_history
from annoflow.domain.annotation_run import RunError


def _quickstart(args: argparse.Namespace) -> int:
    from annoflow.adapters.quickstart import load_quickstart

    dataset = wiring.open_dataset(args.dataset)
    if len(dataset.store) and not args.force:
        print(f"dataset {args.dataset!r} already holds {len(dataset.store)} samples (use --force to rebuild)")
    else:
        if len(dataset.store):
            dataset.store.delete_samples(dataset.store.sample_ids())
        media = Path(args.media_dir) if args.media_dir else wiring.data_dir() / "media" / args.dataset
        if args.video:
            load_quickstart(dataset.store, media, video=True, num_samples=args.samples, seed=args.seed)
        else:
            load_quickstart(dataset.store, media, num_samples=args.samples, seed=args.seed)
        print(f"built dataset {args.dataset!r}: {len(dataset.store)} samples, media in {media}")
    schema = dataset.store.field_schema()
    for path, kind in sorted(schema.items()):
        print(f"  {path}: {kind.value}")
    print(f"store: {wiring.data_dir() / 'datasets.sqlite'}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    dataset = wiring.open_dataset(args.dataset)
    if args.action == "list":
        for key in dataset.list_annotation_runs():
            print(key)
    elif args.action == "info":
        print(dataset.get_annotation_info(args.key))
    elif args.action == "rename":
        dataset.rename_annotation_run(args.key, args.new_key)
        print(f"renamed {args.key!r} -> {args.new_key!r}")
    elif args.action == "delete":
        dataset.delete_annotation_run(args.key)
        print(f"deleted the record of run {args.key!r} (labels and CVAT tasks untouched)")
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
    return 0


def _demo(args: argparse.Namespace) -> int:
    from annoflow.adapters.demo import run_demo

    return run_demo(samples=args.samples)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="annoflow", description="CVAT annotation runs, event-sourced.")
    commands = parser.add_subparsers(dest="command", required=True)

    quick = commands.add_parser("quickstart", help="build the synthetic quickstart dataset into the embedded store")
    quick.add_argument("--dataset", default="quickstart")
    quick.add_argument("--samples", type=int, default=200)
    quick.add_argument("--seed", type=int, default=51)
    quick.add_argument("--media-dir", help="where the images go (default: the data dir)")
    quick.add_argument("--force", action="store_true", help="rebuild even if the dataset exists")
    quick.add_argument("--video", action="store_true", help="the video quickstart (one MP4 per sample, frames.detections)")
    quick.set_defaults(handler=_quickstart)

    demo = commands.add_parser("demo", help="the workflow end to end: quickstart, simulator, annotate, status, audit")
    demo.add_argument("--samples", type=int, default=200)
    demo.set_defaults(handler=_demo)

    runs = commands.add_parser("runs", help="list, inspect, rename or delete annotation runs")
    runs.add_argument("--dataset", default="quickstart")
    actions = runs.add_subparsers(dest="action", required=True)
    actions.add_parser("list")
    actions.add_parser("info").add_argument("key")
    rename = actions.add_parser("rename")
    rename.add_argument("key")
    rename.add_argument("new_key")
    actions.add_parser("delete").add_argument("key")
    runs.set_defaults(handler=_runs)

    audit = commands.add_parser("audit", help="replay runs' events as a readable history")
    audit.add_argument("key", nargs="?", help="one run (default: every run the dataset ever had)")
    audit.add_argument("--dataset", default="quickstart")
    audit.set_defaults(handler=_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except RunError as error:
        print(f"annoflow: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
