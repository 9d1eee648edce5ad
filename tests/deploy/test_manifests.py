"""deploy/kubernetes validated offline against the Kubernetes JSON schemas, and the Dockerfile parsed
with Docker's own parser. No cluster and no container runtime run here (docs/deploy.md)."""

from __future__ import annotations

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
