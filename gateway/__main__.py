"""`python -m gateway [--host H] [--port P]`: the same as `turnstream gateway`."""

from __future__ import annotations

import argparse
import os
import sys

from shared.errors import ConfigError
from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway", description="Run the turnstream gateway."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)",
    )
    parser.add_argument("--port", type=int, default=3978, help="port to listen on (default 3978)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(os.environ)
        if not settings.redis_url:
            raise ConfigError(
                "REDIS_URL is required for the gateway (turnstream dev starts its own)"
            )
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    # Imported here, not at the top: `turnstream` imports this module to build its parser for
    # every command, and a worker process must not carry the gateway's modules (issue 24:
    # each process's resident memory).
    from gateway.app import create_app
    from gateway.edge import EdgeLimits
    from gateway.server import GatewayServer, server_config
    from shared import event_loop
    from shared.gc_tuning import tune_for_serving
    from shared.telemetry import otel
    from shared.telemetry.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    otel.configure_from_env("turnstream-gateway", os.environ)
    limits = EdgeLimits.from_settings(settings)
    died: list[str] = []

    def stop(loop: str) -> None:  # the loop's death is logged where it died
        died.append(loop)
        server.should_exit = True

    app = create_app(settings, on_loop_death=stop)
    server = GatewayServer(server_config(app, args.host, args.port, limits))
    tune_for_serving()
    event_loop.run(server.serve())  # uvicorn's `run`, on the loop every process uses
    return 1 if died else 0


if __name__ == "__main__":
    sys.exit(main())
