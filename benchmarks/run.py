"""Run every benchmark and print a Markdown table: ``python benchmarks/run.py``.

Each ``bench_*.py`` module here has a ``run()`` returning (what, figure) rows;
each runs in its own process so peak memory is its own.
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    print(f"Benchmarks on {datetime.date.today().isoformat()} ({machine}):\n")
    print("| what | figure |")
    print("| --- | --- |")
    failed = 0
    for module in sorted(HERE.glob("bench_*.py")):
        result = subprocess.run([sys.executable, str(module)], capture_output=True, text=True)
        if result.returncode:
            failed += 1
            print(
                f"| {module.stem} | FAILED: {result.stderr.strip().splitlines()[-1] if result.stderr else result.returncode} |"
            )
        else:
            print(result.stdout.strip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
