"""The simulator against HubSpot's own OpenAPI files (``shared/hubspot-openapi/``, see SOURCE.txt there).

For every spec file and every operation among ``batch/archive``, ``batch/labels/archive``,
``batch/create``, ``batch/read`` and ``GET .../labels`` that it defines (the schema specs'
``definitions/configurations/.../batch/create`` is another operation, left out), a request body is
generated from the request schema (the files carry no usable examples), sent to the simulator at the
spec's own path with ``fromObjectType=contacts`` and ``toObjectType=companies``, and the answer is
validated with ``jsonschema`` against the response the spec documents for that status.

Known, deliberate differences between the simulator and the spec files. Each is allowed only in the
exact form below, and the tests assert that it actually occurs (so any other violation still fails):

* ``label: null`` for the unlabeled association type in ``GET .../labels``: the spec types ``label``
  as a non-nullable string, but HubSpot's documented answer has ``"label": null`` for the unlabeled
  type (shared/hubspot-notes.md, "Label definitions"; hubspot-api-facts.md §f).
* ``subCategory`` as a string (``"crm.associations.NO_ASSOCIATIONS_FOUND"``) in a ``StandardError``: the
  spec types it as an object, real 207 answers carry a string (hubspot-api-facts.md §b, observed body),
  and the project's client matches on that string.
* ``toObjectId`` as a number in ``batch/read`` results, as HubSpot's documented examples show
  (hubspot-api-facts.md §g), against the current v4 and every dated spec, which type it as a string;
  the 2024 v4 spec (rollout 50914) types it as int32, which the simulator's numbers match.
* ``fromObjectId`` and ``toObjectId`` as strings in ``batch/create`` results, as every current spec
  types them, against the 2024 v4 spec (rollout 50914), which types them as int32.

Success statuses: the simulator answers 204 on ``/crm/v4`` (``v4_success_status``) and 200 on the
dated paths (``dated_success_status``), which is what the v4 specs (204) and the 2025-09/2026-03/2026-09
specs (200) document. ``batch/create`` answers 201 on ``/crm/v4``, 2025-09 and 2026-03 and 200 on
2026-09, as those specs document.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft4Validator, FormatChecker, ValidationError

from airflow_provider_hubspot_assoc.testing import ALL_SCOPES, HubSpotSimulator

from ._support import PRIMARY, PRIMARY_INVERSE, UNLABELED, UNLABELED_INVERSE, Api, is_uuid

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "hubspot-openapi"
MISSING_SPECS = (
    f"HubSpot's OpenAPI files are not at {SPEC_DIR} (they live in the shared folder beside the repo)"
)
PAIR = "/{fromObjectType}/{toObjectType}/"
KINDS = {
    ("post", "batch/archive"): "archive",
    ("post", "batch/labels/archive"): "labels_archive",
    ("post", "batch/read"): "read",
    ("post", "batch/create"): "create",
    ("get", "labels"): "labels",
}
FROM_TYPE, TO_TYPE = "contacts", "companies"
CONTACT, COMPANY, OTHER_COMPANY = "101", "201", "202"
NO_SCOPES_TOKEN = "token-without-scopes"
TOKENS = {"sim-private-app-token": ALL_SCOPES, NO_SCOPES_TOKEN: frozenset()}

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)  # raises ValueError when malformed
    return parsed.tzinfo is not None and "T" in value


@FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


# --------------------------------------------------------------------------------- spec handling
@dataclass(frozen=True)
class Operation:
    spec_file: Path
    method: str
    template: str
    kind: str

    @property
    def spec(self) -> dict[str, Any]:
        return _load(self.spec_file)

    @property
    def definition(self) -> dict[str, Any]:
        result: dict[str, Any] = self.spec["paths"][self.template][self.method]
        return result

    @property
    def path(self) -> str:
        return self.template.replace("{fromObjectType}", FROM_TYPE).replace("{toObjectType}", TO_TYPE)

    @property
    def label(self) -> str:
        return f"{self.spec_file.parent.name}:{self.method.upper()} {self.template.split(PAIR)[-1]}"

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        return _resolve(self.spec, node)

    def response(self, status: int | str) -> dict[str, Any]:
        return self.resolve(self.definition["responses"][str(status)])

    def response_schema(self, status: int | str) -> dict[str, Any]:
        content = self.response(status).get("content") or {}
        assert content, f"{self.label}: {status} documents no body"
        media = content.get("application/json") or content.get("*/*")
        assert media is not None, f"{self.label}: {status} has no JSON schema ({list(content)})"
        schema: dict[str, Any] = media["schema"]
        return schema

    def error_schema(self) -> dict[str, Any]:
        return self.response_schema("default")

    def request_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.definition["requestBody"]["content"]["application/json"]["schema"]
        return schema


@functools.cache
def _load(spec_file: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    return loaded


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _operations() -> list[Operation]:
    found: list[Operation] = []
    for spec_file in sorted(SPEC_DIR.glob("*/*.json")):
        for template, item in _load(spec_file)["paths"].items():
            if PAIR not in template or "/definitions/" in template:
                continue
            tail = template.split(PAIR)[-1]
            for method in item:
                kind = KINDS.get((method, tail))
                if kind is not None:
                    found.append(Operation(spec_file, method, template, kind))
    return found


def _params(kinds: set[str], when: Callable[[Operation], bool] = lambda _: True) -> list[Any]:
    if not SPEC_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_SPECS), id="no-specs")]
    return [pytest.param(op, id=op.label) for op in _operations() if op.kind in kinds and when(op)]


ALL_KINDS = set(KINDS.values())
POST_KINDS = {"archive", "labels_archive", "read", "create"}
TYPED_KINDS = {"labels_archive", "create"}  # inputs {from, to, types}


# --------------------------------------------------------------------------------- validation
Deviation = Callable[[ValidationError], bool]


def null_label(error: ValidationError) -> bool:
    path = list(error.absolute_path)
    return error.validator == "type" and error.instance is None and bool(path) and path[-1] == "label"


def string_sub_category(error: ValidationError) -> bool:
    path = list(error.absolute_path)
    return (
        error.validator == "type"
        and bool(path)
        and path[-1] == "subCategory"
        and isinstance(error.instance, str)
        and error.instance.startswith("crm.associations.")
    )


LEGACY_V4 = "associations-v4-legacy-rollout-50914"


def is_legacy(op: Operation) -> bool:
    return op.spec_file.parent.name == LEGACY_V4


def numeric_to_object_id(error: ValidationError) -> bool:
    path = list(error.absolute_path)
    return (
        error.validator == "type"
        and error.validator_value == "string"
        and bool(path)
        and path[-1] == "toObjectId"
        and isinstance(error.instance, int)
        and not isinstance(error.instance, bool)
    )


def string_pair_ids(error: ValidationError) -> bool:
    path = list(error.absolute_path)
    return (
        error.validator == "type"
        and error.validator_value == "integer"
        and bool(path)
        and path[-1] in ("fromObjectId", "toObjectId")
        and isinstance(error.instance, str)
        and error.instance.isdigit()
    )


def create_deviations(op: Operation) -> tuple[Deviation, ...]:
    """The 2024 v4 spec types a result's ids as int32; every current spec (and the simulator) as strings."""
    return (string_pair_ids,) if is_legacy(op) else ()


def read_deviations(op: Operation) -> tuple[Deviation, ...]:
    """Every current spec types ``toObjectId`` as a string; the 2024 v4 spec (rollout 50914) as int32."""
    return () if is_legacy(op) else (numeric_to_object_id,)


def violations(op: Operation, schema: dict[str, Any], instance: Any) -> list[ValidationError]:
    root = {"components": op.spec["components"], "allOf": [schema]}
    Draft4Validator.check_schema(root)
    validator = Draft4Validator(root, format_checker=FORMATS)
    return sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))


def assert_conforms(
    op: Operation, schema: dict[str, Any], instance: Any, *allowed: Deviation
) -> list[ValidationError]:
    """Validate; fail on any violation that is not one of the ``allowed`` deviations (returned)."""
    found = violations(op, schema, instance)
    unexpected = [e for e in found if not any(allow(e) for allow in allowed)]
    assert not unexpected, f"{op.label}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in unexpected
    )
    return found


# --------------------------------------------------------------------------------- body generator
def generate(
    op: Operation, schema: dict[str, Any], values: Callable[[tuple[str, ...], dict[str, Any]], Any]
) -> Any:
    """A minimal valid instance: follows ``$ref``, fills every required property, one array item."""

    def build(node: dict[str, Any], path: tuple[str, ...]) -> Any:
        node = op.resolve(node)
        if "allOf" in node:
            merged: dict[str, Any] = {}
            for part in node["allOf"]:
                merged.update(build(part, path))
            return merged
        if node.get("type") == "object" or "properties" in node:
            properties = node.get("properties", {})
            return {name: build(properties[name], (*path, name)) for name in node.get("required", [])}
        if node.get("type") == "array":
            return [build(node["items"], (*path, "[]"))]
        return values(path, node)

    return build(schema, ())


def seeded_values(path: tuple[str, ...], node: dict[str, Any]) -> Any:
    """Values for the leaves of the association request schemas: seeded ids, a defined type."""
    name = path[-1]
    if name == "id":
        if "to" in path:
            return COMPANY
        return CONTACT  # inputs[].from.id, and inputs[].id of batch/read
    if name == "associationCategory":
        assert PRIMARY[0] in node["enum"], node
        return PRIMARY[0]
    if name == "associationTypeId":
        assert node["type"] == "integer", node
        return PRIMARY[1]
    raise AssertionError(f"the generator has no value for required field {'.'.join(path)}: {node}")


# --------------------------------------------------------------------------------- fixtures
@pytest.fixture
def seeded(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    state = hubspot_simulator.state
    state.associate(FROM_TYPE, CONTACT, TO_TYPE, COMPANY, ["Primary"])
    state.associate(FROM_TYPE, CONTACT, TO_TYPE, OTHER_COMPANY)
    assert state.definition(FROM_TYPE, TO_TYPE, *PRIMARY) is not None
    return hubspot_simulator


def send(api: Api, op: Operation, body: Any = None, **kwargs: Any) -> requests.Response:
    if op.method == "get":
        return api.get(op.path, **kwargs)
    return api.post(op.path, body, **kwargs)


def assert_documented_answer(
    op: Operation, answer: requests.Response, *allowed: Deviation
) -> list[ValidationError]:
    """The answer's status is documented and its body matches the schema documented for it."""
    status = str(answer.status_code)
    if answer.status_code >= 400:
        assert "default" in op.definition["responses"], op.label
        return assert_conforms(op, op.error_schema(), answer.json(), *allowed)
    assert status in op.definition["responses"], (
        f"{op.label}: the simulator answered {status}, "
        f"the spec documents {sorted(op.definition['responses'])}"
    )
    if answer.status_code == 204:
        assert not op.response(status).get("content")
        assert answer.content == b""
        return []
    assert answer.headers["Content-Type"].startswith("application/json")
    return assert_conforms(op, op.response_schema(status), answer.json(), *allowed)


# --------------------------------------------------------------------------------- the tests
def test_spec_files_define_the_operations() -> None:
    if not SPEC_DIR.is_dir():
        if os.environ.get("CI"):  # CI clones the repo with shared/ beside it: the specs must be there
            pytest.fail(MISSING_SPECS)
        pytest.skip(MISSING_SPECS)
    operations = _operations()
    by_kind = {
        kind: sorted(op.spec_file.parent.name for op in operations if op.kind == kind) for kind in ALL_KINDS
    }
    assert len(by_kind["archive"]) >= 4
    assert len(by_kind["labels_archive"]) >= 4
    assert len(by_kind["read"]) >= 4
    assert len(by_kind["labels"]) >= 2
    assert "associations-v4" in by_kind["archive"]
    assert "associations-2026-03" in by_kind["archive"]
    assert len(by_kind["create"]) >= 4
    assert {"associations-v4", "associations-2026-09"} <= set(by_kind["create"])


@pytest.mark.hubspot_simulator(tokens=TOKENS)
@pytest.mark.parametrize("op", _params(ALL_KINDS))
def test_generated_request_gets_a_documented_answer(
    seeded: HubSpotSimulator, api: Api, op: Operation
) -> None:
    state = seeded.state
    body = None
    if op.kind == "create":  # the pair the generated body names is created afresh
        state.archive_pair(FROM_TYPE, CONTACT, TO_TYPE, COMPANY)
    if op.method == "post":
        schema = op.request_schema()
        body = generate(op, schema, seeded_values)
        assert_conforms(op, schema, body)
        assert body["inputs"][0]  # the generator filled the required fields
    answer = send(api, op, body)
    assert answer.status_code < 300, answer.text

    if op.kind == "labels":
        found = assert_documented_answer(op, answer, null_label)
        results = answer.json()["results"]
        unlabeled = [r for r in results if (r["category"], r["typeId"]) == UNLABELED]
        assert len(unlabeled) == 1
        assert unlabeled[0]["label"] is None
        # The only deviation is that one null label.
        assert [list(e.absolute_path) for e in found] == [["results", results.index(unlabeled[0]), "label"]]
        assert {(r["category"], r["typeId"]): r["label"] for r in results}[PRIMARY] == "Primary"
        return

    if op.kind == "read":
        found = assert_documented_answer(op, answer, *read_deviations(op))
        assert body == {"inputs": [{"id": CONTACT}]}
        (result,) = answer.json()["results"]
        assert result["from"] == {"id": CONTACT}
        assert [entry["toObjectId"] for entry in result["to"]] == [int(COMPANY), int(OTHER_COMPANY)]
        expected = [] if is_legacy(op) else [["results", 0, "to", i, "toObjectId"] for i in range(2)]
        assert [list(e.absolute_path) for e in found] == expected
        return

    if op.kind == "create":
        found = assert_documented_answer(op, answer, *create_deviations(op))
        expected_paths = (
            [["results", 0, "fromObjectId"], ["results", 0, "toObjectId"]] if is_legacy(op) else []
        )
        assert [list(e.absolute_path) for e in found] == expected_paths
        assert answer.status_code == (200 if "2026-09" in op.label else 201)
        assert answer.json()["results"] == [
            {
                "fromObjectTypeId": "0-1",
                "fromObjectId": CONTACT,
                "toObjectTypeId": "0-2",
                "toObjectId": COMPANY,
                "labels": ["Primary"],
            }
        ]
        assert state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY) == {UNLABELED, PRIMARY}
        assert state.types_of(TO_TYPE, COMPANY, FROM_TYPE, CONTACT) == {UNLABELED_INVERSE, PRIMARY_INVERSE}
        return

    assert assert_documented_answer(op, answer) == []
    if op.kind == "archive":
        assert body == {"inputs": [{"from": {"id": CONTACT}, "to": [{"id": COMPANY}]}]}
        assert state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY) == set()
        assert state.types_of(TO_TYPE, COMPANY, FROM_TYPE, CONTACT) == set()
        assert state.types_of(FROM_TYPE, CONTACT, TO_TYPE, OTHER_COMPANY) == {UNLABELED}
    elif op.kind == "labels_archive":
        assert body == {
            "inputs": [
                {
                    "from": {"id": CONTACT},
                    "to": {"id": COMPANY},
                    "types": [{"associationCategory": PRIMARY[0], "associationTypeId": PRIMARY[1]}],
                }
            ]
        }
        assert state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY) == {UNLABELED}
        assert state.types_of(TO_TYPE, COMPANY, FROM_TYPE, CONTACT) == {UNLABELED_INVERSE}


@pytest.mark.parametrize("op", _params({"archive"}))
def test_archive_example_from_the_product_description(
    hubspot_simulator: HubSpotSimulator, api: Api, op: Operation
) -> None:
    state = hubspot_simulator.state
    state.associate(FROM_TYPE, "1", TO_TYPE, "2", ["Primary"])
    state.associate(FROM_TYPE, "1", TO_TYPE, "3")
    state.associate(FROM_TYPE, "4", TO_TYPE, "2")
    example = {"inputs": [{"from": {"id": "1"}, "to": [{"id": "2"}, {"id": "3"}]}]}
    assert_conforms(op, op.request_schema(), example)
    answer = send(api, op, example)
    assert answer.status_code < 300, answer.text
    assert assert_documented_answer(op, answer) == []
    assert state.pairs(FROM_TYPE, TO_TYPE) == {("4", "2")}
    assert state.pairs(TO_TYPE, FROM_TYPE) == {("2", "4")}


@pytest.mark.parametrize("op", _params({"labels_archive"}))
def test_labels_archive_example_from_the_product_description(
    hubspot_simulator: HubSpotSimulator, api: Api, op: Operation
) -> None:
    state = hubspot_simulator.state
    state.associate(FROM_TYPE, "1", TO_TYPE, "2", ["Primary"])
    state.associate(FROM_TYPE, "1", TO_TYPE, "3", ["Primary"])
    example = {
        "inputs": [
            {
                "from": {"id": "1"},
                "to": {"id": "2"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
            }
        ]
    }
    assert_conforms(op, op.request_schema(), example)
    answer = send(api, op, example)
    assert answer.status_code < 300, answer.text
    assert assert_documented_answer(op, answer) == []
    # 279 is the unlabeled type: the whole association goes, Primary included, in both directions.
    assert state.types_of(FROM_TYPE, "1", TO_TYPE, "2") == set()
    assert state.types_of(TO_TYPE, "2", FROM_TYPE, "1") == set()
    assert state.types_of(FROM_TYPE, "1", TO_TYPE, "3") == {UNLABELED, PRIMARY}


@pytest.mark.parametrize("op", _params({"create"}))
def test_create_example_from_the_product_description(
    hubspot_simulator: HubSpotSimulator, api: Api, op: Operation
) -> None:
    state = hubspot_simulator.state
    state.add_records(FROM_TYPE, ["1"])
    state.add_records(TO_TYPE, ["2"])
    state.define_label(FROM_TYPE, TO_TYPE, "Decision maker", type_id=36)
    example = {
        "inputs": [
            {
                "from": {"id": "1"},
                "to": {"id": "2"},
                "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": 36}],
            }
        ]
    }
    assert_conforms(op, op.request_schema(), example)
    answer = send(api, op, example)
    assert answer.status_code < 300, answer.text
    assert len(assert_documented_answer(op, answer, *create_deviations(op))) == (2 if is_legacy(op) else 0)
    assert answer.json()["results"][0]["labels"] == ["Decision maker"]
    assert state.types_of(FROM_TYPE, "1", TO_TYPE, "2") == {UNLABELED, ("USER_DEFINED", 36)}


@pytest.mark.parametrize("op", _params({"create"}))
def test_create_207_has_the_documented_shape(seeded: HubSpotSimulator, api: Api, op: Operation) -> None:
    """The 207 the specs document; 2026-09 documents none, so there the body must match its 200."""
    types = [{"associationCategory": PRIMARY[0], "associationTypeId": PRIMARY[1]}]
    body = {
        "inputs": [
            {"from": {"id": CONTACT}, "to": {"id": OTHER_COMPANY}, "types": types},
            {"from": {"id": CONTACT}, "to": {"id": "999"}, "types": types},
        ]
    }
    assert_conforms(op, op.request_schema(), body)
    answer = send(api, op, body)
    assert answer.status_code == 207
    schema = op.response_schema("207" if _documents_207(op) else "200")
    found = assert_conforms(op, schema, answer.json(), *create_deviations(op))
    assert len(found) == (2 if is_legacy(op) else 0)
    payload = answer.json()
    assert [(r["fromObjectId"], r["toObjectId"]) for r in payload["results"]] == [(CONTACT, OTHER_COMPANY)]
    assert payload["errors"][0]["context"]["toObjectId"] == ["999"]
    assert seeded.state.types_of(FROM_TYPE, CONTACT, TO_TYPE, OTHER_COMPANY) == {UNLABELED, PRIMARY}


def _documents_207(op: Operation) -> bool:
    return "207" in op.definition["responses"]


@pytest.mark.parametrize("op", _params({"read"}, _documents_207))
def test_batch_read_207_matches_the_documented_schema(
    seeded: HubSpotSimulator, api: Api, op: Operation
) -> None:
    body = {"inputs": [{"id": CONTACT}, {"id": "103"}, {"id": "104"}]}
    assert_conforms(op, op.request_schema(), body)
    answer = send(api, op, body)
    assert answer.status_code == 207
    found = assert_documented_answer(op, answer, string_sub_category, *read_deviations(op))
    payload = answer.json()
    assert payload["numErrors"] == 2
    assert [r["from"]["id"] for r in payload["results"]] == [CONTACT]
    # The deviations are exactly the two string subCategory fields (and the numeric toObjectIds).
    expected: list[list[str | int]] = [["errors", 0, "subCategory"], ["errors", 1, "subCategory"]]
    if not is_legacy(op):
        expected += [["results", 0, "to", i, "toObjectId"] for i in range(2)]
    assert [list(e.absolute_path) for e in found] == sorted(expected, key=lambda p: list(map(str, p)))
    assert {e["subCategory"] for e in payload["errors"]} == {"crm.associations.NO_ASSOCIATIONS_FOUND"}


def _documents_batch_response(op: Operation) -> bool:
    return "200" in op.definition["responses"] and bool(op.response("200").get("content"))


@pytest.mark.hubspot_simulator(unknown_record="error")
@pytest.mark.parametrize("op", _params({"archive"}, _documents_batch_response))
def test_archive_207_has_the_documented_batch_response_shape(
    seeded: HubSpotSimulator, api: Api, op: Operation
) -> None:
    """No archive spec documents 207; its body must still be the BatchResponse the 200 documents."""
    body = {"inputs": [{"from": {"id": CONTACT}, "to": [{"id": COMPANY}, {"id": "999"}]}]}
    answer = send(api, op, body)
    assert answer.status_code == 207
    assert assert_conforms(op, op.response_schema("200"), answer.json()) == []
    assert answer.json()["errors"][0]["context"]["toObjectId"] == ["999"]
    assert seeded.state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY) == set()


def _error_answers(
    api: Api, op: Operation, sim: HubSpotSimulator
) -> Iterator[tuple[str, int, requests.Response]]:
    yield "no token", 401, send(api, op, {"inputs": []}, headers={})
    yield "wrong token", 401, send(api, op, {"inputs": []}, token="wrong")
    access = api.access_token()
    sim.expire_access_tokens()
    yield "expired OAuth token", 401, send(api, op, {"inputs": []}, token=access)
    yield "missing scopes", 403, send(api, op, {"inputs": [{"id": CONTACT}]}, token=NO_SCOPES_TOKEN)
    if op.method == "get":
        return
    yield "malformed JSON", 400, api.post(op.path, data='{"inputs": [')
    yield "missing inputs", 400, api.post(op.path, {})
    limit = 1000 if op.kind == "read" else 100
    item = {"id": CONTACT} if op.kind == "read" else {"from": {"id": CONTACT}, "to": [{"id": COMPANY}]}
    if op.kind in TYPED_KINDS:
        item = {
            "from": {"id": CONTACT},
            "to": {"id": COMPANY},
            "types": [{"associationCategory": PRIMARY[0], "associationTypeId": PRIMARY[1]}],
        }
    yield "too many inputs", 400, api.post(op.path, {"inputs": [item] * (limit + 1)})
    if op.kind in TYPED_KINDS:
        bad = {**item, "types": [{"associationCategory": "NOPE", "associationTypeId": 1}]}
        yield "bad category", 400, api.post(op.path, {"inputs": [bad]})
        undefined = {**item, "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": 4242}]}
        yield "undefined type", 400, api.post(op.path, {"inputs": [undefined]})
    if op.kind != "read":
        sim.reconfigure(unknown_record="reject")
        unknown = {**item, "to": {"id": "999"}} if op.kind in TYPED_KINDS else {**item, "to": [{"id": "999"}]}
        yield "unknown record (reject mode)", 400, api.post(op.path, {"inputs": [unknown]})


@pytest.mark.hubspot_simulator(tokens=TOKENS)
@pytest.mark.parametrize("op", _params(ALL_KINDS))
def test_error_answers_match_the_error_schema(seeded: HubSpotSimulator, api: Api, op: Operation) -> None:
    before = seeded.state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY)
    seen = []
    for what, status, answer in _error_answers(api, op, seeded):
        assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text}"
        assert assert_documented_answer(op, answer) == [], what
        body = answer.json()
        assert is_uuid(body["correlationId"]), what
        seen.append(body["category"])
    assert seeded.state.types_of(FROM_TYPE, CONTACT, TO_TYPE, COMPANY) == before == {UNLABELED, PRIMARY}
    assert seen[:4] == [
        "INVALID_AUTHENTICATION",
        "INVALID_AUTHENTICATION",
        "EXPIRED_AUTHENTICATION",
        "MISSING_SCOPES",
    ]
    assert set(seen[4:]) <= {"VALIDATION_ERROR"}


@pytest.mark.parametrize("op", _params(ALL_KINDS))
def test_unknown_object_type_400_matches_the_error_schema(api: Api, op: Operation) -> None:
    """The spec's ``Error`` requires ``category``, so the simulator gives one (``VALIDATION_ERROR``)."""
    path = op.template.replace("{fromObjectType}", "x").replace("{toObjectType}", TO_TYPE)
    answer = api.get(path) if op.method == "get" else api.post(path, {"inputs": []})
    assert answer.status_code == 400
    assert assert_documented_answer(op, answer) == []
    assert answer.json()["message"] == "Unable to infer object type from: x"


@pytest.mark.hubspot_simulator(unknown_object_type_status=404)
@pytest.mark.parametrize("op", _params({"archive"}))
def test_unknown_object_type_404_matches_the_error_schema(api: Api, op: Operation) -> None:
    path = op.template.replace("{fromObjectType}", FROM_TYPE).replace("{toObjectType}", "x")
    answer = api.post(path, {"inputs": []})
    assert answer.status_code == 404
    assert assert_documented_answer(op, answer) == []


RATE_LIMIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "message", "errorType", "correlationId", "policyName"],
    "properties": {
        "status": {"enum": ["error"]},
        "message": {"type": "string"},
        "errorType": {"enum": ["RATE_LIMIT"]},
        "correlationId": {"type": "string", "format": "uuid"},
        "policyName": {"enum": ["DAILY", "TEN_SECONDLY_ROLLING"]},
    },
}


@pytest.mark.hubspot_simulator(
    ten_second_limit=1,
    window_seconds=30.0,
    daily_limit=2,
    daily_reset_seconds=30.0,
    tokens={**TOKENS, "second-app": ALL_SCOPES},
)
@pytest.mark.parametrize("op", _params({"archive"}))
def test_429_bodies_have_the_documented_keys(seeded: HubSpotSimulator, api: Api, op: Operation) -> None:
    body = {"inputs": [{"from": {"id": CONTACT}, "to": [{"id": OTHER_COMPANY}]}]}
    assert send(api, op, body).status_code < 300
    ten_secondly = send(api, op, body)
    # A 10-second refusal spends no daily budget: another app uses the account's last request of the day.
    assert send(api, op, body, token="second-app").status_code < 300
    daily = send(api, op, body)
    assert (ten_secondly.status_code, daily.status_code) == (429, 429)
    validator = Draft4Validator(RATE_LIMIT_SCHEMA, format_checker=FORMATS)
    for answer, policy, message in (
        (ten_secondly, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."),
        (daily, "DAILY", "You have reached your daily limit."),
    ):
        payload = answer.json()
        assert list(validator.iter_errors(payload)) == []
        assert (payload["policyName"], payload["message"]) == (policy, message)
        assert "category" not in payload
