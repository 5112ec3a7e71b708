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
from typing import TYPE_CHECKING

# A library leaves logging to its application: without this, Python's last-resort handler would
# print annoflow's warnings (an HTTP retry) to stderr. The command line shows them (adapters/cli.py).
logging.getLogger(__name__).addHandler(logging.NullHandler())

try:
    __version__: str = metadata.version("annoflow")  # single-sourced in pyproject.toml
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    # the names of __all__, for type checkers and editors (at run time __getattr__ loads them on first use)
    from annoflow.face import (
        CVATAPI,
        AnnoflowError,
        AnnotationInfo,
        AnnotationResults,
        BackendConfigError,
        CredentialsError,
        CVATAnnotationAPI,
        CVATAnswerError,
        CVATAuthError,
        CVATConnectionError,
        CVATError,
        CVATNotFoundError,
        CVATSettingsError,
        CVATTimeoutError,
        CvatXmlError,
        DataExportError,
        DataImportError,
        Dataset,
        DatasetView,
        DetectionResults,
        DuplicateSampleError,
        EvaluationError,
        ExpressionError,
        F,
        FieldSchemaError,
        LabelSchemaError,
        LabelStoreConflictError,
        LabelStoreLockedError,
        LedgerError,
        MediaNotFoundError,
        ProjectNotFoundError,
        RunConflictError,
        RunError,
        RunRegistryLockedError,
        TaskGoneError,
        TaskPlanError,
        TaskStatus,
        UnexpectedLabel,
        UnknownSampleError,
        UnsafeMediaPathError,
        UnusableMediaError,
        ViewExpression,
        ViewField,
        WrongServerError,
        XmlImportSummary,
        connect_to_api,
        import_annotations,
        import_cvat_xml,
        list_datasets,
        load_dataset,
        open_dataset,
    )

__all__ = [
    "CVATAPI",
    "AnnoflowError",
    "AnnotationInfo",
    "AnnotationResults",
    "BackendConfigError",
    "CVATAnnotationAPI",
    "CVATAnswerError",
    "CVATAuthError",
    "CVATConnectionError",
    "CVATError",
    "CVATNotFoundError",
    "CVATSettingsError",
    "CVATTimeoutError",
    "CredentialsError",
    "CvatXmlError",
    "DataExportError",
    "DataImportError",
    "Dataset",
    "DatasetView",
    "DetectionResults",
    "DuplicateSampleError",
    "EvaluationError",
    "ExpressionError",
    "F",
    "FieldSchemaError",
    "LabelSchemaError",
    "LabelStoreConflictError",
    "LabelStoreLockedError",
    "LedgerError",
    "MediaNotFoundError",
    "ProjectNotFoundError",
    "RunConflictError",
    "RunError",
    "RunRegistryLockedError",
    "TaskGoneError",
    "TaskPlanError",
    "TaskStatus",
    "UnexpectedLabel",
    "UnknownSampleError",
    "UnsafeMediaPathError",
    "UnusableMediaError",
    "ViewExpression",
    "ViewField",
    "WrongServerError",
    "XmlImportSummary",
    "__version__",
    "connect_to_api",
    "import_annotations",
    "import_cvat_xml",
    "list_datasets",
    "load_dataset",
    "open_dataset",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        from annoflow import face

        value = getattr(face, name)
        globals()[name] = value  # found once, then an ordinary attribute
        return value
    raise AttributeError(f"module 'annoflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
