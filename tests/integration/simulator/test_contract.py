"""Details of HubSpot's contract the simulator keeps: ``category`` in every error body, custom object
types that must exist, numeric ``toObjectId`` in batch reads, chunked request bodies, and deleting a
label's definition.

(Limit headers on injected 429s, and limits that refuse without spending each other, are in
``test_limits.py``.)"""

from __future__ import annotations

import json
import socket

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import ALL_SCOPES, FaultConfig, HubSpotSimulator, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.cli import build_config, build_parser

from ._support import (
    Api,
    archive_body,
    archive_path,
    is_uuid,
    read_body,
    read_path,
)


@pytest.fixture
def paired(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    """Contact 101 associated with company 201."""
    hubspot_simulator.state.associate("contacts", "101", "companies", "201")
    return hubspot_simulator


# ------------------------------------------------------------------ every error body has a category
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_body_has_a_category(paired: HubSpotSimulator, api: Api, status: int) -> None:
    paired.script(status)
    answer = api.post(read_path(), read_body(["101"]))
    assert answer.status_code == status
    body = answer.json()
    assert body["category"] == "INTERNAL_ERROR"
    assert body["status"] == "error"
    assert is_uuid(body["correlationId"])


@pytest.mark.parametrize("pair", ["x/companies", "contacts/x"])
def test_an_unknown_object_type_answer_has_a_category(api: Api, pair: str) -> None:
    for answer in (
        api.post(archive_path(pair=pair), archive_body({"101": ["201"]})),
        api.post(read_path(pair=pair), read_body(["101"])),
        api.get(f"/crm/v4/associations/{pair}/labels"),
    ):
        assert answer.status_code == 400
        body = answer.json()
        assert body["message"] == "Unable to infer object type from: x"
        assert body["category"] == "VALIDATION_ERROR"


@pytest.mark.hubspot_simulator(tokens={"all": ALL_SCOPES, "none": frozenset()})
def test_every_error_answer_has_a_category(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    """429s (``errorType``) and the OAuth token endpoint (RFC 6749) keep their own documented bodies."""
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "201")
    answers = {
        "no token": api.post(archive_path(), archive_body({"101": ["201"]}), headers={}),
        "missing scopes": api.post(archive_path(), archive_body({"101": ["201"]}), token="none"),
        "malformed JSON": api.post(archive_path(), data="{", token="all"),
        "no route": api.post("/crm/v4/associations/contacts/companies/batch/nothing", {}, token="all"),
        "unknown object type": api.post(read_path(pair="x/y"), read_body(["101"]), token="all"),
        "inspection route": api.get("/_sim/nothing", headers={}),
    }
    for status in (500, 502, 503, 504):
        sim.script(status)
        answers[str(status)] = api.post(read_path(), read_body(["101"]), token="all")
    sim.reconfigure(unknown_object_type_status=404)
    answers["unknown object type (404)"] = api.post(read_path(pair="x/y"), read_body(["101"]), token="all")
    for what, answer in answers.items():
        assert answer.status_code >= 400, what
        assert isinstance(answer.json().get("category"), str), f"{what}: {answer.text}"


# ------------------------------------------------------------ custom object types must exist
UNKNOWN_TYPES = ["2-999", "p24681357_cars", "0-999"]


@pytest.mark.parametrize("custom", UNKNOWN_TYPES)
def test_a_custom_object_type_the_account_lacks_is_refused(
    hubspot_simulator: HubSpotSimulator, api: Api, custom: str
) -> None:
    hubspot_simulator.state.add_records("contacts", ["101"])
    for answer in (
        api.post(archive_path(pair=f"contacts/{custom}"), archive_body({"101": ["7"]})),
        api.post(read_path(pair=f"{custom}/contacts"), read_body(["7"])),
        api.get(f"/crm/v4/associations/contacts/{custom}/labels"),
    ):
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert body["message"] == f"Unable to infer object type from: {custom}"
        assert body["category"] == "VALIDATION_ERROR"
    assert hubspot_simulator.stats.pair_sends == {}  # refused before anything was planned


@pytest.mark.hubspot_simulator(unknown_object_type_status=404)
def test_a_missing_custom_object_type_can_be_404(api: Api) -> None:
    answer = api.post(read_path(pair="contacts/2-999"), read_body(["101"]))
    assert answer.status_code == 404
    assert answer.json()["category"] == "OBJECT_NOT_FOUND"


@pytest.mark.hubspot_simulator(custom_object_types=("2-999", "p24681357_cars"))
@pytest.mark.parametrize("custom", ["2-999", "p24681357_cars"])
def test_configured_custom_object_types_exist(
    hubspot_simulator: HubSpotSimulator, api: Api, custom: str
) -> None:
    read = api.post(read_path(pair=f"contacts/{custom}"), read_body(["101"]))
    assert read.status_code == 207
    assert read.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    labels = api.get(f"/crm/v4/associations/contacts/{custom}/labels")
    assert labels.status_code == 200
    assert [entry["label"] for entry in labels.json()["results"]] == [None]
    assert api.post(archive_path(pair=f"contacts/{custom}"), archive_body({"101": ["7"]})).status_code == 204
    hubspot_simulator.reset()
    assert api.get(f"/crm/v4/associations/contacts/{custom}/labels").status_code == 200  # still configured


def test_records_of_a_custom_object_type_make_it_exist(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    hubspot_simulator.state.associate("contacts", "101", "2-5", "7")
    answer = api.post(read_path(pair="contacts/2-5"), read_body(["101"]))
    assert answer.status_code == 200
    hubspot_simulator.reset()  # the records are gone, and so is the object type
    assert api.post(read_path(pair="contacts/2-5"), read_body(["101"])).status_code == 400


@pytest.mark.parametrize("bad", ["contacts", "0-1", "x", "P24681357_Cars"])
def test_custom_object_types_setting_takes_only_custom_types(bad: str) -> None:
    with pytest.raises(ValueError, match="custom object type"):
        SimulatorConfig(custom_object_types=(bad,))


def test_the_command_takes_custom_object_types(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    config = build_config(parser.parse_args(["--custom-object-types", "2-7,p24681357_cars"]))
    assert config.custom_object_types == ("2-7", "p24681357_cars")
    with pytest.raises(SystemExit):
        parser.parse_args(["--custom-object-types", "contacts"])
    assert "--custom-object-types" in capsys.readouterr().err


# ------------------------------------------------------------------ batch read: numeric toObjectId
@pytest.mark.hubspot_simulator(read_page_size=1)
def test_batch_read_gives_to_object_ids_as_numbers(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    """As HubSpot's examples show (``"toObjectId": 5790939450``); the from id stays a string."""
    hubspot_simulator.state.associate("contacts", "101", "companies", "9007199254740993")
    hubspot_simulator.state.associate("contacts", "101", "companies", "201")
    first = api.post(read_path(), read_body(["101"])).json()["results"][0]
    assert first["from"] == {"id": "101"}
    assert first["to"][0]["toObjectId"] == 201
    after = first["paging"]["next"]["after"]
    second = api.post(read_path(), read_body(["101"], after=after)).json()["results"][0]
    assert second["to"][0]["toObjectId"] == 9007199254740993  # beyond a double's exact integers
    assert "paging" not in second


@pytest.mark.hubspot_simulator(faults=FaultConfig(read_foreign_ids=("900",)))
def test_made_up_foreign_read_results_have_numeric_ids_too(api: Api) -> None:
    answer = api.post(read_path(), read_body(["101"]))
    foreign = [r for r in answer.json()["results"] if r["from"]["id"] == "900"]
    assert [t["toObjectId"] for t in foreign[0]["to"]] == [990000001, 990000002]


# ------------------------------------------------------------------------------ chunked bodies
def _raw(sim: HubSpotSimulator, request: bytes) -> bytes:
    """Send raw bytes on one connection; everything the simulator answers until it closes."""
    with socket.create_connection((sim.config.host, sim.port), timeout=5) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_a_chunked_body_is_read(paired: HubSpotSimulator, api: Api) -> None:
    body = json.dumps(archive_body({"101": ["201"]})).encode()
    pieces = iter([body[:7], body[7:20], body[20:]])  # a generator body: requests sends it chunked
    with requests.Session() as session:
        answer = session.post(api.url + archive_path(), data=pieces, headers=api.headers(), timeout=5)
        assert answer.request.headers["Transfer-Encoding"] == "chunked"
        assert answer.status_code == 204, answer.text
        # The connection stays usable: the next request on it is read from the right place.
        again = session.post(api.url + read_path(), json=read_body(["101"]), headers=api.headers(), timeout=5)
        assert again.status_code == 207
    assert paired.state.count() == 0


def test_chunk_extensions_and_trailers_are_skipped(paired: HubSpotSimulator, api: Api) -> None:
    body = json.dumps(read_body(["101"])).encode()
    head = (
        f"POST {read_path()} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {paired.token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    chunked = b"%x;name=value\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (
        5,
        body[:5],
        len(body) - 5,
        body[5:],
    )
    answer = _raw(paired, head + chunked)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b'"toObjectId": 201' in answer


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -5\r\n\r\n{}",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"Transfer-Encoding: gzip\r\n\r\n{}",
    ],
)
def test_a_badly_framed_body_gets_a_400(paired: HubSpotSimulator, framing: bytes) -> None:
    head = f"POST {read_path()} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {paired.token}\r\n".encode()
    answer = _raw(paired, head + framing)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    payload = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert payload["category"] == "VALIDATION_ERROR"
    assert paired.state.count() == 1


# ------------------------------------------------------------------ deleting a label's definition
BASES = ["/crm/v4/associations", "/crm/associations/v4", "/crm/associations/2026-03"]


@pytest.mark.parametrize("base", BASES)
def test_deleting_a_label_removes_its_definition_both_ways_and_from_every_pair(
    paired: HubSpotSimulator, api: Api, base: str
) -> None:
    """``DELETE .../labels/{associationTypeId}``: 204, the label gone from the definitions (both
    directions) and from the pairs it was on; the pair and its other types stay."""
    state = paired.state
    billing = state.define_label("contacts", "companies", "Billing", inverse_label="Billed")
    state.associate("contacts", "101", "companies", "201", ("Billing", "Primary"))
    labels = f"{base}/contacts/companies/labels"

    answer = api.delete(f"{labels}/{billing.type_id}")

    assert (answer.status_code, answer.content) == (204, b"")
    assert "Billing" not in [d["label"] for d in api.get(labels).json()["results"]]
    assert "Billed" not in [d.label for d in state.definitions("companies", "contacts")]
    assert state.types_of("contacts", "101", "companies", "201") == {
        state.unlabeled_key("contacts", "companies"),
        ("HUBSPOT_DEFINED", 1),
    }
    assert len(state.types_of("companies", "201", "contacts", "101")) == 2  # its inverse went too
    assert api.delete(f"{labels}/{billing.type_id}").status_code == 404  # gone: nothing to delete
    primary = api.delete(f"{labels}/1")  # built-in types cannot be deleted
    assert primary.status_code == 400 and primary.json()["category"] == "VALIDATION_ERROR"
    assert paired.stats.by_endpoint["delete_label"] == 3
