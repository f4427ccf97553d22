"""Code both sides of the queue share, in four rooms: `schema` (the Bot Framework schema),
`protocol` (what gateway and worker agree on through Redis: keys, envelope, chain, answers,
proactive turns), `redis` (connections and RESP pools) and `telemetry` (logs, metrics, traces);
beside them the settings, the error base, the heartbeat, background loops and backoff."""
