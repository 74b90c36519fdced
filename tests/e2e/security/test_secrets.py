"""Secrets never leak (logs, XCom, exceptions, rendered templates) and never travel over plain http."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_hubspot_assoc._compat import AirflowException
from airflow_provider_hubspot_assoc.exceptions import HubSpotAuthError
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient, OAuthCredentials
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows

SECRET = "pat-na1-0b5e-security-suite-secret-token"


def test_a_refused_token_is_not_in_the_error(hubspot_simulator: HubSpotSimulator) -> None:
    client = HubSpotClient(ClientConfig(base_url=hubspot_simulator.url, access_token=SECRET))
    with pytest.raises(HubSpotAuthError) as caught:
        client.get_labels("contacts", "companies")
    assert caught.value.status == 401
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert SECRET not in json.dumps(caught.value.body)


def test_a_failed_oauth_refresh_does_not_echo_the_secrets(
    hubspot_simulator: HubSpotSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    oauth = OAuthCredentials("sim-client-id", "wrong-client-secret-123456", "refresh-token-abcdef")
    client = HubSpotClient(ClientConfig(base_url=hubspot_simulator.url, oauth=oauth))
    with pytest.raises(HubSpotAuthError, match="invalid_client"):
        client.get_labels("contacts", "companies")
    for secret in ("wrong-client-secret-123456", "refresh-token-abcdef"):
        assert secret not in caplog.text
        assert secret not in repr(oauth) and secret not in repr(client.config)


def test_a_config_repr_hides_the_token() -> None:
    config = ClientConfig(base_url="https://api.hubapi.com", access_token=SECRET)
    assert SECRET not in repr(config)


@pytest.mark.parametrize("host", ["http://api.hubapi.com", "http://10.1.2.3:8080", "http://proxy.internal"])
def test_plain_http_is_refused_for_anything_but_loopback(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_PLAIN", json.dumps({"conn_type": "hubspot", "host": host, "password": SECRET})
    )
    with pytest.raises(ValueError, match="must use https") as caught:
        HubSpotHook("hubspot_plain").client_config()
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("", "https://api.hubapi.com"),
        ("api.hubapi.com", "https://api.hubapi.com"),
        ("https://eu1.proxy.example", "https://eu1.proxy.example"),
        ("http://127.0.0.1:8790", "http://127.0.0.1:8790"),
        ("http://localhost:8790", "http://localhost:8790"),
        ("http://[::1]:8790", "http://[::1]:8790"),
    ],
)
def test_https_or_loopback_hosts_are_accepted(
    host: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_OK", json.dumps({"conn_type": "hubspot", "host": host, "password": SECRET})
    )
    assert HubSpotHook("hubspot_ok").client_config().base_url == expected


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
@pytest.mark.usefixtures("airflow_db")
def test_token_is_in_no_rendered_template_xcom_or_task_log(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    sim = hubspot_simulator
    sim.config.tokens = {SECRET: next(iter(sim.config.tokens.values()))}
    sim.state.associate("contacts", "101", "companies", "5000")
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps({"conn_type": "hubspot", "host": sim.url, "password": SECRET}),
    )
    set_rows(monkeypatch, [["101", "5000"], ["777001", "5000"]])

    result = run_dag("t_xcom_archive")

    assert result.xcom("archive")["summary"]["archived"] == 1
    with create_session() as session:
        rendered = session.query(RenderedTaskInstanceFields).filter_by(dag_id="t_xcom_archive").all()
        fields = json.dumps([r.rendered_fields for r in rendered], default=str)
    assert "from_object_type" in fields  # the rendered fields were stored and read
    assert SECRET not in fields
    assert SECRET not in json.dumps(list(result.xcoms.values()), default=str)
    out, err = capfd.readouterr()
    assert "Done: received 2" in out + err
    assert SECRET not in out + err


def test_errors_raised_by_the_operator_carry_no_token(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps({"conn_type": "hubspot", "host": hubspot_simulator.url, "password": SECRET}),
    )
    op = BatchArchiveAssociationsOperator(
        task_id="t", from_object_type="contacts", to_object_type="companies", inputs=[[1, 2]]
    )

    class TaskInstance:
        task_id, dag_id, map_index = "t", "d", -1

    with pytest.raises((HubSpotAuthError, AirflowException)) as caught:
        op.execute({"ti": TaskInstance(), "run_id": "r"})  # type: ignore[arg-type]
    assert "401" in str(caught.value)
    assert SECRET not in str(caught.value)
