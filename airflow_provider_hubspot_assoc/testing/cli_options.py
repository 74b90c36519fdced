"""Command-line flags for every ``SimulatorConfig`` and ``FaultConfig`` setting, made from the fields.

A new setting gets its flag (``ten_second_limit`` -> ``--ten-second-limit``) from its type; only its
help text is written here (building the parser fails for a setting without one), so nothing drifts.
"""

from __future__ import annotations

import argparse
import types
from dataclasses import MISSING, Field, fields
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pendulum

from airflow_provider_hubspot_assoc.object_types import validate_record_id
from airflow_provider_hubspot_assoc.testing.config import (
    FaultConfig,
    SimulatorConfig,
    custom_object_type,
    fraction,
    non_negative,
    scripted_answer,
)
from airflow_provider_hubspot_assoc.testing.state import SEEDS

# Settings that are no flag: credentials have their own flags (--token, --client-id, ...).
NOT_FLAGS = frozenset({"tokens", "oauth_clients", "oauth_refresh_tokens", "faults"})
ALIASES = {"latency_seconds": ("--latency",), "v4_success_status": ("--success-status",)}
CLI_DEFAULTS: dict[str, Any] = {"port": 8790, "seed": "demo"}  # the command's own defaults

HELP = {
    "host": "address to bind",
    "port": "port (0 picks a free one)",
    "seed": "data set: 'demo' (200 contacts, 40 companies, deals, tickets) or 'empty' (labels only)",
    "random_seed": "seed of every random choice (faults, --preload), so a run repeats",
    "preload": "add N random contact->company associations (some labeled); kept across /_sim/reset",
    "access_token_lifetime_seconds": "lifetime of OAuth access tokens",
    "ten_second_limit": "requests per window per app (default: the tier's)",
    "window_seconds": "length of the rolling rate window",
    "daily_limit": "requests per day per account, or 'none' (default: the tier's)",
    "day_ends_in": "start the simulator's clock (its Date header) N seconds before the account's "
    "midnight, where the daily count resets ('none': the real clock)",
    "daily_reset_seconds": "every account day lasts N seconds: the clock skips the rest of each day; "
    "the first ends after N seconds unless --day-ends-in ('none')",
    "account_timezone": "the account's time zone: the daily count resets at midnight there",
    "enforce_ten_secondly": "apply the 10-s limit to association endpoints",
    "retry_after_on_429": "add Retry-After to 429 answers (HubSpot does not document it)",
    "max_inputs": "inputs per write request",
    "max_pairs": "(from, to) pairs per write request, or 'none'",
    "max_read_inputs": "ids per batch read",
    "read_page_size": "associations per batch-read page",
    "latency_seconds": "seconds added to each API answer",
    "v4_success_status": "answer of a fully successful /crm/v4 archive",
    "dated_success_status": "answer of a fully successful archive on a dated path",
    "missing_association": "archiving a pair that is not associated: 'noop' or 'error' (207)",
    "unknown_record": "archiving an unknown record id: 'noop', 'reject' (400 for the batch) or "
    "'error' (207 per input)",
    "unknown_object_type_status": "status for an object type HubSpot cannot infer",
    "custom_object_types": "comma-separated custom object types the account has (2-123, "
    "p24681357_cars), besides those it holds records of",
    "server_error_rate": "fraction of API requests answered 5xx",
    "server_error_statuses": "comma-separated 5xx statuses to draw from",
    "rate_limit_rate": "fraction of API requests answered 429 TEN_SECONDLY_ROLLING",
    "burst_429_every": "after every N requests ...",
    "burst_429_length": "... answer the next M with a 429",
    "slow_rate": "fraction of API requests answered --slow-seconds late",
    "slow_seconds": "delay of a slow answer",
    "drop_rate": "fraction of API requests whose connection is closed without an answer",
    "expire_tokens_after": "OAuth access tokens expire after N requests (0: never)",
    "apply_before_fault": "carry the request out, then answer with the fault (a lost answer)",
    "poison_ids": "comma-separated record ids that make HubSpot refuse a whole archive request",
    "read_foreign_ids": "comma-separated from-ids every batch-read answer adds, unasked",
    "read_repeat_results": "batch reads repeat earlier pages (a buggy pager)",
    "scripted": "comma-separated answers for the first requests, e.g. 503,429,daily,drop,0,ok_html",
}


def flag_name(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def _fraction(text: str) -> float:
    return fraction(float(text))


def _non_negative(kind: type) -> Any:
    def convert(text: str) -> Any:
        value = kind(text)
        non_negative(value)
        return value

    convert.__name__ = f"non-negative {kind.__name__}"
    return convert


def _optional(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else convert(text)

    parse.__name__ = f"{convert.__name__} or 'none'"
    return parse


def _timezone(text: str) -> str:
    pendulum.timezone(text)  # raises for an unknown zone
    return text


def _comma_list(item: Any) -> Any:
    def parse(text: str) -> tuple[Any, ...]:
        return tuple(item(part.strip()) for part in text.split(",") if part.strip())

    parse.__name__ = "comma-separated list"
    return parse


def _scripted_answer(text: str) -> int | str:
    return scripted_answer(int(text) if text.isdigit() else text)


def _converter(name: str, hint: Any) -> dict[str, Any]:
    """``add_argument`` keywords for one setting, from its type."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        keywords = _converter(name, inner)
        keywords["type"] = _optional(keywords["type"])
        return keywords
    if origin is Literal:
        kind = type(args[0])
        return {"type": kind, "choices": args}
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin is tuple:
        item = (lambda t: validate_record_id(t, "record id")) if name.endswith("_ids") else args[0]
        if name == "custom_object_types":
            item = custom_object_type
        return {"type": _comma_list(item), "metavar": "A,B,..."}
    if origin is list:
        return {"type": _comma_list(_scripted_answer), "metavar": "A,B,..."}
    if name == "account_timezone":
        return {"type": _timezone}
    if name.endswith("_rate"):
        return {"type": _fraction}
    if hint in (int, float):
        return {"type": _non_negative(hint)}
    return {"type": hint}


def _default(item: Field[Any]) -> Any:
    if item.name in CLI_DEFAULTS:
        return CLI_DEFAULTS[item.name]
    if item.default is not MISSING:
        return item.default
    factory = item.default_factory
    return factory() if callable(factory) else None


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting. Unset flags stay out of the namespace, so a tier's limits stay."""
    for spec, title in ((SimulatorConfig, "simulator settings"), (FaultConfig, "faults")):
        group = parser.add_argument_group(title)
        hints = get_type_hints(spec)
        for item in fields(spec):
            if item.name in NOT_FLAGS:
                continue
            keywords = _converter(item.name, hints[item.name])
            if item.name == "seed":
                keywords["choices"] = SEEDS
            default = _default(item)
            shown = ",".join(map(str, default)) if isinstance(default, tuple | list) else default
            group.add_argument(
                flag_name(item.name),
                *ALIASES.get(item.name, ()),
                dest=item.name,
                default=argparse.SUPPRESS,
                help=f"{HELP[item.name]} (default: {shown})",
                **keywords,
            )


def settings_from(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(SimulatorConfig settings, FaultConfig settings) given on the command line, plus CLI defaults."""
    given = vars(args)
    config = {f.name: given[f.name] for f in fields(SimulatorConfig) if f.name in given}
    for name, value in CLI_DEFAULTS.items():
        config.setdefault(name, value)
    faults = {f.name: given[f.name] for f in fields(FaultConfig) if f.name in given}
    if "scripted" in faults:
        faults["scripted"] = list(faults["scripted"])
    return config, faults
