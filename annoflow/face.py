"""The public face, what ``import annoflow as af`` gives: datasets, results, errors, the CVAT API.

This module only gathers names defined in the layers (it is the outermost layer:
it may import adapters); ``annoflow/__init__.py`` loads it on first use.

Every exception class annoflow defines derives from ``AnnoflowError`` and keeps the
builtin base callers would expect; the tree is in ``annoflow.domain.errors``.
"""

from annoflow.adapters.cvat.api import CVATAPI, CVATAnnotationAPI, connect_to_api
from annoflow.adapters.cvat.errors import (
    CredentialsError,
    CVATAnswerError,
    CVATAuthError,
    CVATConnectionError,
    CVATError,
    CVATNotFoundError,
    CVATSettingsError,
    CVATTimeoutError,
)
from annoflow.adapters.cvat.media_names import UnsafeMediaPathError
from annoflow.adapters.cvat_xml.importing import XmlImportSummary, import_cvat_xml
from annoflow.adapters.cvat_xml.reader import CvatXmlError
from annoflow.adapters.datasets import Dataset
from annoflow.adapters.formats.errors import DataExportError, DataImportError
from annoflow.adapters.label_stores.rules import LabelStoreConflictError
from annoflow.adapters.label_stores.sqlite import LabelStoreLockedError
from annoflow.adapters.wiring import list_datasets, open_dataset
from annoflow.application.dataset import AnnotationInfo
from annoflow.application.evaluate import DetectionResults, EvaluationError
from annoflow.application.ports.annotation_backend import (
    BackendConfigError,
    MediaNotFoundError,
    ProjectNotFoundError,
    TaskGoneError,
    TaskStatus,
    UnexpectedLabel,
    UnusableMediaError,
)
from annoflow.application.ports.label_store import DuplicateSampleError, FieldSchemaError, UnknownSampleError
from annoflow.application.results import AnnotationResults
from annoflow.application.runs.registry import RunConflictError, RunRegistryLockedError
from annoflow.application.views import DatasetView
from annoflow.domain.annotation_run import RunError, WrongServerError
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.expressions import ExpressionError, F, ViewExpression
from annoflow.domain.label_schema import LabelSchemaError
from annoflow.domain.task_ledger import LedgerError
from annoflow.domain.task_plan import TaskPlanError
from annoflow.utils.cvat import import_annotations

load_dataset = open_dataset  # FiftyOne's name: ``fo.load_dataset(name)``
ViewField = F  # FiftyOne's name: ``from fiftyone import ViewField as F``

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
    "connect_to_api",
    "import_annotations",
    "import_cvat_xml",
    "list_datasets",
    "load_dataset",
    "open_dataset",
]
