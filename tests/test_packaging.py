"""Every package folder is listed in pyproject.toml, so a non-editable install ships it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The face package (annoflow/) and the three layer folders mapped onto its subpackages.
FOLDERS = {
    "annoflow": "annoflow",
    "domain": "annoflow.domain",
    "application": "annoflow.application",
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


def test_release_hygiene_licence_changelog_and_one_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    licence = (ROOT / "LICENSE").read_text()
    assert project["license"] == {"text": "MIT"}
    assert licence.startswith("MIT License") and "Copyright (c) annoflow contributors" in licence
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog
    # The version is written once, in pyproject.toml: the package reads it from its metadata.
    version = project["version"]
    for path in (ROOT / "annoflow").rglob("*.py"):
        assert version not in path.read_text(), path
