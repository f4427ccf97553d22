"""The manifests agree with the code, and each check is shown to fail on a broken manifest."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.protocol.keys import Keyspace
from tests.k8s import consistency, environment, keda
from tests.k8s.consistency import selects
from tests.k8s.dockerfile import image_uid
from tests.k8s.environment import settings_variables
from tests.k8s.manifests import OVERLAYS, Manifest, build, find, pod_spec

Check = Callable[[list[Manifest]], list[str]]

CHECKS: dict[str, Check] = {
    "env": environment.env_problems,
    "commands": consistency.command_problems,
    "probes": consistency.probe_problems,
    "grace": consistency.grace_problems,
    "streams": keda.stream_problems,
    "selectors": consistency.selector_problems,
    "security": lambda objects: consistency.security_problems(objects, image_uid()),
    "redis credentials": environment.redis_credential_problems,
    "scraping": consistency.scrape_problems,
}


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_manifests_pass_every_check(overlay: str, check: str) -> None:
    assert CHECKS[check](build(overlay)) == []


def test_the_settings_variables_are_read_off_the_settings_themselves() -> None:
    names = settings_variables()
    assert {"REDIS_URL", "MicrosoftAppId", "TURNSTREAM_SHARDS", "TURNSTREAM_KEY_PREFIX"} <= names
    assert "TURNSTREAM_EMBEDDED_SERVER" not in names  # dev and tests only, never in a pod


def test_only_the_documented_secrets_come_from_outside_git() -> None:
    for overlay in ("dev", "loadtest"):
        assert environment.missing_references(build(overlay)) == set()
    for overlay in ("prod", "hpa"):  # created by the operator: docs/kubernetes.md
        missing = environment.missing_references(build(overlay))
        expected = {("Secret", "turnstream-secrets"), ("Secret", "turnstream-redis-auth")}
        assert missing == (expected if overlay == "prod" else {("Secret", "turnstream-secrets")})


def test_a_reference_to_a_secret_the_build_does_not_hold_is_caught() -> None:
    objects = build("dev")  # generated Secrets carry a hash suffix that kustomize must carry on
    auth = find(objects, "TriggerAuthentication", "turnstream-redis")
    auth["spec"]["secretTargetRef"][0]["name"] = "turnstream-redis-auth"
    assert environment.missing_references(objects) == {("Secret", "turnstream-redis-auth")}


def test_the_scaled_object_watches_every_shard_of_the_configured_layout() -> None:
    objects = build("prod")
    triggers = find(objects, "ScaledObject", "turnstream-worker")["spec"]["triggers"]
    assert [t["metadata"]["stream"] for t in triggers] == Keyspace("turnstream", 16).streams()


def test_redis_admits_only_the_gateway_the_workers_and_kedas_operator() -> None:
    objects = build("dev")
    policy = find(objects, "NetworkPolicy", "turnstream-redis")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    [rule] = policy["ingress"]
    pods = consistency.pod_labels(objects)
    in_namespace = [peer for peer in rule["from"] if "namespaceSelector" not in peer]
    admitted = sorted(
        name
        for name, labels in pods
        if any(selects(p["podSelector"], labels) for p in in_namespace)
    )
    assert admitted == ["turnstream-gateway", "turnstream-worker"]
    [keda] = [peer for peer in rule["from"] if "namespaceSelector" in peer]
    assert keda["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "keda"}
    assert keda["podSelector"] == {"matchLabels": {"app": "keda-operator"}}


def namespace(name: str) -> list[Manifest]:
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}]


def test_the_gateway_admits_the_ingress_and_prometheus_and_workers_only_prometheus() -> None:
    objects = build("prod")
    gateway = find(objects, "NetworkPolicy", "turnstream-gateway")["spec"]
    traffic, scrapes = gateway["ingress"]
    assert traffic["from"] == namespace("ingress-nginx")
    assert scrapes == {"from": namespace("monitoring"), "ports": traffic["ports"]}
    [worker_scrapes] = find(objects, "NetworkPolicy", "turnstream-worker")["spec"]["ingress"]
    assert worker_scrapes == {
        "from": namespace("monitoring"),
        "ports": [{"port": "metrics", "protocol": "TCP"}],
    }
    loadtest = find(build("loadtest"), "NetworkPolicy", "turnstream-gateway")["spec"]
    assert len(loadtest["ingress"]) == 3  # and Locust, in the loadtest overlay only


def test_locust_aims_at_the_gateway_service() -> None:
    objects = build("loadtest")
    service = find(objects, "Service", "turnstream-gateway")
    port = service["spec"]["ports"][0]["port"]
    for name in ("locust-master", "locust-worker"):
        spec = pod_spec(find(objects, "Deployment", name))
        assert spec is not None
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["locustfile"]["configMap"]["name"].startswith("locustfile-")
    master = pod_spec(find(objects, "Deployment", "locust-master"))
    assert master is not None
    assert f"--host=http://turnstream-gateway:{port}" in master["containers"][0]["args"]


def test_locust_runs_the_repository_locustfile_and_serves_the_reply_sink() -> None:
    objects = build("loadtest")
    locustfile = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"
    assert find(objects, "ConfigMap", "locustfile")["data"]["locustfile.py"] == (
        locustfile.read_text()
    )
    spec = pod_spec(find(objects, "Deployment", "locust-worker"))
    assert spec is not None
    container = spec["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    sink_port = {p["name"]: p["containerPort"] for p in container["ports"]}["sink"]
    assert env["SINK_PORT"]["value"] == str(sink_port)
    assert env["SERVICE_URL"]["value"] == f"http://$(POD_IP):{sink_port}"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    # The workers may post replies to the Locust pods' private addresses.
    assert config(objects)["TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS"] == "true"


# --- each check fails on a broken manifest -----------------------------------------------------


def worker(objects: list[Manifest]) -> Manifest:
    spec = pod_spec(find(objects, "Deployment", "turnstream-worker"))
    assert spec is not None
    container: Manifest = spec["containers"][0]
    return container


def gateway(objects: list[Manifest]) -> Manifest:
    spec = pod_spec(find(objects, "Deployment", "turnstream-gateway"))
    assert spec is not None
    container: Manifest = spec["containers"][0]
    return container


def config(objects: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = find(objects, "ConfigMap", "turnstream-config")["data"]
    return data


def pod_annotations(objects: list[Manifest], name: str) -> dict[str, str]:
    template = find(objects, "Deployment", name)["spec"]["template"]
    found: dict[str, str] = template["metadata"]["annotations"]
    return found


def scaled(objects: list[Manifest]) -> Manifest:
    spec: Manifest = find(objects, "ScaledObject", "turnstream-worker")["spec"]
    return spec


def set_grace(objects: list[Manifest], name: str, seconds: int) -> None:
    spec = pod_spec(find(objects, "Deployment", name))
    assert spec is not None
    spec["terminationGracePeriodSeconds"] = seconds


MUTATIONS: list[tuple[str, str, Callable[[list[Manifest]], object], str]] = [
    (
        "scraping",
        "a scrape port the worker does not serve metrics on",
        lambda o: pod_annotations(o, "turnstream-worker").update({"prometheus.io/port": "9100"}),
        "prometheus.io/port '9100' is not 9478",
    ),
    (
        "scraping",
        "workers annotated for scraping without a metrics port",
        lambda o: config(o).update(TURNSTREAM_METRICS_PORT="0"),
        "the worker serves no metrics",
    ),
    (
        "scraping",
        "a scrape path the gateway does not serve",
        lambda o: pod_annotations(o, "turnstream-gateway").update({"prometheus.io/path": "/stats"}),
        "prometheus.io/path '/stats' is not the /metrics it serves",
    ),
    (
        "scraping",
        "a container port the worker does not listen on",
        lambda o: worker(o)["ports"][0].update(containerPort=9090),
        "declares port 9090, but the worker listens on 9478",
    ),
    (
        "probes",
        "an HTTP probe on a worker that serves no HTTP",
        lambda o: (
            config(o).update(TURNSTREAM_METRICS_PORT="0"),
            worker(o).update(readinessProbe={"httpGet": {"path": "/healthz", "port": "metrics"}}),
        ),
        "without TURNSTREAM_METRICS_PORT serves no HTTP",
    ),
    (
        "env",
        "a variable the settings do not read",
        lambda o: config(o).update(TURNSTREAM_SHARD_COUNT="8"),
        "TURNSTREAM_SHARD_COUNT is not a variable the settings read",
    ),
    (
        "env",
        "an env entry the settings do not read",
        lambda o: worker(o).setdefault("env", []).append({"name": "REDIS_HOST", "value": "x"}),
        "REDIS_HOST is not a variable the settings read",
    ),
    (
        "env",
        "a value the settings refuse",
        lambda o: config(o).update(TURNSTREAM_SHARDS="sixteen"),
        "TURNSTREAM_SHARDS='sixteen' is not valid",
    ),
    (
        "commands",
        "a gateway on loopback",
        lambda o: gateway(o).update(args=["gateway", "--port", "3978"]),
        "listens on loopback only",
    ),
    (
        "commands",
        "an unknown option",
        lambda o: worker(o).update(args=["worker", "--bot", "samples.echo:bot", "--burts"]),
        "unrecognized arguments: --burts",
    ),
    (
        "probes",
        "a probe on a port the gateway does not listen on",
        lambda o: gateway(o)["readinessProbe"]["httpGet"].update(port=8080),
        "port 8080 is not 3978",
    ),
    (
        "probes",
        "a gateway listening elsewhere than its probes",
        lambda o: gateway(o).update(args=["gateway", "--host", "0.0.0.0", "--port", "8000"]),
        "port 'http' is not 8000",
    ),
    (
        "probes",
        "an exec probe that is not the check",
        lambda o: worker(o)["livenessProbe"]["exec"].update(command=["python", "-m", "worker"]),
        "not the `turnstream` console script",
    ),
    (
        "probes",
        "an exec probe with a wrong option",
        lambda o: worker(o)["livenessProbe"]["exec"].update(
            command=["turnstream", "worker", "--health"]
        ),
        "one of the arguments --bot --check is required",
    ),
    (
        "grace",
        "a grace period shorter than the drain",
        lambda o: set_grace(o, "turnstream-worker", 25),
        "leaves no time after the drain",
    ),
    (
        "grace",
        "a drain longer than the grace period",
        lambda o: config(o).update(TURNSTREAM_DRAIN_TIMEOUT_SECONDS="60"),
        "TURNSTREAM_DRAIN_TIMEOUT_SECONDS 60",
    ),
    (
        "grace",
        "no preStop pause",
        lambda o: gateway(o).pop("lifecycle"),
        "no preStop pause",
    ),
    (
        "grace",
        "a gateway grace period shorter than its shutdown",
        lambda o: set_grace(o, "turnstream-gateway", 10),
        "terminationGracePeriodSeconds 10 is not more than",
    ),
    (
        "streams",
        "a stream without its hash tag",
        lambda o: scaled(o)["triggers"][3]["metadata"].update(stream="turnstream:3:in"),
        "stream 'turnstream:3:in' is not one of the 16 shard streams",
    ),
    (
        "streams",
        "a shard nobody watches",
        lambda o: scaled(o)["triggers"].pop(),
        "no trigger watches shard stream 'turnstream:{15}:in'",
    ),
    (
        "streams",
        "another shard count in the configuration",
        lambda o: config(o).update(TURNSTREAM_SHARDS="32"),
        "no trigger watches shard stream 'turnstream:{16}:in'",
    ),
    (
        "streams",
        "another key prefix in the configuration",
        lambda o: config(o).update(TURNSTREAM_KEY_PREFIX="bots"),
        "of prefix 'bots'",
    ),
    (
        "streams",
        "the wrong consumer group",
        lambda o: scaled(o)["triggers"][0]["metadata"].update(consumerGroup="worker"),
        "consumerGroup 'worker' is not the workers' group 'workers'",
    ),
    (
        "streams",
        "pending instead of lag",
        lambda o: scaled(o)["triggers"][0]["metadata"].pop("lagCount"),
        "lagCount ''",
    ),
    (
        "streams",
        "a metadata key KEDA ignores",
        lambda o: scaled(o)["triggers"][0]["metadata"].update(lagcount="5"),
        "KEDA ignores metadata 'lagcount'",
    ),
    (
        "streams",
        "a formula that leaves a shard out",
        lambda o: scaled(o)["advanced"]["scalingModifiers"].update(formula="shard0 + shard1"),
        "formula terms",
    ),
    (
        "streams",
        "no scaling modifiers",
        lambda o: scaled(o)["advanced"].pop("scalingModifiers"),
        "each shard would scale on its own lag",
    ),
    (
        "selectors",
        "a PDB that selects nothing",
        lambda o: find(o, "PodDisruptionBudget", "turnstream-worker")["spec"]["selector"][
            "matchLabels"
        ].update({"app.kubernetes.io/component": "workers"}),
        "PodDisruptionBudget/turnstream-worker: selects no pod",
    ),
    (
        "selectors",
        "a NetworkPolicy for every pod",
        lambda o: find(o, "NetworkPolicy", "turnstream-worker")["spec"].update(podSelector={}),
        "selects every pod in the namespace",
    ),
    (
        "security",
        "a writable root filesystem",
        lambda o: worker(o)["securityContext"].update(readOnlyRootFilesystem=False),
        "the root filesystem is writable",
    ),
    (
        "security",
        "another uid than the image's",
        lambda o: worker(o)["securityContext"].update(runAsUser=1000),
        "runAsUser 1000 is not the image's uid 10001",
    ),
    (
        "security",
        "no memory limit",
        lambda o: gateway(o)["resources"]["limits"].pop("memory"),
        "no memory in limits",
    ),
    (
        "redis credentials",
        "KEDA reading another server",
        lambda o: _set_secret(o, "turnstream-redis-auth", "address", "redis:6379"),
        "KEDA's address 'redis:6379' is not REDIS_URL's server",
    ),
    (
        "redis credentials",
        "KEDA with another password",
        lambda o: _set_secret(o, "turnstream-redis-auth", "password", "other"),
        "KEDA's password is not REDIS_URL's",
    ),
]


def _set_secret(objects: list[Manifest], name: str, key: str, value: str) -> None:
    secret = find(objects, "Secret", name)
    secret["data"][key] = base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    ("check", "mutation", "expected"),
    [(check, mutate, expected) for check, _, mutate, expected in MUTATIONS],
    ids=[description for _, description, _, _ in MUTATIONS],
)
def test_each_check_fails_on_a_broken_manifest(
    check: str, mutation: Callable[[list[Manifest]], object], expected: str
) -> None:
    objects = build("dev")
    mutation(objects)
    problems = CHECKS[check](objects)
    assert any(expected in problem for problem in problems), problems
