import gc

import pytest

from annoflow.adapters.paused_gc import paused_gc


@pytest.fixture(autouse=True)
def _gc_back_on():
    yield
    gc.enable()


def test_the_collector_is_paused_then_restored_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pauses_restore_only_at_the_end_and_a_disabled_collector_stays_disabled():
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()
