import gc

import pytest

from annoflow.adapters import released_memory
from annoflow.adapters.released_memory import release_memory, released_after


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(released_memory.gc, "collect", lambda generation=2: seen.append(("collect", generation)) or 0)
    monkeypatch.setattr(released_memory, "_malloc_trim", lambda: lambda pad: seen.append(("trim", pad)) or 1)
    return seen


def test_the_memory_is_released_after_the_block_even_when_it_raised(calls):
    with released_after():
        assert calls == []
    assert calls == [("collect", 0), ("trim", 0)]
    calls.clear()
    with pytest.raises(RuntimeError), released_after():
        raise RuntimeError("boom")
    assert calls == [("collect", 0), ("trim", 0)]


def test_without_a_trim_in_the_c_library_only_the_collection_runs(calls, monkeypatch):
    monkeypatch.setattr(released_memory, "_malloc_trim", lambda: None)
    release_memory()
    assert calls == [("collect", 0)]


def test_a_cycle_made_while_the_collector_is_paused_is_freed(monkeypatch):
    import weakref

    class Node:
        pass

    gc.disable()
    try:
        with released_after():
            node = Node()
            node.self = node
            freed = weakref.ref(node)
            del node
        assert freed() is None
    finally:
        gc.enable()


def test_the_trim_is_glibcs_where_there_is_one():
    trim = released_memory._malloc_trim()
    assert trim is None or trim(0) in (0, 1)


def test_the_cvat_sessions_task_scope_releases_a_tasks_memory_even_when_its_load_raised(monkeypatch):
    from annoflow.adapters.cvat_backend.backend import CVATSession
    from annoflow.adapters.cvat_backend.options import CVATOptions

    seen = []
    monkeypatch.setattr(released_memory, "release_memory", lambda: seen.append(gc.isenabled()))
    session = CVATSession(object(), CVATOptions(), owns_client=False)  # type: ignore[arg-type]
    try:
        with session.task_scope():
            assert seen == [] and not gc.isenabled()
        with pytest.raises(RuntimeError), session.task_scope():
            raise RuntimeError("boom")
    finally:
        session.close()
    assert seen == [True, True]  # after the pause ended
