"""Schema validation of rendered objects: Kubernetes' own schemas (kubernetes-validate, bundled,
offline) and KEDA's CRD schemas (vendored in tests/k8s/schemas, see its README)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.k8s.manifests import Manifest, where

SCHEMAS = Path(__file__).resolve().parent / "schemas"

KUBERNETES_VERSIONS = ("1.30", "1.37")
"""The oldest version the manifests support (the preStop `sleep` action is on by default from
1.30) and the newest kubernetes-validate bundles."""


def schema_problems(obj: Manifest, kubernetes_version: str) -> list[str]:
    """Why `obj` does not validate (unknown fields included); empty when it does."""
    crd = _crd_validators().get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if crd is not None:
        return [
            f"{where(obj)}: {_path(error.absolute_path)}: {error.message}"
            for error in crd.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{where(obj)}: {_path(error.path)}: {error.message} (k8s {kubernetes_version})"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{where(obj)}: {error.message}"]
    return []


def _path(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(top)"


@functools.cache
def _crd_validators() -> dict[tuple[str, str], jsonschema.Draft202012Validator]:
    """(apiVersion, kind) -> a validator for each version of each vendored CRD."""
    validators = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft202012Validator(
                schema
            )
    return validators


def _strict(schema: Any) -> Any:
    """The schema with unknown fields rejected where the CRD does not preserve them, as the
    API server's strict field validation (kubectl's default) rejects them on apply."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    if "properties" in schema:  # property names, not schemas, at this level
        strict["properties"] = {
            name: _strict(value) for name, value in schema["properties"].items()
        }
    return strict
