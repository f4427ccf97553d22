"""Checks that the manifests agree with the code: each returns the problems it finds (empty: all
is well), so a test can also show that it fails on a broken manifest. The environment and KEDA
checks live in `environment.py` and `keda.py`."""

from __future__ import annotations

import argparse
import contextlib
import io
import tomllib
from collections.abc import Mapping
from typing import Any

from gateway.app import ROUTES
from gateway.server import server_config
from tests.k8s.environment import container_settings, turnstream_containers
from tests.k8s.manifests import (
    ROOT,
    Manifest,
    base_name,
    containers,
    is_turnstream,
    where,
    workloads,
)
from turnstream.cli import build_parser
from worker.runtime.metrics_server import PATHS as WORKER_PATHS

READ_BLOCK_SECONDS = 1.0
"""A stopping worker's last XREADGROUP may block this long before the drain starts
(worker/runtime/process.py)."""


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
        served = _served_port(objects, container, role)
        for kind in PROBES:
            if kind in container:
                problems.extend(
                    _probe_problems(f"{place} {kind}", container[kind], role, ports, served)
                )
    return problems


def _served_port(objects: list[Manifest], container: Manifest, role: argparse.Namespace) -> int:
    """Where the process serves HTTP: the gateway's --port, a worker's TURNSTREAM_METRICS_PORT
    (0: nowhere)."""
    if role.command == "gateway":
        port: int = role.port
        return port
    return container_settings(objects, container).metrics_port


def _probe_problems(
    place: str, probe: Manifest, role: argparse.Namespace, ports: dict[str, int], served: int
) -> list[str]:
    if "exec" in probe:
        return _exec_probe_problems(place, probe["exec"]["command"])
    target = (probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
    port = ports.get(target) if isinstance(target, str) else target
    if not served:
        return [f"{place}: a {role.command} without TURNSTREAM_METRICS_PORT serves no HTTP"]
    if port != served:
        return [f"{place}: port {target!r} is not {served}, where the {role.command} listens"]
    return []


SCRAPE = "prometheus.io/scrape"


def scrape_problems(objects: list[Manifest]) -> list[str]:
    """Pods annotated for scraping name the port and path their process serves metrics on, and
    every port a turnstream container declares is one its process listens on."""
    problems = []
    for workload, spec in workloads(objects):
        annotations = spec_annotations(workload)
        for container in containers(spec):
            if not is_turnstream(container):
                continue
            role = role_of(container)
            if isinstance(role, str) or role.command not in ("gateway", "worker"):
                continue
            place = where(workload, container)
            served = _served_port(objects, container, role)
            for port in container.get("ports", []):
                if port["containerPort"] != served:
                    problems.append(
                        f"{place}: declares port {port['containerPort']}, but the "
                        f"{role.command} listens on {served or 'no port'}"
                    )
            if annotations.get(SCRAPE) == "true":
                problems.extend(_scrape_problems(place, annotations, role.command, served))
    return problems


def spec_annotations(workload: Manifest) -> dict[str, str]:
    annotations: dict[str, str] = workload["spec"]["template"]["metadata"].get("annotations", {})
    return annotations


def _scrape_problems(
    place: str, annotations: dict[str, str], command: str, served: int
) -> list[str]:
    if not served:
        return [
            f"{place}: annotated for scraping, but the worker serves no metrics "
            "(TURNSTREAM_METRICS_PORT is 0)"
        ]
    problems = []
    port = annotations.get("prometheus.io/port")
    if port != str(served):
        problems.append(f"{place}: prometheus.io/port {port!r} is not {served}, where it listens")
    path = annotations.get("prometheus.io/path", "/metrics")
    paths = ROUTES if command == "gateway" else WORKER_PATHS
    if path != "/metrics" or path not in paths:
        problems.append(f"{place}: prometheus.io/path {path!r} is not the /metrics it serves")
    return problems


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
