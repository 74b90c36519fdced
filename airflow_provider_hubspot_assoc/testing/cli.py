"""``hubspot-assoc-sim``: run the HubSpot simulator as a standalone server."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from airflow_provider_hubspot_assoc.testing.config import TIERS, FaultConfig, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.server import HubSpotSimulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubspot-assoc-sim",
        description="Serve a stateful HubSpot CRM associations simulator on 127.0.0.1.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8790, help="port (0 picks a free one)")
    parser.add_argument("--seed", default="demo", choices=("demo", "empty"), help="data set")
    parser.add_argument("--tier", choices=sorted(TIERS), help="take the request limits of a tier")
    parser.add_argument("--ten-second-limit", type=int, help="requests per window per app")
    parser.add_argument("--window-seconds", type=float, default=10.0, help="rate window length")
    parser.add_argument("--daily-limit", type=int, help="requests per day per account")
    parser.add_argument(
        "--daily-reset-seconds", type=float, help="reset the daily count every N s (default: midnight)"
    )
    parser.add_argument(
        "--retry-after-on-429", action="store_true", help="send Retry-After on 429s (HubSpot documents none)"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    parser.add_argument("--max-inputs", type=int, default=100, help="inputs per archive request")
    parser.add_argument(
        "--success-status",
        type=int,
        choices=(200, 204),
        default=204,
        help="answer of a fully successful v4 archive",
    )
    parser.add_argument("--server-error-rate", type=float, default=0.0, help="fraction answered 5xx")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="fraction of dropped connections")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="fraction answered 429")
    parser.add_argument(
        "--token", default="sim-private-app-token", help="the private-app token the simulator accepts"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request (no tokens)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    config = SimulatorConfig.for_tier(args.tier) if args.tier else SimulatorConfig()
    config.host, config.port, config.seed = args.host, args.port, args.seed
    config.window_seconds, config.latency_seconds = args.window_seconds, args.latency
    config.max_inputs, config.v4_success_status = args.max_inputs, args.success_status
    if args.ten_second_limit:
        config.ten_second_limit = args.ten_second_limit
    if args.daily_limit:
        config.daily_limit = args.daily_limit
    config.daily_reset_seconds = args.daily_reset_seconds
    config.retry_after_on_429 = args.retry_after_on_429
    config.tokens = {args.token: next(iter(config.tokens.values()))}
    config.faults = FaultConfig(
        server_error_rate=args.server_error_rate,
        drop_rate=args.drop_rate,
        rate_limit_rate=args.rate_limit_rate,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with HubSpotSimulator(config) as sim:
        print(
            f"HubSpot simulator on {sim.url} (seed {config.seed}, "
            f"{config.ten_second_limit} requests per {config.window_seconds:g} s); "
            f"inspect at {sim.url}/_sim/stats. Ctrl-C stops it.",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
