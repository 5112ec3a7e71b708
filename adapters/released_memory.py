"""Giving a finished task's memory back: its cyclic garbage collected, and free heap returned to the system.

A load builds each task's labels and merge with Python's cyclic collector paused
(`adapters/paused_gc.py`). Reference counting frees nearly all of it when the task ends, but
what sits in a reference cycle waits for the collector, and the C heap keeps the pages of what
was freed: glibc's malloc returns memory to the system only from the top of its heap, so the
large buffers a task frees below live objects (lists' and dicts' tables, strings, SQLite's and
httpx's buffers) stay resident, and the next task's do not always fit in them. Over a run of
many tasks the load's peak then grows with the run, not with one task.

`released_after()` ends each task of a load: a collection of the youngest generation (what the
task made and still holds, never the older objects a large import leaves, such as FiftyOne's),
then glibc's `malloc_trim(0)`, which gives free pages back from anywhere in the heap. Neither
changes a value; both run even when the task raised. Off glibc (macOS, Windows, musl without
the symbol) the trim is skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable, Iterator


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> None:
    """Collect the youngest generation's cycles, then give the C heap's free pages back (glibc)."""
    gc.collect(0)
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def released_after() -> Iterator[None]:
    """Run the block, then `release_memory()`, even when the block raised."""
    try:
        yield
    finally:
        release_memory()
