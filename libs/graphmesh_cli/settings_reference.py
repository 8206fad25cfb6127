"""Every `GRAPHMESH_*` setting, and the reference page made from them.

`SETTINGS` is the catalogue: who reads each setting, its default and what
it does. `docs/settings.md` is generated from it (`scripts/settings-reference`
writes it; `python -m graphmesh_cli.settings_reference` prints it), and
tests/unit/test_settings_reference.py fails when the code reads a setting
the catalogue lacks, when the catalogue names one nothing reads, or when
the page is not what the catalogue gives.

(Over 400 lines: a catalogue, one entry per setting.)
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_ALL = "every service"
_CLIENT = "`graphmesh` CLI"


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable."""

    name: str
    read_by: str
    default: str
    meaning: str
    #: Read under a name the code builds (NAME_FILE beside NAME, a
    #: per-service pattern), so not found as a literal in the code.
    derived: bool = False


SETTINGS: tuple[Setting, ...] = (
    # Where things are
    Setting(
        "GRAPHMESH_DATABASE_URL",
        "checkpoint, projector",
        "(required)",
        "PostgreSQL as `postgresql+asyncpg://user@host:port/db`",
    ),
    Setting(
        "GRAPHMESH_DB_POOL_SIZE",
        "checkpoint, projector",
        "30",
        "connections per process (plus half as many overflow connections)",
    ),
    Setting(
        "GRAPHMESH_KAFKA_BOOTSTRAP",
        "gateway, executor, checkpoint",
        "(required)",
        "the brokers, `host:port[,host:port]`",
    ),
    Setting(
        "GRAPHMESH_TOPIC_PREFIX",
        "gateway, executor, checkpoint",
        "`graphmesh`",
        "topics are `<prefix>.runs` and `<prefix>.events`",
    ),
    Setting(
        "GRAPHMESH_PARTITIONS", "whoever creates the topics first", "8", "partitions per topic"
    ),
    Setting(
        "GRAPHMESH_REPLICATION",
        "whoever creates the topics first",
        "1",
        "replication factor of the topics",
    ),
    Setting(
        "GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS",
        "consumers",
        "100 (`graphmesh up`: 5)",
        "how long a fetch waits for data (see docs/architecture.md)",
    ),
    Setting(
        "GRAPHMESH_KAFKA_IDLE_AFTER_MS",
        "executor, checkpoint",
        "5000",
        "a consumer stops fetching this long after data last came or was announced,"
        " until runs are created (0: it never stops; see docs/architecture.md)",
    ),
    Setting(
        "GRAPHMESH_GRAPHS",
        "gateway, executor",
        "`examples/langgraph.json`",
        "the graph registry, a `langgraph.json`",
    ),
    Setting("GRAPHMESH_GATEWAY_LISTEN", "gateway", "`127.0.0.1:50051`", "the public API"),
    Setting(
        "GRAPHMESH_HTTP_LISTEN",
        "gateway",
        "empty (not served; `graphmesh up`: `127.0.0.1:8123`)",
        "LangGraph Server's HTTP API (docs/http-api.md), beside the gRPC API",
    ),
    Setting(
        "GRAPHMESH_HTTP_CORS_ORIGINS",
        "gateway",
        "`*`",
        "origins whose pages may call the HTTP API from a browser, comma-separated (empty: none)",
    ),
    Setting(
        "GRAPHMESH_CHECKPOINT_LISTEN",
        "checkpoint",
        "`127.0.0.1:50052`",
        "the internal event store and checkpoint API",
    ),
    Setting(
        "GRAPHMESH_CHECKPOINT_TARGET",
        "gateway, executor, `graphmesh runs events`",
        "`127.0.0.1:50052`",
        "where the checkpoint service is",
    ),
    Setting(
        "GRAPHMESH_PROJECTOR_LISTEN",
        "projector",
        "`127.0.0.1:50053`",
        "the internal read-model API",
    ),
    Setting("GRAPHMESH_PROJECTOR_TARGET", "gateway", "`127.0.0.1:50053`", "where the projector is"),
    Setting(
        "GRAPHMESH_EXECUTOR_LISTEN",
        "executor",
        "`127.0.0.1:50054`",
        "the executor's health endpoint",
    ),
    Setting(
        "GRAPHMESH_<SERVICE>_METRICS_LISTEN",
        "each service (`GATEWAY`, `EXECUTOR`, `CHECKPOINT`, `PROJECTOR`)",
        "none (`graphmesh up`: 9464 and up)",
        "its Prometheus `/metrics` endpoint",
        derived=True,
    ),
    Setting(
        "GRAPHMESH_OTLP_ENDPOINT",
        _ALL,
        "none (tracing off)",
        "OTLP/gRPC collector, `http://host:4317` (or `OTEL_EXPORTER_OTLP_ENDPOINT`)",
    ),
    Setting(
        "GRAPHMESH_LOG_LEVEL",
        _ALL,
        "`INFO`",
        "`DEBUG`...`CRITICAL`; a bad value stops the service at start",
    ),
    Setting("GRAPHMESH_LOG_FORMAT", _ALL, "`json`", "`json` or `console`"),
    Setting(
        "GRAPHMESH_SHUTDOWN_GRACE_SECONDS",
        _ALL,
        "10",
        "after SIGTERM, how long runs (executor) and calls (gateway) in progress may"
        " take before runs are handed over and calls cancelled",
    ),
    # Runs
    Setting(
        "GRAPHMESH_MAX_INPUT_BYTES",
        "gateway",
        "1048576",
        "the largest input, resume value or state update",
    ),
    Setting(
        "GRAPHMESH_MAX_STATE_BYTES",
        "executor",
        "4194304",
        "the largest checkpoint, write or update a run may emit (else `StateTooLarge`)",
    ),
    Setting(
        "GRAPHMESH_REQUEUE_AFTER_MS",
        "gateway",
        "30000 (`graphmesh up`: 10000)",
        "a run no executor claimed for this long, or whose executor's lease ran out this"
        " long ago, has its command published again (doubling each time)",
    ),
    Setting("GRAPHMESH_EXECUTOR_ID", "executor", "`host-pid-random`", "the executor's name"),
    Setting("GRAPHMESH_EXECUTOR_MAX_RUNS", "executor", "64", "concurrent runs per executor"),
    Setting(
        "GRAPHMESH_EXECUTOR_GRAPH_LIMITS",
        "executor",
        "none",
        "`graph=N,...`: concurrent runs of a graph per executor",
    ),
    Setting(
        "GRAPHMESH_LEASE_MS",
        "executor",
        "15000",
        "a run's lease; renewed every third of it, at most 1 s apart",
    ),
    Setting(
        "GRAPHMESH_MAX_UNACKED_MS",
        "executor",
        "250",
        "a run starts no node while an event it sent this long ago is not yet"
        " acknowledged by Kafka (bounds what a crash makes run again)",
    ),
    Setting(
        "GRAPHMESH_MAX_RUN_ATTEMPTS",
        "checkpoint",
        "5",
        "starts of a run before it is failed as `ExecutorLost`",
    ),
    Setting(
        "GRAPHMESH_STORE_SWEEP_SECONDS",
        "checkpoint",
        "60",
        "seconds between sweeps of the store's expired items (reads never return them)",
    ),
    Setting(
        "GRAPHMESH_RETRY_MAX_ATTEMPTS",
        "executor",
        "1 (no retries)",
        "the retry policy of nodes that have none (docs/runs.md)",
    ),
    Setting(
        "GRAPHMESH_RETRY_INITIAL_INTERVAL", "executor", "0.5", "seconds before the first retry"
    ),
    Setting("GRAPHMESH_RETRY_BACKOFF_FACTOR", "executor", "2", "growth of the interval"),
    Setting("GRAPHMESH_RETRY_MAX_INTERVAL", "executor", "128", "the longest interval, seconds"),
    Setting("GRAPHMESH_RETRY_JITTER", "executor", "true", "randomise the intervals"),
    Setting(
        "GRAPHMESH_RETRY_NON_RETRYABLE",
        "executor",
        "LangGraph's rule",
        "exception class names never retried, `A,B,...`",
    ),
    Setting("GRAPHMESH_CHECKPOINT_BATCH_MAX", "checkpoint", "1000", "events per transaction"),
    Setting("GRAPHMESH_PROJECTOR_BATCH_MAX", "projector", "1000", "events per transaction"),
    Setting(
        "GRAPHMESH_PROJECTOR_DEBOUNCE_MS",
        "projector",
        "5",
        "gathers a burst of appends into one batch",
    ),
    Setting(
        "GRAPHMESH_STREAM_BUFFER",
        "gateway",
        "1024",
        "batches a stream subscriber may fall behind before it is dropped",
    ),
    # Limits and tenants
    Setting(
        "GRAPHMESH_RATE_LIMITS",
        "gateway",
        "none",
        "`graph=RATE[:BURST],*=RATE[:BURST]` runs per second",
    ),
    Setting(
        "GRAPHMESH_TENANT_RATE_LIMITS",
        "gateway",
        "none",
        "`tenant=RATE[:BURST],*=...` runs per second",
    ),
    Setting(
        "GRAPHMESH_TENANT_MAX_ACTIVE_RUNS", "gateway", "none", "`tenant=N,*=N` unfinished runs"
    ),
    # Authentication
    Setting(
        "GRAPHMESH_API_KEYS_FILE",
        "gateway",
        "none (authentication off)",
        "API keys by tenant (docs/security.md)",
    ),
    Setting("GRAPHMESH_JWT_JWKS_FILE", "gateway", "none", "the JWT signing keys, a JWKS"),
    Setting("GRAPHMESH_JWT_KEY_FILE", "gateway", "none", "one JWT signing key (PEM or secret)"),
    Setting(
        "GRAPHMESH_JWT_ALGORITHMS",
        "gateway",
        "`RS256,ES256,EdDSA,HS256`",
        "accepted JWT algorithms",
    ),
    Setting("GRAPHMESH_JWT_ISSUER", "gateway", "none", "required `iss`"),
    Setting("GRAPHMESH_JWT_AUDIENCE", "gateway", "none", "required `aud`"),
    Setting("GRAPHMESH_JWT_TENANT_CLAIM", "gateway", "`tenant`", "the claim naming the tenant"),
    Setting(
        "GRAPHMESH_AUTH_REQUIRED",
        "gateway",
        "false",
        "true: refuse to start without credentials configured",
    ),
    Setting(
        "GRAPHMESH_AUTH_OPEN_REFLECTION",
        "gateway",
        "true",
        "serve gRPC reflection without credentials",
    ),
    Setting(
        "GRAPHMESH_TOKEN_SECRET",
        "gateway",
        "random per process",
        "signs cursors and page tokens; every gateway needs the same",
    ),
    Setting(
        "GRAPHMESH_TOKEN_SECRET_FILE", "gateway", "none", "`GRAPHMESH_TOKEN_SECRET` from a file"
    ),
    # Transport security
    Setting("GRAPHMESH_TLS_CERT_FILE", "gateway", "none (plaintext)", "TLS on the public API"),
    Setting("GRAPHMESH_TLS_KEY_FILE", "gateway", "none", "its key"),
    Setting(
        "GRAPHMESH_TLS_CLIENT_CA_FILE",
        "gateway",
        "none",
        "require client certificates signed by this CA",
    ),
    Setting(
        "GRAPHMESH_INTERNAL_TLS_CERT_FILE",
        _ALL,
        "none (plaintext)",
        "mutual TLS between the services: this service's certificate",
    ),
    Setting("GRAPHMESH_INTERNAL_TLS_KEY_FILE", _ALL, "none", "its key"),
    Setting("GRAPHMESH_INTERNAL_TLS_CA_FILE", _ALL, "none", "the CA of the services' certificates"),
    Setting(
        "GRAPHMESH_DATABASE_PASSWORD",
        "checkpoint, projector",
        "the URL's own",
        "kept out of the URL",
    ),
    Setting(
        "GRAPHMESH_DATABASE_PASSWORD_FILE",
        "checkpoint, projector",
        "none",
        "`GRAPHMESH_DATABASE_PASSWORD` from a file",
        derived=True,
    ),
    Setting(
        "GRAPHMESH_DATABASE_SSLMODE",
        "checkpoint, projector",
        "the URL's own",
        "`disable`, `require`, `verify-ca` or `verify-full`",
    ),
    Setting("GRAPHMESH_DATABASE_SSL_CA_FILE", "checkpoint, projector", "none", "the server's CA"),
    Setting(
        "GRAPHMESH_DATABASE_SSL_CERT_FILE", "checkpoint, projector", "none", "a client certificate"
    ),
    Setting("GRAPHMESH_DATABASE_SSL_KEY_FILE", "checkpoint, projector", "none", "its key"),
    Setting(
        "GRAPHMESH_KAFKA_SECURITY_PROTOCOL",
        "gateway, executor, checkpoint",
        "`PLAINTEXT`",
        "`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`",
    ),
    Setting(
        "GRAPHMESH_KAFKA_SSL_CA_FILE", "gateway, executor, checkpoint", "none", "the brokers' CA"
    ),
    Setting(
        "GRAPHMESH_KAFKA_SSL_CERT_FILE",
        "gateway, executor, checkpoint",
        "none",
        "a client certificate",
    ),
    Setting("GRAPHMESH_KAFKA_SSL_KEY_FILE", "gateway, executor, checkpoint", "none", "its key"),
    Setting(
        "GRAPHMESH_KAFKA_SASL_MECHANISM",
        "gateway, executor, checkpoint",
        "`PLAIN`",
        "or `SCRAM-SHA-256`, `SCRAM-SHA-512`",
    ),
    Setting("GRAPHMESH_KAFKA_SASL_USERNAME", "gateway, executor, checkpoint", "none", "SASL user"),
    Setting(
        "GRAPHMESH_KAFKA_SASL_PASSWORD", "gateway, executor, checkpoint", "none", "SASL password"
    ),
    Setting(
        "GRAPHMESH_KAFKA_SASL_PASSWORD_FILE",
        "gateway, executor, checkpoint",
        "none",
        "`GRAPHMESH_KAFKA_SASL_PASSWORD` from a file",
        derived=True,
    ),
    # The command line
    Setting("GRAPHMESH_TARGET", _CLIENT, "`127.0.0.1:50051`", "the gateway (`--target`)"),
    Setting("GRAPHMESH_TOKEN", _CLIENT, "none", "an API key or JWT (`--token`)"),
    Setting(
        "GRAPHMESH_CA_FILE",
        _CLIENT + ", `healthcheck`",
        "none",
        "the CA to trust for a TLS gateway (`--tls-ca`)",
    ),
)

_NAME = re.compile(r"GRAPHMESH_[A-Z0-9_]+")
_PATTERN = re.compile(r"GRAPHMESH_[A-Z0-9_]*<[A-Z]+>[A-Z0-9_]*")


def read_in_code(root: Path) -> dict[str, set[str]]:
    """The GRAPHMESH_* names the code of `root` (libs/ and services/, not
    generated code or migrations) spells out, with the files that do; a
    name built in an f-string reads as a pattern (`GRAPHMESH_<X>_...`)."""
    found: dict[str, set[str]] = {}
    for base in ("libs", "services"):
        for path in sorted((root / base).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "/v1/" in relative or "/migrations/" in relative:
                continue
            for name in _names(ast.parse(path.read_text())):
                found.setdefault(name, set()).add(relative)
    return found


def _names(tree: ast.AST) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _NAME.fullmatch(node.value):
                yield node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                "<X>" if isinstance(v, ast.FormattedValue) else str(getattr(v, "value", ""))
                for v in node.values
            )
            if _PATTERN.fullmatch(text):
                yield text


def matches(setting: Setting, name: str) -> bool:
    """True if `name` as the code spells it is `setting`."""
    if "<" not in setting.name:
        return setting.name == name
    return re.sub(r"<[A-Z]+>", "<X>", setting.name) == name


def render() -> str:
    """The reference page (docs/settings.md)."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated by scripts/settings-reference from"
        " libs/graphmesh_cli/settings_reference.py; do not edit. -->",
        "",
        "Each service reads its settings once, from the environment, at start-up;",
        "`graphmesh up` sets them for the mesh it starts. A bad value stops the",
        "service with a message naming the variable. Every `GRAPHMESH_*` variable",
        f"graphmesh reads is here ({len(SETTINGS)}).",
        "",
        "| variable | read by | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | {s.read_by} | {s.default} | {s.meaning} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Prints the page, or with `--write PATH` writes it."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--write"] and len(args) == 2:
        Path(args[1]).write_text(render())
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
