"""Where the CVAT connection comes from: keyword arguments, environment, config files, a prompt.

For each setting the first source that has it wins:
1. keyword arguments (``url=``, ``username=``, ``password=``, ``email=``, ``headers=``, ``organization=``);
2. the environment: ``ANNOFLOW_CVAT_*`` of our own, then ``FIFTYONE_CVAT_*`` for users coming
   from FiftyOne (``URL``, ``USERNAME``, ``PASSWORD``, ``EMAIL``);
3. config files: annoflow's (``cvat`` section of ``config.json`` in the user config dir, or
   ``ANNOFLOW_CONFIG``), then FiftyOne's ``backends.cvat`` in ``~/.fiftyone/annotation_config.json``
   (or ``FIFTYONE_ANNOTATION_CONFIG_PATH``);
4. an interactive prompt for the username and password, only when a terminal is attached.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import platformdirs

from annoflow.adapters.cvat.errors import CredentialsError
from annoflow.adapters.cvat.secrets import Secret

logger = logging.getLogger(__name__)
DEFAULT_URL = "https://app.cvat.ai"
FIELDS = ("url", "username", "password", "email", "headers", "organization")
HOW_TO = (
    "give CVAT credentials in one of three ways: keyword arguments (username=..., password=...), "
    "the environment (FIFTYONE_CVAT_USERNAME and FIFTYONE_CVAT_PASSWORD, or ANNOFLOW_CVAT_*), "
    "or a config file (backends.cvat in ~/.fiftyone/annotation_config.json)"
)


def _headers(value: Mapping[str, Any] | None) -> tuple[tuple[str, Secret], ...]:
    # Custom headers may carry tokens (proxies, gateways): their values are secrets too.
    return tuple((str(k), v if isinstance(v, Secret) else Secret(str(v))) for k, v in (value or {}).items())


@attrs.frozen
class CVATSettings:
    url: str = DEFAULT_URL
    username: str | None = None
    password: Secret | None = None
    email: str | None = None
    headers: tuple[tuple[str, Secret], ...] = attrs.field(default=(), converter=_headers)
    organization: str | None = None

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    def header_dict(self) -> dict[str, str]:
        return {name: value.reveal() for name, value in self.headers}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for prefix in ("ANNOFLOW_CVAT_", "FIFTYONE_CVAT_"):
        for field in ("url", "username", "password", "email", "organization"):
            value = env.get(prefix + field.upper())
            if value and field not in found:
                found[field] = value
    return found


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise CredentialsError(f"cannot read CVAT settings from {path}: {type(error).__name__}") from None
    return data if isinstance(data, dict) else {}


def config_paths(env: Mapping[str, str]) -> list[tuple[Path, tuple[str, ...]]]:
    """The config files to read, first wins, with the keys that lead to the CVAT section."""
    ours = Path(env.get("ANNOFLOW_CONFIG") or platformdirs.user_config_path("annoflow") / "config.json")
    fiftyone = Path(env.get("FIFTYONE_ANNOTATION_CONFIG_PATH") or Path.home() / ".fiftyone" / "annotation_config.json")
    return [(ours, ("cvat",)), (fiftyone, ("backends", "cvat"))]


def _from_files(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, keys in config_paths(env):
        section: Any = _read_json(path)
        for key in keys:
            section = section.get(key, {}) if isinstance(section, dict) else {}
        for field in FIELDS:
            if isinstance(section, dict) and section.get(field) not in (None, "") and field not in found:
                found[field] = section[field]
                logger.debug("CVAT setting %r read from %s", field, path)  # its name only, never its value
    return found


def _prompt(ask: Callable[[str], str], ask_secret: Callable[[str], str], need_username: bool) -> dict[str, Any]:
    print(
        "Please enter your login credentials.\nYou can avoid this in the future by setting your "
        "`FIFTYONE_CVAT_USERNAME` and `FIFTYONE_CVAT_PASSWORD` environment variables.",
        file=sys.stderr,
    )
    answers: dict[str, Any] = {}
    if need_username:
        answers["username"] = ask("Username: ")
    answers["password"] = ask_secret("Password: ")
    return answers


def resolve_settings(
    *,
    env: Mapping[str, str] | None = None,
    interactive: bool | None = None,
    ask: Callable[[str], str] = input,
    ask_secret: Callable[[str], str] = getpass.getpass,
    **kwargs: Any,
) -> CVATSettings:
    """The connection settings, each from the first source that has it (see the module docstring)."""
    unknown = sorted(set(kwargs) - set(FIELDS))
    if unknown:
        raise TypeError(f"unknown CVAT connection settings: {unknown}")
    env = os.environ if env is None else env
    given = {k: v for k, v in kwargs.items() if v not in (None, "")}
    merged = {**_from_files(env), **_from_env(env), **given}
    if not merged.get("password") or not (merged.get("username") or merged.get("email")):
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        if not interactive:
            raise CredentialsError(f"no CVAT credentials found: {HOW_TO}")
        merged.update(_prompt(ask, ask_secret, need_username=not (merged.get("username") or merged.get("email"))))
    password = merged.get("password")
    return CVATSettings(
        url=merged.get("url") or DEFAULT_URL,
        username=merged.get("username"),
        password=password if isinstance(password, Secret) else Secret(str(password)),
        email=merged.get("email"),
        headers=merged.get("headers") or {},
        organization=merged.get("organization"),
    )
