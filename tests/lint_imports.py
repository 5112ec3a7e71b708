"""import-linter on annoflow's layers: ``python -m tests.lint_imports [lint-imports options]``.

grimp, which builds import-linter's graph, takes as a root only a top-level package or a
package inside a namespace package, and finds a root's modules by walking its folder.
annoflow is a regular package (the face, in annoflow/) whose layer subpackages live in
folders of their own (domain/, application/, adapters/; pyproject's ``package-dir``), so
plain ``lint-imports`` refuses ``annoflow.domain`` as a root and cannot find it under
``annoflow``. This runner tells grimp's package finder that the layer subpackages are roots
too (each walked in its own folder, as before the face existed), then runs lint-imports on
pyproject's contracts unchanged.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec

from grimp.adaptors.packagefinder import ImportLibPackageFinder
from grimp.application.config import settings
from importlinter.cli import lint_imports_command

LAYERS = frozenset({"annoflow.domain", "annoflow.application", "annoflow.adapters"})


class LayerRootsFinder(ImportLibPackageFinder):
    """grimp's finder, except that annoflow's layer subpackages count as roots."""

    def _has_a_non_namespace_parent(self, spec: ModuleSpec) -> bool:
        return spec.name not in LAYERS and super()._has_a_non_namespace_parent(spec)


def main(argv: list[str] | None = None) -> None:
    settings.configure(PACKAGE_FINDER=LayerRootsFinder())
    lint_imports_command.main(args=sys.argv[1:] if argv is None else argv, prog_name="lint-imports")


if __name__ == "__main__":
    main()
