"""The public face, what ``import annoflow as af`` gives: datasets, results, errors, the CVAT API.

This module only gathers names defined in the layers (it is the outermost layer:
it may import adapters); ``annoflow/__init__.py`` loads it on first use.

Every exception class annoflow defines derives from ``AnnoflowError`` and keeps the
builtin base callers would expect; the tree is in ``annoflow.domain.errors``.
"""

from annoflow.adapters.cvat.api import CVATAPI, CVATAnnotationAPI, connect_to_api
from annoflow.adapters.cvat.media_names import UnsafeMediaPathError
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
from annoflow.adapters.cvat_xml.importing import XmlImportSummary, import_cvat_xml
from annoflow.adapters.cvat_xml.reader import CvatXmlError
from annoflow.adapters.label_stores.rules import LabelStoreConflictError
from annoflow.adapters.label_stores.sqlite import LabelStoreLockedError
from annoflow.adapters.wiring import list_datasets, open_dataset
from annoflow.utils.cvat import import_annotations
from annoflow.adapters.datasets import Dataset
from annoflow.adapters.formats.errors import DataExportError, DataImportError
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

load_dataset = open_dataset  # FiftyOne's name: ``fo.load_dataset(name)``
ViewField = F  # FiftyOne's name: ``from fiftyone import ViewField as F``

__all__ = [
    # datasets
    "Dataset", "DatasetView", "list_datasets", "load_dataset", "open_dataset",
    # view expressions (FiftyOne's ``from fiftyone import ViewField as F``)
    "F", "ViewExpression", "ViewField",
    # results and info
    "AnnotationInfo", "AnnotationResults", "TaskStatus", "UnexpectedLabel", "DetectionResults",
    # CVAT's API
    "CVATAPI", "CVATAnnotationAPI", "connect_to_api", "import_annotations",
    # CVAT's own export formats ("CVAT for images 1.1", "CVAT for video 1.1"); Dataset.export_cvat_xml writes them
    "import_cvat_xml", "XmlImportSummary",
    # errors
    "AnnoflowError", "BackendConfigError", "CVATAuthError", "CVATConnectionError", "CVATError", "CVATNotFoundError",
    "CVATTimeoutError", "CredentialsError", "DuplicateSampleError", "FieldSchemaError", "LabelSchemaError", "MediaNotFoundError",
    "ProjectNotFoundError", "RunConflictError", "RunError", "TaskPlanError", "UnknownSampleError",
    "CVATAnswerError", "CVATSettingsError", "LabelStoreConflictError", "LabelStoreLockedError", "LedgerError",
    "RunRegistryLockedError", "TaskGoneError",
    "UnusableMediaError", "UnsafeMediaPathError", "CvatXmlError", "WrongServerError", "ExpressionError", "EvaluationError",
    "DataImportError", "DataExportError",
]
