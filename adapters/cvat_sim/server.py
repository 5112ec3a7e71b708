"""Running the simulator: on a free loopback port in a thread, or in the foreground."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from annoflow.adapters.cvat_sim.app import build_app
from annoflow.adapters.cvat_sim.faults import Exchange, FaultPlan, current_transport
from annoflow.adapters.cvat_sim.processing import Processor
from annoflow.adapters.cvat_sim.state import SimState


class _Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, telling each request's task which connection it came on."""

    def data_received(self, data: bytes) -> None:
        token = current_transport.set(self.transport)
        try:
            super().data_received(data)
        finally:
            current_transport.reset(token)


def _memory_dir() -> str | None:
    """A RAM-backed folder where the OS has one (Linux's /dev/shm), else the default temp folder.

    Media of a simulator without ``media_dir`` die with it, so they need not touch a disk: on a busy
    disk, creating a thousand small files cost the data upload more than a second here.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


class _ExchangeHook:
    """The simulator's ``on_exchange`` as its middleware calls it: false while none is set (it may be
    set later), so requests then go unrecorded instead of copied for nobody."""

    def __init__(self, simulator: CvatSimulator) -> None:
        self._simulator = simulator

    def __bool__(self) -> bool:
        return self._simulator.on_exchange is not None

    def __call__(self, exchange: Exchange) -> None:
        if self._simulator.on_exchange is not None:
            self._simulator.on_exchange(exchange)


class CvatSimulator:
    """A CVAT 2.52 look-alike: ``with CvatSimulator(users={"alice": "pw"}).serve() as sim: sim.url``."""

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        *,
        media_dir: str | Path | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        processing_seconds_per_frame: float = 0.0,
    ) -> None:
        """``media_dir`` keeps media and state there, so a restarted simulator finds them again;
        ``processing_seconds_per_frame`` is how long CVAT's worker takes per uploaded frame
        (``sim.processor.seconds_per_frame`` changes it later; 0: the data are processed at once)."""
        self.persistent = media_dir is not None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if media_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cvat-sim-", dir=_memory_dir())
            media_dir = self._tmp.name
        self.state = SimState(Path(media_dir))
        if self.persistent:
            self.state.load()
        known = {u.username for u in self.state.users.values()}
        for name, password in (users or {}).items():
            if name not in known:
                self.state.add_user(name, password)
        self.faults = FaultPlan()
        self.processor = Processor(self.state, processing_seconds_per_frame)
        self.on_exchange = on_exchange
        self.url = ""
        self._server: uvicorn.Server | None = None

    def app(self):
        return build_app(self.state, self.faults, _ExchangeHook(self), self.processor)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[CvatSimulator]:
        config = uvicorn.Config(
            self.app(), host=host, port=port, log_level="warning", lifespan="off", timeout_keep_alive=30, http=_Protocol
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="cvat-sim", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the CVAT simulator did not start")
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._server = server
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            self.processor.close()
            self._server = None
            if self.persistent:
                self.state.save()

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
