"""A throwaway PostgreSQL server on 127.0.0.1 for the tests, from the Debian package's binaries.

The server runs as the unprivileged ``postgres`` user when the tests run as
root (PostgreSQL refuses root), lives in a temporary folder and is stopped at
the end of the session. With ANNOFLOW_REQUIRE_POSTGRES=1 (set by .ci/run) a
missing server fails the tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest


@attrs.frozen
class PostgresServer:
    host: str
    port: int
    user: str

    def env(self, dbname: str) -> dict[str, str]:
        """eventsourcing's environment for a run registry in database ``dbname``."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": "",
        }

    def dsn(self, dbname: str) -> str:
        """A libpq connection string to database ``dbname``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def create_database(self, dbname: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


@contextlib.contextmanager
def running_postgres(bindir: Path) -> Iterator[PostgresServer]:
    """A throwaway server from the binaries in ``bindir``, stopped and removed on exit (benchmarks use it too)."""
    run_as = "postgres" if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="annoflow-pg-"))
    datadir, sockdir = workdir / "data", workdir / "sock"
    datadir.mkdir()
    sockdir.mkdir()
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (workdir, datadir, sockdir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    user = run_as or pwd.getpwuid(os.geteuid()).pw_name
    port = _free_port()
    subprocess.run(
        [*_as_user(run_as), str(bindir / "initdb"), "-D", str(datadir), "-U", user, "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    # The server's log goes to a file, not a pipe: nobody reads a pipe once the server is up, and
    # when its 64 KiB fill (each failed statement is logged with its text) every backend blocks.
    log = workdir / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                *_as_user(run_as),
                str(bindir / "postgres"),
                "-D",
                str(datadir),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(sockdir),
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            ).returncode
            != 0
        ):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield PostgresServer(host="127.0.0.1", port=port, user=user)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    required = os.environ.get("ANNOFLOW_REQUIRE_POSTGRES") == "1"
    bindir = postgres_binaries()
    if bindir is None:
        if required:
            pytest.fail("PostgreSQL binaries not found (apt-get install postgresql)")
        pytest.skip("PostgreSQL binaries not installed")
    with running_postgres(bindir) as server:
        yield server
