"""The import-linter contracts in pyproject.toml hold: the face -> adapters -> application -> domain.

They run as plain ``lint-imports``: grimp walks annoflow/, whose symlinks domain, application and
adapters lead to the layer folders (pyproject's package-dir maps them onto those names).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    result = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout, result.stdout


def test_the_graph_holds_the_face_and_every_layer():
    # A root grimp did not walk would make every contract about it pass vacuously.
    probe = "import grimp; print(sorted(grimp.build_graph('annoflow', cache_dir=None).modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for module in (
        "annoflow",
        "annoflow.face",
        "annoflow.__main__",
        "annoflow.domain",
        "annoflow.application",
        "annoflow.adapters",
        "annoflow.domain.labels",
        "annoflow.adapters.wiring",
    ):
        assert f"'{module}'" in out, (module, out)


def _loaded_after(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print(' '.join(m for m in sys.modules if m.startswith('annoflow')))"
    return set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split())


def test_a_layer_loads_without_the_face():
    # The face is loaded on first use: the simulator, which stands for a foreign server, runs
    # without annoflow's model, and the domain without the outer layers.
    simulator = _loaded_after("import annoflow.adapters.cvat_sim.server")
    assert "annoflow.adapters.cvat_sim.server" in simulator
    assert not {m for m in simulator if m.startswith(("annoflow.face", "annoflow.domain", "annoflow.application"))}
    domain = _loaded_after("import annoflow.domain.labels")
    assert "annoflow.domain.labels" in domain
    assert not {m for m in domain if m.startswith(("annoflow.face", "annoflow.application", "annoflow.adapters"))}
    face = _loaded_after("import annoflow as af; af.open_dataset")
    assert {"annoflow.face", "annoflow.adapters.wiring"} <= face
