"""annoflow: FiftyOne's CVAT annotation workflow, every run an event-sourced record.

``import annoflow as af`` gives the public face (see ``annoflow.face``)::

    import annoflow as af

    dataset = af.open_dataset("quickstart")
    results = dataset.take(5, seed=51).annotate("my_run", label_field="ground_truth")

The face is loaded on first use, not on ``import annoflow``: importing one layer
(``annoflow.domain``, or the CVAT simulator, which stands for a foreign server)
does not load the others.
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import TYPE_CHECKING, Any

# A library leaves logging to its application: without this, Python's last-resort handler would
# print annoflow's warnings (an HTTP retry) to stderr. The command line shows them (adapters/cli.py).
logging.getLogger(__name__).addHandler(logging.NullHandler())

try:
    __version__: str = metadata.version("annoflow")  # single-sourced in pyproject.toml
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from annoflow.face import *  # noqa: F403 - the names below, for type checkers and editors

__all__ = [
    "AnnoflowError",
    "ExpressionError",
    "EvaluationError",
    "DataImportError",
    "DataExportError",
    "DetectionResults",
    "F",
    "ViewExpression",
    "ViewField",
    "AnnotationInfo",
    "AnnotationResults",
    "CVATAPI",
    "CVATAnnotationAPI",
    "CVATAuthError",
    "CVATConnectionError",
    "CVATError",
    "CVATNotFoundError",
    "CVATTimeoutError",
    "CredentialsError",
    "Dataset",
    "DatasetView",
    "DuplicateSampleError",
    "BackendConfigError",
    "FieldSchemaError",
    "LabelSchemaError",
    "MediaNotFoundError",
    "ProjectNotFoundError",
    "RunConflictError",
    "RunError",
    "TaskPlanError",
    "TaskStatus",
    "UnexpectedLabel",
    "UnknownSampleError",
    "CVATAnswerError",
    "CVATSettingsError",
    "LabelStoreConflictError",
    "LabelStoreLockedError",
    "LedgerError",
    "RunRegistryLockedError",
    "TaskGoneError",
    "UnusableMediaError",
    "UnsafeMediaPathError",
    "WrongServerError",
    "__version__",
    "connect_to_api",
    "import_annotations",
    "import_cvat_xml",
    "XmlImportSummary",
    "CvatXmlError",
    "list_datasets",
    "load_dataset",
    "open_dataset",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from annoflow import face

        value = getattr(face, name)
        globals()[name] = value  # found once, then an ordinary attribute
        return value
    raise AttributeError(f"module 'annoflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
