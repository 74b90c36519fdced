"""What may reach a URL: object types (no path injection), record ids, input rows, and hosts."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hubspot_assoc.checked_batches import check_rows, checked_batches
from airflow_provider_hubspot_assoc.exceptions import InvalidInputError
from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.hubspot.config import require_safe_url
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.object_types import (
    InvalidObjectTypeError,
    InvalidRecordIdError,
    is_record_id,
    object_type_id,
    validate_object_type,
    validate_record_id,
)

HOSTILE_OBJECT_TYPES: list[Any] = [
    "contacts/../x",
    "contacts?x=1",
    "contacts#frag",
    "0-1/batch",
    "../0-1",
    "%2e%2e",
    "contacts%2F..",
    "",
    " ",
    "\t\n",
    "cöntacts",
    "\uff43\uff4f\uff4e\uff54\uff41\uff43\uff54\uff53",  # "contacts" in fullwidth letters
    "0-\u0661",  # an Arabic-Indic digit one
    "2-abc",
    "2-",
    "1-5",
    "0-01",
    "2-1 2",
    "p123_x/y",
    "p_abc",
    "contacts\r\nX-Injected: 1",
    None,
    1,
    ["contacts"],
]


@pytest.fixture
def client() -> HubSpotClient:
    return HubSpotClient(ClientConfig(base_url="http://127.0.0.1:9", access_token="not-used-here"))


@pytest.mark.parametrize("value", HOSTILE_OBJECT_TYPES)
def test_hostile_object_types_are_refused(value: Any, client: HubSpotClient) -> None:
    with pytest.raises(InvalidObjectTypeError):
        validate_object_type(value)
    with pytest.raises(InvalidObjectTypeError):
        client.path(value, "companies", "batch/archive")
    with pytest.raises(InvalidObjectTypeError):
        client.path("contacts", value, "batch/archive")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("contacts", "contacts"),
        ("Contact", "contacts"),
        (" COMPANIES ", "companies"),
        ("company", "companies"),
        ("0-1", "contacts"),
        ("0-5", "tickets"),
        ("2-1234567", "2-1234567"),
        ("0-999", "0-999"),
        ("p24681357_cars", "p24681357_cars"),
    ],
)
def test_real_object_types_are_normalised(value: str, normalised: str, client: HubSpotClient) -> None:
    assert validate_object_type(value) == normalised
    assert (
        client.path(value, "deals", "batch/archive")
        == f"/crm/v4/associations/{normalised}/deals/batch/archive"
    )


def test_dated_api_versions_change_the_base_path() -> None:
    dated = HubSpotClient(
        ClientConfig(base_url="http://127.0.0.1:9", access_token="x", api_version="2026-03")
    )
    assert dated.path("contact", "0-2", "labels") == "/crm/associations/2026-03/contacts/companies/labels"
    assert object_type_id("companies") == "0-2"


@pytest.mark.parametrize("version", ["v3", "2026-3", "2026-03/../v4", "", "v4 "])
def test_unknown_api_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="api_version"):
        ClientConfig(base_url="http://127.0.0.1:9", access_token="x", api_version=version)


@pytest.mark.parametrize(
    "value",
    [
        *("0", "-1", "1.5", "1e3", "abc", "1/2", "", " ", "\u0661\u0662", True, 0, -4, 1.0, None),
        *(2**63, "9223372036854775808", "12345678901234567890"),  # beyond a 64-bit signed id
    ],
)
def test_record_ids_must_be_positive_whole_numbers(value: Any) -> None:
    with pytest.raises(InvalidRecordIdError):
        validate_record_id(value)


def test_record_ids_come_back_as_strings() -> None:
    assert [validate_record_id(v) for v in (" 42 ", 42, "9223372036854775807", 2**63 - 1)] == [
        "42",
        "42",
        "9223372036854775807",
        "9223372036854775807",
    ]
    assert not is_record_id("42\n")  # what is_record_id accepts goes into URL paths as it is


def test_input_rows_name_the_row_and_field() -> None:
    """The hook's rows: checked before anything is sent (``check_rows``), the first bad one raising."""
    good = {"from": {"id": "1"}, "to": [{"id": "2"}]}
    checked = check_rows(Kind.ARCHIVE, [{"from": {"id": 1}, "to": [{"id": "2"}, {"id": 3}]}])
    assert list(checked_batches(Kind.ARCHIVE, checked, 100)) == [
        [{"from": {"id": "1"}, "to": [{"id": "2"}, {"id": "3"}]}]
    ]
    with pytest.raises(InvalidInputError, match=r"row 4: to\[1\]\.id") as refused:
        check_rows(
            Kind.ARCHIVE, [good, good, good, {"from": {"id": "1"}, "to": [{"id": "2"}, {"id": "../x"}]}]
        )
    assert (refused.value.row, refused.value.field) == (4, "to[1].id")
    with pytest.raises(InvalidInputError, match="row 2: to must be a non-empty list"):
        check_rows(Kind.ARCHIVE, [good, {"from": {"id": "1"}, "to": []}])

    def label_row(category: Any, type_id: Any) -> dict[str, Any]:
        types = [{"associationCategory": category, "associationTypeId": type_id}]
        return {"from": {"id": "1"}, "to": {"id": "2"}, "types": types}

    fine = label_row("USER_DEFINED", 1)
    with pytest.raises(InvalidInputError, match="associationCategory") as refused:
        check_rows(Kind.LABELS, [fine, fine, label_row("MINE", 1)])
    assert refused.value.row == 3
    with pytest.raises(InvalidInputError, match="associationTypeId") as refused:
        check_rows(Kind.LABELS, [fine, fine, label_row("USER_DEFINED", 2**31)])
    assert refused.value.row == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8790",
        "http://127.0.0.5",
        "http://[::1]:8080/",
        "http://localhost:1",
        "http://LOCALHOST",
        "https://api.hubapi.com/",
        "https://proxy.example.com:8443/hubspot",
    ],
)
def test_http_is_allowed_only_for_loopback_https_everywhere(url: str) -> None:
    assert require_safe_url(url) == url.rstrip("/")
    assert ClientConfig(base_url=url, access_token="x").base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.hubapi.com",
        "http://example.com:80",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.1",
        "http://0.0.0.0:8080",
        "http://[::ffff:10.0.0.1]",
        "ftp://127.0.0.1",
        "127.0.0.1:8790",
        "api.hubapi.com",
        "https://",
        "",
    ],
)
def test_plain_http_elsewhere_and_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"https|http"):
        require_safe_url(url)
    with pytest.raises(ValueError, match=r"https|http"):
        ClientConfig(base_url=url, access_token="x")


def test_a_client_needs_credentials_and_a_sane_batch_size() -> None:
    with pytest.raises(ValueError, match="token or OAuth"):
        ClientConfig(base_url="http://127.0.0.1:9")
    for size in (0, 1001):
        with pytest.raises(ValueError, match="batch_size"):
            ClientConfig(base_url="http://127.0.0.1:9", access_token="x", batch_size=size)
