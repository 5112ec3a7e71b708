"""Where the CVAT connection comes from: keyword arguments, environment, config files, a prompt.

The first source that has a setting wins; every credential is a `Secret` from the moment it is
read. docs/configuration.md gives the order and the rules for URLs carrying credentials.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import platformdirs

from annoflow.adapters.cvat.errors import CredentialsError, CVATSettingsError
from annoflow.adapters.cvat.secrets import Secret, seal_credentials
from annoflow.adapters.cvat.timeouts import SETTINGS as TIMEOUT_SETTINGS
from annoflow.adapters.cvat.timeouts import Timeouts

logger = logging.getLogger(__name__)
DEFAULT_URL = "https://app.cvat.ai"
CONNECTION = ("url", "username", "password", "email", "headers", "organization")
FIELDS = CONNECTION + tuple(TIMEOUT_SETTINGS)
HOW_TO = (
    "give CVAT credentials in one of three ways: keyword arguments (username=..., password=...), "
    "the environment (FIFTYONE_CVAT_USERNAME and FIFTYONE_CVAT_PASSWORD, or ANNOFLOW_CVAT_*), "
    "or a config file (backends.cvat in ~/.fiftyone/annotation_config.json)"
)


def _headers(value: Mapping[str, Any] | None) -> tuple[tuple[str, Secret], ...]:
    # Custom headers may carry tokens (proxies, gateways): their values are secrets too.
    return tuple((str(k), v if isinstance(v, Secret) else Secret(str(v))) for k, v in (value or {}).items())


def _no_userinfo(_instance: Any, _attribute: Any, url: str) -> None:
    if "@" in urllib.parse.urlsplit(url).netloc:
        raise CredentialsError(
            "a CVATSettings url may not carry user info: give username= and password= "
            "(resolve_settings takes them out of a URL)"
        )


@attrs.frozen
class CVATSettings:
    url: str = attrs.field(default=DEFAULT_URL, validator=_no_userinfo)
    username: str | None = None
    password: Secret | None = None
    email: str | None = None
    headers: tuple[tuple[str, Secret], ...] = attrs.field(default=(), converter=_headers)
    organization: str | None = None
    timeouts: Timeouts = Timeouts()

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    def header_dict(self) -> dict[str, str]:
        return {name: value.reveal() for name, value in self.headers}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for prefix in ("ANNOFLOW_CVAT_", "FIFTYONE_CVAT_"):
        # FiftyOne has no request bounds: only annoflow's variables name them
        names = ("url", "username", "password", "email", "organization") + (
            tuple(TIMEOUT_SETTINGS) if prefix == "ANNOFLOW_CVAT_" else ()
        )
        for field in names:
            value = env.get(prefix + field.upper())
            if value and field not in found:
                found[field] = value
    return seal_credentials(found)


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


def _from_files(paths: list[tuple[Path, tuple[str, ...]]]) -> list[tuple[str, dict[str, Any]]]:
    """Each config file's CVAT settings, first file first, credentials sealed."""
    found = []
    for path, keys in paths:
        section: Any = _read_json(path)
        for key in keys:
            section = section.get(key, {}) if isinstance(section, dict) else {}
        if not isinstance(section, dict):
            continue
        # FiftyOne's file holds FiftyOne's settings only (it refuses others): bounds are read from ours
        fields = FIELDS if keys == ("cvat",) else CONNECTION
        for field in fields:
            if section.get(field) not in (None, ""):
                logger.debug("CVAT setting %r read from %s", field, path)  # its name only, never its value
        found.append((str(path), seal_credentials({f: section[f] for f in fields if section.get(f) not in (None, "")})))
    return found


def _split_userinfo(url: Any) -> tuple[str, str | None, Secret | None] | None:
    """The URL without user info, and the user name and password it carried; None when it is no URL.

    Returns rather than raises, so no frame that held the URL's text is in a traceback."""
    text = url.reveal() if isinstance(url, Secret) else str(url)
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return None
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return text, None, None
    user, colon, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return clean, urllib.parse.unquote(user) or None, Secret(urllib.parse.unquote(password)) if colon else None


def _take_userinfo(source: dict[str, Any], where: str) -> dict[str, Any]:
    """One source's settings with its URL's user info as its username and password (module docstring)."""
    if source.get("url") in (None, ""):
        return source
    split = _split_userinfo(source["url"])
    if split is None:
        raise CVATSettingsError(f"the CVAT url from {where} is not a URL")
    clean, user, password = split
    taken = {**source, "url": clean}
    for field, value in (("username", user), ("password", password)):
        if value is None:
            continue
        named = source.get(field)
        if named not in (None, "") and seal_credentials({field: named})[field] != value:
            raise CredentialsError(
                f"{where} gives a {field} in the CVAT url and a different one as {field}: "
                f"give it once, as {field}= and the url without user info"
            )
        taken[field] = value
    return taken


def _read_env(env: Mapping[str, str]) -> tuple[list[tuple[Path, tuple[str, ...]]], dict[str, Any]]:
    """What the environment gives: the config files to read and the CVAT variables, sealed."""
    return config_paths(env), _from_env(env)


def _prompt(ask: Callable[[str], str], ask_secret: Callable[[str], str], need_username: bool) -> dict[str, Any]:
    print(
        "Please enter your login credentials.\nYou can avoid this in the future by setting your "
        "`FIFTYONE_CVAT_USERNAME` and `FIFTYONE_CVAT_PASSWORD` environment variables.",
        file=sys.stderr,
    )
    answers: dict[str, Any] = {}
    if need_username:
        answers["username"] = ask("Username: ")
    answers["password"] = Secret(ask_secret("Password: "))
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
    # os.environ is never bound to a local here: a traceback with locals would show all of it
    paths, environment = _read_env(os.environ if env is None else env)
    given = {k: v for k, v in kwargs.items() if v not in (None, "")}
    sources = [
        *reversed(_from_files(paths)),
        ("the environment", environment),
        ("keyword arguments", seal_credentials(given)),
    ]
    merged: dict[str, Any] = {}
    for where, found in sources:  # the last source wins: keyword arguments
        merged.update(_take_userinfo(found, where))
    if not merged.get("password") or not (merged.get("username") or merged.get("email")):
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        if not interactive:
            raise CredentialsError(f"no CVAT credentials found: {HOW_TO}")
        merged.update(_prompt(ask, ask_secret, need_username=not (merged.get("username") or merged.get("email"))))
    password = merged.get("password")
    try:
        timeouts = Timeouts.from_settings({name: merged.get(name) for name in TIMEOUT_SETTINGS})
    except ValueError as error:
        raise CVATSettingsError(str(error)) from None
    return CVATSettings(
        url=merged.get("url") or DEFAULT_URL,
        username=merged.get("username"),
        password=password if isinstance(password, Secret) else Secret(str(password)),  # sealed above: a str if typed
        email=merged.get("email"),
        headers=merged.get("headers") or {},
        organization=merged.get("organization"),
        timeouts=timeouts,
    )
