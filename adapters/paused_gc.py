"""Pausing Python's cyclic garbage collector while a task's objects are built.

Used on both sides of the wire: the CVAT backend converting a task, and the
CVAT simulator parsing, checking and storing one. Converting a task builds
hundreds of thousands of small dicts and lists that live until the task is
sent. Each allocation burst triggers collections that
walk every object still alive, which cost about a second per 50,000 shapes;
these objects hold no reference cycles, so the collector finds nothing. As
msgpack and orjson advise for bulk decoding, the collector is paused for the
duration and restored after, even on errors, and nested or concurrent pauses
restore it only when the last one ends. Reference counting still frees
everything as usual.

The collector is process-wide: while it is paused, the caller's other threads
run without it too. The CVAT backend's `pause_gc` option (annotate() and
load_annotations() take it, default True) turns the pause off for a process
whose other threads make reference cycles at a rate that matters.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def paused_gc(enabled: bool = True) -> Iterator[None]:
    """Pause the cyclic collector for the block, unless ``enabled`` is False (then touch nothing)."""
    global _depth, _was_enabled
    if not enabled:
        yield
        return
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
