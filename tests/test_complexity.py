"""What a newcomer reads first stays readable: no function of the domain or the use cases above
radon's cyclomatic complexity 15 (ARCHITECTURE.md, "Tests")."""

from pathlib import Path

import pytest
from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
BOUND = 15
SOURCES = sorted(path for layer in ("domain", "application") for path in (ROOT / layer).rglob("*.py"))


def test_the_layers_are_walked():
    assert len(SOURCES) > 40
    assert ROOT / "domain" / "merge.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_function_above_the_bound(path: Path):
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    too_complex = [
        f"{block.fullname} (line {block.lineno}): {block.complexity}" for block in blocks if block.complexity > BOUND
    ]
    assert not too_complex, f"split into named steps: {too_complex}"


def test_the_bound_would_catch_a_tangle():
    tangle = "def f(x):\n" + "".join(f"    if x == {i} and x or x:\n        return {i}\n" for i in range(8))
    assert max(block.complexity for block in cc_visit(tangle)) > BOUND
