"""What the containers read from their environment: only the settings' variables, from
ConfigMaps and Secrets that exist, with the same Redis for KEDA as for turnstream."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from shared.errors import ConfigError
from shared.settings import Settings
from tests.k8s.manifests import Manifest, base_name, containers, is_turnstream, where, workloads


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
