"""How turnstream talks to Redis: what REDIS_URL names, the redis-py client factory, and the
plain RESP pools (one server, a Cluster, Sentinel) for batched hot paths."""
