"""CVAT over httpx: settings, login, retries, typed errors, the operations, and the public wrapper."""

from annoflow.adapters.cvat.api import CVATAPI, CVATAnnotationAPI, connect_to_api
from annoflow.adapters.cvat.client import CVATClient
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
from annoflow.adapters.cvat.retry import RetryPolicy
from annoflow.adapters.cvat.secrets import Secret
from annoflow.adapters.cvat.settings import CVATSettings, resolve_settings
from annoflow.adapters.cvat.timeouts import Timeouts

__all__ = [
    "CVATAPI",
    "CVATAnnotationAPI",
    "CVATAnswerError",
    "CVATAuthError",
    "CVATClient",
    "CVATConnectionError",
    "CVATError",
    "CVATNotFoundError",
    "CVATSettings",
    "CVATSettingsError",
    "CVATTimeoutError",
    "CredentialsError",
    "RetryPolicy",
    "Secret",
    "Timeouts",
    "connect_to_api",
    "resolve_settings",
]
