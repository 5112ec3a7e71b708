"""Every package folder is listed in pyproject.toml, so a non-editable install ships it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The face package (annoflow/) and the three layer folders mapped onto its subpackages.
FOLDERS = {
    "annoflow": "annoflow", "domain": "annoflow.domain", "application": "annoflow.application",
    "adapters": "annoflow.adapters",
}


def test_every_package_folder_is_declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    assert config["package-dir"] == {v: k for k, v in FOLDERS.items()}
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join((package, *rel.parts)))
    assert found == declared


def test_the_face_ships_its_type_marker():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert (ROOT / "annoflow" / "py.typed").is_file()
    assert "py.typed" in config["package-data"]["annoflow"]
