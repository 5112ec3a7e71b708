"""The ``annoflow`` command line: help everywhere, tables, one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import annoflow
from annoflow.adapters import cli, wiring


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return tmp_path


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("annoflow",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"{' '.join(path)} {name} has no help"
                yield from _parsers(sub, (*path, name))


def test_every_command_and_argument_has_help_and_commands_show_examples():
    for path, parser in _parsers(cli.build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{' '.join(path)}: {action.dest} has no help"
        if len(path) == 2:  # a command: its examples
            assert parser.epilog and "example" in parser.epilog, path
    assert "examples:" in cli.build_parser().epilog


def test_runs_help_names_its_actions_and_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["runs", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "a table of the runs" in out and "the dataset whose runs to use" in out and "annoflow runs rename" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"annoflow {annoflow.__version__}\n"
    out = subprocess.run(
        [sys.executable, "-m", "annoflow", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out == f"annoflow {annoflow.__version__}\n"


def test_datasets_lists_names_counts_and_fields(data_dir, capsys):
    assert cli.main(["datasets"]) == 0
    assert "no datasets in" in capsys.readouterr().out
    assert cli.main(["quickstart", "--samples", "3"]) == 0
    assert cli.main(["quickstart", "--dataset", "more", "--samples", "2", "--seed", "7"]) == 0
    capsys.readouterr()
    assert cli.main(["datasets"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["dataset", "samples", "fields"]
    assert [r.split()[:2] for r in rows] == [["more", "2"], ["quickstart", "3"]]
    assert "ground_truth (detections), predictions (detections)" in rows[1]


def test_an_error_is_one_line_on_stderr_with_exit_status_2(data_dir, capsys):
    assert cli.main(["quickstart", "--samples", "2"]) == 0
    assert cli.main(["quickstart", "--samples", "2"]) == 0  # twice: the dataset is kept
    capsys.readouterr()
    # The same seed draws the same sample ids, which one store file holds once.
    assert cli.main(["quickstart", "--dataset", "second", "--samples", "2"]) == 2
    _out, err = capsys.readouterr()
    assert (
        err.count("\n") == 1 and err.startswith("annoflow: error: a sample is already in") and "another --seed" in err
    )
    assert wiring.list_datasets() == ["quickstart"]  # nothing was added
    assert cli.main(["runs", "info", "nope"]) == 2
    assert capsys.readouterr().err == "annoflow: error: dataset 'quickstart' has no annotation runs\n"


def test_verbose_shows_what_is_done_and_an_errors_traceback(data_dir, capsys):
    assert cli.main(["-v", "quickstart", "--samples", "2"]) == 0
    assert "annoflow: INFO: drawing the quickstart media in" in capsys.readouterr().err
    assert cli.main(["-v", "runs", "info", "nope"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("annoflow: error: dataset 'quickstart' has no annotation runs\n")


def test_the_command_line_leaves_logging_as_it_found_it(data_dir):
    logger = logging.getLogger("annoflow")
    before = (list(logger.handlers), logger.level)
    cli.main(["-vv", "datasets"])
    assert (list(logger.handlers), logger.level) == before


def test_errors_of_other_kinds_name_their_type(data_dir, capsys, monkeypatch):
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["datasets"].set_defaults(handler=lambda args: 1 / 0)
    assert cli.main(["datasets"]) == 2
    assert capsys.readouterr().err == "annoflow: error: ZeroDivisionError: division by zero\n"


def test_the_console_script_runs(data_dir):
    script = str(Path(sys.executable).with_name("annoflow"))
    result = subprocess.run([script, "runs", "list"], capture_output=True, text=True)
    assert result.returncode == 0 and "has no annotation runs" in result.stdout
    result = subprocess.run([script, "runs", "info", "missing"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
