"""``hubspot-assoc-sim`` for users: the credentials it prints, a flag per setting, ``--preload``.

Every test runs the real command as a subprocess and talks to it over HTTP. The banner names the
simulator's (fake) secrets: it is read through a pipe and compared inside the test, never printed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import fields
from email.utils import parsedate_to_datetime

import pendulum
import requests

from airflow_provider_hubspot_assoc.testing import TIERS, FaultConfig, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.cli_options import NOT_FLAGS, flag_name

from ._cli import run_cli, start_cli
from ._support import archive_body, archive_path, read_body, read_path


def _refresh(url: str, client_id: str, client_secret: str, refresh_token: str) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return requests.post(f"{url}/oauth/v1/token", data=form, timeout=5)


def test_banner_names_the_credentials_it_accepts_by_default() -> None:
    cli = start_cli("--seed", "empty")
    try:
        token = cli.banner_value("private-app token")
        client_id = cli.banner_value("OAuth client id")
        client_secret = cli.banner_value("OAuth client secret")
        refresh_token = cli.banner_value("OAuth refresh token")
        # The defaults documented for users (compared without echoing them).
        defaults = SimulatorConfig()
        same = (
            token in defaults.tokens
            and defaults.oauth_clients.get(client_id) == client_secret
            and refresh_token in defaults.oauth_refresh_tokens
        )
        assert same, "the banner does not name the default credentials"
        # What the banner names is what the simulator accepts.
        headers = {"Authorization": f"Bearer {token}"}
        read = requests.post(cli.url + read_path(), json=read_body(["1"]), headers=headers, timeout=5)
        assert read.status_code == 207  # no associations; authenticated
        refreshed = _refresh(cli.url, client_id, client_secret, refresh_token)
        assert refreshed.status_code == 200
    finally:
        cli.stop()
    assert "Ready. Ctrl-C stops it." in cli.banner


def test_banner_names_the_credentials_given_as_flags() -> None:
    token, client_id = f"pat-{uuid.uuid4()}", f"client-{uuid.uuid4().hex[:8]}"
    client_secret, refresh_token = f"secret-{uuid.uuid4()}", f"refresh-{uuid.uuid4()}"
    cli = start_cli(
        "--token", token, "--client-id", client_id, "--client-secret", client_secret,
        "--refresh-token", refresh_token,
    )  # fmt: skip
    try:
        printed = (
            cli.banner_value("private-app token"),
            cli.banner_value("OAuth client id"),
            cli.banner_value("OAuth client secret"),
            cli.banner_value("OAuth refresh token"),
        )
        matches = printed == (token, client_id, client_secret, refresh_token)
        assert matches, "the banner does not name the credentials given as flags"
        assert _refresh(cli.url, client_id, client_secret, refresh_token).status_code == 200
        default = SimulatorConfig()
        assert _refresh(cli.url, *next(iter(default.oauth_clients.items())), refresh_token).status_code == 400
    finally:
        cli.stop()


def test_every_setting_is_a_flag_with_help() -> None:
    helped = run_cli("--help")
    assert helped.returncode == 0, helped.stderr
    text = helped.stdout
    for spec in (SimulatorConfig, FaultConfig):
        for item in fields(spec):
            if item.name in NOT_FLAGS:
                continue
            assert flag_name(item.name) in text, f"{spec.__name__}.{item.name} has no flag"
    for flag in ("--token", "--client-id", "--client-secret", "--refresh-token", "--tier", "--preload"):
        assert flag in text
    for flag in ("--latency", "--success-status"):  # earlier names keep working
        assert flag in text
    # Flags of booleans can be switched both ways.
    assert "--apply-before-fault, --no-apply-before-fault" in text
    assert "--retry-after-on-429, --no-retry-after-on-429" in text


def test_bad_flag_values_are_refused_naming_the_flag() -> None:
    cases = {
        ("--unknown-record", "maybe"): "--unknown-record",
        ("--server-error-rate", "1.5"): "--server-error-rate",
        ("--daily-limit", "-3"): "--daily-limit",
        ("--account-timezone", "Mars/Olympus"): "--account-timezone",
        ("--read-foreign-ids", "12,abc"): "--read-foreign-ids",
        ("--scripted", "503,sometimes"): "--scripted",
    }
    for args, flag in cases.items():
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert flag in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_limit_flags_reach_the_simulator() -> None:
    cli = start_cli(
        "--seed", "demo", "--tier", "free", "--daily-limit", "2", "--daily-reset-seconds", "4",
        "--retry-after-on-429", "--account-timezone", "Europe/Berlin", "--unknown-record", "reject",
    )  # fmt: skip
    try:
        headers = {"Authorization": f"Bearer {cli.banner_value('private-app token')}"}
        info = requests.get(f"{cli.url}/account-info/v3/details", headers=headers, timeout=5)
        assert info.json()["timeZone"] == "Europe/Berlin"
        assert info.headers["X-HubSpot-RateLimit-Max"] == str(TIERS["free"][0])  # the tier's window
        assert info.headers["X-HubSpot-RateLimit-Daily"] == "2"  # the flag wins over the tier
        unknown = requests.post(
            cli.url + archive_path(), json=archive_body({"77777777": ["5001"]}), headers=headers, timeout=5
        )
        assert unknown.status_code == 400 and "INVALID_OBJECT_IDS" in unknown.text
        for _ in range(4):  # a "day" may end between two requests: go on until the third in one
            daily = requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=headers, timeout=5)
            if daily.status_code == 429:
                break
        assert daily.status_code == 429 and daily.json()["policyName"] == "DAILY"
        assert 1 <= int(daily.headers["Retry-After"]) <= 4
        time.sleep(float(daily.headers["Retry-After"]))
        again = requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=headers, timeout=5)
        assert again.status_code == 200  # a new "day" after --daily-reset-seconds
        assert "daily limit 2, reset at midnight Europe/Berlin" in cli.first_line
        assert "days of 4 s" in cli.first_line
    finally:
        cli.stop()


def test_latency_window_and_fault_flags_reach_the_simulator() -> None:
    cli = start_cli(
        "--seed", "demo", "--latency", "0.3", "--ten-second-limit", "7", "--window-seconds", "30",
        "--slow-rate", "0.25", "--slow-seconds", "4", "--apply-before-fault", "--read-foreign-ids", "900,901",
        "--server-error-statuses", "503", "--burst-429-every", "50", "--burst-429-length", "2",
        "--daily-limit", "none",
    )  # fmt: skip
    try:
        headers = {"Authorization": f"Bearer {cli.banner_value('private-app token')}"}
        started = time.monotonic()
        read = requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=headers, timeout=10)
        assert time.monotonic() - started >= 0.3
        assert read.headers["X-HubSpot-RateLimit-Max"] == "7"
        assert read.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "30000"
        assert "X-HubSpot-RateLimit-Daily" not in read.headers  # --daily-limit none: no daily limit
        faults = requests.post(f"{cli.url}/_sim/faults", json={}, timeout=5).json()
        assert faults["slow_rate"] == 0.25 and faults["slow_seconds"] == 4.0
        assert faults["apply_before_fault"] is True
        assert faults["read_foreign_ids"] == ["900", "901"]
        assert faults["server_error_statuses"] == [503]
        assert (faults["burst_429_every"], faults["burst_429_length"]) == (50, 2)
    finally:
        cli.stop()


def test_server_error_rate_flag_and_scripted_answers() -> None:
    cli = start_cli("--seed", "demo", "--scripted", "429,0,drop", "--server-error-rate", "1")
    try:
        headers = {"Authorization": f"Bearer {cli.banner_value('private-app token')}"}

        def read() -> int:
            return requests.post(
                cli.url + read_path(), json=read_body(["1001"]), headers=headers, timeout=5
            ).status_code

        assert read() == 429
        assert read() == 200  # 0 passes one request through
        try:
            status = read()
        except requests.ConnectionError:
            status = 0
        assert status == 0  # dropped
        assert read() >= 500  # then --server-error-rate 1
    finally:
        cli.stop()


def test_preload_adds_random_labeled_associations_and_says_how_many() -> None:
    cli = start_cli("--seed", "empty", "--preload", "500", "--random-seed", "7")
    try:
        assert "Preloaded 500 contact->company associations" in cli.banner
        listed = requests.get(f"{cli.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
        assert listed["count"] == 500
        headers = {"Authorization": f"Bearer {cli.banner_value('private-app token')}"}
        contacts = sorted({pair[0] for pair in listed["pairs"]})
        read = requests.post(
            cli.url + read_path(), json=read_body(contacts[:200]), headers=headers, timeout=5
        )
        labels = {
            kind.get("label")
            for result in read.json()["results"]
            for to in result["to"]
            for kind in to["associationTypes"]
        }
        assert {None, "Primary", "Billing contact"} <= labels
        # --reset keeps the preload: the configured data set comes back.
        requests.post(f"{cli.url}/_sim/reset", timeout=5)
        again = requests.get(f"{cli.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
        assert again["pairs"] == listed["pairs"]
    finally:
        cli.stop()
    # The same seed gives the same associations.
    twin = start_cli("--seed", "empty", "--preload", "500", "--random-seed", "7")
    try:
        same = requests.get(f"{twin.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
        assert same["pairs"] == listed["pairs"]
    finally:
        twin.stop()


def test_day_ends_in_starts_the_simulators_clock_before_the_accounts_midnight() -> None:
    cli = start_cli("--daily-limit", "5", "--day-ends-in", "60", "--account-timezone", "Asia/Tokyo")
    try:
        headers = {"Authorization": f"Bearer {cli.banner_value('private-app token')}"}
        info = requests.get(f"{cli.url}/account-info/v3/details", headers=headers, timeout=5)
        said = pendulum.instance(parsedate_to_datetime(info.headers["Date"])).in_timezone("Asia/Tokyo")
        midnight = said.add(days=1).start_of("day")
        assert 50 <= (midnight - said).total_seconds() <= 61  # whatever the local clock says
        assert "(in 60 s)" in cli.first_line
    finally:
        cli.stop()
