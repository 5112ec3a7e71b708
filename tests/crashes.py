"""Crash injection for the use cases: every call they make to a port or to the run registry is a step.

Wrap the label store, the registry and the backends in `Tap`s sharing one `Steps`; a clean run
through them lists its steps, in order. A crashing run raises `Crash` at step k, either *before*
the call reaches its target (nothing of it happened) or *after* it returned (it happened, the
caller never heard of it: a lost response, a power cut right after a commit). Enumerating the
steps of a clean run, instead of listing them by hand, covers steps added later automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from annoflow.application.ports.annotation_backend import BackendSession


class Crash(BaseException):
    """A power cut. A BaseException, so no ``except Exception`` of the code under test swallows it."""


@attrs.frozen
class Call:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@attrs.define
class Steps:
    crash_at: int | None = None
    after: bool = False  # crash once the call returned, rather than before it is made
    calls: list[Call] = attrs.field(factory=list)
    crashed: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def call(self, name: str, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        index = len(self.calls)
        self.calls.append(Call(name, args, kwargs))
        if index == self.crash_at and not self.after:
            self.crashed = True
            raise Crash(f"crash before step {index} ({name})")
        result = target(*args, **kwargs)
        if index == self.crash_at and self.after:
            self.crashed = True
            raise Crash(f"crash after step {index} ({name})")
        return result


class Tap:
    """Forwards every public method call to ``target`` as a step; attributes pass through."""

    def __init__(self, target: Any, steps: Steps, prefix: str) -> None:
        self._target = target
        self._steps = steps
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name.startswith("_") or not callable(value):
            return value

        def step(*args: Any, **kwargs: Any) -> Any:
            result = self._steps.call(f"{self._prefix}.{name}", value, args, kwargs)
            if isinstance(result, BackendSession):
                return TapSession(result, self._steps, "session")
            return result

        return step


class TapSession(Tap):
    def __enter__(self) -> TapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._target.__exit__(*exc)


BackendSession.register(TapSession)  # it stands for the session it wraps (results.use_api() takes one)


def tapped(store: Any, registry: Any, backends: dict[str, Any], steps: Steps) -> tuple[Any, Any, dict[str, Any]]:
    return (
        Tap(store, steps, "store"),
        Tap(registry, steps, "registry"),
        {name: Tap(backend, steps, "backend") for name, backend in backends.items()},
    )
