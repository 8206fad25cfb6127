"""A private PostgreSQL cluster in a directory of its own.

Uses the machine's PostgreSQL binaries (found on PATH or under
/usr/lib/postgresql). initdb and postgres refuse to run as root, so as root
they run as the `postgres` user, which then owns the cluster directory.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from graphmesh.testing.infra import procs


class PostgresError(RuntimeError):
    """The cluster cannot be created or started."""


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if Path(directory, "initdb").exists():
            return Path(directory)
    if found:
        return Path(found).resolve().parent
    raise PostgresError(
        "PostgreSQL server binaries not found (need initdb and postgres); "
        "install them with: apt-get install postgresql"
    )


def pgvector_bin_dir() -> Path:
    """The binaries of a PostgreSQL that has pgvector: the `pgserver`
    wheel's (PostgreSQL 16), since Debian 12 packages no pgvector."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError(
            "PostgreSQL with pgvector comes from the pgserver wheel: pip install pgserver"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PrivatePostgres:
    """One cluster under `directory`, listening on 127.0.0.1:`port`."""

    def __init__(
        self,
        directory: Path,
        port: int,
        durable: bool = True,
        server_options: Sequence[str] = (),
        hba: str | None = None,
        bin_dir: Path | None = None,
    ) -> None:
        self.directory = directory
        self.port = port
        self.durable = durable
        #: More `-c name=value` settings (TLS, for instance).
        self.server_options = list(server_options)
        #: A pg_hba.conf of its own (None: initdb's, trusting every local user).
        self.hba = hba
        self._proc: subprocess.Popen[bytes] | None = None
        #: The PostgreSQL binaries (default: the machine's).
        self._bin = bin_dir or _bin_dir()

    @property
    def data_dir(self) -> Path:
        """The cluster's PGDATA."""
        return self.directory / "pgdata"

    def url(self, database: str = "graphmesh") -> str:
        """SQLAlchemy URL of a database in this cluster."""
        # Loopback to a private cluster: skip asyncpg's TLS attempt per connect.
        return f"postgresql+asyncpg://graphmesh@127.0.0.1:{self.port}/{database}?ssl=disable"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        """Creates the cluster if it does not exist yet."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._chown(self.directory)
        os.chmod(self.directory, 0o755)
        if (self.data_dir / "PG_VERSION").exists():
            return
        if os.geteuid() == 0:
            check = subprocess.run(_as_owner(["test", "-w", str(self.directory)]), check=False)
            if check.returncode != 0:
                raise PostgresError(
                    f"the postgres user cannot write {self.directory}: every parent directory "
                    "must be searchable by it (chmod o+x), since initdb refuses to run as root"
                )
        result = subprocess.run(
            _as_owner(
                [
                    str(self._bin / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "graphmesh",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(f"initdb failed: {result.stderr.strip()}")
        if self.hba is not None:
            hba = self.data_dir / "pg_hba.conf"
            hba.write_text(self.hba)
            self._chown(hba)

    def start(self, timeout: float = 30) -> None:
        """Starts the server and creates the `graphmesh` database."""
        self.init()
        options = [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={self.port}",
            "-c",
            f"unix_socket_directories={self.directory}",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ]
        for option in self.server_options:
            options += ["-c", option]
        if not self.durable:
            options += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        log_path = self.directory / "postgres.log"
        if not log_path.exists():
            log_path.touch()
        self._chown(log_path)
        self._proc = procs.start(
            _as_owner([str(self._bin / "postgres"), "-D", str(self.data_dir), *options]), log_path
        )
        procs.wait_for_port(self.port, self._proc, "postgres", timeout)
        self._wait_ready(timeout)
        self.create_database("graphmesh")

    def _psql(self, sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(self._bin / "psql"),
                "-h",
                # A cluster with a pg_hba.conf of its own may refuse plain TCP:
                # the harness then comes in over the Unix socket.
                str(self.directory) if self.hba is not None else "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "graphmesh",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._psql("SELECT 1").returncode == 0:
                return
            time.sleep(0.1)
        raise PostgresError("postgres did not accept queries in time")

    def create_database(self, name: str) -> None:
        """Creates database `name` unless it exists."""
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.stdout.strip() == "1":
            return
        result = self._psql(f'CREATE DATABASE "{name}"')
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise PostgresError(f"creating database {name}: {result.stderr.strip()}")

    def query(self, sql: str, database: str = "graphmesh") -> str:
        """Runs SQL through psql and returns its unaligned output (for tools and tests)."""
        result = self._psql(sql, database)
        if result.returncode != 0:
            raise PostgresError(result.stderr.strip())
        return result.stdout

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, checkpoint, exit)."""
        if self._proc is not None:
            import signal

            procs.stop(self._proc, signal.SIGINT, timeout=30)
            self._proc = None
