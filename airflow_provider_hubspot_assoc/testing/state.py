"""The simulator's account: records, association label definitions, and associations.

Pure, thread-safe state with HubSpot's association semantics (no HTTP here):

* associations are bidirectional: a pair stored ``A -> B`` is also ``B -> A``, each direction with
  its own type ids (a label's inverse, e.g. contact->company 279 is company->contact 280);
* every association carries the unlabeled type of its direction; labels are added on top of it;
* archiving a pair removes every type in both directions;
* archiving a label removes that label (and its inverse); archiving the *unlabeled* type removes
  the whole association, all labels included (HubSpot: "deleting an unlabeled association will also
  delete all labeled associations between those two objects").
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from airflow_provider_hubspot_assoc.kinds import CATEGORIES
from airflow_provider_hubspot_assoc.object_types import canonical_name, object_type_id

TypeKey = tuple[str, int]  # (associationCategory, associationTypeId)
EdgeKey = tuple[str, str, str, str]  # (from type id, from id, to type id, to id)


@dataclass(frozen=True)
class LabelDefinition:
    """One association type of one direction, as ``GET .../labels`` lists it."""

    from_type: str
    to_type: str
    category: str
    type_id: int
    label: str | None
    inverse_type_id: int

    def as_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "typeId": self.type_id,
            "label": self.label,
            "fromObjectTypeId": self.from_type,
            "toObjectTypeId": self.to_type,
        }


# HUBSPOT_DEFINED types from HubSpot's association type table:
# (from, to, type id, label, inverse type id). Label None is the unlabeled (default) type.
DEFAULT_DEFINITIONS: tuple[tuple[str, str, int, str | None, int], ...] = (
    ("contacts", "companies", 279, None, 280),
    ("contacts", "companies", 1, "Primary", 2),
    ("deals", "contacts", 3, None, 4),
    ("deals", "companies", 341, None, 342),
    ("deals", "companies", 5, "Primary", 6),
    ("tickets", "contacts", 16, None, 15),
    ("tickets", "companies", 339, None, 340),
    ("tickets", "companies", 26, "Primary", 25),
    ("deals", "tickets", 27, None, 28),
    ("deals", "line_items", 19, None, 20),
    ("companies", "companies", 13, "Parent", 14),
    ("contacts", "notes", 201, None, 202),
    ("companies", "notes", 189, None, 190),
    ("deals", "notes", 213, None, 214),
    ("tickets", "notes", 227, None, 228),
    ("deals", "quotes", 63, None, 64),
    ("quotes", "line_items", 67, None, 68),
)

INVERSE_LABELS = {"Primary": "Primary", "Parent": "Child"}
SEEDS = ("empty", "demo")
# ``preload`` ids start here, past the demo seed's, so both fit in one account.
PRELOAD_FIRST_CONTACT, PRELOAD_FIRST_COMPANY = 100_001, 500_001


class AccountState:
    """Records and associations of one simulated HubSpot account. All methods are thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, set[str]] = {}
        self._definitions: dict[tuple[str, str], list[LabelDefinition]] = {}
        self._edges: dict[EdgeKey, set[TypeKey]] = {}
        # The to-ids of each record's edges towards one object type: a batch read of 1,000 ids must
        # not scan every edge of a large account once per id.
        self._targets: dict[tuple[str, str, str], set[str]] = {}
        self._next_user_type_id = 1000
        for from_name, to_name, type_id, label, inverse_id in DEFAULT_DEFINITIONS:
            inverse_label = INVERSE_LABELS.get(label, label) if label else None
            self._add_definition_pair(
                object_type_id(from_name),
                object_type_id(to_name),
                "HUBSPOT_DEFINED",
                type_id,
                label,
                inverse_id,
                inverse_label,
            )

    # ----------------------------------------------------------------- definitions
    def _add_definition_pair(
        self,
        from_type: str,
        to_type: str,
        category: str,
        type_id: int,
        label: str | None,
        inverse_id: int,
        inverse_label: str | None,
    ) -> None:
        forward = LabelDefinition(from_type, to_type, category, type_id, label, inverse_id)
        backward = LabelDefinition(to_type, from_type, category, inverse_id, inverse_label, type_id)
        self._definitions.setdefault((from_type, to_type), []).append(forward)
        if (from_type, type_id) != (to_type, inverse_id):
            self._definitions.setdefault((to_type, from_type), []).append(backward)

    def _ensure_unlabeled(self, from_type: str, to_type: str) -> LabelDefinition:
        for definition in self._definitions.get((from_type, to_type), []):
            if definition.label is None:
                return definition
        type_id = self._allocate_type_id()
        inverse_id = type_id if from_type == to_type else self._allocate_type_id()
        self._add_definition_pair(from_type, to_type, "HUBSPOT_DEFINED", type_id, None, inverse_id, None)
        return self._ensure_unlabeled(from_type, to_type)

    def _allocate_type_id(self) -> int:
        self._next_user_type_id += 1
        return self._next_user_type_id

    def define_label(
        self,
        from_type: str,
        to_type: str,
        label: str,
        *,
        inverse_label: str | None = None,
        category: str = "USER_DEFINED",
        type_id: int | None = None,
    ) -> LabelDefinition:
        """Create a custom label (paired when ``inverse_label`` is given) and return its definition."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown association category {category!r}")
        from_id, to_id = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            self._ensure_unlabeled(from_id, to_id)
            forward_id = type_id if type_id is not None else self._allocate_type_id()
            inverse_id = self._allocate_type_id()
            self._add_definition_pair(
                from_id, to_id, category, forward_id, label, inverse_id, inverse_label or label
            )
            return self.definition(from_id, to_id, category, forward_id)  # type: ignore[return-value]

    def delete_label(self, from_type: str, to_type: str, type_id: int) -> LabelDefinition:
        """Delete a custom label's definition (both directions), and the label from every pair it is on.

        ``KeyError`` when the direction has no label of that type id; ``ValueError`` for a
        HUBSPOT_DEFINED type (HubSpot's built-in types cannot be deleted).
        """
        from_id, to_id = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            found = [d for d in self.definitions(from_id, to_id) if d.type_id == type_id and d.label]
            if not found:
                raise KeyError(f"no label of association type {type_id} from {from_id} to {to_id}")
            forward = found[0]
            if forward.category != "USER_DEFINED":
                raise ValueError(f"association type {type_id} is {forward.category}: it cannot be deleted")
            backward = self.definition(to_id, from_id, forward.category, forward.inverse_type_id)
            for (f_type, t_type), gone in ((from_id, to_id), forward), ((to_id, from_id), backward):
                if gone is None:
                    continue
                self._definitions[(f_type, t_type)].remove(gone)
                for edge, types in self._edges.items():
                    if edge[0] == f_type and edge[2] == t_type:
                        types.discard((gone.category, gone.type_id))
            return forward

    def definitions(self, from_type: str, to_type: str) -> list[LabelDefinition]:
        """The association types of one direction (the unlabeled one is created on first use)."""
        from_id, to_id = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            self._ensure_unlabeled(from_id, to_id)
            return list(self._definitions[(from_id, to_id)])

    def unlabeled_key(self, from_type: str, to_type: str) -> TypeKey:
        """(category, type id) of the direction's unlabeled type."""
        with self._lock:
            found = self._ensure_unlabeled(object_type_id(from_type), object_type_id(to_type))
        return found.category, found.type_id

    def definition(self, from_type: str, to_type: str, category: str, type_id: int) -> LabelDefinition | None:
        for definition in self.definitions(from_type, to_type):
            if definition.category == category and definition.type_id == type_id:
                return definition
        return None

    def label_name(self, from_type: str, to_type: str, key: TypeKey) -> str | None:
        definition = self.definition(from_type, to_type, *key)
        return definition.label if definition else None

    def transaction(self) -> threading.RLock:
        """Hold this while applying one request, so readers never see half a batch."""
        return self._lock

    # --------------------------------------------------------------------- records
    def add_records(self, object_type: str, ids: Iterable[str | int]) -> None:
        type_id = object_type_id(object_type)
        with self._lock:
            self._records.setdefault(type_id, set()).update(str(i) for i in ids)

    def has_record(self, object_type: str, record_id: str) -> bool:
        with self._lock:
            return record_id in self._records.get(object_type_id(object_type), set())

    def records(self, object_type: str) -> set[str]:
        with self._lock:
            return set(self._records.get(object_type_id(object_type), set()))

    def custom_object_types(self) -> set[str]:
        """Custom object types the account holds records of (a record implies its object type)."""
        with self._lock:
            return {t for t, ids in self._records.items() if ids and canonical_name(t) is None}

    # ---------------------------------------------------------------- associations
    def associate(
        self,
        from_type: str,
        from_id: str | int,
        to_type: str,
        to_id: str | int,
        labels: Iterable[TypeKey | str] = (),
    ) -> None:
        """Create (or add labels to) an association; records are created when missing.

        ``labels`` holds ``(category, type id)`` keys or label names of the ``from -> to`` direction.
        """
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        f_id, t_id = str(from_id), str(to_id)
        with self._lock:
            self._records.setdefault(f_type, set()).add(f_id)
            self._records.setdefault(t_type, set()).add(t_id)
            unlabeled = self._ensure_unlabeled(f_type, t_type)
            chosen = [unlabeled] + [self._resolve(f_type, t_type, item) for item in labels]
            forward = self._edges.setdefault((f_type, f_id, t_type, t_id), set())
            backward = self._edges.setdefault((t_type, t_id, f_type, f_id), set())
            self._targets.setdefault((f_type, f_id, t_type), set()).add(t_id)
            self._targets.setdefault((t_type, t_id, f_type), set()).add(f_id)
            for definition in chosen:
                forward.add((definition.category, definition.type_id))
                backward.add((definition.category, definition.inverse_type_id))

    def _resolve(self, from_type: str, to_type: str, item: TypeKey | str) -> LabelDefinition:
        for definition in self._definitions.get((from_type, to_type), []):
            if isinstance(item, str) and definition.label == item:
                return definition
            if (definition.category, definition.type_id) == item:
                return definition
        raise KeyError(f"no association type {item!r} from {from_type} to {to_type}")

    def archive_pair(self, from_type: str, from_id: str, to_type: str, to_id: str) -> bool:
        """Remove every association type between two records, both directions. True if any existed."""
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            forward = self._edges.pop((f_type, from_id, t_type, to_id), None)
            backward = self._edges.pop((t_type, to_id, f_type, from_id), None)
            self._targets.get((f_type, from_id, t_type), set()).discard(to_id)
            self._targets.get((t_type, to_id, f_type), set()).discard(from_id)
            return bool(forward or backward)

    def archive_label(self, from_type: str, from_id: str, to_type: str, to_id: str, key: TypeKey) -> bool:
        """Remove one association type of a pair. The unlabeled type removes the whole pair."""
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            definition = self.definition(f_type, t_type, *key)
            if definition is None:
                raise KeyError(f"no association type {key!r} from {f_type} to {t_type}")
            if definition.label is None:
                return self.archive_pair(f_type, from_id, t_type, to_id)
            forward = self._edges.get((f_type, from_id, t_type, to_id))
            if not forward or key not in forward:
                return False
            forward.discard(key)
            backward = self._edges.get((t_type, to_id, f_type, from_id))
            if backward is not None:
                backward.discard((definition.category, definition.inverse_type_id))
            return True

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, set[TypeKey]]]:
        """``(to id, types)`` of every association of one record towards one object type."""
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            edges = (
                (to_id, self._edges.get((f_type, from_id, t_type, to_id)))
                for to_id in self._targets.get((f_type, from_id, t_type), ())
            )
            found = [(to_id, set(types)) for to_id, types in edges if types]
        return sorted(found, key=lambda item: (len(item[0]), item[0]))

    def pairs(self, from_type: str, to_type: str) -> set[tuple[str, str]]:
        """Every ``(from id, to id)`` associated in the direction ``from_type -> to_type``."""
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            return {
                (key[1], key[3])
                for key, types in self._edges.items()
                if key[0] == f_type and key[2] == t_type and types
            }

    def typed_pairs(self, from_type: str, to_type: str) -> set[tuple[str, str, str, int]]:
        """Every ``(from id, to id, category, type id)`` of the direction ``from_type -> to_type``."""
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            return {
                (key[1], key[3], category, type_id)
                for key, types in self._edges.items()
                if key[0] == f_type and key[2] == t_type
                for category, type_id in types
            }

    def types_of(self, from_type: str, from_id: str, to_type: str, to_id: str) -> set[TypeKey]:
        f_type, t_type = object_type_id(from_type), object_type_id(to_type)
        with self._lock:
            return set(self._edges.get((f_type, str(from_id), t_type, str(to_id)), set()))

    def count(self, from_type: str | None = None, to_type: str | None = None) -> int:
        """Associations in one direction, or (no arguments) every association pair counted once."""
        if from_type is not None and to_type is not None:
            return len(self.pairs(from_type, to_type))
        with self._lock:
            return sum(1 for key, types in self._edges.items() if types and key[:2] <= key[2:])

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._edges.clear()
            self._targets.clear()

    # ------------------------------------------------------------------------ seeds
    def seed(self, name: str) -> None:
        """Fill the account with a named, deterministic data set.

        ``empty``: label definitions only. ``demo``: 200 contacts, 40 companies, 60 deals and 20
        tickets, with unlabeled, Primary and "Billing contact" associations.
        """
        if name not in SEEDS:
            raise ValueError(f"unknown seed {name!r}: use one of {', '.join(SEEDS)}")
        if name == "empty":
            return
        rng = random.Random(name)
        contacts = [str(1001 + i) for i in range(200)]
        companies = [str(5001 + i) for i in range(40)]
        deals = [str(9001 + i) for i in range(60)]
        tickets = [str(13001 + i) for i in range(20)]
        self.add_records("contacts", contacts)
        self.add_records("companies", companies)
        self.add_records("deals", deals)
        self.add_records("tickets", tickets)
        billing = self._billing_label()
        for contact in contacts:
            first, *others = rng.sample(companies, rng.choice((1, 1, 2)))
            labels: list[TypeKey | str] = ["Primary"]
            if rng.random() < 0.25:
                labels.append((billing.category, billing.type_id))
            self.associate("contacts", contact, "companies", first, labels)
            for company in others:
                self.associate("contacts", contact, "companies", company)
        for deal in deals:
            self.associate("deals", deal, "companies", rng.choice(companies), ["Primary"])
            for contact in rng.sample(contacts, 2):
                self.associate("deals", deal, "contacts", contact)
        for ticket in tickets:
            self.associate("tickets", ticket, "contacts", rng.choice(contacts))

    def _billing_label(self) -> LabelDefinition:
        """The demo's custom contact->company label "Billing contact" (type id 28), defined once."""
        for definition in self.definitions("contacts", "companies"):
            if definition.label == "Billing contact":
                return definition
        return self.define_label(
            "contacts", "companies", "Billing contact", inverse_label="Billing company", type_id=28
        )

    def preload(self, count: int, random_seed: int = 0) -> dict[str, int]:
        """Add ``count`` random contact->company associations; the same seed gives the same ones.

        Contacts from 100001 get one to three companies each out of ``count // 5`` (at least one) from
        500001; about a third carry "Primary" and a tenth "Billing contact". Returns the counts.
        """
        if count <= 0:
            return {}
        rng = random.Random(random_seed)
        companies = [str(PRELOAD_FIRST_COMPANY + i) for i in range(max(count // 5, 1))]
        billing = self._billing_label()
        made = {"associations": 0, "contacts": 0, "companies": len(companies), "primary": 0, "billing": 0}
        contact = PRELOAD_FIRST_CONTACT
        while made["associations"] < count:
            wanted = min(rng.choice((1, 1, 2, 3)), count - made["associations"], len(companies))
            for company in rng.sample(companies, wanted):
                labels: list[TypeKey | str] = []
                if rng.random() < 0.33:
                    labels.append("Primary")
                if rng.random() < 0.1:
                    labels.append((billing.category, billing.type_id))
                self.associate("contacts", contact, "companies", company, labels)
                made["primary"] += "Primary" in labels
                made["billing"] += len(labels) - ("Primary" in labels)
            made["associations"] += wanted
            made["contacts"] += 1
            contact += 1
        return made
