"""HubSpot object types and record ids: names, type ids, and validation.

Pure logic shared by the hook (to refuse anything that could be injected into a URL path) and the
simulator (to resolve ``contacts``/``contact``/``0-1`` to one object type). No Airflow import.
"""

from __future__ import annotations

import re

# Standard object type ids (HubSpot docs, "Object type IDs"); names accepted singular and plural.
STANDARD_OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
    "products": "0-7",
    "line_items": "0-8",
    "quotes": "0-14",
    "communications": "0-18",
    "feedback_submissions": "0-19",
    "tasks": "0-27",
    "campaigns": "0-35",
    "notes": "0-46",
    "meetings": "0-47",
    "calls": "0-48",
    "emails": "0-49",
    "invoices": "0-53",
    "marketing_events": "0-54",
    "subscriptions": "0-69",
    "goal_targets": "0-74",
    "discounts": "0-84",
    "fees": "0-85",
    "taxes": "0-86",
    "payments": "0-101",
    "users": "0-115",
    "postal_mail": "0-116",
    "orders": "0-123",
    "leads": "0-136",
    "carts": "0-142",
    "services": "0-162",
    "courses": "0-410",
    "listings": "0-420",
    "appointments": "0-421",
    "projects": "0-970",
}

_SINGULAR = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "ticket": "tickets",
    "product": "products",
    "line_item": "line_items",
    "quote": "quotes",
    "communication": "communications",
    "feedback_submission": "feedback_submissions",
    "task": "tasks",
    "campaign": "campaigns",
    "note": "notes",
    "meeting": "meetings",
    "call": "calls",
    "email": "emails",
    "invoice": "invoices",
    "marketing_event": "marketing_events",
    "subscription": "subscriptions",
    "goal_target": "goal_targets",
    "goal": "goal_targets",
    "goals": "goal_targets",
    "discount": "discounts",
    "fee": "fees",
    "tax": "taxes",
    "payment": "payments",
    "user": "users",
    "order": "orders",
    "lead": "leads",
    "cart": "carts",
    "service": "services",
    "course": "courses",
    "listing": "listings",
    "appointment": "appointments",
    "project": "projects",
}

_TYPE_ID = re.compile(r"^[02]-[1-9][0-9]{0,9}$")
_FULLY_QUALIFIED = re.compile(r"^p[1-9][0-9]{0,14}_[a-z][a-z0-9_]{0,99}$")
_RECORD_ID = re.compile(r"^[1-9][0-9]{0,18}$")
# HubSpot record ids are 64-bit signed integers: the one bound every id check uses.
MAX_RECORD_ID = 2**63 - 1


class InvalidObjectTypeError(ValueError):
    """An object type string that is not a HubSpot object type (and must never reach a URL)."""


class InvalidRecordIdError(ValueError):
    """A record id that is not a HubSpot record id (a positive integer, as digits)."""


def canonical_name(object_type: str) -> str | None:
    """Return the plural standard name for ``contact``/``Contacts``/``0-1``, or None if not standard."""
    lowered = object_type.strip().lower()
    if lowered in STANDARD_OBJECT_TYPE_IDS:
        return lowered
    if lowered in _SINGULAR:
        return _SINGULAR[lowered]
    for name, type_id in STANDARD_OBJECT_TYPE_IDS.items():
        if type_id == lowered:
            return name
    return None


def singular_name(object_type: str) -> str:
    """``contact`` for ``contacts``/``0-1``; custom types are returned unchanged (for messages)."""
    name = canonical_name(object_type)
    if name is None:
        return object_type
    return next((single for single, plural in _SINGULAR.items() if plural == name), name)


def validate_object_type(object_type: object) -> str:
    """Check that ``object_type`` is safe to put in a path and return it normalised.

    Accepted: a standard object name (singular or plural, any case), a type id ``0-N`` (standard) or
    ``2-N`` (custom object), or a fully qualified custom object name ``p<portalId>_<name>``.
    """
    if not isinstance(object_type, str) or not object_type.strip():
        raise InvalidObjectTypeError(f"object type must be a non-empty string, got {object_type!r}")
    value = object_type.strip()
    name = canonical_name(value)
    if name is not None:
        return name
    if _TYPE_ID.match(value) or _FULLY_QUALIFIED.match(value):
        return value
    raise InvalidObjectTypeError(
        f"{object_type!r} is not a HubSpot object type: use a standard name such as 'contacts' or "
        "'companies', a type id such as '0-1', or a custom object id such as '2-1234567'"
    )


def object_type_id(object_type: str) -> str:
    """Return the type id (``0-1``, ``2-123``) or fully qualified name for a validated object type."""
    value = validate_object_type(object_type)
    return STANDARD_OBJECT_TYPE_IDS.get(value, value)


def is_record_id(value: object) -> bool:
    """True for a HubSpot record id: an int, or ASCII digits, from 1 to ``MAX_RECORD_ID``."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value <= MAX_RECORD_ID
    return isinstance(value, str) and bool(_RECORD_ID.fullmatch(value)) and int(value) <= MAX_RECORD_ID


def validate_record_id(value: object, field: str = "id") -> str:
    """Return ``value`` as the string HubSpot expects, or raise naming the field."""
    if isinstance(value, str):
        value = value.strip()
    if not is_record_id(value):
        raise InvalidRecordIdError(
            f"{field} must be a HubSpot record id (a positive whole number), got {value!r}"
        )
    return str(value)
