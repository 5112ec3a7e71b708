"""Hostile stand-ins for a CVAT server on 127.0.0.1, to prove the client's request bounds.

- ``silent``: accepts the connection, reads what comes, never answers;
- ``drip``: reads the request, sends a status line and headers, then one byte every ``interval``
  seconds of a body it never finishes;
- ``closing``: accepts the connection and closes it at once;
- ``full``: never accepts; its one-place queue is taken, so a connect waits until it gives up.

Each server runs in daemon threads that stop by themselves after ``lifetime`` seconds (and when
the ``with`` block or the fixture ends), and counts what it saw.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

KINDS = ("silent", "drip", "closing", "full")


class HostileServer:
    def __init__(self, kind: str, *, interval: float = 0.2, lifetime: float = 30.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind is one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.interval = interval
        self.lifetime = lifetime
        self.connections = 0
        self.dripped = 0  # body bytes sent by a drip server
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._filler: socket.socket | None = None
        self.url = ""  # once started

    def __enter__(self) -> HostileServer:
        self._ends = time.monotonic() + self.lifetime
        if self.kind == "full":
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=0)
            # the queue's one place: taken, and never accepted
            self._filler = socket.create_connection(self._listener.getsockname(), timeout=1)
            self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
            return self
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._listener.settimeout(0.05)
        self._start(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in (self._filler, self._listener):
            if sock is not None:
                sock.close()

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._ends

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"hostile-{self.kind}")
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while self._running():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.kind == "closing":
                conn.close()
            else:
                self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        with conn:
            head = b""
            while self._running() and (self.kind == "silent" or b"\r\n\r\n" not in head):
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                head = (head + chunk)[-4096:]  # bounded: only the end of the head is looked at
            if self.kind != "drip" or not self._running():
                return
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
                while self._running():
                    conn.sendall(b" ")
                    self.dripped += 1
                    self._stop.wait(self.interval)
            except OSError:  # the client gave up and closed
                return


@pytest.fixture
def silent_server() -> Iterator[HostileServer]:
    with HostileServer("silent") as server:
        yield server


@pytest.fixture
def drip_server() -> Iterator[HostileServer]:
    with HostileServer("drip", interval=0.2) as server:
        yield server


@pytest.fixture
def closing_server() -> Iterator[HostileServer]:
    with HostileServer("closing") as server:
        yield server


@pytest.fixture
def full_server() -> Iterator[HostileServer]:
    with HostileServer("full") as server:
        yield server
