"""``import annoflow as af``: the public face, its version, and ``python -m annoflow``."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import annoflow as af
from annoflow import face
from annoflow.adapters import wiring
from annoflow.domain.samples import Sample

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves_and_the_lists_agree():
    assert set(af.__all__) == set(face.__all__) | {"__version__"}
    for name in af.__all__:
        assert getattr(af, name) is not None, name
    assert set(af.__all__) <= set(dir(af))
    assert af.load_dataset is af.open_dataset
    assert af.Dataset is wiring.Dataset and af.open_dataset is wiring.open_dataset
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        af.nothing_here  # noqa: B018


def test_type_checkers_see_every_public_name():
    # __getattr__ loads the face at run time; editors and mypy read the TYPE_CHECKING import instead
    tree = ast.parse(Path(af.__file__).read_text())
    guarded = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    assert len(guarded) == 1
    imported = {
        alias.name
        for node in guarded[0].body
        if isinstance(node, ast.ImportFrom) and node.module == "annoflow.face"
        for alias in node.names
    }
    assert imported == set(af.__all__) - {"__version__"}


def test_the_version_is_pyprojects():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert af.__version__ == version


def test_the_face_imports_from_any_folder(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import annoflow as af; print(af.__version__); af.open_dataset; af.AnnotationResults"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == af.__version__


def test_python_dash_m_annoflow_runs_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "annoflow", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: annoflow") and "quickstart" in result.stdout


def test_list_datasets_names_the_data_dirs_datasets(tmp_path):
    env = {"ANNOFLOW_DATA_DIR": str(tmp_path)}
    assert af.list_datasets(env) == []
    assert not (tmp_path / "datasets.sqlite").exists()  # listing creates nothing
    af.open_dataset("b", env=env).store.add_samples([Sample(filepath="/b.jpg", media_type="image")])
    af.open_dataset("a", env=env).store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    af.open_dataset("opened only", env=env)
    assert af.list_datasets(env) == ["a", "b"]
