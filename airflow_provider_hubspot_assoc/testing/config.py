"""Settings of the HubSpot simulator: limits, tokens, documented-but-uncertain behaviours, faults.

Defaults follow HubSpot's documentation (https://developers.hubspot.com/docs/api-reference/
crm-associations-v4/guide and the usage guidelines); where HubSpot's behaviour is not documented,
``docs/simulator.md`` names the default and a setting switches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_hubspot_assoc.hubspot.pacing import TIER_LIMITS
from airflow_provider_hubspot_assoc.object_types import (
    InvalidObjectTypeError,
    canonical_name,
    object_type_id,
    validate_object_type,
)

ALL_SCOPES: frozenset[str] = frozenset(
    {
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "tickets",
        "crm.objects.custom.read",
        "crm.objects.custom.write",
        "crm.objects.line_items.read",
        "crm.objects.line_items.write",
        "crm.objects.quotes.read",
        "crm.objects.quotes.write",
        "crm.objects.products.read",
        "crm.objects.products.write",
        "crm.objects.leads.read",
        "crm.objects.leads.write",
        "crm.objects.notes.read",
        "crm.objects.notes.write",
        "crm.objects.orders.read",
        "crm.objects.orders.write",
        "crm.objects.invoices.read",
        "crm.objects.invoices.write",
        *(
            f"crm.objects.{name}.{access}"
            for name in ("calls", "emails", "meetings", "tasks", "communications", "appointments", "courses")
            for access in ("read", "write")
        ),
        *(
            f"crm.objects.{name}.{access}"
            for name in ("listings", "services", "subscriptions", "carts", "goal_targets", "projects")
            for access in ("read", "write")
        ),
    }
)

TIERS = TIER_LIMITS


def custom_object_type(value: str) -> str:
    """A custom object type as the account knows it: ``2-<n>`` or ``p<portal id>_<name>``."""
    try:
        found = object_type_id(validate_object_type(value))
    except InvalidObjectTypeError:
        found = ""
    if not found.startswith(("2-", "p")) or canonical_name(found) is not None:
        raise ValueError(f"a custom object type is 2-<n> or p<portal id>_<name>, got {value!r}")
    return found


@dataclass
class FaultConfig:
    """Faults injected per request. Fractions are drawn from the simulator's seeded random source.

    Faults hit authenticated API requests after the auth and rate-limit checks. With
    ``apply_before_fault`` the archive is carried out first and then the fault is answered, the way a
    proxy or load balancer can lose the answer of a request HubSpot did carry out.
    """

    server_error_rate: float = 0.0
    server_error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    rate_limit_rate: float = 0.0
    burst_429_every: int = 0  # after every N requests ...
    burst_429_length: int = 0  # ... answer the next M with a TEN_SECONDLY_ROLLING 429
    slow_rate: float = 0.0
    slow_seconds: float = 0.0  # extra delay of a slow answer (set it past the client's timeout)
    drop_rate: float = 0.0  # close the connection without any answer
    expire_tokens_after: int = 0  # OAuth access tokens expire after N requests made with them
    apply_before_fault: bool = False
    poison_ids: tuple[str, ...] = ()
    """Record ids that make HubSpot refuse a whole write request (archive, labels archive, create) with
    a 400 naming no input."""
    read_foreign_ids: tuple[str, ...] = ()
    """From-ids every batch-read answer also holds a result for, though the request did not name them:
    all their associations in one result without paging (two made-up to-ids, 990000001 and 990000002,
    with the unlabeled type, when they have none). An id the request names is answered normally."""
    read_repeat_results: bool = False
    """A buggy pager: every batch-read answer repeats results. For each input with ``after`` the
    previous page of that id comes again; an answer whose first input has no ``after`` repeats its
    first result. Repeats carry no paging cursor (a repeated cursor is another fault)."""
    scripted: list[int | str] = field(default_factory=list)
    """Answers for the next requests, in order; ``0`` passes one request through.

    * an HTTP status (429 = TEN_SECONDLY_ROLLING, 5xx), ``"daily"`` (a DAILY 429), ``"drop"`` (no
      answer, not applied) or ``"slow"`` (waits ``slow_seconds``, then is carried out and answered);
    * hostile 2xx answers and lost answers (``testing/server/faults.py``). "Applied" means the request is
      carried out as usual (an invalid request still gets its 400):

      - ``"ok_html"``: 200, ``text/html``, body ``<html>ok</html>``; not applied;
      - ``"ok_not_batch"``: 200 JSON ``{"ok": true}``; not applied;
      - ``"ok_list"``: 200 JSON ``[]``; not applied;
      - ``"ok_no_results"``: 200 BatchResponse COMPLETE with ``results`` [] and no errors; not
        applied. To an archive that is HubSpot's own success answer (nothing can tell them apart);
        to a create it names no pair created, so it proves nothing;
      - ``"ok_errors_not_list"``: 200 BatchResponse (COMPLETE, ``results`` [], ``startedAt``,
        ``completedAt``) whose ``errors`` is the object ``{"message": "x"}``; applied;
      - ``"ok_num_errors_hidden"``: 200 BatchResponse COMPLETE with ``numErrors`` 2 and ``errors``
        []; applied except its first two pairs (an archive input's ``to`` ids are pairs in order; a
        labels or create input is one pair, all its types kept), which stay as they were;
      - ``"ok_pending"`` / ``"ok_processing"``: 200 BatchResponse with status PENDING / PROCESSING;
        not applied;
      - ``"ok_empty_200"``: 200 with an empty body (JSON content type); applied;
      - ``"drop_after_apply"``: applied, then the connection is closed without an answer;
      - ``"slow_after_apply"``: applied at once, then the real answer waits ``slow_seconds``.

      They act the same way on every API endpoint (batch read and label definitions too): there
      "applied" means the read is made, which changes nothing, and the answer is replaced all the
      same; ``ok_num_errors_hidden`` has no pairs to keep there."""

    def __post_init__(self) -> None:
        # Settings also come as JSON (``POST /_sim/faults``) or marker values: check them here, so a
        # bad one is refused at once (a 400 there) instead of breaking a later request.
        for name in ("server_error_rate", "rate_limit_rate", "slow_rate", "drop_rate"):
            setattr(self, name, _checked(name, lambda v: fraction(_number(v)), getattr(self, name)))
        self.slow_seconds = _checked("slow_seconds", lambda v: non_negative(_number(v)), self.slow_seconds)
        for name in ("burst_429_every", "burst_429_length", "expire_tokens_after"):
            _checked(name, _count, getattr(self, name))
        for name in ("apply_before_fault", "read_repeat_results"):
            _checked(name, _flag, getattr(self, name))
        self.server_error_statuses = tuple(
            _checked("server_error_statuses", _server_error, s)
            for s in _checked("server_error_statuses", _sequence, self.server_error_statuses)
        )
        if not self.server_error_statuses:
            raise ValueError("server_error_statuses: name at least one status to draw from")
        self.scripted = [scripted_answer(v) for v in _checked("scripted", _sequence, self.scripted)]
        self.poison_ids = tuple(str(i) for i in _checked("poison_ids", _sequence, self.poison_ids))
        self.read_foreign_ids = tuple(
            str(i) for i in _checked("read_foreign_ids", _sequence, self.read_foreign_ids)
        )


def _checked(name: str, check: Callable[[Any], Any], value: Any) -> Any:
    """``check(value)``, its error naming the setting."""
    try:
        return check(value)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a whole number, at least 0, got {value!r}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _sequence(value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"must be a list, got {value!r}")
    return list(value)


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise ValueError(f"an error status is a whole number from 400 to 599, got {value!r}")
    return value


def _server_error(value: Any) -> int:
    if _status(value) < 500:
        raise ValueError(f"a server error status is from 500 to 599, got {value!r}")
    return int(value)


def fraction(value: float) -> float:
    """A rate: from 0 to 1."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a rate is a fraction from 0 to 1, got {value!r}")
    return value


def non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must be at least 0, got {value!r}")
    return value


SCRIPTED_FAULTS = ("daily", "drop", "slow")  # besides 0, error statuses and the hostile answers


def scripted_answer(value: Any) -> int | str:
    """One ``FaultConfig.scripted`` value: 0, an error status (400-599), or a fault's name."""
    # Imported here: the hostile answers' module imports this one.
    from airflow_provider_hubspot_assoc.testing.server.faults import HOSTILE

    if isinstance(value, str) and value in (*SCRIPTED_FAULTS, *HOSTILE):
        return value
    if value == 0 and not isinstance(value, bool | str):
        return 0
    try:
        return _status(value)
    except ValueError:
        names = ", ".join((*SCRIPTED_FAULTS, *HOSTILE))
        raise ValueError(
            f"scripted answers are 0, an error status from 400 to 599, or one of {names}; got {value!r}"
        ) from None


@dataclass
class SimulatorConfig:
    """Everything the simulator can be told. Times are in real seconds (scale them for tests)."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port chosen by the OS
    seed: str = "empty"
    random_seed: int = 0
    preload: int = 0  # random contact->company associations added to the seed (and again on reset)
    # --- auth
    tokens: dict[str, frozenset[str]] = field(default_factory=lambda: {"sim-private-app-token": ALL_SCOPES})
    oauth_clients: dict[str, str] = field(default_factory=lambda: {"sim-client-id": "sim-client-secret"})
    oauth_refresh_tokens: dict[str, frozenset[str]] = field(
        default_factory=lambda: {"sim-refresh-token": ALL_SCOPES}
    )
    access_token_lifetime_seconds: float = 1800.0
    # --- limits
    ten_second_limit: int = 190
    window_seconds: float = 10.0
    daily_limit: int | None = 1_000_000
    # The simulator's clock (the Date header) starts this many seconds before the account's midnight
    # (None: the real clock); with daily_reset_seconds every day lasts that long (None: a whole day).
    day_ends_in: float | None = None
    daily_reset_seconds: float | None = None
    account_timezone: str = "UTC"
    enforce_ten_secondly: bool = True  # the specs mark associations "ten-secondly" exempt (unconfirmed)
    retry_after_on_429: bool = False  # not documented for 429; switch on to test clients that use it
    max_inputs: int = 100  # inputs per write request (undocumented; HubSpot's batch norm)
    # Optional cap on (from, to) pairs per write request (an archive input's to ids are pairs; a labels
    # or create input is one). Over it, the answer is HubSpot's "maximum number of inputs" 400.
    max_pairs: int | None = None
    max_read_inputs: int = 1000
    read_page_size: int = 500
    latency_seconds: float = 0.0
    # --- uncertain success answers and semantics
    v4_success_status: Literal[200, 204] = 204
    dated_success_status: Literal[200, 204] = 200
    missing_association: Literal["noop", "error"] = "noop"
    # Archiving with record ids HubSpot does not know is undocumented (facts §i): "noop" (default, like a
    # missing pair), "reject" (400 VALIDATION_ERROR INVALID_OBJECT_IDS for the whole batch, the body seen
    # on v4 association writes) or "error" (not documented: 207 with a per-input error, the rest applied;
    # for exercising partial failures).
    unknown_record: Literal["noop", "reject", "error"] = "noop"
    unknown_object_type_status: Literal[400, 404] = 400
    # Custom object types the account has (``2-123``, ``p24681357_cars``), besides those it holds
    # records of. Any other custom type in a path gets "Unable to infer object type", like a typo.
    custom_object_types: tuple[str, ...] = ()
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        self.normalise()

    def normalise(self) -> None:
        """Check and convert the settings given as JSON or pytest-marker values (lists, dicts)."""
        self.custom_object_types = tuple(custom_object_type(t) for t in self.custom_object_types)
        self.tokens = {token: frozenset(scopes) for token, scopes in self.tokens.items()}
        self.oauth_refresh_tokens = {
            token: frozenset(scopes) for token, scopes in self.oauth_refresh_tokens.items()
        }
        if isinstance(self.faults, dict):
            self.faults = FaultConfig(**self.faults)

    @classmethod
    def for_tier(cls, tier: str, **overrides: Any) -> SimulatorConfig:
        """A config with the request limits of a HubSpot account tier; ``overrides`` win."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}")
        per_window, per_day = TIERS[tier]
        settings: dict[str, Any] = {"ten_second_limit": per_window, "daily_limit": per_day, **overrides}
        return cls(**settings)
