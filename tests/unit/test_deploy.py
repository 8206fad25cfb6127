"""The deployment files, checked statically (no container engine runs
here): the compose file through `docker compose config`, the Kubernetes
manifests against the API's schema, and both against what the services
actually read."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30"
GRAPHMESH_SERVICES = ("gateway", "executor", "checkpoint", "projector")


def _compose_command() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], check=False, capture_output=True
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")  # installed by scripts/setup
    assert legacy, "neither `docker compose` nor docker-compose is installed: run scripts/setup"
    return [legacy]


def _compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_compose_command(), "-f", str(DEPLOY / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env},
    )


def _compose() -> dict[str, Any]:
    result = _compose_config(GRAPHMESH_TOKEN_SECRET="a-test-secret-of-32-characters!!")
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs.extend((path.name, d) for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.glob("libs/graphmesh/**/*.py"), *ROOT.glob("services/*/*/*.py")]:
        names.update(re.findall(r"GRAPHMESH_[A-Z_]+", path.read_text()))
    # Per-service names built from the service's name.
    for service in GRAPHMESH_SERVICES:
        names.add(f"GRAPHMESH_{service.upper()}_METRICS_LISTEN")
        names.add(f"GRAPHMESH_{service.upper()}_LISTEN")
    return names


def test_the_compose_file_is_valid_and_complete() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "kafka", "jaeger", "migrate", *GRAPHMESH_SERVICES} <= set(services)
    kafka_env = services["kafka"]["environment"]
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert "ZOOKEEPER" not in " ".join(kafka_env)
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    assert services["executor"]["deploy"]["replicas"] >= 2
    known = _settings_read_by_the_code()
    for name in GRAPHMESH_SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["GRAPHMESH_OTLP_ENDPOINT"] == "http://jaeger:4317"
        assert env["GRAPHMESH_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["GRAPHMESH_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert f"graphmesh_{name}" in " ".join(service["command"])
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        check = service["healthcheck"]["test"]
        assert "graphmesh.healthcheck" in check
        assert ("--tls-ca" if name == "gateway" else "--internal") in check
        assert env["GRAPHMESH_INTERNAL_TLS_CA_FILE"] == "/etc/graphmesh/certs/internal-ca.pem"
        unknown = {k for k in env if k.startswith("GRAPHMESH_")} - known
        assert not unknown, f"{name} sets variables no code reads: {unknown}"
    gateway = services["gateway"]["environment"]
    assert gateway["GRAPHMESH_AUTH_REQUIRED"] == "true"
    # The HTTP API is served and published.
    http_port = int(gateway["GRAPHMESH_HTTP_LISTEN"].rsplit(":", 1)[1])
    published = [(int(p["published"]), int(p["target"])) for p in services["gateway"]["ports"]]
    assert (http_port, http_port) in published
    assert gateway["GRAPHMESH_TLS_CERT_FILE"].startswith("/etc/graphmesh/certs/")
    # No token secret, no mesh: compose refuses rather than run with a default.
    refused = _compose_config()
    assert refused.returncode != 0 and "GRAPHMESH_TOKEN_SECRET" in refused.stderr


def test_the_kubernetes_manifests_match_the_api_schema() -> None:
    docs = _manifests()
    kinds = [d["kind"] for _, d in docs]
    for wanted in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert wanted in kinds
    for _, doc in docs:
        if doc["kind"] == "Kustomization":
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    # The check itself rejects a broken manifest.
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three"},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_every_deployment_is_probed_limited_and_protected() -> None:
    docs = _manifests()
    deployments = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == set(GRAPHMESH_SERVICES)
    pdbs = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for _, d in docs
        if d["kind"] == "PodDisruptionBudget"
    }
    assert pdbs == set(GRAPHMESH_SERVICES)
    known = _settings_read_by_the_code()
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        port = container["ports"][0]["containerPort"]
        name = deployment["metadata"]["name"]
        # gRPC health over (mutual) TLS, by exec: Kubernetes' gRPC probe has no TLS.
        how = ["--tls-ca", "/etc/graphmesh/tls/ca.crt"] if name == "gateway" else ["--internal"]
        for probe in ("readinessProbe", "startupProbe"):
            command = container[probe]["exec"]["command"]
            assert command == ["python", "-m", "graphmesh.healthcheck", f"127.0.0.1:{port}", *how]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["internal-tls"] == "/etc/graphmesh/internal-tls"
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"]}
        assert secrets["internal-tls"] == "graphmesh-internal-tls"
        assert "livenessProbe" in container
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
            resources["limits"]
        )
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["terminationGracePeriodSeconds"] > 30  # > GRAPHMESH_SHUTDOWN_GRACE_SECONDS
        env = {e["name"] for e in container.get("env", [])}
        assert not env - known, env - known
    config = next(d for _, d in docs if d["kind"] == "ConfigMap")
    assert not set(config["data"]) - known
    assert config["data"]["GRAPHMESH_INTERNAL_TLS_CA_FILE"].startswith(
        "/etc/graphmesh/internal-tls/"
    )
    gateway = deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]
    gateway_env = {e["name"]: e.get("value") for e in gateway["env"]}
    assert gateway_env["GRAPHMESH_AUTH_REQUIRED"] == "true"
    assert gateway_env["GRAPHMESH_TLS_CERT_FILE"].startswith("/etc/graphmesh/tls/")
    assert "GRAPHMESH_TOKEN_SECRET_FILE" in gateway_env
    # The HTTP API is served, on a named port the Service exposes.
    http_port = int(gateway_env["GRAPHMESH_HTTP_LISTEN"].rsplit(":", 1)[1])
    assert {"name": "http", "containerPort": http_port} in gateway["ports"]
    [service] = [
        d for _, d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "gateway"
    ]
    assert {"name": "http", "port": http_port, "targetPort": "http"} in service["spec"]["ports"]
    [hpa] = [d for _, d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "executor"
    partitions = int(config["data"]["GRAPHMESH_PARTITIONS"])
    assert hpa["spec"]["maxReplicas"] <= partitions  # more executors than partitions idle
    kustomization = next(d for _, d in docs if d["kind"] == "Kustomization")
    files = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_the_image_is_multi_stage_and_runs_as_a_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", dockerfile, re.MULTILINE)
    assert len(stages) >= 2
    assert re.search(r"^COPY --from=build ", dockerfile, re.MULTILINE)
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for part in source.split():
            assert (ROOT / part).exists(), f"the Dockerfile copies {part}, which is missing"
