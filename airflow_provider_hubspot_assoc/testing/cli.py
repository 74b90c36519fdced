"""``hubspot-assoc-sim``: run the HubSpot simulator as a standalone server."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from airflow_provider_hubspot_assoc.testing.cli_options import add_setting_flags, settings_from
from airflow_provider_hubspot_assoc.testing.config import ALL_SCOPES, TIERS, FaultConfig, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.server import HubSpotSimulator

_DEFAULTS = SimulatorConfig()
DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET = next(iter(_DEFAULTS.oauth_clients.items()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubspot-assoc-sim",
        description="Serve a stateful HubSpot CRM associations simulator on 127.0.0.1. It prints the "
        "credentials it accepts at start; they are its own, not HubSpot's.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--tier", choices=sorted(TIERS), help="take the request limits of a tier")
    credentials = parser.add_argument_group("credentials the simulator accepts")
    credentials.add_argument("--token", default=next(iter(_DEFAULTS.tokens)), help="private-app token")
    credentials.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="OAuth client id")
    credentials.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET, help="OAuth client secret")
    credentials.add_argument(
        "--refresh-token", default=next(iter(_DEFAULTS.oauth_refresh_tokens)), help="OAuth refresh token"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request (no tokens)")
    add_setting_flags(parser)
    return parser


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    settings, faults = settings_from(args)
    config = SimulatorConfig.for_tier(args.tier, **settings) if args.tier else SimulatorConfig(**settings)
    config.tokens = {args.token: ALL_SCOPES}
    config.oauth_clients = {args.client_id: args.client_secret}
    config.oauth_refresh_tokens = {args.refresh_token: ALL_SCOPES}
    config.faults = FaultConfig(**faults)
    return config


def banner(sim: HubSpotSimulator, args: argparse.Namespace) -> list[str]:
    """What the command prints at start: where, limits, credentials, preload; ends with ``Ready.``"""
    config = sim.config
    daily = "no daily limit" if config.daily_limit is None else f"daily limit {config.daily_limit}"
    if config.daily_limit is not None:
        daily += f", reset at midnight {config.account_timezone} on the simulator's clock"
        if config.day_ends_in is not None:
            daily += f" (in {config.day_ends_in:g} s)"
        if config.daily_reset_seconds:
            daily += f", days of {config.daily_reset_seconds:g} s"
    lines = [
        f"HubSpot simulator on {sim.url} (seed {config.seed}, {config.ten_second_limit} requests per "
        f"{config.window_seconds:g} s, {daily}); inspect at {sim.url}/_sim/stats.",
        "Credentials it accepts (the simulator's own, not HubSpot's):",
        f"  private-app token:   {args.token}",
        f"  OAuth client id:     {args.client_id}",
        f"  OAuth client secret: {args.client_secret}",
        f"  OAuth refresh token: {args.refresh_token}",
    ]
    if sim.preloaded:
        made = sim.preloaded
        lines.append(
            f"Preloaded {made['associations']} contact->company associations: {made['contacts']} contacts "
            f"from 100001, {made['companies']} companies from 500001; {made['primary']} labeled Primary, "
            f"{made['billing']} Billing contact."
        )
    lines.append("Ready. Ctrl-C stops it.")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with HubSpotSimulator(build_config(args)) as sim:
        # For the person starting it: the credentials are printed on purpose (fake, loopback only).
        print("\n".join(banner(sim, args)), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
