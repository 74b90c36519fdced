"""The association endpoints, carried out on the account: archive, labels archive, create, batch read,
labels, and deleting a label.

Each handler takes one routed, authorised ``Call`` and returns ``(status, payload)``, or raises
``ApiError``. Request bodies are read by ``bodies.py``; the answers follow HubSpot's documented
shapes (https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide), and where
HubSpot's behaviour is undocumented the setting named in ``SimulatorConfig`` decides.

Adding an endpoint: its line in ``routing.ENDPOINTS``, a method here taking a ``Call``, and its entry
in ``Endpoints.handler``; auth, limits, faults and recording come with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import pendulum

from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.object_types import (
    InvalidObjectTypeError,
    canonical_name,
    object_type_id,
    singular_name,
    validate_object_type,
)
from airflow_provider_hubspot_assoc.testing.server import bodies
from airflow_provider_hubspot_assoc.testing.server import faults as hostile
from airflow_provider_hubspot_assoc.testing.server.auth import PORTAL_ID
from airflow_provider_hubspot_assoc.testing.server.errors import (
    Answer,
    ApiError,
    batch_response,
    error_body,
    error_type_name,
    invalid_object_ids_context,
    standard_error,
    validation_error,
)
from airflow_provider_hubspot_assoc.testing.server.stats import RequestRecord
from airflow_provider_hubspot_assoc.testing.state import TypeKey

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc.testing.server.simulator import HubSpotSimulator

# One planned archive operation: (from id, to id, the type to remove or None for the whole pair).
Planned = tuple[str, str, TypeKey | None]
# One input of labels archive or create: (from id, to id, its association types).
Typed = tuple[str, str, list[TypeKey]]
# A record an input names that the account lacks: (object type, record id).
Unknown = tuple[str, str]
# The create specs document 201, and 200 on 2026-09; the 2026-09-beta base (no published spec) is
# taken to answer like 2026-09.
CREATED_WITH_200 = ("2026-09", "2026-09-beta")


@dataclass(frozen=True)
class Call:
    """One routed, authorised request to an association endpoint."""

    from_type: str  # type id (``0-1``, ``2-123``) or fully qualified name
    to_type: str
    body: bytes
    version: str  # "v4" or a dated base's version ("2026-03")
    record: RequestRecord
    type_id: int | None = None  # the path's association type id (``delete_label``)

    @property
    def dated(self) -> bool:
        return self.version != "v4"


class Endpoints:
    """The association endpoints of one simulator.

    :param sim: the simulator whose account, settings and statistics the endpoints use.
    """

    def __init__(self, sim: HubSpotSimulator) -> None:
        self.sim = sim

    def handler(self, name: str) -> Callable[[Call], Answer]:
        """The handler of the endpoint ``name`` (``routing.ENDPOINTS``)."""
        handlers: dict[str, Callable[[Call], Answer]] = {
            "archive": self.archive,
            "archive_labels": self.archive_labels,
            "read": self.read,
            "create": self.create,
            "labels": self.labels,
            "delete_label": self.delete_label,
        }
        return handlers[name]

    def object_types(self, from_raw: str, to_raw: str) -> tuple[str, str]:
        """The path's object types as type ids, or HubSpot's "Unable to infer object type" error.

        A standard object type always exists; a custom one only if the account has it (configured
        in ``custom_object_types``, or holding records).
        """
        found = []
        custom: set[str] | None = None
        for raw in (from_raw, to_raw):
            try:
                type_id = object_type_id(validate_object_type(raw))
                if canonical_name(type_id) is None:
                    custom = custom if custom is not None else self._custom_object_types()
                    if type_id not in custom:
                        raise InvalidObjectTypeError(raw)
                found.append(type_id)
            except InvalidObjectTypeError:
                status = self.sim.config.unknown_object_type_status
                category = "VALIDATION_ERROR" if status == 400 else "OBJECT_NOT_FOUND"
                raise ApiError(
                    status, error_body(f"Unable to infer object type from: {raw}", category)
                ) from None
        return found[0], found[1]

    def _custom_object_types(self) -> set[str]:
        configured = {object_type_id(t) for t in self.sim.config.custom_object_types}
        return configured | self.sim.state.custom_object_types()

    # ------------------------------------------------------------------------ archive
    def archive(self, call: Call) -> Answer:
        """``batch/archive``: every association type of each (from, to) pair, both directions."""
        started = iso_timestamp()
        config = self.sim.config
        items = bodies.inputs(call.body, config.max_inputs)
        planned: list[Planned] = []
        for index, item in enumerate(items):
            bodies.required(item, ["from", "to"], f"inputs[{index}]")
            from_id = bodies.object_id(item["from"], f"inputs[{index}].from")
            targets = bodies.array(item["to"], f"inputs[{index}].to")
            for position, target in enumerate(targets):
                planned.append((from_id, bodies.object_id(target, f"inputs[{index}].to[{position}]"), None))
        if config.max_pairs is not None and len(planned) > config.max_pairs:
            raise bodies.too_many(config.max_pairs)
        call.record.inputs, call.record.pairs = len(items), len(planned)
        return self._apply(call, planned, started)

    def archive_labels(self, call: Call) -> Answer:
        """``batch/labels/archive``: one association type of each pair (the unlabeled one: the pair)."""
        started = iso_timestamp()
        typed = self._typed_inputs(call)
        planned: list[Planned] = [(f, t, key) for f, t, keys in typed for key in keys]
        call.record.inputs, call.record.pairs = len(typed), len(planned)
        return self._apply(call, planned, started)

    def _typed_inputs(self, call: Call) -> list[Typed]:
        """The ``{from, to, types}`` inputs of labels archive and create, each type defined for the
        path's direction: an undefined one (wrong id, category or direction) refuses the request."""
        state = self.sim.state
        typed: list[Typed] = []
        for index, item in enumerate(bodies.inputs(call.body, self.sim.config.max_inputs)):
            bodies.required(item, ["from", "to", "types"], f"inputs[{index}]")
            from_id = bodies.object_id(item["from"], f"inputs[{index}].from")
            to_id = bodies.object_id(item["to"], f"inputs[{index}].to")
            keys: list[TypeKey] = []
            for spec in bodies.array(item["types"], f"inputs[{index}].types"):
                category, type_id = bodies.association_type(spec, f"inputs[{index}].types")
                if state.definition(call.from_type, call.to_type, category, type_id) is None:
                    raise validation_error(
                        f"{category} association type {type_id} is not defined "
                        f"from {call.from_type} to {call.to_type}",
                        context={"associationTypeId": [str(type_id)], "associationCategory": [category]},
                    )
                keys.append((category, type_id))
            typed.append((from_id, to_id, keys))
        if self.sim.config.max_pairs is not None and len(typed) > self.sim.config.max_pairs:
            raise bodies.too_many(self.sim.config.max_pairs)  # an input here is one pair
        return typed

    def _unknown_records(self, call: Call, pairs: list[tuple[str, str]]) -> list[list[Unknown]]:
        """Each pair's records the account lacks, once the refusals naming no input are made: a
        poison id (``FaultConfig.poison_ids``), or any unknown record with ``unknown_record="reject"``."""
        poison = set(self.sim.config.faults.poison_ids)
        if poison and any(f in poison or t in poison for f, t in pairs):
            raise validation_error("One or more associations are invalid")
        state = self.sim.state
        found = [
            [
                (kind, i)
                for kind, i in ((call.from_type, f), (call.to_type, t))
                if not state.has_record(kind, i)
            ]
            for f, t in pairs
        ]
        every = [unknown for bad in found for unknown in bad]
        if every and self.sim.config.unknown_record == "reject":
            raise validation_error(
                "One or more associations are invalid", context=invalid_object_ids_context(every)
            )
        return found

    def _apply(self, call: Call, planned: list[Planned], started: str) -> Answer:
        """Carry out archive operations; collect per-input errors as configured."""
        sim, config, state = self.sim, self.sim.config, self.sim.state
        from_type, to_type = call.from_type, call.to_type
        with sim.lock:
            sim.stats.pair_sends.update((f, t) for f, t, _ in planned)
        unknown = self._unknown_records(call, [(f, t) for f, t, _ in planned])
        checked = [(f, t, key, bad) for (f, t, key), bad in zip(planned, unknown, strict=True)]
        errors: list[dict[str, Any]] = []
        reported_from: set[str] = set()
        gone_now: set[tuple[str, str]] = set()  # pairs this request removed entirely
        with state.transaction():
            for from_id, to_id, key, bad in checked:
                if bad and config.unknown_record == "error":
                    from_unknown = bad[0] == (from_type, from_id)
                    if from_unknown and key is None:
                        if from_id not in reported_from:
                            reported_from.add(from_id)
                            errors.append(_unknown_record_error(from_id, None, bad[:1]))
                    else:
                        errors.append(_unknown_record_error(from_id, to_id, bad))
                    continue
                had_pair = bool(state.types_of(from_type, from_id, to_type, to_id))
                if key is None:
                    existed = state.archive_pair(from_type, from_id, to_type, to_id)
                else:
                    existed = state.archive_label(from_type, from_id, to_type, to_id, key)
                if had_pair and not state.types_of(from_type, from_id, to_type, to_id):
                    gone_now.add((from_id, to_id))
                with sim.lock:
                    sim.stats.pairs_received += 1
                    if existed and key is None:
                        sim.stats.archived_pairs += 1
                    elif existed:
                        sim.stats.archived_labels += 1
                removed_earlier_in_request = (from_id, to_id) in gone_now and not existed
                if (
                    not existed
                    and not bad
                    and not removed_earlier_in_request
                    and config.missing_association == "error"
                ):
                    errors.append(_missing_association_error(from_type, from_id, to_type, to_id))
        status = config.dated_success_status if call.dated else config.v4_success_status
        if not errors and status == 204:
            return 204, None
        return batch_response(started, [], errors)

    # ------------------------------------------------------------------------- create
    def create(self, call: Call) -> Answer:
        """``batch/create``: each pair gets every type given (the unlabeled one comes with a label),
        in both directions; the answer names each pair created, with its labels.

        Creating what exists changes nothing and is answered like a new creation. An input naming a
        record the account lacks fails alone (207) unless ``unknown_record="reject"`` refuses the
        request; an input with no types creates nothing and gets no result.
        """
        started = iso_timestamp()
        sim, state = self.sim, self.sim.state
        from_type, to_type = call.from_type, call.to_type
        typed = self._typed_inputs(call)
        call.record.inputs, call.record.pairs = len(typed), sum(len(keys) for _, _, keys in typed)
        typed = [item for item in typed if item[2]]
        unknown = self._unknown_records(call, [(f, t) for f, t, _ in typed])
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with state.transaction():
            for (from_id, to_id, keys), bad in zip(typed, unknown, strict=True):
                if bad:
                    errors.append(_unknown_record_error(from_id, to_id, bad))
                    continue
                before = state.types_of(from_type, from_id, to_type, to_id)
                state.associate(from_type, from_id, to_type, to_id, keys)
                now = state.types_of(from_type, from_id, to_type, to_id)
                labels = {key: state.label_name(from_type, to_type, key) for key in sorted(now)}
                with sim.lock:
                    sim.stats.created_pairs += not before
                    sim.stats.created_labels += sum(labels[key] is not None for key in now - before)
                results.append(
                    {
                        "fromObjectTypeId": from_type,
                        "fromObjectId": from_id,
                        "toObjectTypeId": to_type,
                        "toObjectId": to_id,  # a string, as the current specs type it
                        "labels": [label for label in labels.values() if label is not None],
                    }
                )
        return batch_response(started, results, errors, 200 if call.version in CREATED_WITH_200 else 201)

    # --------------------------------------------------------------------------- read
    def read(self, call: Call) -> Answer:
        """``batch/read``: each id's associations, a page at a time; 207 for ids with none."""
        started = iso_timestamp()
        sim = self.sim
        from_type, to_type = call.from_type, call.to_type
        items = bodies.inputs(call.body, sim.config.max_read_inputs)
        call.record.inputs = len(items)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        served: list[tuple[str, int, dict[str, Any]]] = []
        for index, item in enumerate(items):
            from_id = bodies.object_id(item, f"inputs[{index}]")
            after = item.get("after")
            offset = int(after) if isinstance(after, str) and after.isdigit() else 0
            entry = self._read_entry(from_type, to_type, from_id, offset)
            if entry is None:
                # As observed: "No company is associated with deal 515690208449.", with context
                # {"fromObjectId": [...], "fromObjectType": ["deal"], "toObjectType": ["company"]}.
                from_name, to_name = error_type_name(from_type), error_type_name(to_type)
                errors.append(
                    standard_error(
                        f"No {to_name} is associated with {from_name} {from_id}.",
                        "OBJECT_NOT_FOUND",
                        {"fromObjectId": [from_id], "fromObjectType": [from_name], "toObjectType": [to_name]},
                        sub="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            results.append(entry)
            served.append((from_id, offset, entry))
        results += hostile.extra_read_results(
            sim.config.faults,
            sim.config.read_page_size,
            served,
            {str(item.get("id")) for item in items},
            partial(self._read_entry, from_type, to_type),
            lambda: self._type_json(from_type, to_type, sim.state.unlabeled_key(from_type, to_type)),
        )
        return batch_response(started, results, errors)

    def _read_entry(
        self, from_type: str, to_type: str, from_id: str, offset: int, size: int | None = None
    ) -> dict[str, Any] | None:
        """One batch-read result: ``size`` targets of ``from_id`` from ``offset`` (None: it has none)."""
        found = self.sim.state.associated(from_type, from_id, to_type)
        if not found:
            return None
        page = size or self.sim.config.read_page_size
        # ``toObjectId`` is a JSON number, as in HubSpot's examples (the specs say string; clients
        # must read both). Record ids are stored as strings, so the conversion is exact.
        entry: dict[str, Any] = {
            "from": {"id": from_id},
            "to": [
                {
                    "toObjectId": int(to_id),
                    "associationTypes": [self._type_json(from_type, to_type, key) for key in sorted(types)],
                }
                for to_id, types in found[offset : offset + page]
            ],
        }
        if offset + page < len(found):
            entry["paging"] = {"next": {"after": str(offset + page)}}
        return entry

    def _type_json(self, from_type: str, to_type: str, key: TypeKey) -> dict[str, Any]:
        spec: dict[str, Any] = {"category": key[0], "typeId": key[1]}
        label = self.sim.state.label_name(from_type, to_type, key)
        if label is not None:
            spec["label"] = label
        return spec

    # ------------------------------------------------------------------ definitions, account
    def labels(self, call: Call) -> Answer:
        """``GET .../labels``: the direction's association types, the unlabeled one included."""
        found = self.sim.state.definitions(call.from_type, call.to_type)
        return 200, {"results": [definition.as_json() for definition in found]}

    def delete_label(self, call: Call) -> Answer:
        """``DELETE .../labels/{associationTypeId}``: a custom label's definition, and the label on
        every pair (204). Unknown: 404; a HUBSPOT_DEFINED type cannot be deleted: 400."""
        assert call.type_id is not None
        try:
            self.sim.state.delete_label(call.from_type, call.to_type, call.type_id)
        except KeyError as error:
            raise ApiError(404, error_body(str(error.args[0]), "OBJECT_NOT_FOUND")) from None
        except ValueError as error:
            raise ApiError(400, error_body(str(error), "VALIDATION_ERROR")) from None
        return 204, None

    def account_info(self) -> dict[str, Any]:
        """``GET /account-info/v3/details``: the portal id and the account's time zone."""
        zone = self.sim.config.account_timezone
        now = pendulum.now(zone)
        offset = now.utcoffset()
        return {
            "portalId": PORTAL_ID,
            "accountType": "STANDARD",
            "timeZone": zone,
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": now.format("ZZ"),
            "utcOffsetMilliseconds": int(offset.total_seconds() * 1000) if offset else 0,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }


def _unknown_record_error(from_id: str, to_id: str | None, bad: list[tuple[str, str]]) -> dict[str, Any]:
    context = {**invalid_object_ids_context(bad), "fromObjectId": [from_id]}
    if to_id is not None:
        context["toObjectId"] = [to_id]
    return standard_error("One or more associations are invalid", "VALIDATION_ERROR", context)


def _missing_association_error(from_type: str, from_id: str, to_type: str, to_id: str) -> dict[str, Any]:
    return standard_error(
        f"No {singular_name(to_type)} {to_id} is associated with {singular_name(from_type)} {from_id}.",
        "OBJECT_NOT_FOUND",
        {"fromObjectId": [from_id], "toObjectId": [to_id]},
        sub="crm.associations.NO_ASSOCIATIONS_FOUND",
    )
