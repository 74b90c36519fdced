"""Label names and bare type ids resolved against HubSpot's label definitions of one direction.

A removal given by label name, or by type id without its category, becomes a removal with both, or a
rejection naming the row and the field. No Airflow import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal


def loose_name(name: str) -> str:
    """A label name compared without case and without caring about runs of whitespace."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class Label:
    """One labeled association type of one direction, from HubSpot's label definitions."""

    name: str
    category: str
    type_id: int

    def __str__(self) -> str:
        return f"{self.name!r} ({self.category} {self.type_id})"


class LabelResolver:
    """Resolves label names, and categories of bare type ids, from HubSpot's label definitions.

    A name matches exactly, or else loosely (``loose_name``) when exactly one label fits: labels
    such as "VIP" and "vip" can both exist, and removing the wrong one cannot be undone.
    """

    def __init__(self, definitions: list[dict[str, Any]], from_type: str, to_type: str) -> None:
        self.from_type, self.to_type = from_type, to_type
        self.labels: list[Label] = []
        self.by_id: dict[int, set[str]] = {}
        self.names: dict[tuple[str, int], str] = {}  # the label of each labeled type
        for item in definitions:
            category, type_id = str(item.get("category")), int(item.get("typeId", 0))
            self.by_id.setdefault(type_id, set()).add(category)
            if item.get("label"):
                self.labels.append(Label(str(item["label"]), category, type_id))
                self.names[(category, type_id)] = str(item["label"])
        self.labels.sort(key=lambda label: (label.name, label.category, label.type_id))
        self.by_name: dict[str, list[Label]] = {}
        self.by_loose_name: dict[str, list[Label]] = {}
        for label in self.labels:
            self.by_name.setdefault(label.name, []).append(label)
            self.by_loose_name.setdefault(loose_name(label.name), []).append(label)

    def resolve(self, removal: Removal) -> Removal | Rejection:
        if removal.label is not None:
            found = self._by_name(removal)
            if isinstance(found, Rejection):
                return found
            if removal.type_id is not None and removal.type_id != found.type_id:
                return Rejection(
                    removal.row,
                    "label",
                    f"label {removal.label!r} is {found}, but association_type_id is {removal.type_id}"
                    f"{self._named(removal.type_id)}; give one of them, or both in agreement",
                    removal.label,
                )
            return Removal(
                removal.row, removal.from_id, removal.to_id, found.category, found.type_id, removal.label
            )
        assert removal.type_id is not None
        categories = self.by_id.get(removal.type_id, set())
        if not categories:
            return Rejection(
                removal.row,
                "association_type_id",
                f"no association type {removal.type_id} from {self.from_type} to {self.to_type}",
                removal.type_id,
            )
        if removal.category is None:
            if len(categories) > 1:
                return Rejection(
                    removal.row,
                    "association_category",
                    f"type {removal.type_id} exists in several categories; say which",
                    None,
                )
            category = next(iter(categories))
        elif removal.category not in categories:
            return Rejection(
                removal.row,
                "association_category",
                f"type {removal.type_id} is {', '.join(sorted(categories))}, not {removal.category}",
                removal.category,
            )
        else:
            category = removal.category
        # Named as HubSpot names it: a create's answer proves a label only by its name.
        label = self.names.get((category, removal.type_id))
        return Removal(removal.row, removal.from_id, removal.to_id, category, removal.type_id, label)

    def _by_name(self, removal: Removal) -> Label | Rejection:
        """The one label a row's name (and category, if given) designates, or why there is none."""
        name = str(removal.label)
        exact = name in self.by_name  # an exact match wins over labels that differ in case or spacing
        candidates = self.by_name[name] if exact else self.by_loose_name.get(loose_name(name), [])
        if not candidates:
            known = ", ".join(repr(label.name) for label in self.labels) or "none"
            return Rejection(
                removal.row,
                "label",
                f"no label named {name!r} from {self.from_type} to {self.to_type} (known: {known})",
                name,
            )
        if removal.category is not None:
            in_category = [label for label in candidates if label.category == removal.category]
            if not in_category:
                return Rejection(
                    removal.row,
                    "association_category",
                    f"label {name!r} is {', '.join(str(label) for label in candidates)}, "
                    f"not {removal.category}",
                    removal.category,
                )
            candidates = in_category
        if len(candidates) > 1:
            hint = "add association_category" if exact else "use the exact name"
            if removal.type_id is None:
                hint += " or association_type_id"
            return Rejection(
                removal.row,
                "label",
                f"label {name!r} matches {len(candidates)} labels: "
                f"{', '.join(str(label) for label in candidates)}; {hint}",
                name,
            )
        return candidates[0]

    def _named(self, type_id: int) -> str:
        names = [str(label) for label in self.labels if label.type_id == type_id]
        return f" ({', '.join(names)})" if names else ""


def needs_definitions(removal: Removal) -> bool:
    """A label removal given by name, or by type id without category, needs the definitions."""
    return removal.label is not None or removal.type_id is None or removal.category is None
