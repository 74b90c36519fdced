"""Turn user rows into removals, or into rejections that name the row, the field and the reason.

Accepted row shapes (``kind`` is ``Kind.ARCHIVE`` for pairs, ``Kind.LABELS`` for label removals,
``Kind.CREATE`` for association types to create, whose rows are shaped as for labels):

* dicts: ``{"from_id": 1, "to_id": 2}``; for labels also ``association_type_id`` and
  ``association_category``, or ``label`` (a label name); keys renamed through ``column_map``;
* tuples/lists: ``(from_id, to_id)``; for labels ``(from_id, to_id, type_id_or_label[, category])``;
* HubSpot's native inputs: ``{"from": {"id"}, "to": [{"id"}, ...]}`` for archive,
  ``{"from": {"id"}, "to": {"id"}, "types": [{"associationCategory", "associationTypeId"}]}`` for labels.

One removal is one pair (archive) or one (pair, type) (labels, create: a ``Removal`` then stands for
the type to create); a native input naming several targets or types yields several removals with the
same row number. No Airflow import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from airflow_provider_hubspot_assoc.kinds import CATEGORIES, Kind
from airflow_provider_hubspot_assoc.object_types import MAX_RECORD_ID, is_record_id

FIELDS = ("from_id", "to_id", "association_type_id", "association_category", "label")


@dataclass(frozen=True, slots=True, init=False)
class Removal:
    """One association (or one label of one association) to remove, or, for a create, one association
    type of a pair to create; ``row`` is 1-based."""

    row: int
    from_id: str
    to_id: str
    category: str | None = None
    type_id: int | None = None
    label: str | None = None

    def __init__(
        self,
        row: int,
        from_id: str,
        to_id: str,
        category: str | None = None,
        type_id: int | None = None,
        label: str | None = None,
    ) -> None:
        # Frozen, so dataclass's own __init__ sets each field through object.__setattr__; the slots'
        # own setters cost less than half as much, and a removal is made for every input row.
        _set_row(self, row)
        _set_from(self, from_id)
        _set_to(self, to_id)
        _set_category(self, category)
        _set_type(self, type_id)
        _set_label(self, label)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.from_id, self.to_id)

    def key(self) -> tuple[str, ...]:
        """What makes two removals the same request (duplicates are sent once)."""
        if self.type_id is None:
            return (self.from_id, self.to_id)
        return (self.from_id, self.to_id, str(self.category), str(self.type_id))

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {"row": self.row, "from_id": self.from_id, "to_id": self.to_id}
        if self.type_id is not None:
            data.update(association_category=self.category, association_type_id=self.type_id)
        if self.label is not None:
            data["label"] = self.label
        return data


_set_row, _set_from, _set_to, _set_category, _set_type, _set_label = (
    Removal.__dict__[name].__set__ for name in ("row", "from_id", "to_id", "category", "type_id", "label")
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that cannot be sent; ``native_field`` is the field's place in a HubSpot native input
    (``to[1].id``), when the row is one, for the hook's errors (``field`` names our field there)."""

    row: int
    field: str
    reason: str
    value: Any = None
    native_field: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "value": _printable(self.value)}

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


def _printable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)[:200]


def _not_plain(raw: Any) -> None:
    """No row of a label removal or a create is a plain pair (``RowParser.plain_ids``)."""
    return None


def _record_id(value: Any) -> str | None:
    if type(value) is int:  # the common case first (a bool is not one)
        return str(value) if 0 < value <= MAX_RECORD_ID else None
    if isinstance(value, str):
        value = value.strip()
    elif isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        value = int(value)  # numeric SQL columns can arrive as floats (exact up to 2**53)
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # NUMERIC/DECIMAL columns
    return str(value) if is_record_id(value) else None


class RowParser:
    """Parses rows of one operator run. ``column_map`` maps our field names to the row's keys."""

    def __init__(self, kind: Kind, column_map: Mapping[str, str] | None = None) -> None:
        kind = Kind(kind)  # a plain "archive", "labels" or "create" too; anything else raises ValueError
        unknown = set(column_map or {}) - set(FIELDS)
        if unknown:
            raise ValueError(
                f"column_map keys must be among {', '.join(FIELDS)}; got {', '.join(sorted(unknown))}"
            )
        for name, column in (column_map or {}).items():
            if not isinstance(column, str) or not column:
                raise ValueError(f"column_map[{name!r}] must be a column name, got {column!r}")
        self.kind = kind
        self.column_map = dict(column_map or {})
        self._keys = {name: self.column_map.get(name, name) for name in FIELDS}
        needed = ("from_id", "to_id") if kind == Kind.ARCHIVE else FIELDS
        self._needed = tuple((name, self._keys[name]) for name in needed)
        # The keys of a dict row of one pair, read without building the row's fields (archive only).
        self._pair_keys = (self._keys["from_id"], self._keys["to_id"]) if kind == Kind.ARCHIVE else None
        # Rows of one plain pair of int ids take ``plain_ids``: no field is built for them (archive only).
        self.plain_ids = self._plain_ids if kind == Kind.ARCHIVE else _not_plain
        # Two fields read from one column would send ids nobody paired (a company id as a contact id).
        by_column: dict[str, list[str]] = {}
        for name, column in self._needed:
            by_column.setdefault(column, []).append(name)
        shared = {column: names for column, names in by_column.items() if len(names) > 1}
        if shared:
            column, names = next(iter(shared.items()))
            raise ValueError(
                f"column_map reads {' and '.join(names)} from the same column {column!r}; each field needs "
                "its own column"
            )

    def looked_up_keys(self) -> tuple[str, ...]:
        """The keys read from a dict row: ``column_map``'s values, else our field names."""
        return tuple(key for _, key in self._needed)

    def _plain_ids(self, raw: Any) -> tuple[int, int] | None:
        """(from id, to id) of an archive row that is a dict, tuple or list holding one pair of ints
        that are record ids; None for any other row (``parse`` then tells what it is).

        The one fast path of the run's hot loop: it accepts exactly the rows ``parse`` turns into one
        plain removal of two int ids, and reads them as ``parse`` would (tests hold the two to it).
        """
        shape = type(raw)
        if shape is dict:
            from_key, to_key = self._pair_keys  # type: ignore[misc]
            if from_key not in raw or to_key not in raw:
                return None
            from_id, to_id = raw[from_key], raw[to_key]
        elif (shape is tuple or shape is list) and len(raw) == 2:
            from_id, to_id = raw
        else:
            return None
        if (
            type(from_id) is int
            and type(to_id) is int
            and 0 < from_id <= MAX_RECORD_ID
            and 0 < to_id <= MAX_RECORD_ID
        ):
            return from_id, to_id
        return None

    def parse(self, raw: Any, row: int) -> list[Removal] | Rejection:
        ids = self.plain_ids(raw)
        if ids is not None:
            return [Removal(row, str(ids[0]), str(ids[1]))]
        shape = type(raw)  # exact types first: the abstract checks cost more than the parse
        if shape is dict or isinstance(raw, Mapping):
            pair = self._pair_keys
            if pair is not None and pair[0] in raw and pair[1] in raw:
                return self._build(row, raw[pair[0]], raw[pair[1]])
            if "from" in raw and "to" in raw and self._mapped("from_id") not in raw:
                return self._native(raw, row)
            return self._mapping(raw, row)
        if shape in (tuple, list) or (isinstance(raw, Sequence) and not isinstance(raw, str | bytes)):
            return self._sequence(raw, row)
        return Rejection(row, "row", "must be a dict, a tuple/list, or a HubSpot input object", raw)

    def _mapped(self, name: str) -> str:
        return self._keys[name]

    def _mapping(self, raw: Mapping[str, Any], row: int) -> list[Removal] | Rejection:
        values = {name: raw.get(key) for name, key in self._needed}
        for name in ("from_id", "to_id"):
            if self._keys[name] not in raw:
                expected = self._mapped(name)
                hint = (
                    ""
                    if name in self.column_map
                    else f" (map another column with column_map={{'{name}': ...}})"
                )
                return Rejection(
                    row, expected, f"missing; the row has {', '.join(map(str, raw)) or 'no keys'}{hint}"
                )
        return self._build(row, **values)

    def _sequence(self, raw: Sequence[Any], row: int) -> list[Removal] | Rejection:
        if self.kind == Kind.ARCHIVE:
            if len(raw) != 2:
                return Rejection(
                    row, "row", f"a tuple row needs (from_id, to_id), got {len(raw)} values", raw
                )
            return self._build(row, from_id=raw[0], to_id=raw[1])
        if len(raw) not in (3, 4):
            return Rejection(
                row, "row", "a tuple row needs (from_id, to_id, type id or label[, category])", raw
            )
        third = raw[2]
        category = raw[3] if len(raw) == 4 else None
        if isinstance(third, int) or (isinstance(third, str) and third.strip().isdigit()):
            return self._build(row, raw[0], raw[1], association_type_id=third, association_category=category)
        return self._build(row, raw[0], raw[1], association_category=category, label=third)

    def _native(self, raw: Mapping[str, Any], row: int) -> list[Removal] | Rejection:
        source = raw.get("from")
        if not isinstance(source, Mapping) or "id" not in source:
            return Rejection(row, "from.id", 'missing: a HubSpot input needs "from": {"id": ...}', source)
        target = raw["to"]
        if self.kind == Kind.ARCHIVE:
            if not isinstance(target, list) or not target:
                return Rejection(row, "to", 'must be a non-empty list of {"id": ...}', target)
            removals: list[Removal] = []
            for position, item in enumerate(target):
                if not isinstance(item, Mapping) or "id" not in item:
                    return Rejection(row, f"to[{position}].id", 'missing: expected {"id": ...}', item)
                built = self._build(row, source["id"], item["id"])
                if isinstance(built, Rejection):
                    return self._placed(built, {"from_id": "from.id", "to_id": f"to[{position}].id"})
                removals += built
            return removals
        if not isinstance(target, Mapping) or "id" not in target:
            return Rejection(row, "to.id", 'missing: a label input needs "to": {"id": ...}', target)
        types = raw.get("types")
        if not isinstance(types, list) or not types:
            return Rejection(row, "types", "must be a non-empty list of association types", types)
        removals = []
        for position, spec in enumerate(types):
            if not isinstance(spec, Mapping):
                return Rejection(row, "types", "each type must be an object", spec)
            built = self._build(
                row,
                source["id"],
                target["id"],
                association_type_id=spec.get("associationTypeId"),
                association_category=spec.get("associationCategory"),
            )
            if isinstance(built, Rejection):
                return self._placed(
                    built,
                    {
                        "from_id": "from.id",
                        "to_id": "to.id",
                        "association_type_id": f"types[{position}].associationTypeId",
                        "association_category": f"types[{position}].associationCategory",
                    },
                )
            removals += built
        return removals

    def _placed(self, rejection: Rejection, places: Mapping[str, str]) -> Rejection:
        """``rejection`` with its field's place in the native input (``places``: our field -> place)."""
        name = next((name for name, key in self._keys.items() if key == rejection.field), None)
        return replace(rejection, native_field=places.get(name or ""))

    def _build(
        self,
        row: int,
        from_id: Any,
        to_id: Any,
        association_type_id: Any = None,
        association_category: Any = None,
        label: Any = None,
    ) -> list[Removal] | Rejection:
        checked_from = _record_id(from_id)
        if checked_from is None:
            return Rejection(
                row, self._mapped("from_id"), "not a HubSpot record id (a positive whole number)", from_id
            )
        checked_to = _record_id(to_id)
        if checked_to is None:
            return Rejection(
                row, self._mapped("to_id"), "not a HubSpot record id (a positive whole number)", to_id
            )
        if self.kind == Kind.ARCHIVE:
            return [Removal(row, checked_from, checked_to)]
        category = (
            (association_category.strip().upper() or None) if isinstance(association_category, str) else None
        )
        blank = association_category is None or (
            isinstance(association_category, str) and not association_category.strip()
        )  # an empty cell means "not given": the category comes from the label definitions
        if not blank and category not in CATEGORIES:
            return Rejection(
                row,
                self._mapped("association_category"),
                f"must be one of {', '.join(CATEGORIES)}",
                association_category,
            )
        if label is not None and not isinstance(label, str):
            return Rejection(row, self._mapped("label"), "must be a label name (text)", label)
        name = label.strip() if label and label.strip() else None
        if association_type_id not in (None, ""):
            type_id = association_type_id
            if isinstance(type_id, str) and type_id.strip().isascii() and type_id.strip().isdigit():
                type_id = int(type_id)
            if isinstance(type_id, float) and type_id.is_integer():
                type_id = int(type_id)
            if isinstance(type_id, bool) or not isinstance(type_id, int) or not 0 < type_id < 2**31:
                return Rejection(
                    row,
                    self._mapped("association_type_id"),
                    "must be a positive 32-bit whole number",
                    association_type_id,
                )
            # a label name given too is carried, so the resolver can check that both agree
            return [Removal(row, checked_from, checked_to, category, type_id, name)]
        if name is not None:
            return [Removal(row, checked_from, checked_to, category, None, name)]
        needs = "an association to create" if self.kind is Kind.CREATE else "a label removal"
        return Rejection(
            row,
            self._mapped("association_type_id"),
            f"{needs} needs association_type_id or a label name",
            association_type_id,
        )
