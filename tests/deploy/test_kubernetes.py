"""The Kubernetes manifests: both overlays render with kustomize, every object validates
against the Kubernetes schemas offline, and the security and availability rules hold.

Rendering uses ``kubectl kustomize`` (kubectl ships kustomize; it needs no cluster).
Validation uses ``kubernetes-validate`` (the Kubernetes 1.32 OpenAPI schemas, strict: an
unknown field fails). It has no schema for CloudNativePG's ``Cluster`` (a custom resource),
so that one object is checked field by field below.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mcpreg.settings import Settings
from tests.conftest import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "production")
K8S_VERSION = "1.32.0"
CNPG = "postgresql.cnpg.io/v1"


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl (for kustomize) is required in CI")
        pytest.skip("kubectl not installed")
    done = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in rendered(overlay) if doc["kind"] == kind]


def one(overlay: str, kind: str) -> dict[str, Any]:
    (found,) = of_kind(overlay, kind)
    return found


def pod_specs(overlay: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in rendered(overlay):
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_the_overlay_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    checked = 0
    for doc in rendered(overlay):
        if doc["apiVersion"] == CNPG:
            continue  # a custom resource: test_production_runs_postgresql_on_cloudnativepg
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 8


def test_the_validator_refuses_an_unknown_field() -> None:
    deployment = copy.deepcopy(one("production", "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_unprivileged_with_a_read_only_root_and_bounded_resources(overlay: str) -> None:
    seen = 0
    for where, spec in pod_specs(overlay):
        pod = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, where
        for container in containers(spec):
            name = f"{where}:{container['name']}"
            security = container.get("securityContext", {})
            assert security.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, name
            assert (security.get("runAsUser", pod.get("runAsUser")) or 0) != 0, name
            assert security.get("readOnlyRootFilesystem") is True, name
            assert security.get("allowPrivilegeEscalation") is False, name
            assert security.get("capabilities", {}).get("drop") == ["ALL"], name
            assert "add" not in security.get("capabilities", {}), name
            assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            for bound in ("requests", "limits"):
                assert set(container.get("resources", {}).get(bound, {})) >= {"cpu", "memory"}, (name, bound)
            seen += 1
    assert seen >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_deployment_runs_replicas_of_one_worker_with_meaningful_probes(overlay: str) -> None:
    deployment = one(overlay, "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    spec = deployment["spec"]["template"]["spec"]
    (server,) = spec["containers"]
    assert server["command"][:2] == ["mcpreg", "serve"] and "--workers" not in server["command"]
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/v0.1/health"
    (init,) = spec["initContainers"]
    assert init["command"] == ["mcpreg", "migrate"]
    # Long enough for the drain, the in-flight deadline and a margin.
    settings = one(overlay, "ConfigMap")["data"]
    needed = float(settings["MCPREG_SHUTDOWN_DRAIN"]) + float(settings["MCPREG_SHUTDOWN_TIMEOUT"])
    assert spec["terminationGracePeriodSeconds"] > needed
    assert settings["MCPREG_MIGRATE_ON_START"] == "0"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_come_from_the_configmap_and_the_key_ring_from_a_mounted_secret(overlay: str) -> None:
    configmap = one(overlay, "ConfigMap")
    spec = one(overlay, "Deployment")["spec"]["template"]["spec"]
    keys_file = configmap["data"]["MCPREG_SECRET_KEYS_FILE"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for container in containers(spec):
        assert {"configMapRef": {"name": configmap["metadata"]["name"]}} in container["envFrom"]
        mounts = [m for m in container["volumeMounts"] if keys_file.startswith(m["mountPath"] + "/")]
        (mount,) = mounts
        secret = volumes[mount["name"]]["secret"]
        assert mount["readOnly"] is True and secret["secretName"] == "mcpreg-keys"
        assert keys_file == mount["mountPath"] + "/" + secret["items"][0]["path"]
        (database,) = [e for e in container["env"] if e["name"] == "MCPREG_DATABASE_URL"]
        assert "secretKeyRef" in database["valueFrom"]
    # No secret material in the ConfigMap, and every setting in it is one mcpreg reads.
    environ = {name: "1" for name in configmap["data"]}
    assert not any("KEYS=" in name or name == "MCPREG_SECRET_KEYS" for name in configmap["data"])
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "mcpreg").rglob("*.py"))
    for name in configmap["data"]:
        assert f'"{name}"' in source, name
    assert Settings.from_env({**environ, **configmap["data"]}).migrate_on_start is False


def test_production_has_sample_data_off_and_dev_has_it_on() -> None:
    assert one("production", "ConfigMap")["data"]["MCPREG_SAMPLE_DATA"] == "0"
    assert one("dev", "ConfigMap")["data"]["MCPREG_SAMPLE_DATA"] == "1"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budget_autoscaler_and_service_select_the_servers(overlay: str) -> None:
    labels = one(overlay, "Deployment")["spec"]["template"]["metadata"]["labels"]

    def selects(selector: dict[str, str]) -> bool:
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    (service,) = [s for s in of_kind(overlay, "Service") if s["metadata"]["name"] == "mcpreg"]
    assert selects(service["spec"]["selector"])
    assert selects(one(overlay, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    hpa = one(overlay, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "mcpreg"}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_network_policy_admits_only_the_ingress_and_reaches_only_dns_postgres_and_redis(
    overlay: str,
) -> None:
    policy = one(overlay, "NetworkPolicy")["spec"]
    labels = one(overlay, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert all(labels[k] == v for k, v in policy["podSelector"]["matchLabels"].items())
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    (peer,) = ingress["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8080}]
    ports = sorted({port["port"] for rule in policy["egress"] for port in rule["ports"]})
    assert ports == [53, 5432, 6379]
    # The database pods carry the label the policy lets mcpreg reach.
    (database_rule,) = [r for r in policy["egress"] if r["ports"][0]["port"] == 5432]
    wanted = database_rule["to"][0]["podSelector"]["matchLabels"]
    if overlay == "production":
        assert one(overlay, "Cluster")["spec"]["inheritedMetadata"]["labels"] == wanted
    else:
        template = one(overlay, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
        assert all(template[k] == v for k, v in wanted.items())


def test_production_runs_postgresql_on_cloudnativepg() -> None:
    cluster = one("production", "Cluster")
    assert cluster["apiVersion"] == CNPG
    spec = cluster["spec"]
    assert spec["instances"] >= 3
    assert spec["bootstrap"]["initdb"] == {"database": "mcpreg", "owner": "mcpreg"}
    assert spec["storage"]["size"]
    # CloudNativePG writes the application credentials to <cluster>-app, key uri.
    secret = f"{cluster['metadata']['name']}-app"
    for container in containers(one("production", "Deployment")["spec"]["template"]["spec"]):
        (database,) = [e for e in container["env"] if e["name"] == "MCPREG_DATABASE_URL"]
        assert database["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "uri"}
    assert not of_kind("production", "StatefulSet")
    assert not of_kind("production", "Secret")  # nothing secret is committed for production
