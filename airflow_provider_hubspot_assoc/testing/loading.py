"""``POST /_sim/load``: put label definitions, associations and records into the simulator from JSON.

The body is one object, every key optional::

    {"labels": [{"from": "contacts", "to": "companies", "name": "Billing contact",
                 "inverse_name": "Billing company", "category": "USER_DEFINED", "type_id": 28}],
     "associations": [{"from": "contacts", "from_id": "101", "to": "companies", "to_id": "5000",
                       "labels": ["Billing contact"]}],
     "records": {"contacts": ["102", "103"]}}

Labels are matched by name within a direction: one that exists is left as it is. An association's
``labels`` name labels of its direction (existing ones, such as "Primary", or ones in the same body);
every association also gets the unlabeled type. The whole body is checked before anything is
loaded, so bad input loads nothing and is answered with a 400 naming the item and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from airflow_provider_hubspot_assoc.kinds import CATEGORIES
from airflow_provider_hubspot_assoc.object_types import object_type_id, validate_record_id
from airflow_provider_hubspot_assoc.testing.state import AccountState

LABEL_KEYS = {"from", "to", "name", "inverse_name", "category", "type_id"}
ASSOCIATION_KEYS = {"from", "from_id", "to", "to_id", "labels"}
TOP_KEYS = {"labels", "associations", "records"}


class LoadError(ValueError):
    """Bad input to an inspection endpoint; the message names the item and field."""


@dataclass(frozen=True)
class _Label:
    from_type: str
    to_type: str
    name: str
    inverse_name: str | None
    category: str
    type_id: int | None


@dataclass(frozen=True)
class _Association:
    from_type: str
    from_id: str
    to_type: str
    to_id: str
    labels: tuple[str, ...]


def json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is ``{}``)."""
    try:
        value = json.loads(body or b"{}")
    except ValueError as error:
        raise LoadError(f"the body is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise LoadError(f"the body must be a JSON object, got {type(value).__name__}")
    return value


def load(state: AccountState, payload: dict[str, Any]) -> dict[str, int]:
    """Check the whole payload, then load it in one transaction; returns what was loaded."""
    _only(payload, TOP_KEYS, "the body")
    labels = [_label(item, f"labels[{n}]") for n, item in enumerate(_list(payload, "labels", "labels"))]
    associations = [
        _association(item, f"associations[{n}]")
        for n, item in enumerate(_list(payload, "associations", "associations"))
    ]
    records = _records(payload.get("records", {}))
    with state.transaction():
        new_labels = _check_labels(state, labels)
        _check_association_labels(state, associations, new_labels)
        for label in new_labels:
            state.define_label(
                label.from_type,
                label.to_type,
                label.name,
                inverse_label=label.inverse_name,
                category=label.category,
                type_id=label.type_id,
            )
        for item in associations:
            state.associate(item.from_type, item.from_id, item.to_type, item.to_id, item.labels)
        for object_type, ids in records.items():
            state.add_records(object_type, ids)
    return {
        "labels": len(new_labels),
        "labels_existing": len(labels) - len(new_labels),
        "associations": len(associations),
        "records": sum(len(ids) for ids in records.values()),
    }


# ------------------------------------------------------------------------------ shape checks
def _only(item: Any, allowed: set[str], where: str) -> None:
    if not isinstance(item, dict):
        raise LoadError(f"{where} must be an object, got {type(item).__name__}")
    extra = sorted(set(item) - allowed)
    if extra:
        raise LoadError(f"{where}.{extra[0]}: not a known field (use {', '.join(sorted(allowed))})")


def _list(item: dict[str, Any], key: str, where: str) -> list[Any]:
    value = item.get(key, [])
    if not isinstance(value, list):
        raise LoadError(f"{where} must be a list, got {type(value).__name__}")
    return value


def _type(item: dict[str, Any], key: str, where: str) -> str:
    if key not in item:
        raise LoadError(f"{where}.{key}: missing")
    try:
        return object_type_id(item[key])
    except ValueError as error:
        raise LoadError(f"{where}.{key}: {error}") from None


def _id(value: Any, where: str) -> str:
    try:
        return validate_record_id(value, where)
    except ValueError as error:
        raise LoadError(str(error)) from None


def _text(item: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LoadError(f"{where}.{key}: {'missing' if value is None else 'must be a non-empty string'}")
    return value


def _label(item: Any, where: str) -> _Label:
    _only(item, LABEL_KEYS, where)
    category = item.get("category", "USER_DEFINED")
    if category not in CATEGORIES:
        raise LoadError(f"{where}.category: {category!r} is not one of {', '.join(CATEGORIES)}")
    type_id = item.get("type_id")
    if type_id is not None and (isinstance(type_id, bool) or not isinstance(type_id, int) or type_id < 1):
        raise LoadError(f"{where}.type_id: must be a positive whole number, got {type_id!r}")
    return _Label(
        _type(item, "from", where),
        _type(item, "to", where),
        _text(item, "name", where) or "",
        _text(item, "inverse_name", where, required=False),
        category,
        type_id,
    )


def _association(item: Any, where: str) -> _Association:
    _only(item, ASSOCIATION_KEYS, where)
    for key in ("from_id", "to_id"):
        if key not in item:
            raise LoadError(f"{where}.{key}: missing")
    labels = item.get("labels", [])
    if not isinstance(labels, list):
        raise LoadError(f"{where}.labels: must be a list of label names, got {type(labels).__name__}")
    for n, name in enumerate(labels):
        if not isinstance(name, str):
            raise LoadError(f"{where}.labels[{n}]: must be a label name, got {name!r}")
    return _Association(
        _type(item, "from", where),
        _id(item["from_id"], f"{where}.from_id"),
        _type(item, "to", where),
        _id(item["to_id"], f"{where}.to_id"),
        tuple(labels),
    )


def _records(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise LoadError(f"records must be an object of object type -> ids, got {type(value).__name__}")
    found: dict[str, list[str]] = {}
    for object_type, ids in value.items():
        where = f"records.{object_type}"
        try:
            type_id = object_type_id(object_type)
        except ValueError as error:
            raise LoadError(f"{where}: {error}") from None
        if not isinstance(ids, list):
            raise LoadError(f"{where} must be a list of record ids, got {type(ids).__name__}")
        found.setdefault(type_id, []).extend(_id(i, f"{where}[{n}]") for n, i in enumerate(ids))
    return found


# ----------------------------------------------------------------- checks against the account
def _check_labels(state: AccountState, labels: list[_Label]) -> list[_Label]:
    """The labels to define (by name, new in their direction); raises on a clash."""
    new: list[_Label] = []
    for n, label in enumerate(labels):
        where = f"labels[{n}]"
        existing = {d.label: d for d in state.definitions(label.from_type, label.to_type)}
        found = existing.get(label.name)
        if found is not None:
            if label.type_id is not None and label.type_id != found.type_id:
                raise LoadError(f"{where}.type_id: {label.name!r} exists with type id {found.type_id}")
            continue
        if any(
            (item.from_type, item.to_type, item.name) == (label.from_type, label.to_type, label.name)
            for item in new
        ):
            raise LoadError(f"{where}.name: {label.name!r} is given twice for this direction")
        taken = {d.type_id: d.label for d in existing.values()} | {
            i.type_id: i.name for i in new if i.type_id
        }
        if label.type_id is not None and label.type_id in taken:
            raise LoadError(f"{where}.type_id: {label.type_id} is taken by {taken[label.type_id]!r}")
        new.append(label)
    return new


def _check_association_labels(
    state: AccountState, associations: list[_Association], new_labels: list[_Label]
) -> None:
    known: dict[tuple[str, str], set[str]] = {}
    for label in new_labels:
        known.setdefault((label.from_type, label.to_type), set()).add(label.name)
        known.setdefault((label.to_type, label.from_type), set()).add(label.inverse_name or label.name)
    looked_up: set[tuple[str, str]] = set()
    for n, item in enumerate(associations):
        direction = (item.from_type, item.to_type)
        if item.labels and direction not in looked_up:
            looked_up.add(direction)
            names = {d.label for d in state.definitions(*direction) if d.label}
            known[direction] = known.get(direction, set()) | names
        for m, name in enumerate(item.labels):
            if name not in known[direction]:
                choices = ", ".join(repr(x) for x in sorted(known[direction])) or "none"
                raise LoadError(
                    f"associations[{n}].labels[{m}]: no label {name!r} from {item.from_type} to "
                    f'{item.to_type} (labels: {choices}; define it under "labels")'
                )
