"""Validation of HubSpot's native archive inputs, with errors that name the row and the field.

No Airflow import. The operators' row readers (dicts, tuples, SQL rows) produce these shapes.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hubspot_assoc.exceptions import InvalidInputError
from airflow_provider_hubspot_assoc.object_types import InvalidRecordIdError, validate_record_id

CATEGORIES = ("HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK")  # HubSpot's enum order


def _record_id(value: Any, row: int, field: str) -> str:
    try:
        return validate_record_id(value, field)
    except InvalidRecordIdError as error:
        raise InvalidInputError(f"row {row}: {error}", row=row, field=field) from None


def _id_of(item: Any, key: str, row: int) -> str:
    holder = item.get(key) if isinstance(item, dict) else None
    if not isinstance(holder, dict) or "id" not in holder:
        raise InvalidInputError(
            f'row {row}: {key} must be {{"id": "<record id>"}}, got {holder!r}', row=row, field=key
        )
    return _record_id(holder["id"], row, f"{key}.id")


def association_type(category: Any, type_id: Any, row: int) -> dict[str, Any]:
    """A validated ``{"associationCategory", "associationTypeId"}`` object."""
    if category not in CATEGORIES:
        raise InvalidInputError(
            f"row {row}: associationCategory must be one of {', '.join(CATEGORIES)}, got {category!r}",
            row=row,
            field="associationCategory",
        )
    if isinstance(type_id, str) and type_id.strip().isascii() and type_id.strip().isdigit():
        # ASCII digits only: int() takes other scripts' digits and raises a bare ValueError for "\u00b2"
        type_id = int(type_id)
    if isinstance(type_id, bool) or not isinstance(type_id, int) or not 0 < type_id < 2**31:
        raise InvalidInputError(
            f"row {row}: associationTypeId must be a positive 32-bit whole number, got {type_id!r}",
            row=row,
            field="associationTypeId",
        )
    return {"associationCategory": category, "associationTypeId": type_id}


def native_archive_input(item: Any, row: int) -> dict[str, Any]:
    """Validate ``{"from": {"id"}, "to": [{"id"}, ...]}`` and return it with string ids."""
    from_id = _id_of(item, "from", row)
    targets = item.get("to")
    if not isinstance(targets, list) or not targets:
        raise InvalidInputError(
            f'row {row}: to must be a non-empty list of {{"id": ...}}', row=row, field="to"
        )
    to = []
    for position, target in enumerate(targets):
        if not isinstance(target, dict) or "id" not in target:
            raise InvalidInputError(
                f'row {row}: to[{position}] must be {{"id": "<record id>"}}', row=row, field=f"to[{position}]"
            )
        to.append({"id": _record_id(target["id"], row, f"to[{position}].id")})
    return {"from": {"id": from_id}, "to": to}


def native_label_input(item: Any, row: int) -> dict[str, Any]:
    """Validate ``{"from": {"id"}, "to": {"id"}, "types": [...]}`` and return it normalised."""
    from_id = _id_of(item, "from", row)
    to_id = _id_of(item, "to", row)
    types = item.get("types")
    if not isinstance(types, list) or not types:
        raise InvalidInputError(f"row {row}: types must be a non-empty list", row=row, field="types")
    checked = []
    for spec in types:
        if not isinstance(spec, dict):
            raise InvalidInputError(f"row {row}: each of types must be an object", row=row, field="types")
        checked.append(association_type(spec.get("associationCategory"), spec.get("associationTypeId"), row))
    return {"from": {"id": from_id}, "to": {"id": to_id}, "types": checked}
