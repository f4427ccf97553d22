"""`python -m benchmarks.aiohttp_worker ...`: `python -m worker ...` with the Bot Connector client
over aiohttp (`ConnectorClient.over_aiohttp`) instead of worker/connector/keepalive_http.py, so
benchmarks can run the former transport side by side with the current one (`echo_turns
--aiohttp-baseline`). Benchmarks only: nothing else starts it.
"""

from __future__ import annotations

import sys

from worker import __main__ as worker_main
from worker.connector.client import ConnectorClient

if __name__ == "__main__":
    ConnectorClient.create = ConnectorClient.over_aiohttp  # type: ignore[method-assign]
    sys.exit(worker_main.main())
