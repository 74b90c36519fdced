"""HubSpotHook: an Airflow connection of type ``hubspot`` turned into a paced, retrying client.

The operators and sensors reach HubSpot only through the hook's methods; the client it builds
(``airflow_provider_hubspot_assoc.hubspot``) has no Airflow import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_provider_hubspot_assoc._compat import BaseHook, mask_secret
from airflow_provider_hubspot_assoc.checked_batches import check_rows, checked_batches
from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotAuthError,
    HubSpotError,
    HubSpotRequestError,
    HubSpotRetriesExhaustedError,
    HubSpotScopeError,
)
from airflow_provider_hubspot_assoc.hooks.connection_form import field_behaviour, form_widgets
from airflow_provider_hubspot_assoc.hubspot.client import HubSpotClient
from airflow_provider_hubspot_assoc.hubspot.config import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_PATH,
    ClientConfig,
    OAuthCredentials,
)
from airflow_provider_hubspot_assoc.hubspot.pacing import TIER_LIMITS
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.request_size import DEFAULT_BATCH_SIZE, DEFAULT_MAX_PAIRS, RequestSize
from airflow_provider_hubspot_assoc.response_merge import merge

# The client's counters a run reports (and adds up across tries and deferrals).
REQUEST_STATS = ("requests", "retries", "rate_limited", "isolation_requests", "seconds")
TEST_ATTEMPTS = 2  # the connection test gives up quickly: a person is waiting for its answer


class HubSpotHook(BaseHook):
    """Interact with HubSpot's CRM associations v4 endpoints.

    Both archive endpoints are idempotent: archiving an association that is already gone changes
    nothing; so is batch create: creating an association (or label) that exists adds nothing. That is
    why a request whose answer was lost (timeout, dropped connection, 5xx) is retried, with
    exponential backoff and jitter, bounded in attempts and in total time.

    The connection (type ``hubspot``; its form shows every field):

    * Password: a private app's access token (``auth_type`` ``private_app``, the default); or
      ``auth_type`` ``oauth`` with ``client_id``, ``client_secret`` and ``refresh_token`` in the
      extras, the access token then being obtained, and refreshed before it expires, by the hook.
    * Host: optional, instead of ``https://api.hubapi.com`` (a proxy, or the simulator on loopback;
      https is required for anything but loopback).
    * Extras: ``api_version`` (``v4`` or a date version such as ``2026-03``); ``tier`` (the burst
      limit per 10 s; default ``professional``, ``oauth_marketplace`` for OAuth); ``requests_per_10s``
      (instead of the tier's); ``requests_per_day`` (a daily budget: past it, requests are refused
      unsent with ``HubSpotDailyLimitError``; a tier's daily figure is no budget: HubSpot's
      ``Daily-Remaining`` decides); ``account_timezone`` (where the account's day starts); ``max_in_flight``;
      ``batch_size`` (HubSpot inputs a request: an archive input is a from id with its to ids);
      ``max_pairs_per_request`` (pairs a request, default 100); ``oauth_endpoint`` (formerly
      ``token_url``, still read); ``read_timeout``, ``connect_timeout``, ``max_attempts``,
      ``max_retry_seconds``, ``window_seconds``.

    :param hubspot_conn_id: the ``hubspot`` connection to use (default ``hubspot_default``).
    :param client_overrides: ``ClientConfig`` fields that win over the connection, for example
        ``batch_size``, ``max_pairs_per_request``, ``max_in_flight``, ``rate_limit_share``,
        ``max_attempts``, ``read_timeout``, ``max_isolation_requests``; a ``None`` value means "not
        set here" and leaves the connection's setting in force.
    """

    conn_name_attr = "hubspot_conn_id"
    default_conn_name = "hubspot_default"
    conn_type = "hubspot"
    hook_name = "HubSpot"

    def __init__(self, hubspot_conn_id: str = default_conn_name, **client_overrides: Any) -> None:
        super().__init__()
        self.hubspot_conn_id = hubspot_conn_id
        self.client_overrides = client_overrides
        self._client: HubSpotClient | None = None  # built on first use (reading the connection)

    # ------------------------------------------------------------- connection
    def _extra(self, extras: dict[str, Any], name: str, default: Any = None) -> Any:
        for key in (name, f"extra__hubspot__{name}"):
            value = extras.get(key)
            if value not in (None, ""):
                return value
        return default

    def _token_path(self, extras: dict[str, Any]) -> str:
        """The OAuth token endpoint: ``oauth_endpoint``, else the former name ``token_url``.

        Airflow's form masked ``token_url`` (its name holds "token") and saved ``***`` in its place:
        a value made only of ``*`` is no path and is skipped.
        """
        for name in ("oauth_endpoint", "token_url"):
            value = str(self._extra(extras, name, "")).strip()
            if value and set(value) == {"*"}:
                self.log.warning(
                    "HubSpot connection %r: %s is %r, a value Airflow masked, not a path; it is ignored. "
                    "Put the OAuth token endpoint in the oauth_endpoint field (default %s).",
                    self.hubspot_conn_id,
                    name,
                    value,
                    DEFAULT_TOKEN_PATH,
                )
            elif value:
                return value
        return DEFAULT_TOKEN_PATH

    def _tier(self, extras: dict[str, Any], oauth: bool) -> str:
        tier = str(self._extra(extras, "tier", "oauth_marketplace" if oauth else "professional"))
        if tier not in TIER_LIMITS:
            raise ValueError(f"tier must be one of {', '.join(TIER_LIMITS)}, got {tier!r}")
        return tier

    def client_config(self) -> ClientConfig:
        """Read the connection into a ``ClientConfig`` (no request is made)."""
        conn = self.get_connection(self.hubspot_conn_id)
        extras = conn.extra_dejson
        host = (conn.host or "").strip()
        if host and "://" not in host:
            host = f"https://{host}"
        if host and conn.port:
            host = f"{host.rstrip('/')}:{conn.port}"
        auth_type = self._extra(extras, "auth_type", "private_app")
        oauth = None
        if auth_type == "oauth":
            missing = [
                f for f in ("client_id", "client_secret", "refresh_token") if not self._extra(extras, f)
            ]
            if missing:
                raise ValueError(
                    f"HubSpot connection {self.hubspot_conn_id!r} uses OAuth but lacks {', '.join(missing)}"
                )
            oauth = OAuthCredentials(
                client_id=str(self._extra(extras, "client_id")),
                client_secret=str(self._extra(extras, "client_secret")),
                refresh_token=str(self._extra(extras, "refresh_token")),
                token_url=self._token_path(extras),
            )
        elif auth_type != "private_app":
            raise ValueError(f"auth_type must be 'private_app' or 'oauth', got {auth_type!r}")
        elif not conn.password:
            raise ValueError(
                f"HubSpot connection {self.hubspot_conn_id!r} has no access token: put the private app's "
                "token in the Password field, or set auth_type to oauth"
            )
        tier = self._tier(extras, oauth is not None)
        per_window, per_day = TIER_LIMITS[tier]
        settings: dict[str, Any] = {
            "base_url": host or DEFAULT_BASE_URL,
            "api_version": str(self._extra(extras, "api_version", "v4")),
            "access_token": None if oauth else conn.password,
            "oauth": oauth,
            "requests_per_window": int(self._extra(extras, "requests_per_10s", per_window)),
            "daily_limit": _optional_int(self._extra(extras, "requests_per_day", per_day)),
            # Only an explicit requests_per_day is a budget: a tier's figure may be out of date or
            # lack a limit increase, and stopping on it would defer a run HubSpot would have served.
            "daily_budget": _optional_int(self._extra(extras, "requests_per_day")),
            "account_timezone": str(self._extra(extras, "account_timezone", "UTC")),
            "max_in_flight": _optional_int(self._extra(extras, "max_in_flight")),
            "batch_size": int(self._extra(extras, "batch_size", DEFAULT_BATCH_SIZE)),
            "max_pairs_per_request": int(self._extra(extras, "max_pairs_per_request", DEFAULT_MAX_PAIRS)),
        }
        for name, kind in (
            ("window_seconds", float),
            ("read_timeout", float),
            ("connect_timeout", float),
            ("max_attempts", int),
            ("max_retry_seconds", float),
        ):
            if self._extra(extras, name) is not None:
                settings[name] = kind(self._extra(extras, name))
        settings.update({name: value for name, value in self.client_overrides.items() if value is not None})
        return ClientConfig(**settings)

    @property
    def client(self) -> HubSpotClient:
        """The client, built on first use; its pacing and daily budget are shared by all its threads."""
        if self._client is None:
            self._client = HubSpotClient(self.client_config(), on_new_token=mask_secret)
        return self._client

    def close(self) -> None:
        """Close the client's HTTP session, if this hook opened one (building none to close it).

        The client stays, so ``request_stats`` still reports what it did.
        """
        if self._client is not None:
            self._client.close()

    def get_conn(self) -> HubSpotClient:
        """The client, built once per hook."""
        return self.client

    # ------------------------------------------------------------- the runs'
    def send_batches(
        self,
        kind: Kind,
        from_object_type: str,
        to_object_type: str,
        batches: Iterable[list[dict[str, Any]]],
        size: RequestSize | None = None,
    ) -> Iterator[tuple[list[dict[str, Any]], BatchResponse | None]]:
        """Send batches of native inputs concurrently; yield ``(batch, response)`` in their order.

        ``size``: the request size the batches were made with (default: the client's, from
        ``batch_size`` and ``max_pairs_per_request``). A 400 naming a maximum ("The maximum number of
        inputs supported in a batch is N") lowers it for the rest of the run, and the refused pairs go
        again in smaller requests; a batch made larger than it is sent in parts.

        A batch with no inputs is yielded with ``None`` unsent. A batch HubSpot refuses as a whole
        is bisected to its bad rows (``hubspot.isolation``). An error that stops the run is raised
        after the batches before the first one it struck; ``.struck`` lists that batch and every
        later one in order, and ``.answers`` the answer each got (None: not applied), so nothing is
        yielded past a gap (``HubSpotClient.send_batches``).
        """
        return self.client.send_batches(Kind(kind), from_object_type, to_object_type, batches, size)

    def set_request_listener(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` just before each request goes out (None: stop calling it)."""
        self.client.on_request = callback

    def request_stats(self) -> dict[str, float]:
        """Requests, retries, 429s, isolation requests and seconds of this hook's client so far;
        ``{}`` when no client was built (nothing was sent)."""
        if self._client is None:
            return {}
        stats = self._client.stats.as_json()
        return {name: stats[name] for name in REQUEST_STATS}

    def allowed_rate(self) -> float:
        """Requests per second the client may send now (after any slow-down from 429s)."""
        return self.client.limiter.rate

    # -------------------------------------------------------------- endpoints
    def archive_associations(
        self, from_object_type: str, to_object_type: str, inputs: list[Any]
    ) -> BatchResponse:
        """Remove every association between each pair.

        ``inputs`` are HubSpot's native inputs, ``{"from": {"id": "1"}, "to": [{"id": "2"}]}``, or
        any row the operators take (``{"from_id", "to_id"}``, ``(from_id, to_id)``). Every row is
        checked first: a bad one raises ``InvalidInputError`` naming the row and the field, before
        any request. Then they are sent in requests of at most ``batch_size`` inputs (a from id
        with its to ids is one) and ``max_pairs_per_request`` pairs, concurrently, batched as the
        operators batch them. A pair given more than once is sent once, and counted
        once in the response's ``pairs_sent``.
        """
        return self._send_rows(Kind.ARCHIVE, from_object_type, to_object_type, inputs)

    def archive_labels(self, from_object_type: str, to_object_type: str, inputs: list[Any]) -> BatchResponse:
        """Remove specific association labels (removing the unlabeled type removes all labels).

        ``inputs``: ``{"from": {"id"}, "to": {"id"}, "types": [{"associationCategory",
        "associationTypeId"}]}``, or any label row the operators take. A row naming a label, or a
        type id without its category, is resolved against the direction's label definitions (one
        more request, once per hook). Checking and batching as in ``archive_associations``: a
        (pair, type) given more than once is sent once.
        """
        return self._send_rows(Kind.LABELS, from_object_type, to_object_type, inputs)

    def create_associations(
        self, from_object_type: str, to_object_type: str, inputs: list[Any]
    ) -> BatchResponse:
        """Create associations with the given types, labels included (``.../batch/create``).

        ``inputs``: ``{"from": {"id"}, "to": {"id"}, "types": [{"associationCategory",
        "associationTypeId"}]}``, or any label row the operators take (a pair with
        ``association_type_id`` and ``association_category``, or with a ``label`` name). A row
        naming no type is refused (``InvalidInputError``); names are resolved as in
        ``archive_labels``, and checking and batching are the same. A pair counts as created only
        when HubSpot's answer names it in its results: any other pair not named as failed is in
        ``unknown_pairs``. Creating what exists adds nothing, so a create can be repeated.
        """
        return self._send_rows(Kind.CREATE, from_object_type, to_object_type, inputs)

    def _send_rows(self, kind: Kind, from_type: str, to_type: str, inputs: list[Any]) -> BatchResponse:
        checked = check_rows(
            kind, inputs, lambda: LabelResolver(self.get_labels(from_type, to_type), from_type, to_type)
        )
        size = self.client.request_size
        sent = self.send_batches(kind, from_type, to_type, checked_batches(kind, checked, size), size)
        return merge(response for _, response in sent if response is not None)

    def get_labels(self, from_object_type: str, to_object_type: str) -> list[dict[str, Any]]:
        """Association type definitions ``{category, typeId, label}`` of one direction (cached)."""
        return self.client.get_labels(from_object_type, to_object_type)

    def read_associations(
        self, from_object_type: str, to_object_type: str, ids: Iterable[str | int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Current associations of each id (1000-id chunks, every page); [] where there are none."""
        return self.client.read_associations(from_object_type, to_object_type, ids)

    def account_details(self) -> dict[str, Any]:
        """``GET /account-info/v3/details``: portal id and time zone of the account."""
        return self.client.request("GET", "/account-info/v3/details", None, "account details")[1]

    # ------------------------------------------------------------------- test
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields for Airflow 3.1 (3.2+ reads ``conn-fields`` and skips this)."""
        return form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden, relabelled and placeholder fields for Airflow 3.1 (3.2+ reads provider info)."""
        return field_behaviour()

    def test_connection(self) -> tuple[bool, str]:
        """Check the settings, the token, and read access to associations; never raises.

        Write scopes depend on the object types a DAG archives and cannot be checked without
        archiving; a missing one is reported by the first archive request, naming the scope.
        """
        try:
            config = self.client_config()
        except (ValueError, TypeError) as error:
            return False, f"The connection's settings are not usable: {error}"
        try:
            client = self.client
            client.config.max_attempts = min(client.config.max_attempts, TEST_ATTEMPTS)
            details = self.account_details()
            client.get_labels("contacts", "companies")
        except HubSpotScopeError as error:
            scopes = ", ".join(error.missing_scopes) or "see HubSpot's message"
            return False, f"The token works but lacks scopes this provider needs: {scopes}."
        except HubSpotAuthError as error:
            return False, (
                "HubSpot refused the credentials: the access token (for OAuth: the client id, client "
                f"secret or refresh token) is wrong, revoked or expired. {error}"
            )
        except HubSpotRetriesExhaustedError as error:
            return False, f"Could not reach HubSpot: {error}"
        except HubSpotRequestError as error:
            return False, f"Could not talk to HubSpot at {config.base_url}: {error}"
        except HubSpotError as error:
            return False, f"HubSpot refused the connection: {error}"
        except Exception as error:
            return False, f"Could not reach HubSpot at {config.base_url}: {type(error).__name__}: {error}"
        finally:
            built, self._client = self._client, None  # the next use builds a client with full retries
            if built is not None:
                built.close()
        portal = details.get("portalId", "unknown")
        return (
            True,
            f"Connected to HubSpot account {portal}; the token can read contact-company associations. "
            + self._limits_text(config, client.limiter.announced),
        )

    def _limits_text(self, config: ClientConfig, announced: dict[str, int]) -> str:
        """The limits HubSpot announced next to the ones the connection assumes, naming a mismatch."""
        extras = self.get_connection(self.hubspot_conn_id).extra_dejson
        explicit = self._extra(extras, "requests_per_10s") is not None
        assumed = "requests_per_10s" if explicit else self._tier(extras, config.oauth is not None)
        window = f"{config.window_seconds:g} s"
        ours = f"{config.requests_per_window}/{window}"
        text = f"The connection assumes {assumed} ({ours}"
        text += f", {config.daily_limit:,} a day)." if config.daily_limit else ", no daily limit)."
        if "max" not in announced:
            return text + " HubSpot's answers carried no rate-limit headers to compare with."
        seconds = announced.get("interval_ms", 10_000) / 1000
        theirs = f"{announced['max']}/{seconds:g} s"
        said = f" HubSpot announces {theirs}"
        if "daily" in announced:
            said += f", {announced['daily']:,} a day"
            if "daily_remaining" in announced:
                said += f" ({announced['daily_remaining']:,} left today)"
        text += said + "."
        if (announced["max"], seconds) != (config.requests_per_window, config.window_seconds):
            text += (
                f" Mismatch: connection says {assumed} ({ours}), HubSpot says {theirs}; set the tier or "
                "requests_per_10s to what HubSpot says."
            )
        return text


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
