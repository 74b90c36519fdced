"""A token holding a character an HTTP header cannot carry is refused up front, without showing it.

``requests``, ``urllib3`` and ``http.client`` each fail differently on such a header value (some
quote the whole header, token included; latin-1 letters are even sent as they are), so
``clean_token`` refuses anything but visible ASCII before a request is made.
"""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.hubspot.config import clean_token
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows

MARK = "SECRETMARK"  # in every bad token below; must appear in no error, log or message
BAD_TOKENS = {
    "nul": f"pat-na1-{MARK}\x00x",
    "del": f"pat-na1-{MARK}\x7fx",
    "escape": f"pat-na1-{MARK}\x1bx",
    "inner-crlf": f"pat-na1-{MARK}\r\nXq-Zv: 9",
    "inner-newline": f"pat-na1-{MARK}\nx",
    "inner-tab": f"pat-na1-{MARK}\tx",
    "inner-space": f"pat-na1-{MARK} x",
    "latin-1-letter": f"pat-na1-{MARK}\u00e9x",
    "line-separator": f"pat-na1-{MARK}\u2028x",
    "no-break-space": f"pat-na1-{MARK}\u00a0x",
    "zero-width-space": f"pat-na1-{MARK}\u200bx",
    "emoji": f"pat-na1-{MARK}\U0001f600",
}


def assert_shows_no_part_of(token: str, text: str) -> None:
    """Neither the token nor any 5-character piece of it is in ``text``."""
    pieces = {token[i : i + 5] for i in range(len(token) - 4)}
    shown = sorted(piece for piece in pieces if piece in text)
    assert shown == [], f"parts of the token are shown: {shown!r}"


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_clean_token_refuses_what_a_header_cannot_carry_without_showing_it(token: str) -> None:
    with pytest.raises(ValueError, match="HTTP header") as refused:
        clean_token(f" {token}\n")
    assert_shows_no_part_of(token, f"{refused.value} {refused.value!r}")
    assert refused.value.__cause__ is None and refused.value.__context__ is None


@pytest.mark.parametrize(
    "token", ["pat-na1-0a1b2c3d-4e5f", "  pat-na1-0a1b2c3d-4e5f\r\n", "\tpat-na1-0a1b2c3d-4e5f "]
)
def test_clean_token_keeps_visible_ascii_and_strips_surrounding_whitespace(token: str) -> None:
    assert clean_token(token) == "pat-na1-0a1b2c3d-4e5f"


def test_clean_token_keeps_every_visible_ascii_character() -> None:
    visible = "".join(map(chr, range(0x21, 0x7F)))
    assert clean_token(visible) == visible


@pytest.mark.parametrize("token", ["", "   ", "\r\n"])
def test_an_empty_token_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        clean_token(token)


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_test_connection_names_the_problem_not_the_token(
    token: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_BAD",
        json.dumps({"conn_type": "hubspot", "host": hubspot_simulator.url, "password": token}),
    )
    ok, message = HubSpotHook("hubspot_bad").test_connection()
    assert ok is False and "HTTP header" in message
    assert_shows_no_part_of(token, message)
    assert hubspot_simulator.stats.requests == 0  # refused before anything was sent


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("kind", ["latin-1-letter", "nul", "inner-crlf", "line-separator"])
def test_a_task_with_a_bad_token_fails_clearly_and_logs_no_part_of_it(
    kind: str,
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sim = hubspot_simulator
    token = BAD_TOKENS[kind]
    caplog.set_level(logging.DEBUG)
    sim.state.associate("contacts", "101", "companies", "5000")
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps({"conn_type": "hubspot", "host": sim.url, "password": token}),
    )
    set_rows(monkeypatch, [["101", "5000"]])

    result = run_dag("t_xcom_archive_strict")

    assert result.task_states[("archive", -1)] == "failed"
    assert ("archive", -1) not in result.xcoms  # failed before any row was taken in: nothing to count
    assert sim.stats.requests == 0 and sim.state.pairs("contacts", "companies") == {("101", "5000")}
    out, err = capfd.readouterr()
    logged = "\n".join([out, err, caplog.text, *(r.getMessage() for r in caplog.records)])
    assert "HTTP header" in logged  # the task's error, in plain words
    assert MARK not in logged
    assert_shows_no_part_of(token, logged)
