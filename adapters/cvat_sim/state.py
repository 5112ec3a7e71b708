"""The simulator's state: users, organizations, projects, tasks, jobs, labels, annotations.

Everything is plain dicts and lists, the shape CVAT's JSON has, so serving a
task's annotations is one dump of what is stored. One lock guards it all:
the simulator serves tests and benchmarks, not crowds.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

SERVER_VERSION = "2.52.0"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


class SimError(Exception):
    """An error answered with CVAT's status code and body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def not_found() -> SimError:
    return SimError(404, {"detail": "Not found."})


def bad_request(field: str, message: str) -> SimError:
    return SimError(400, {field: [message]})


def error_text(error: SimError) -> str:
    """The first message of an error body, as CVAT words a failed request's ``message``."""
    body: Any = error.body
    while not isinstance(body, str):
        if isinstance(body, dict) and body:
            body = next(iter(body.values()))
        elif isinstance(body, list) and body:
            body = body[0]
        else:
            return str(error.body)
    return body


@attrs.define
class User:
    id: int
    username: str
    password: str = attrs.field(repr=False)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    joined: str = attrs.field(factory=now)


@attrs.define
class Organization:
    id: int
    slug: str
    name: str
    owner_id: int
    members: set[int] = attrs.field(factory=set)
    created: str = attrs.field(factory=now)


@attrs.define
class Upload:
    """A file a client sent for a task, waiting for Upload-Finish (or a plain data POST)."""

    name: str
    path: Path
    size: int = 0


class SimState:
    def __init__(self, media_dir: Path) -> None:
        self.lock = threading.RLock()
        # Set where the simulator is the process's only work (its command line): stored annotations
        # are then frozen out of the cyclic collector (annotations.py). Never in a process it shares.
        self.freeze_stored = False
        self.media_dir = media_dir
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self._ids: dict[str, int] = {}
        self.users: dict[int, User] = {}
        self.orgs: dict[str, Organization] = {}
        self.tokens: dict[str, int] = {}
        self.sessions: dict[str, tuple[int, str]] = {}  # sessionid -> (user id, csrf token)
        self.projects: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.labels: dict[int, dict[str, Any]] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        self.exports: dict[str, bytes] = {}  # rq id -> an export's file; not saved: CVAT's export cache expires too
        self.uploads: dict[int, list[Upload]] = {}  # task id -> files received so far
        self.tus: dict[str, dict[str, Any]] = {}  # tus file id -> {task, name, path, length, offset}
        # CVAT does not promise stable object ids across saves; tests turn this on to prove it.
        self.renumber_on_save = False

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    # --- keeping state in a folder ---------------------------------------------------------

    _SAVED = ("projects", "tasks", "jobs", "labels", "requests", "tokens")

    def save(self) -> None:
        """Write everything but the media (already in the folder) to ``state.json``."""
        with self.lock:
            data = {name: getattr(self, name) for name in self._SAVED}
            data["ids"] = self._ids
            data["users"] = [attrs.asdict(u) for u in self.users.values()]
            data["orgs"] = [{**attrs.asdict(o), "members": sorted(o.members)} for o in self.orgs.values()]
            data["sessions"] = {k: list(v) for k, v in self.sessions.items()}
            target = self.media_dir / "state.json"
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps(data))
            temporary.replace(target)

    def load(self) -> bool:
        """Read ``state.json`` if a previous run left one; True when it did."""
        source = self.media_dir / "state.json"
        if not source.exists():
            return False
        data = json.loads(source.read_text())
        with self.lock:
            for name in self._SAVED:
                value = data[name]
                # JSON keys are strings; ids are ints everywhere but in the token table
                setattr(self, name, value if name in ("requests", "tokens") else {int(k): v for k, v in value.items()})
            self._ids = data["ids"]
            self.users = {u["id"]: User(**u) for u in data["users"]}
            self.orgs = {o["slug"]: Organization(**{**o, "members": set(o["members"])}) for o in data["orgs"]}
            self.sessions = {k: (v[0], v[1]) for k, v in data["sessions"].items()}
            for record in self.requests.values():  # the worker died with the previous run
                if record["status"] in ("queued", "started"):
                    record.update(
                        status="failed",
                        message="the simulator stopped before the request was processed",
                        finished=now(),
                    )
        return True

    # --- users and sessions -----------------------------------------------------------

    def add_user(self, username: str, password: str, email: str = "") -> User:
        with self.lock:
            if any(u.username == username for u in self.users.values()):
                raise ValueError(f"user {username!r} exists")
            user = User(self.next_id("user"), username, password, email or f"{username}@example.com")
            self.users[user.id] = user
            return user

    def add_organization(self, slug: str, owner: str, members: Iterable[str] = ()) -> Organization:
        with self.lock:
            owner_user = self.user_by_name(owner)
            org = Organization(self.next_id("org"), slug, slug, owner_user.id, {owner_user.id})
            for name in members:
                org.members.add(self.user_by_name(name).id)
            self.orgs[slug] = org
            return org

    def user_by_name(self, username: str) -> User:
        for user in self.users.values():
            if user.username == username:
                return user
        raise KeyError(username)

    def login(self, identity: str, password: str) -> tuple[str, str, str] | None:
        """Token key, session id and CSRF token for good credentials, else None."""
        with self.lock:
            for user in self.users.values():
                if identity in (user.username, user.email) and secrets.compare_digest(user.password, password):
                    key = secrets.token_hex(20)
                    session = secrets.token_hex(16)
                    csrf = secrets.token_hex(16)
                    self.tokens[key] = user.id
                    self.sessions[session] = (user.id, csrf)
                    return key, session, csrf
            return None

    def logout(self, user_id: int) -> None:
        with self.lock:
            self.tokens = {k: v for k, v in self.tokens.items() if v != user_id}
            self.sessions = {k: v for k, v in self.sessions.items() if v[0] != user_id}

    def expire_sessions(self) -> None:
        """Forget every token and session, as a server restart or a timeout would."""
        with self.lock:
            self.tokens.clear()
            self.sessions.clear()
