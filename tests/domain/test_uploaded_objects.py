"""A task's provenance held as columns: same rows as the objects, checked column by column."""

from __future__ import annotations

import pytest

from annoflow.domain.ids import all_ids, is_id, new_id
from annoflow.domain.run_records import RemoteObjectKind, TaskRecord, UploadedObject, UploadedObjects


def _objects(n: int) -> list[UploadedObject]:
    sample = new_id()
    return [
        UploadedObject("gt", new_id(), sample, "tag" if i % 2 else "shape", 100 + i, None if i % 3 else i)
        for i in range(n)
    ]


def test_columns_give_back_the_objects_in_order():
    objects = _objects(7)
    columns = UploadedObjects.of(objects)
    assert list(columns) == objects and len(columns) == 7
    assert columns[3] == objects[3] and columns[3].remote_kind is RemoteObjectKind.TAG
    assert columns.remote_ids == tuple(range(100, 107))


def test_a_task_record_takes_objects_or_columns_and_compares_by_rows():
    objects = _objects(3)
    by_objects = TaskRecord(1, None, [10], [], objects, [], [])
    by_columns = TaskRecord(1, None, [10], [], UploadedObjects.of(objects), [], [])
    assert by_objects == by_columns and list(by_objects.uploaded) == objects
    assert len(TaskRecord(1, None, [], [], [], [], []).uploaded) == 0


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"label_ids": ("not-an-id",)}, "label_id must be 24 lowercase hex digits"),
        ({"sample_ids": ("X" * 24,)}, "sample_id must be 24 lowercase hex digits"),
        ({"remote_kinds": ("cuboid",)}, "unknown remote object kinds"),
        ({"remote_ids": (1, 2)}, "differ in length"),
    ],
)
def test_bad_columns_are_refused_naming_the_problem(change, problem):
    good = {
        "fields": ("gt",),
        "label_ids": (new_id(),),
        "sample_ids": (new_id(),),
        "remote_kinds": ("shape",),
        "remote_ids": (1,),
        "frames": (None,),
    }
    with pytest.raises(ValueError, match=problem):
        UploadedObjects(**{**good, **change})


_NOT_IDS = [
    "",
    "A" * 24,
    "0" * 23,
    "0" * 25,
    "0" * 24 + "\n",
    "0" * 12 + "\n" + "0" * 11,
    "0" * 24 + "\n" + "1" * 24,
    "g" * 24,
    "0" * 22 + "0A",
    "0" * 10 + "  " + "0" * 12,  # whitespace between whole bytes, which bytes.fromhex skips
    "0" * 22 + "\t\t",
    " " * 24,
    "\u00e9" * 24,
    "\uff10" * 24,  # fullwidth digits
    7,
    None,
    b"0" * 24,
]


@pytest.mark.parametrize("bad", _NOT_IDS)
@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_column_check_refuses_what_the_single_check_refuses(bad, where):
    # all_ids checks a column in one pass; it must agree with is_id value by value, wherever the bad one sits
    column = [new_id(), new_id()]
    column.insert(where, bad)
    assert not is_id(bad)
    assert all_ids(column) is False and all_ids(tuple(column)) is False
    assert all_ids([new_id(), new_id()]) is True and all_ids(()) is True
    assert all_ids([bad, ""]) is False and all_ids(["", bad]) is False
