"""Reading association request bodies the way HubSpot does: JSON, required fields, limits, ids, types.

Each function returns what it read or raises HubSpot's 400 ``VALIDATION_ERROR`` with the message
HubSpot gives ("Invalid input JSON on line 1, column N ..."), before anything is carried out.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_hubspot_assoc.kinds import CATEGORIES
from airflow_provider_hubspot_assoc.testing.server.errors import ApiError, validation_error
from airflow_provider_hubspot_assoc.testing.state import TypeKey

INT32 = range(-(2**31), 2**31)


def parse(body: bytes) -> Any:
    """The body as JSON."""
    try:
        return json.loads(body.decode("utf-8") if body else "")
    except UnicodeDecodeError:
        raise validation_error("Invalid input JSON: the body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise validation_error(
            f"Invalid input JSON on line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None


def required(obj: Any, fields: list[str], where: str) -> None:
    """``obj`` is an object holding every one of ``fields`` (not null)."""
    if not isinstance(obj, dict):
        raise validation_error(f"Invalid input JSON: {where} must be an object")
    missing = [name for name in fields if obj.get(name) is None]
    if missing:
        raise validation_error(
            "Invalid input JSON on line 1, column 2. Some required fields were not set: "
            f"[{', '.join(missing)}]"
        )


def array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise validation_error(f"Invalid input JSON: {where} must be an array")
    return value


def inputs(body: bytes, limit: int) -> list[Any]:
    """The body's ``inputs`` array, at most ``limit`` long."""
    payload = parse(body)
    required(payload, ["inputs"], "the body")
    found = array(payload["inputs"], "inputs")
    if len(found) > limit:
        raise too_many(limit)
    return found


def too_many(limit: int) -> ApiError:
    """HubSpot's answer to an oversized batch, word for word (it says "inputs" whatever the cap
    counts: the simulator's pair cap answers with it too)."""
    return validation_error(
        f"The maximum number of inputs supported in a batch is {limit}. Please reduce the number of "
        "items and try again"
    )


def record_id(value: Any, where: str) -> str:
    """A record id (HubSpot reads a JSON number as well as a string)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise validation_error(f"Invalid input JSON: {where} must be a string")
    return str(value)


def object_id(item: Any, where: str) -> str:
    """The record id of ``{"id": ...}`` at ``where``."""
    required(item, ["id"], where)
    return record_id(item["id"], f"{where}.id")


def association_type(spec: Any, where: str) -> TypeKey:
    """``{"associationCategory": ..., "associationTypeId": ...}`` as (category, type id)."""
    required(spec, ["associationCategory", "associationTypeId"], where)
    category, type_id = spec["associationCategory"], spec["associationTypeId"]
    if category not in CATEGORIES:
        raise validation_error(
            "Invalid input JSON on line 1, column 2: Cannot deserialize value of type "
            f'`AssociationCategory` from String "{category}": not one of the values '
            f"accepted for Enum class: [{', '.join(CATEGORIES)}]"
        )
    if isinstance(type_id, bool) or not isinstance(type_id, int) or type_id not in INT32:
        raise validation_error(
            "Invalid input JSON on line 1, column 2: Cannot deserialize value of type "
            f"`int` from {json.dumps(type_id)}: not a valid `int` value"
        )
    return category, type_id
