"""Checks that the manifests agree with the code: each returns the problems it finds (empty: all
is well), so a test can also show that it fails on a broken manifest."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from gateway.server import server_config
from shared.errors import ConfigError
from shared.keys import CONSUMER_GROUP, Keyspace
from shared.settings import Settings
from tests.k8s.manifests import (
    ROOT,
    Manifest,
    base_name,
    containers,
    find,
    is_turnstream,
    where,
    workloads,
)
from turnstream.cli import build_parser

READ_BLOCK_SECONDS = 1.0
"""A stopping worker's last XREADGROUP may block this long before the drain starts
(worker/main.py)."""

REDIS_STREAMS_METADATA = frozenset(
    {
        "stream",
        "consumerGroup",
        "lagCount",
        "pendingEntriesCount",
        "streamLength",
        "activationLagCount",
        "databaseIndex",
        "enableTLS",
        "unsafeSsl",
        "address",
        "addresses",
        "host",
        "hosts",
        "port",
        "ports",
        "username",
        "sentinelUsername",
        "sentinelMaster",
        "addressFromEnv",
        "hostFromEnv",
        "portFromEnv",
        "usernameFromEnv",
        "passwordFromEnv",
    }
)
"""The trigger metadata KEDA's redis-streams scaler reads (v2.20, pkg/scalers/
redis_streams_scaler.go and redis_scaler.go); KEDA ignores any other key silently."""


# --- environment -------------------------------------------------------------------------------


class _Recorder(Mapping[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.names.add(name)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_variables() -> frozenset[str]:
    """Every environment variable `Settings.from_env` reads."""
    recorder = _Recorder()
    Settings.from_env(recorder)
    return frozenset(recorder.names)


def environment(objects: list[Manifest], container: Manifest) -> dict[str, str]:
    """The variables a container gets from `env` and from the ConfigMaps/Secrets of the build
    (one created outside git, such as prod's Secrets, adds nothing here)."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(_source_data(objects, source) or {})
    for variable in container.get("env", []):
        values[variable["name"]] = str(variable.get("value", ""))
    return values


def turnstream_containers(objects: list[Manifest]) -> Iterator[tuple[Manifest, Manifest, str]]:
    """(pod spec, container, where) for every container running the turnstream image."""
    for workload, spec in workloads(objects):
        for container in containers(spec):
            if is_turnstream(container):
                yield spec, container, where(workload, container)


def _source_data(objects: list[Manifest], source: Manifest) -> dict[str, str] | None:
    for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
        if ref in source:
            matches = [o for o in objects if o["kind"] == kind and _named(o, source[ref]["name"])]
            if not matches:
                return None
            return _data(matches[0])
    raise AssertionError(f"unknown envFrom source {source}")


def _named(obj: Manifest, name: str) -> bool:
    return bool(obj["metadata"]["name"] == name)


def _data(obj: Manifest) -> dict[str, str]:
    data = {key: str(value) for key, value in obj.get("stringData", {}).items()}
    if obj["kind"] == "Secret":
        for key, value in obj.get("data", {}).items():
            data[key] = base64.b64decode(value).decode()
    else:
        data.update({key: str(value) for key, value in obj.get("data", {}).items()})
    return data


def env_problems(objects: list[Manifest]) -> list[str]:
    """turnstream containers get only variables the settings read, with values they accept."""
    known = settings_variables()
    problems = []
    for _, container, place in turnstream_containers(objects):
        env = environment(objects, container)
        if any(source.get("prefix") for source in container.get("envFrom", [])):
            problems.append(f"{place}: envFrom with a prefix renames the variables")
        for name in sorted(set(env) - known):
            problems.append(f"{place}: {name} is not a variable the settings read")
        try:
            Settings.from_env(env)
        except ConfigError as e:
            problems.append(f"{place}: {e}")
    return problems


def container_settings(objects: list[Manifest], container: Manifest) -> Settings:
    """The settings a container would start with (secrets absent from the build left unset)."""
    return Settings.from_env(environment(objects, container))


# --- command lines and probes ------------------------------------------------------------------


def console_script() -> str:
    """The name pyproject gives the `turnstream` command."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert len(scripts) == 1, scripts
    name: str = next(iter(scripts))
    return name


def parse_command(argv: list[str]) -> argparse.Namespace | str:
    """The turnstream CLI's reading of an argument list, or its error message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return build_parser().parse_args(argv)
    except SystemExit:
        return stderr.getvalue().strip().splitlines()[-1]


def role_of(container: Manifest) -> argparse.Namespace | str:
    """What a turnstream container runs: the image's entrypoint is the console script, so the
    container's args are the command line (a `command` would bypass the entrypoint)."""
    if "command" in container:
        return "sets `command`, bypassing the image's entrypoint"
    return parse_command(list(container.get("args", [])))


def command_problems(objects: list[Manifest]) -> list[str]:
    """Every turnstream container runs a valid `turnstream gateway|worker` command line."""
    problems = []
    for _, container, place in turnstream_containers(objects):
        role = role_of(container)
        if isinstance(role, str):
            problems.append(f"{place}: {role}")
        elif role.command not in ("gateway", "worker"):
            problems.append(f"{place}: runs `{role.command}`")
        elif role.command == "worker" and role.check:
            problems.append(f"{place}: runs the probe, not a worker")
        elif role.command == "gateway" and role.host in ("127.0.0.1", "localhost"):
            problems.append(f"{place}: listens on loopback only, unreachable from the Service")
    return problems


PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


def http_probes(objects: list[Manifest]) -> list[tuple[str, str]]:
    """(where, path) of every HTTP probe of a turnstream container."""
    return [
        (f"{place} {kind}", container[kind]["httpGet"]["path"])
        for _, container, place in turnstream_containers(objects)
        for kind in PROBES
        if "httpGet" in container.get(kind, {})
    ]


def probe_problems(objects: list[Manifest]) -> list[str]:
    """Probes aim at the port the process listens on, and exec probes run `worker --check`."""
    problems = []
    for _, container, place in turnstream_containers(objects):
        role = role_of(container)
        if isinstance(role, str):
            continue  # command_problems reports it
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        for kind in PROBES:
            if kind in container:
                problems.extend(_probe_problems(f"{place} {kind}", container[kind], role, ports))
    return problems


def _probe_problems(
    place: str, probe: Manifest, role: argparse.Namespace, ports: dict[str, int]
) -> list[str]:
    if "exec" in probe:
        return _exec_probe_problems(place, probe["exec"]["command"])
    target = (probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
    port = ports.get(target) if isinstance(target, str) else target
    if role.command != "gateway":
        return [f"{place}: a {role.command} serves no HTTP"]
    if port != role.port:
        return [f"{place}: port {target!r} is not {role.port}, where the gateway listens"]
    return []


def _exec_probe_problems(place: str, command: list[str]) -> list[str]:
    script = console_script()
    if not command or command[0] != script:
        return [f"{place}: runs {command[:1]}, not the `{script}` console script"]
    parsed = parse_command(command[1:])
    if isinstance(parsed, str):
        return [f"{place}: {parsed}"]
    if parsed.command != "worker" or not parsed.check:
        return [f"{place}: is not `{script} worker --check`"]
    return []


def grace_problems(objects: list[Manifest]) -> list[str]:
    """Pods get the time to stop cleanly before the kubelet kills them."""
    problems = []
    for spec, container, place in turnstream_containers(objects):
        grace = spec.get("terminationGracePeriodSeconds", 30)
        role = role_of(container)
        if isinstance(role, str):
            continue
        if role.command == "worker":
            drain = container_settings(objects, container).drain_timeout_seconds
            if grace <= drain + READ_BLOCK_SECONDS:
                problems.append(
                    f"{place}: terminationGracePeriodSeconds {grace} leaves no time after the "
                    f"drain (TURNSTREAM_DRAIN_TIMEOUT_SECONDS {drain:g} + "
                    f"{READ_BLOCK_SECONDS:g} s of the last read)"
                )
        if role.command == "gateway":
            problems.extend(_gateway_grace_problems(place, grace, container))
    return problems


def _gateway_grace_problems(place: str, grace: int, container: Manifest) -> list[str]:
    graceful_http = server_config(_no_app, "0.0.0.0", 1).timeout_graceful_shutdown or 0
    pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    if not pause:
        return [f"{place}: no preStop pause while the endpoints drain"]
    if grace <= pause + graceful_http:
        return [
            f"{place}: terminationGracePeriodSeconds {grace} is not more than the preStop "
            f"pause ({pause} s) and uvicorn's graceful shutdown ({graceful_http} s)"
        ]
    return []


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never served")


# --- KEDA --------------------------------------------------------------------------------------


def stream_problems(objects: list[Manifest]) -> list[str]:
    """The ScaledObject watches exactly the shard streams of the workers' key layout, in their
    consumer group, and adds every shard's lag into one metric."""
    problems = []
    for scaled in (o for o in objects if o["kind"] == "ScaledObject"):
        place = where(scaled)
        target = scaled["spec"]["scaleTargetRef"]
        if target.get("kind", "Deployment") != "Deployment":
            problems.append(f"{place}: scales a {target.get('kind')}")
            continue
        deployment = find(objects, "Deployment", target["name"])
        pod = deployment["spec"]["template"]["spec"]
        worker = next((c for c in pod["containers"] if is_turnstream(c)), None)
        if worker is None:
            problems.append(f"{place}: scales {target['name']}, which runs no turnstream worker")
            continue
        settings = container_settings(objects, worker)
        keys = Keyspace(settings.key_prefix, settings.shards)
        triggers = scaled["spec"].get("triggers", [])
        problems.extend(_trigger_problems(place, triggers, keys))
        problems.extend(_formula_problems(place, scaled, triggers))
        auth_names = {
            o["metadata"]["name"] for o in objects if o["kind"] == "TriggerAuthentication"
        }
        for trigger in triggers:
            ref = trigger.get("authenticationRef", {}).get("name")
            if ref not in auth_names:
                problems.append(f"{place}: trigger {trigger.get('name')} names no known auth {ref}")
    return problems


def _trigger_problems(place: str, triggers: list[Manifest], keys: Keyspace) -> list[str]:
    problems = [p for trigger in triggers for p in _one_trigger_problems(place, trigger)]
    streams = [trigger.get("metadata", {}).get("stream") for trigger in triggers]
    expected = keys.streams()
    for stream in streams:
        if stream not in expected:
            problems.append(
                f"{place}: stream {stream!r} is not one of the {keys.shards} shard streams of "
                f"prefix {keys.prefix!r} ({expected[0]} ...)"
            )
    for stream in expected:
        if stream not in streams:
            problems.append(f"{place}: no trigger watches shard stream {stream!r}")
    for stream in sorted({str(s) for s in streams if streams.count(s) > 1}):
        problems.append(f"{place}: stream {stream!r} is watched twice")
    return problems


def _one_trigger_problems(place: str, trigger: Manifest) -> list[str]:
    name = trigger.get("name")
    if trigger.get("type") != "redis-streams":
        return [f"{place}: trigger {name} is {trigger.get('type')}, not redis-streams"]
    metadata = trigger.get("metadata", {})
    problems = [
        f"{place}: trigger {name}: KEDA ignores metadata {key!r}"
        for key in sorted(set(metadata) - REDIS_STREAMS_METADATA)
    ]
    if metadata.get("consumerGroup") != CONSUMER_GROUP:
        problems.append(
            f"{place}: trigger {name}: consumerGroup {metadata.get('consumerGroup')!r} is not "
            f"the workers' group {CONSUMER_GROUP!r}"
        )
    lag = str(metadata.get("lagCount", ""))
    if not lag.isdigit() or int(lag) < 1:
        problems.append(f"{place}: trigger {name}: lagCount {lag!r} (KEDA reads lag only if > 0)")
    return problems


def _formula_problems(place: str, scaled: Manifest, triggers: list[Manifest]) -> list[str]:
    modifiers = scaled["spec"].get("advanced", {}).get("scalingModifiers")
    if not modifiers:
        return [f"{place}: no scalingModifiers: each shard would scale on its own lag"]
    terms = [term.strip() for term in modifiers.get("formula", "").split("+")]
    names = [trigger.get("name") for trigger in triggers]
    problems = []
    if not all(re.fullmatch(r"[A-Za-z_]\w*", term) for term in terms):
        problems.append(f"{place}: formula {modifiers.get('formula')!r} is not a sum of triggers")
    if sorted(terms) != sorted(str(n) for n in names) or len(set(names)) != len(names):
        problems.append(f"{place}: formula terms {terms} are not the trigger names {names}")
    if not str(modifiers.get("target", "")).isdigit():
        problems.append(f"{place}: scalingModifiers target {modifiers.get('target')!r}")
    return problems


# --- references, selectors, security -----------------------------------------------------------


def references(objects: list[Manifest]) -> Iterator[tuple[str, str, str]]:
    """(where, kind, name) of every ConfigMap and Secret an object refers to."""
    for workload, spec in workloads(objects):
        for container in containers(spec):
            yield from _container_references(where(workload, container), container)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                yield where(workload), "ConfigMap", volume["configMap"]["name"]
            if "secret" in volume:
                yield where(workload), "Secret", volume["secret"]["secretName"]
    for auth in (o for o in objects if o["kind"] == "TriggerAuthentication"):
        for ref in auth["spec"].get("secretTargetRef", []):
            yield where(auth), "Secret", ref["name"]


def _container_references(place: str, container: Manifest) -> Iterator[tuple[str, str, str]]:
    sources = [
        *container.get("envFrom", []),
        *(v["valueFrom"] for v in container.get("env", []) if "valueFrom" in v),
    ]
    for source in sources:
        for field, kind in (
            ("configMapRef", "ConfigMap"),
            ("configMapKeyRef", "ConfigMap"),
            ("secretRef", "Secret"),
            ("secretKeyRef", "Secret"),
        ):
            if field in source:
                yield place, kind, source[field]["name"]


def missing_references(objects: list[Manifest]) -> set[tuple[str, str]]:
    """(kind, name) referred to but not in the build: what must exist in the cluster already."""
    present = {(o["kind"], o["metadata"]["name"]) for o in objects}
    return {(kind, name) for _, kind, name in references(objects) if (kind, name) not in present}


def selects(selector: Manifest, labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and labels.get(key) in values)
            or (operator == "Exists" and key not in labels)
            or (operator == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def pod_labels(objects: list[Manifest]) -> list[tuple[str, dict[str, str]]]:
    """(workload, its pods' labels) for every workload."""
    return [
        (base_name(o), dict(o["spec"]["template"]["metadata"].get("labels", {})))
        for o, _ in workloads(objects)
    ]


def selector_problems(objects: list[Manifest]) -> list[str]:
    """Every selector picks pods of this build; an empty selector (all pods) is refused."""
    pods = pod_labels(objects)
    problems = []
    for obj in objects:
        kind, spec = obj["kind"], obj.get("spec", {})
        selector: Manifest | None = None
        if kind == "Service":
            selector = {"matchLabels": spec.get("selector", {})}
        elif kind in ("PodDisruptionBudget", "Deployment", "StatefulSet"):
            selector = spec.get("selector")
        elif kind == "NetworkPolicy":
            selector = spec.get("podSelector")
        if selector is None:
            continue
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            problems.append(f"{where(obj)}: selects every pod in the namespace")
            continue
        chosen = [name for name, labels in pods if selects(selector, labels)]
        if not chosen:
            problems.append(f"{where(obj)}: selects no pod")
        if kind in ("Deployment", "StatefulSet") and chosen != [base_name(obj)]:
            problems.append(f"{where(obj)}: its selector picks {chosen}, not only its own pods")
    return problems


def security_problems(objects: list[Manifest], image_uid: int) -> list[str]:
    """The restricted Pod Security Standard, read-only roots, requests and limits; turnstream
    containers run as the image's own uid."""
    problems = []
    for workload, spec in workloads(objects):
        pod = spec.get("securityContext", {})
        if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where(workload)}: seccompProfile is not RuntimeDefault")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{where(workload)}: shares a host namespace")
        for container in containers(spec):
            place = where(workload, container)
            problems.extend(_container_security_problems(place, pod, container))
            uid = container.get("securityContext", {}).get("runAsUser", pod.get("runAsUser"))
            if is_turnstream(container) and uid != image_uid:
                problems.append(f"{place}: runAsUser {uid} is not the image's uid {image_uid}")
    return problems


def _container_security_problems(place: str, pod: Manifest, container: Manifest) -> list[str]:
    own = container.get("securityContext", {})
    capabilities = own.get("capabilities", {})
    problems = [
        f"{place}: {problem}"
        for problem, bad in (
            ("runAsNonRoot is not set", not own.get("runAsNonRoot", pod.get("runAsNonRoot"))),
            ("runs as root", own.get("runAsUser", pod.get("runAsUser")) == 0),
            (
                "allowPrivilegeEscalation is not false",
                own.get("allowPrivilegeEscalation") is not False,
            ),
            ("the root filesystem is writable", own.get("readOnlyRootFilesystem") is not True),
            ("privileged", bool(own.get("privileged"))),
            ("capabilities are not all dropped", "ALL" not in capabilities.get("drop", [])),
            ("adds capabilities", bool(capabilities.get("add"))),
        )
        if bad
    ]
    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(bound, {}):
                problems.append(f"{place}: no {resource} in {bound}")
    return problems


def redis_credential_problems(objects: list[Manifest]) -> list[str]:
    """Where the build holds both Secrets, KEDA's address and password name the server that
    REDIS_URL names, and that server is a Service of the build when it is in-cluster."""
    secrets = {base_name(o): _data(o) for o in objects if o["kind"] == "Secret"}
    env, auth = secrets.get("turnstream-secrets"), secrets.get("turnstream-redis-auth")
    if env is None or auth is None:
        return []
    url = urlsplit(env.get("REDIS_URL", ""))
    problems = []
    if f"{url.hostname}:{url.port or 6379}" != auth.get("address"):
        problems.append(f"KEDA's address {auth.get('address')!r} is not REDIS_URL's server")
    if (url.password or "") != auth.get("password", ""):
        problems.append("KEDA's password is not REDIS_URL's")
    services = {
        (o["metadata"]["name"], port["port"])
        for o in objects
        if o["kind"] == "Service"
        for port in o["spec"]["ports"]
    }
    in_cluster = any(name == url.hostname for name, _ in services)
    if in_cluster and (url.hostname, url.port or 6379) not in services:
        problems.append(f"REDIS_URL port {url.port} is not a port of Service {url.hostname}")
    return problems
