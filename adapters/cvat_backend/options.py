"""annotate()'s CVAT options, checked without sending anything; all problems reported at once.

Connection settings (the URL, credentials, headers, the request bounds) are resolved here into
`CVATSettings` and never recorded, except the URL, which the load reuses (user info never
reaches it: settings.py takes it out). `pause_gc` is this process's choice, not the run's: it is
not recorded either, and each call takes it anew (see `adapters/paused_gc.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from annoflow.adapters.cvat.errors import CVATSettingsError
from annoflow.adapters.cvat.settings import CVATSettings, resolve_settings
from annoflow.adapters.cvat.timeouts import SETTINGS as TIMEOUT_SETTINGS
from annoflow.adapters.cvat.timeouts import seconds
from annoflow.adapters.cvat_backend.limits import INT_LIMIT, NAME_LIMIT
from annoflow.application.ports.annotation_backend import BackendConfig, BackendConfigError
from annoflow.domain.samples import MediaType

CONNECTION = ("url", "username", "password", "email", "headers", *TIMEOUT_SETTINGS)
UNRECORDED = ("pause_gc",)  # options of this process, not of the run: a load takes its own


@attrs.frozen
class CVATOptions:
    segment_size: int | None = None
    image_quality: int = 75
    use_cache: bool = True
    use_zip_chunks: bool = True
    chunk_size: int | None = None
    job_assignees: tuple[str, ...] = ()
    job_reviewers: tuple[str, ...] = ()
    project_name: str | None = None
    project_id: int | None = None
    organization: str | None = None
    # Pause Python's cyclic collector while a task's objects are built and read back (faster; it is
    # process-wide, so other threads of the caller's process run without it meanwhile).
    pause_gc: bool = True


def _positive(name: str, value: Any, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{name} must be a positive integer, got {value!r}")
        return None
    return value


def _flag(name: str, value: Any, default: bool, problems: list[str]) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.append(f"{name} must be True or False, got {value!r}")
        return default
    return value


def _names(name: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{name} must be a list of usernames, got {value!r}")
        return ()
    return tuple(value)


def parse(options: Mapping[str, Any], media_type: MediaType, *, interactive: bool | None = None) -> BackendConfig:
    parsed, problems = check(options, media_type)
    if problems:
        raise BackendConfigError(problems)
    try:
        connection: dict[str, Any] = {k: options.get(k) for k in CONNECTION}  # the user's values, checked there
        settings = resolve_settings(interactive=interactive, organization=parsed.organization, **connection)
    except CVATSettingsError as error:
        raise BackendConfigError([error.detail]) from None
    recorded = {k: v for k, v in attrs.asdict(parsed).items() if v not in (None, (), []) and k not in UNRECORDED}
    recorded = {k: list(v) if isinstance(v, tuple) else v for k, v in recorded.items()}
    recorded["url"] = settings.base_url
    return BackendConfig(recorded, (parsed, settings))


def parse_options(options: Mapping[str, Any], media_type: MediaType) -> CVATOptions:
    """The CVAT options of ``options`` checked, without resolving any connection setting (a session
    over an API the user holds: its login is the API's)."""
    parsed, problems = check(options, media_type)
    if problems:
        raise BackendConfigError(problems)
    return parsed


def check(options: Mapping[str, Any], media_type: MediaType) -> tuple[CVATOptions, list[str]]:
    known = set(attrs.fields_dict(CVATOptions)) | set(CONNECTION)
    problems = [f"unknown CVAT option {name!r}" for name in sorted(set(options) - known)]
    quality = options.get("image_quality", 75)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        problems.append(f"image_quality must be an integer in [0, 100], got {quality!r}")
        quality = 75
    project_name = options.get("project_name")
    if project_name is not None and (not isinstance(project_name, str) or not project_name):
        problems.append(f"project_name must be a non-empty string, got {project_name!r}")
    elif project_name is not None and len(project_name) > NAME_LIMIT:
        problems.append(f"project_name has {len(project_name)} characters: CVAT takes at most {NAME_LIMIT}")
    organization = options.get("organization")
    if organization is not None and (not isinstance(organization, str) or not organization):
        problems.append(f"organization must be a non-empty string, got {organization!r}")
    if options.get("project_name") and options.get("project_id") is not None:
        problems.append("give project_name or project_id, not both")
    segment_size = _positive("segment_size", options.get("segment_size"), problems)
    if segment_size is not None and segment_size > INT_LIMIT:
        problems.append(f"segment_size {segment_size} is more than CVAT takes ({INT_LIMIT})")
    if segment_size is not None and media_type is MediaType.VIDEO:
        problems.append("segment_size applies to image tasks only (videos are cut by CVAT's own rules)")
    parsed = CVATOptions(
        segment_size=segment_size,
        image_quality=quality,
        use_cache=_flag("use_cache", options.get("use_cache"), True, problems),
        use_zip_chunks=_flag("use_zip_chunks", options.get("use_zip_chunks"), True, problems),
        chunk_size=_positive("chunk_size", options.get("chunk_size"), problems),
        job_assignees=_names("job_assignees", options.get("job_assignees"), problems),
        job_reviewers=_names("job_reviewers", options.get("job_reviewers"), problems),
        project_name=project_name or None,
        project_id=_positive("project_id", options.get("project_id"), problems),
        organization=organization,
        pause_gc=_flag("pause_gc", options.get("pause_gc"), True, problems),
    )
    headers = options.get("headers")
    if headers is not None and not isinstance(headers, Mapping):
        problems.append("headers must be a dict of header name -> value")
    for name in TIMEOUT_SETTINGS:
        if options.get(name) is not None:
            try:
                seconds(name, options[name])
            except ValueError as error:
                problems.append(str(error))
    return parsed, problems


def unpack(config: BackendConfig) -> tuple[CVATOptions, CVATSettings]:
    return config.connection
