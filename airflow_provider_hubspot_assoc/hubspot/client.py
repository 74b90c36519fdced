"""``HubSpotClient``: the association endpoints of one HubSpot app, composed of the parts that do the work.

``transport`` (HTTP, token, retries), ``pacing`` (rate limit), ``daily`` (the account's day),
``sender`` (ordered concurrent sends), ``isolation`` (bad rows of a refused batch) and ``reads``.
``HubSpotHook`` builds the client from an Airflow connection; the client has no Airflow import, so
benchmarks and unit tests use it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotError,
    HubSpotRetriesExhaustedError,
    HubSpotValidationError,
)
from airflow_provider_hubspot_assoc.hubspot.config import ClientConfig, ClientStats, association_path
from airflow_provider_hubspot_assoc.hubspot.daily import DailyBudget
from airflow_provider_hubspot_assoc.hubspot.isolation import STOPPING, failed_response, send_isolating
from airflow_provider_hubspot_assoc.hubspot.pacing import RateLimiter, in_flight_for
from airflow_provider_hubspot_assoc.hubspot.reads import Reads
from airflow_provider_hubspot_assoc.hubspot.sender import send_in_order
from airflow_provider_hubspot_assoc.hubspot.transport import Transport
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse, iso_timestamp, pairs_of
from airflow_provider_hubspot_assoc.request_size import RequestSize

Inputs = list[dict[str, Any]]
# Errors that fail one batch: its pairs are reported failed (or unknown), the run goes on.
BATCH_FAILED = (HubSpotValidationError, HubSpotRetriesExhaustedError)


class HubSpotClient:
    """Sends HubSpot association requests at the pace HubSpot allows, retrying what is safe.

    :param config: how to reach HubSpot and how hard to push it.
    :param on_new_token: called with each new OAuth access token (to mask it in logs).
    """

    def __init__(self, config: ClientConfig, on_new_token: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.stats = ClientStats()
        self.limiter = RateLimiter(
            config.requests_per_window, config.window_seconds, share=config.rate_limit_share
        )
        budget = DailyBudget(config.daily_budget, config.account_timezone)
        self.transport = Transport(config, self.stats, self.limiter, budget, on_new_token)
        self.http = self.transport.http
        self._tokens = self.transport.tokens
        self._reads = Reads(self.transport, self.path)
        # Inputs and pairs a write request holds; a maximum HubSpot names lowers it for later requests.
        self.request_size = RequestSize(config.batch_size, config.max_pairs_per_request)

    @property
    def on_request(self) -> Callable[[], None] | None:
        """Called just before each attempt goes out (a run's request ledger ticks)."""
        return self.transport.on_request

    @on_request.setter
    def on_request(self, callback: Callable[[], None] | None) -> None:
        self.transport.on_request = callback

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def path(self, from_type: str, to_type: str, suffix: str) -> str:
        """The endpoint path; object types are validated so nothing can be injected into it."""
        return association_path(self.config.api_version, from_type, to_type, suffix)

    def request(
        self, method: str, path: str, body: Any = None, what: str = "HubSpot request"
    ) -> tuple[int, dict[str, Any]]:
        """One request, paced and retried; (HTTP status, JSON body or {}). See ``Transport.request``."""
        return self.transport.request(method, path, body, what)

    def request_raw(
        self, method: str, path: str, body: Any = None, what: str = "HubSpot request"
    ) -> tuple[int, Any]:
        """``request`` with a 2xx body as it came. See ``Transport.request_raw``."""
        return self.transport.request_raw(method, path, body, what)

    # ------------------------------------------------------ archiving, creating
    def send_batch(self, kind: Kind, from_type: str, to_type: str, inputs: Inputs) -> BatchResponse:
        """Send one request of native inputs (archive, labels archive or create); a refusal raises."""
        path = self.path(from_type, to_type, kind.path_suffix)
        pairs = pairs_of(kind, inputs)
        requested_at = iso_timestamp()
        status, body = self.request_raw("POST", path, {"inputs": inputs}, f"POST {path}")
        self.stats.add("pairs_sent", len(pairs))
        return BatchResponse.from_answer(status, body, pairs, requested_at=requested_at, kind=kind)

    def send_isolating(
        self, kind: Kind, from_type: str, to_type: str, inputs: Inputs, size: RequestSize | None = None
    ) -> BatchResponse:
        """Send a batch within ``size`` (default: the client's ``request_size``); if HubSpot refuses it
        as a whole, re-chunk it (a maximum named) or isolate its bad rows (``isolation``)."""
        return send_isolating(
            lambda batch: self.send_batch(kind, from_type, to_type, batch),
            kind,
            inputs,
            self.config.max_isolation_requests,
            self.stats,
            size or self.request_size,
        )

    def in_flight_limit(self) -> int:
        """Requests in flight: ``max_in_flight``, else enough to reach the rate limit at the latency."""
        if self.config.max_in_flight:
            return self.config.max_in_flight
        return in_flight_for(self.limiter.rate, self.stats.latency, self.transport.pool_size)

    def send_batches(
        self,
        kind: Kind,
        from_type: str,
        to_type: str,
        batches: Iterable[Inputs],
        size: RequestSize | None = None,
    ) -> Iterator[tuple[Inputs, BatchResponse | None]]:
        """Send batches concurrently; yield ``(batch, response)`` in the order the batches came.

        An empty batch is yielded with ``None`` (nothing to send). Reading ahead is bounded
        (``sender.look_ahead``), so memory stays bounded behind one slow request. A batch HubSpot
        refuses as a whole (400, or retries exhausted) comes back as a response whose errors cover
        all its pairs, so nothing is lost; when an attempt may have been carried out (its answer
        lost), the response is ``unconfirmed`` instead. Auth, scope, daily-limit, unreachable and
        request errors (a redirect, a request that could not be made) stop the run: batches before
        the first one struck are yielded, then the error is raised with ``.batch`` set to the batch it
        struck (not applied), ``.struck`` listing the first struck batch and every later one in
        order, and ``.answers`` the answer each of those got (None: not applied; a batch sent in
        parts has the answers of its parts sent before the error).

        ``size``: the run's request size, shared with the batcher that made ``batches`` (default: the
        client's ``request_size``). A batch larger than it is sent in parts; a 400 naming a maximum
        lowers it (``isolation.send_isolating``).
        """
        self.path(from_type, to_type, kind.path_suffix)  # validate before any request
        stopped: list[HubSpotError] = []
        sent = send_in_order(
            batches,
            lambda batch: self.send_isolating(kind, from_type, to_type, batch, size),
            workers=self.transport.pool_size,
            in_flight=self.in_flight_limit,
            worth_sending=bool,
            stopped=lambda: bool(stopped),
            thread_name_prefix="hubspot",
        )
        for batch, job in sent:
            response: BatchResponse | None = None
            if job is not None:
                try:
                    response = job.result()
                except STOPPING as error:
                    error.batch = batch
                    stopped[:] = stopped or [error]
                    stopped[0].struck.append(batch)
                    stopped[0].answers.append(error.partial)
                    continue
                except BATCH_FAILED as error:
                    response = failed_response(kind, batch, error)
            if stopped:
                # Past a struck batch nothing is yielded, or a caller confirming in order would see a
                # gap: later batches ride on the error, in order, with the answers they got.
                stopped[0].struck.append(batch)
                stopped[0].answers.append(response)
                continue
            yield batch, response
        if stopped:
            raise stopped[0]

    # --------------------------------------------------------------- reads
    def get_labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """Association type definitions of one direction (cached per client)."""
        return self._reads.labels(from_type, to_type)

    def read_associations(
        self, from_type: str, to_type: str, ids: Iterable[str | int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Current associations of each from id (``Reads.associations``): mirror mode deletes what this
        returns, so an id HubSpot could not read raises instead of looking empty."""
        return self._reads.associations(from_type, to_type, ids)
