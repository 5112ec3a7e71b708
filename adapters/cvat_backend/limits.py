"""CVAT's limits on what a run sends (lengths of names and values), checked before anything is sent.

CVAT 2.52's schema bounds label and attribute names (64 characters), attribute values (200) and
defaults (128), task and project names (256), issue trackers (2000) and integers (2^31 - 1);
a request beyond them is refused with a 400 after the run has begun. Every problem is listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from annoflow.adapters.cvat_format.schema import cvat_classes, cvat_label_requests
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.task_plan import TaskPlan

LABEL_NAME = ATTRIBUTE_NAME = 64
ATTRIBUTE_VALUE, ATTRIBUTE_DEFAULT = 200, 128
NAME_LIMIT = 256
ISSUE_TRACKER = 2000
INT_LIMIT = 2**31 - 1


def _too_long(what: str, text: str, limit: int) -> str | None:
    return f"{what} has {len(text)} characters: CVAT takes at most {limit}" if len(text) > limit else None


def label_problems(schema: LabelSchema) -> list[str]:
    """What CVAT would refuse in the labels made from the run's classes and attributes."""
    found = []
    for label in cvat_label_requests(cvat_classes(schema), schema):
        found.append(_too_long(f"label {label['name'][:40]!r}...", label["name"], LABEL_NAME))
        for attribute in label["attributes"]:
            where = f"attribute {attribute['name'][:40]!r} of label {label['name'][:40]!r}"
            found.append(_too_long(where, attribute["name"], ATTRIBUTE_NAME))
            found.append(
                _too_long(f"the default of {where}", str(attribute.get("default_value", "")), ATTRIBUTE_DEFAULT)
            )
            found += [_too_long(f"a value of {where}", str(v), ATTRIBUTE_VALUE) for v in attribute.get("values", ())]
    return [p for p in found if p is not None]


def plan_problems(plans: Iterable[TaskPlan]) -> list[str]:
    """What CVAT would refuse in the tasks' names and issue trackers."""
    found = []
    for plan in plans:
        found.append(_too_long(f"task name {plan.name[:40]!r}...", plan.name, NAME_LIMIT))
        if plan.issue_tracker:
            found.append(_too_long(f"the issue tracker of task {plan.index}", plan.issue_tracker, ISSUE_TRACKER))
    return list(dict.fromkeys(p for p in found if p is not None))
