"""The audit trail's details: every change and refusal of a run's loads, one line each, streamed."""

from __future__ import annotations

from annoflow.adapters import cli
from annoflow.application.audit import change_lines
from annoflow.application.runs.registry import RunRegistry
from tests.runs.test_registry import _full_run


def test_each_change_and_refusal_is_one_line_named_by_its_load_and_task(tmp_path):
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "r.db")})
    run, ledger = _full_run()
    registry.add_run(run, ledger)
    lines = list(change_lines(registry.iter_history(run.id, details=True)))
    assert len(lines) == 5 and all(line.startswith("load load-1, task 7: ") for line in lines)
    assert lines[0].endswith(
        f"added Detection {ledger.changes_of('load-1')[0].label_id} 'dog' in 'ground_truth' "
        f"of sample {run.sample_ids[1]}"
    )
    assert lines[-1] == (
        f"load load-1, task 7: refused (allow_additions) on sample {run.sample_ids[3]}, "
        "field 'ground_truth': add 'cat' box"
    )
    assert list(change_lines(registry.iter_history(run.id, details=True), only_load="another")) == []
    assert list(change_lines(registry.iter_history(run.id))) == []  # the summary reads no ledger


def test_annoflow_audit_details_prints_them(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
    )
    run, ledger = _full_run()
    registry.add_run(run, ledger)
    assert cli.main(["audit", "anno", "--dataset", "quickstart", "--details", "--load", "load-1"]) == 0
    out = capsys.readouterr().out
    assert "load load-1: 1 added, 2 edited, 1 deleted, 1 rejected" in out
    assert out.count("    load load-1, task 7: ") == 5
