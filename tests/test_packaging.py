"""Every package folder is listed in pyproject.toml, so a non-editable install ships it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"domain": "annoflow.domain", "application": "annoflow.application", "adapters": "annoflow.adapters"}


def test_every_package_folder_is_declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    assert config["package-dir"] == {v: k for k, v in LAYERS.items()}
    found = set()
    for folder, package in LAYERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join((package, *rel.parts)))
    assert found == declared
