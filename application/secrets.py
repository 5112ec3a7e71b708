"""Credentials kept in a `Secret` from the moment they enter annoflow, so none ever shows itself.

The service API seals its keyword arguments first thing (`seal_credentials`): a traceback
formatted with locals (``pytest -l``, rich, Sentry), a repr or a log line then shows
``Secret('********')`` where a password was. What is a credential is the domain's rule
(`credential_name`, `credential_value`): an option named like one (``password``, ``api_token``),
the values of ``headers``, and a URL that carries user info.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from annoflow.domain.annotation_run import credential_name, credential_value


@attrs.frozen(repr=False)
class Secret:
    """A value that never shows itself: not in a repr, a str, a log line or an error."""

    _value: Any = attrs.field(alias="value")

    def reveal(self) -> Any:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def _sealed(value: Any) -> Any:
    return value if value is None or isinstance(value, Secret) else Secret(value)


def seal_credentials(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options with every credential in a Secret (the others as they are)."""
    sealed: dict[str, Any] = {}
    for name, value in options.items():
        if str(name).lower() == "headers" and isinstance(value, Mapping):
            sealed[name] = {header: _sealed(text) for header, text in value.items()}
        elif credential_name(name) or (credential_value(value) and not isinstance(value, Secret)):
            sealed[name] = _sealed(value)
        else:
            sealed[name] = value
    return sealed


def seal_connection(url: Any, password: Any, headers: Any) -> tuple[Any, Any, Any]:
    """A service call's own connection parameters sealed, to rebind them first thing, so no frame
    of the call holds a password (or a URL with one, or a header's value) in the clear."""
    sealed = seal_credentials({"url": url, "password": password, "headers": headers})
    return sealed["url"], sealed["password"], sealed["headers"]
