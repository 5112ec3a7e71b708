"""The repository stands alone: nothing reads outside it, and CVAT's schema ships with the package.

Users clone annoflow alone and install it as a wheel; a path to a sibling folder
(such as a ``shared/`` laid beside a CI checkout) would work on CI and fail for them.
``.ci/run`` also runs the suite in a fresh clone inside an empty folder.
"""

import fnmatch
import hashlib
import re
import subprocess
import tomllib
from pathlib import Path

from annoflow.adapters.cvat_sim.validation import SCHEMA_FILE, schema_path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_SHA256 = "dde34bd9dc5329e3203a49c54f6c0c2226ed530cb54eb4989d168ce93c25f859"

# A path that climbs out of the repository to the folder CI lays beside a checkout: the parent
# folder's name written after "..", a quoted name joined to a Path, or its subfolders' names.
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']\s*/|shared/(cvat|seed|hooks)\b|cvat-integration\.md""")


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return [ROOT / line for line in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):  # an unpacked sdist: walk the tree instead
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]


def test_no_file_reads_a_path_outside_the_repository():
    offenders = []
    for path in _tracked_files():
        if path == Path(__file__).resolve() or path.suffix in {".yml", ".jpg", ".png", ".mp4", ".sqlite"}:
            continue
        if path.is_symlink():  # annoflow/{domain,application,adapters}: a link is read where it leads
            if not path.resolve().is_relative_to(ROOT):
                offenders.append(f"{path.relative_to(ROOT)} -> {path.readlink()}")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        offenders += [
            f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)
        ]
    assert offenders == [], f"paths outside the repository: {offenders}"


def test_the_vendored_schema_is_cvat_2_52_0_unchanged_and_inside_the_package():
    path = schema_path()
    # resolve(): in a checkout the package is imported through the symlink annoflow/adapters.
    assert path.resolve().is_relative_to(ROOT / "adapters" / "cvat_sim")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert "version: 2.52.0" in path.read_text()[:200]
    assert (path.parent / "PROVENANCE.md").read_text().count(SCHEMA_SHA256) == 1


def test_a_wheel_ships_the_schema():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["annoflow.adapters.cvat_sim"]
    shipped = {
        name
        for name in (f"schema/{SCHEMA_FILE}", "schema/PROVENANCE.md")
        if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
    }
    assert shipped == {f"schema/{SCHEMA_FILE}", "schema/PROVENANCE.md"}
