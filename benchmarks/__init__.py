"""Load benchmarks; run them from the repository root, e.g. `python -m benchmarks.gateway_ack`."""
