"""Step code for features/loading_from_views.feature: FiftyOne's CVAT guide, "Loading annotations" section
(``view.load_annotations(anno_key)``, ``cleanup=True``)."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from annoflow.application.audit import run_history
from tests.bdd.cvat_steps import login, run_of

scenarios("loading_from_views.feature")


@when(parsers.parse('I load the annotations of "{key}" through the annotated view'))
def load_from_view(world, key):
    view = world["dataset"].load_annotation_view(key)
    world["returned"] = view.load_annotations(key, **login(world))


@then(parsers.parse('the audit trail of "{key}" ends with a cleanup of the run\'s tasks'))
def ends_with_cleanup(world, key):
    entries = run_history(world["dataset"].registry, run_of(world, key).id)
    assert entries[-1].text == f"cleaned up CVAT tasks {list(world['results'].task_ids)}", [e.text for e in entries]


@then(parsers.parse('loading "{key}" again is refused with "{message}"'))
def refused_again(world, key, message):
    sim, check = world["sim"], world["sim"].on_exchange
    asked = []
    sim.on_exchange = lambda exchange: (asked.append(exchange.path), check(exchange))
    try:
        world["dataset"].load_annotations(key, **login(world))
    except Exception as error:  # noqa: BLE001 - the type is checked next
        assert type(error).__name__ == "RunError" and message in str(error), repr(error)
    else:
        raise AssertionError("the load went ahead")
    finally:
        sim.on_exchange = check
    assert asked == [], f"the refused load still asked CVAT for {asked}"
