"""Every overlay builds with kustomize and every object validates against its schema."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import OVERLAYS, Manifest, base_name, build, find
from tests.k8s.schema import KUBERNETES_VERSIONS, schema_problems

COMMON = {
    ("Namespace", "turnstream"),
    ("ConfigMap", "turnstream-config"),
    ("Deployment", "turnstream-gateway"),
    ("Service", "turnstream-gateway"),
    ("HorizontalPodAutoscaler", "turnstream-gateway"),
    ("PodDisruptionBudget", "turnstream-gateway"),
    ("NetworkPolicy", "turnstream-gateway"),
    ("Deployment", "turnstream-worker"),
    ("PodDisruptionBudget", "turnstream-worker"),
    ("NetworkPolicy", "turnstream-worker"),
}
KEDA = {("ScaledObject", "turnstream-worker"), ("TriggerAuthentication", "turnstream-redis")}
IN_CLUSTER_REDIS = {
    ("StatefulSet", "turnstream-redis"),
    ("Service", "turnstream-redis"),
    ("NetworkPolicy", "turnstream-redis"),
    ("ConfigMap", "turnstream-redis-config"),
    ("Secret", "turnstream-secrets"),
    ("Secret", "turnstream-redis-auth"),
}
LOCUST = {
    ("Deployment", "locust-master"),
    ("Service", "locust-master"),
    ("Deployment", "locust-worker"),
    ("ConfigMap", "locustfile"),
}
EXPECTED = {
    "dev": COMMON | KEDA | IN_CLUSTER_REDIS,
    "prod": COMMON | KEDA,
    "hpa": COMMON | {("HorizontalPodAutoscaler", "turnstream-worker")},
    "loadtest": COMMON | KEDA | IN_CLUSTER_REDIS | LOCUST,
}
NAMESPACES = {
    "dev": "turnstream-dev",
    "prod": "turnstream",
    "hpa": "turnstream",
    "loadtest": "turnstream-loadtest",
}


def kinds_and_names(objects: list[Manifest]) -> set[tuple[str, str]]:
    found = {(o["kind"], base_name(o)) for o in objects}
    # The Namespace object is renamed per overlay; compare it by role.
    return {("Namespace", "turnstream") if kind == "Namespace" else (kind, n) for kind, n in found}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_builds_into_the_objects_it_promises(overlay: str) -> None:
    objects = build(overlay)
    assert kinds_and_names(objects) == EXPECTED[overlay]
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert namespaces == {NAMESPACES[overlay]}
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    assert namespace["metadata"]["name"] == NAMESPACES[overlay]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_schema(overlay: str, version: str) -> None:
    objects = build(overlay)
    assert [p for obj in objects for p in schema_problems(obj, version)] == []


def test_worker_deployment_leaves_the_replica_count_to_its_autoscaler() -> None:
    for overlay in OVERLAYS:
        for name in ("turnstream-worker", "turnstream-gateway"):
            assert "replicas" not in find(build(overlay), "Deployment", name)["spec"]


def test_gateway_rolls_without_losing_capacity() -> None:
    for overlay in OVERLAYS:
        strategy = find(build(overlay), "Deployment", "turnstream-gateway")["spec"]["strategy"]
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_prod_runs_more_replicas_than_dev() -> None:
    def floor(overlay: str) -> tuple[int, int]:
        objects = build(overlay)
        gateway = find(objects, "HorizontalPodAutoscaler", "turnstream-gateway")["spec"]
        workers = find(objects, "ScaledObject", "turnstream-worker")["spec"]
        return gateway["minReplicas"], workers["minReplicaCount"]

    dev, prod = floor("dev"), floor("prod")
    assert prod[0] > dev[0] and prod[1] > dev[1]


# --- the validation itself catches mistakes ----------------------------------------------------


def mutated(overlay: str, kind: str, name: str, change: str) -> Manifest:
    obj = find(build(overlay), kind, name)
    spec = obj["spec"]
    if change == "typo in a container field":
        spec["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    elif change == "a string where a number goes":
        spec["template"]["spec"]["terminationGracePeriodSeconds"] = "forty"
    elif change == "typo in a trigger":
        spec["triggers"][0]["metdata"] = spec["triggers"][0].pop("metadata")
    elif change == "an unknown metric type":
        spec["advanced"]["scalingModifiers"]["metricType"] = "Utilisation"
    elif change == "a missing required field":
        del spec["scaleTargetRef"]
    elif change == "typo in a secret reference":
        spec["secretTargetRef"][0]["secret"] = spec["secretTargetRef"][0].pop("name")
    return obj


@pytest.mark.parametrize(
    ("kind", "name", "change", "expected"),
    [
        ("Deployment", "turnstream-worker", "typo in a container field", "livenesProbe"),
        ("Deployment", "turnstream-gateway", "a string where a number goes", "'forty'"),
        ("ScaledObject", "turnstream-worker", "typo in a trigger", "metdata"),
        ("ScaledObject", "turnstream-worker", "an unknown metric type", "Utilisation"),
        ("ScaledObject", "turnstream-worker", "a missing required field", "scaleTargetRef"),
        ("TriggerAuthentication", "turnstream-redis", "typo in a secret reference", "secret"),
    ],
)
def test_schema_validation_rejects_a_broken_object(
    kind: str, name: str, change: str, expected: str
) -> None:
    problems = schema_problems(mutated("dev", kind, name, change), KUBERNETES_VERSIONS[-1])
    assert problems
    assert expected in " ".join(problems)


def test_an_object_without_a_known_schema_is_a_problem() -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert schema_problems(unknown, KUBERNETES_VERSIONS[-1]) == [
        "Widget/w: Couldn't find schema for kind Widget with api version example.com/v1 for "
        f"kubernetes version {KUBERNETES_VERSIONS[-1]}"
    ]
