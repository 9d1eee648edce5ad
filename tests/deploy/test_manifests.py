"""deploy/kubernetes validated offline against the Kubernetes JSON schemas, and the Dockerfile parsed
with Docker's own parser. No cluster and no container runtime run here (docs/deploy.md)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helpers import ROOT

K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.33.0"  # a version current clusters run; kubernetes-validate ships its schemas


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.mark.parametrize("name, doc", _documents(), ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_each_manifest_is_valid_against_the_kubernetes_schema(name, doc):
    import kubernetes_validate

    # strict: an unknown or misspelt field is an error, not silently dropped by the API server.
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _by_kind() -> dict[str, dict]:
    return {d["kind"]: d for _, d in _documents()}


def test_deployment_probes_readiness_and_liveness_on_the_right_routes():
    kinds = _by_kind()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert kinds["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    config = kinds["ConfigMap"]["data"]
    # The pod outlives drain + grace, so SIGTERM's drain and the in-flight requests both fit.
    assert pod["terminationGracePeriodSeconds"] > float(config["BEACON_DRAIN_S"]) + float(
        config["BEACON_SHUTDOWN_GRACE_S"]
    )
    assert kinds["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert kinds["PodDisruptionBudget"]["spec"]["selector"] == kinds["Deployment"]["spec"]["selector"]
    assert "build" in kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]


def test_configmap_keys_are_real_settings():
    from service.settings import Settings

    fields = {f"BEACON_{name.upper()}" for name in Settings.model_fields}
    assert set(_by_kind()["ConfigMap"]["data"]) <= fields


def test_dockerfile_is_multi_stage_non_root_offline_with_a_health_check():
    import dockerfile

    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    froms = [c for c in commands if c.cmd == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    runtime = commands[commands.index(froms[-1]) :]
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0")
    env = " ".join(" ".join(c.value) for c in runtime if c.cmd == "ENV")
    assert "HF_HUB_OFFLINE" in env
    health = [c for c in runtime if c.cmd == "HEALTHCHECK"]
    assert health and "/readyz" in health[0].original
    # The model is verified and exported to ONNX at build time, as the runtime user (its cache).
    after_user = runtime[[c.cmd for c in runtime].index("USER") :]
    assert any(c.cmd == "RUN" and "Embedder" in c.original for c in after_user)
    assert all(":latest" not in c.original for c in froms)


# Hardening, round three: what public pods hold (docs/deploy.md, "What each pod holds").
SIGNING_SECRET = "beacon-signing"  # replicas check HMAC signatures with the key that makes them
SHA256_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _pods() -> dict[str, dict]:
    kinds = _by_kind()
    return {
        "replica": kinds["Deployment"]["spec"]["template"]["spec"],
        "builder": kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    }


def _secret_names(pod: dict) -> set[str]:
    names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    for c in pod["containers"]:
        names |= {e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e}
        names |= {
            e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})
        }
    return names


def _environment(container: dict) -> dict[str, str]:
    """Every variable a container gets: from the ConfigMaps it names, then its own env."""
    maps = {d["metadata"]["name"]: d["data"] for _, d in _documents() if d["kind"] == "ConfigMap"}
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]])
    env.update({e["name"]: e.get("value") for e in container.get("env", [])})
    return env


def test_replicas_get_neither_the_builders_storage_credentials_nor_where_to_publish():
    pods = _pods()
    builders_own = _secret_names(pods["builder"]) - {SIGNING_SECRET}
    assert builders_own, "the builder has storage credentials that can write"
    assert not builders_own & _secret_names(pods["replica"])
    assert "BEACON_PUBLISH_URL" not in _environment(pods["replica"]["containers"][0])
    assert _environment(pods["builder"]["containers"][0])["BEACON_PUBLISH_URL"]


def test_no_pod_carries_a_service_account_token():
    for name, pod in _pods().items():
        assert pod.get("automountServiceAccountToken") is False, name


def test_secrets_reach_pods_only_as_read_only_files():
    for name, pod in _pods().items():
        for c in pod["containers"]:
            assert not [e for e in c.get("envFrom", []) if "secretRef" in e], name
            assert not [e for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})], name
        secret_volumes = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
        assert secret_volumes, name
        for volume, secret in secret_volumes.items():
            assert secret["defaultMode"] & 0o337 == 0, (name, volume)  # owner/group read only, no one else
            mounts = [m for c in pod["containers"] for m in c["volumeMounts"] if m["name"] == volume]
            assert mounts and all(m.get("readOnly") is True for m in mounts), (name, volume)


def test_storage_credentials_and_the_signing_key_are_read_from_the_mounted_files():
    for name, pod in _pods().items():
        container = pod["containers"][0]
        secret_mounts = [
            m["mountPath"]
            for m in container["volumeMounts"]
            if any(v["name"] == m["name"] and "secret" in v for v in pod["volumes"])
        ]
        env = _environment(container)
        for variable in ("AWS_SHARED_CREDENTIALS_FILE", "BEACON_SIGNING_KEY_FILE"):
            assert any(env[variable].startswith(path + "/") for path in secret_mounts), (name, variable)


def test_the_configmap_trusts_the_cluster_network_as_proxies_not_nobody(monkeypatch):
    import ipaddress

    from service.settings import Settings

    monkeypatch.setenv("BEACON_TRUSTED_PROXIES", _by_kind()["ConfigMap"]["data"]["BEACON_TRUSTED_PROXIES"])
    proxies = Settings().trusted_proxies
    assert proxies, "empty: every reader behind the ingress shares one rate-limit bucket"
    assert all(ipaddress.ip_network(p).is_private for p in proxies)


def test_images_are_pinned_by_digest():
    import dockerfile

    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    args = dict(c.value[0].split("=", 1) for c in commands if c.cmd == "ARG" and "=" in c.value[0])
    for c in commands:
        if c.cmd == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], c.value[0])
            assert SHA256_DIGEST.search(image), image
    pinned = {i["name"]: i for i in yaml.safe_load((K8S / "kustomization.yaml").read_text())["images"]}
    for name, pod in _pods().items():
        for c in pod["containers"]:
            assert c["image"] in pinned, (name, c["image"])  # kustomize puts the digest in
            assert "newTag" not in pinned[c["image"]]
            assert SHA256_DIGEST.search("@" + pinned[c["image"]]["digest"]), pinned[c["image"]]


def test_every_scratch_volume_has_a_size_limit():
    for name, pod in _pods().items():
        for v in pod["volumes"]:
            if "emptyDir" in v:
                assert v["emptyDir"].get("sizeLimit"), (name, v["name"])


def _policies() -> dict[str, dict]:
    return {d["metadata"]["name"]: d["spec"] for _, d in _documents() if d["kind"] == "NetworkPolicy"}


def test_only_the_ingress_controller_and_monitoring_may_connect_to_replicas_and_no_one_to_the_build():
    kinds, policies = _by_kind(), _policies()
    replicas = kinds["Deployment"]["spec"]["template"]["metadata"]["labels"]
    policy = next(p for p in policies.values() if p["podSelector"]["matchLabels"].items() <= replicas.items())
    assert policy["policyTypes"] == ["Ingress"]
    sources = [s for rule in policy["ingress"] for s in rule["from"]]
    assert sources and all(set(s) == {"namespaceSelector"} for s in sources)  # no ipBlock, no "anyone"
    assert {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in sources} == {
        "ingress-nginx",
        "monitoring",
    }
    build = kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    policy = next(p for p in policies.values() if p["podSelector"]["matchLabels"].items() <= build.items())
    assert policy["policyTypes"] == ["Ingress"] and policy["ingress"] == []


def _routed(paths: list[dict], url_path: str) -> bool:
    """Kubernetes Ingress matching: Exact is the whole path; Prefix matches whole path elements."""
    for p in paths:
        if p["pathType"] == "Exact" and url_path == p["path"]:
            return True
        prefix = p["path"].rstrip("/").split("/")
        if p["pathType"] == "Prefix" and url_path.rstrip("/").split("/")[: len(prefix)] == prefix:
            return True
    return False


def test_the_ingress_routes_readers_pages_but_not_metrics_or_health():
    kinds = _by_kind()
    [rule] = kinds["Ingress"]["spec"]["rules"]
    paths = rule["http"]["paths"]
    service = kinds["Service"]
    for p in paths:
        backend = p["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    readers = ["/", "/api/search", "/api/feedback", "/source/apps/mi-jian", "/static/style.css", "/widget.js"]
    readers += ["/widget/demo", "/docs", "/openapi.json"]
    assert [u for u in readers if not _routed(paths, u)] == []
    private = ["/metrics", "/healthz", "/readyz", "/metrics/", "/healthz/x"]
    assert [u for u in private if _routed(paths, u)] == []
    assert (
        urlsplit(f"https://{rule['host']}").hostname
        == urlsplit(kinds["ConfigMap"]["data"]["BEACON_PUBLIC_URL"]).hostname
    )
