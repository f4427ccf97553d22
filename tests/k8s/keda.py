"""The KEDA ScaledObject against the key layout: the streams, the group, the formula."""

from __future__ import annotations

import re

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from tests.k8s.environment import container_settings
from tests.k8s.manifests import Manifest, find, is_turnstream, where

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
