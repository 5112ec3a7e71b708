"""``annoflow-cvat-sim``: run the CVAT simulator in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Sequence

from annoflow.adapters.cvat_sim.fault_spec import FaultSpecError, parse_fault
from annoflow.adapters.cvat_sim.server import CvatSimulator


def _users(args: argparse.Namespace) -> dict[str, str]:
    users: dict[str, str] = {}
    entries = list(args.user or [])
    if args.users_file:
        with open(args.users_file, encoding="utf-8") as handle:
            entries += [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    for entry in entries:
        name, sep, password = entry.partition(":")
        if not sep or not name or not password:
            raise SystemExit(f"annoflow-cvat-sim: a user is NAME:PASSWORD, got {entry.split(':')[0]!r}:...")
        users[name] = password
    return users


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"a time cannot be negative: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="annoflow-cvat-sim", description="A local CVAT 2.52 simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--user", action="append", help="NAME:PASSWORD (repeatable)")
    parser.add_argument("--users-file", help="a file with one NAME:PASSWORD per line")
    parser.add_argument("--data-dir", help="keep media and state here; a restarted simulator finds them again")
    parser.add_argument(
        "--processing-time",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="how long processing uploaded data takes per frame, as CVAT's worker does "
        "(the request goes queued, started, finished; jobs exist only then); default 0",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="'METHOD PATH EFFECT...'",
        help="misbehave as told, e.g. 'PUT /api/jobs/*/annotations 500 x2' (repeatable; "
        "grammar: the simulator's README; also POST /_simulator/faults while it runs)",
    )
    args = parser.parse_args(argv)
    users = _users(args)
    if not users and not args.data_dir:
        parser.error("give at least one --user NAME:PASSWORD (or --users-file)")
    for line in args.fault:  # every line read before anything starts
        try:
            parse_fault(line)
        except FaultSpecError as error:
            parser.error(str(error))
    simulator = CvatSimulator(users=users, media_dir=args.data_dir, processing_seconds_per_frame=args.processing_time)
    for line in args.fault:
        simulator.faults.add_spec(line)
    simulator.state.freeze_stored = True  # this process serves and does nothing else
    stop = threading.Event()
    with simulator.serve(args.host, args.port):
        print(
            f"CVAT simulator serving {simulator.url} (users: {', '.join(u.username for u in simulator.state.users.values())})",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops the server
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
