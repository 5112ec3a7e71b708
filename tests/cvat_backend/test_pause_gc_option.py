"""The CVAT backend's `pause_gc` option: the collector pause is the default, can be turned off, and
is never left on after an error.

Python's cyclic collector is process-wide. The simulator in this process pauses it too (on its own
threads, while it stores annotations), so only pauses asked for by the CVAT backend's code count here.
"""

from __future__ import annotations

import gc
import sys

import pytest

import annoflow.adapters.cvat_backend.backend as backend_module
from annoflow.application.ports.annotation_backend import BackendConfigError


def _from_the_backend() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("annoflow.adapters.cvat_backend"):
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def pauses(monkeypatch):
    """Each time the CVAT backend's code disables the collector."""
    calls = []
    real_disable = gc.disable

    def disable():
        if _from_the_backend():
            calls.append(True)
        real_disable()

    monkeypatch.setattr(gc, "disable", disable)
    yield calls
    gc.enable()


def test_by_default_the_backend_pauses_the_collector(dataset, login, pauses):
    dataset.limit(2).annotate("on", label_field="ground_truth", **login)
    during_annotate = len(pauses)
    dataset.load_annotations("on", **login)
    assert during_annotate >= 1 and len(pauses) > during_annotate
    assert gc.isenabled()


def test_with_pause_gc_false_the_collector_is_never_disabled(dataset, login, pauses):
    dataset.limit(2).annotate("off", label_field="ground_truth", pause_gc=False, **login)
    dataset.load_annotations("off", pause_gc=False, **login)
    assert pauses == []
    assert gc.isenabled()
    # A process's choice, not the run's: it is not recorded, and a later load takes its own.
    assert "pause_gc" not in dataset.registry.get_run("quickstart", "off").config


def test_pause_gc_must_be_a_bool(dataset, login):
    with pytest.raises(BackendConfigError, match=r"pause_gc must be True or False, got 'no'"):
        dataset.limit(1).annotate("bad", label_field="ground_truth", pause_gc="no", **login)


def test_an_error_inside_the_pause_leaves_the_collector_on(dataset, login, pauses, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("broken inside the pause")

    with monkeypatch.context() as patch:
        patch.setattr(backend_module.CVATSession, "_objects", broken)  # a job's objects, built inside fill_task's pause
        with pytest.raises(RuntimeError, match="broken inside the pause"):
            dataset.limit(2).annotate("fails", label_field="ground_truth", **login)
    assert pauses and gc.isenabled()
    dataset.limit(2).annotate("loads", label_field="ground_truth", **login)
    pauses.clear()
    monkeypatch.setattr(backend_module, "split_unchanged", broken)  # read inside the download's pause
    with pytest.raises(RuntimeError, match="broken inside the pause"):
        dataset.load_annotations("loads", **login)
    assert pauses and gc.isenabled()
