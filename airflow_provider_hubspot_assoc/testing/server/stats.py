"""What the simulator counts: one record per answered request, and totals (``sim.stats``, ``/_sim/stats``).

Records never hold a token or a body, so the inspection API cannot leak either.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

LOG_LENGTH = 200_000  # records kept in ``SimulatorStats.log`` (a benchmark run fits; memory stays bounded)


@dataclass
class RequestRecord:
    """One request as the inspection API shows it (never the token or the body).

    :param at: wall-clock time the request arrived (``time.time()``).
    :param method: the HTTP method.
    :param path: the path, without the query.
    :param status: the answer's status (0: the connection was closed without an answer).
    :param endpoint: ``archive``, ``archive_labels``, ``read``, ``create``, ``labels``,
        ``oauth_token``, ``account_info`` or ``unknown``.
    :param inputs: inputs in the request body.
    :param pairs: (from, to) pairs (or association types, for labels archive and create) in the body.
    :param fault: the injected fault that answered it, if any.
    """

    at: float
    method: str
    path: str
    status: int
    endpoint: str
    inputs: int = 0
    pairs: int = 0
    fault: str | None = None


@dataclass
class SimulatorStats:
    """Totals over the requests answered since the start (or the last reset), inspection calls aside.

    :param requests: requests answered (inspection calls under ``/_sim/`` are not counted).
    :param by_status: requests per answer status.
    :param by_endpoint: requests per endpoint name (see ``RequestRecord.endpoint``).
    :param rate_limited: 429 answers, injected ones included.
    :param daily_limited: the 429 answers among them with policy ``DAILY``.
    :param faults: injected faults per kind.
    :param archived_pairs: pairs that were associated and were archived.
    :param archived_labels: labels that were present and were archived.
    :param pairs_received: pairs (or labels) in archive requests that were carried out.
    :param created_pairs: pairs that were not associated and were created.
    :param created_labels: labels a create added (the unlabeled type is the pair, not a label).
    :param token_refreshes: calls of the OAuth token endpoint.
    :param peak_in_flight: most API requests being answered at one time.
    :param pair_sends: archive sends per (from id, to id).
    :param log: the last ``LOG_LENGTH`` request records.
    """

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    daily_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    archived_pairs: int = 0
    archived_labels: int = 0
    pairs_received: int = 0
    created_pairs: int = 0
    created_labels: int = 0
    token_refreshes: int = 0
    peak_in_flight: int = 0
    pair_sends: Counter[tuple[str, str]] = field(default_factory=Counter)
    log: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=LOG_LENGTH))

    def add(self, record: RequestRecord) -> None:
        """Count one answered request (the caller holds the simulator's lock)."""
        self.requests += 1
        self.by_status[record.status] += 1
        self.by_endpoint[record.endpoint] += 1
        if record.fault:
            self.faults[record.fault] += 1
        self.log.append(record)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_endpoint": dict(self.by_endpoint),
            "rate_limited": self.rate_limited,
            "daily_limited": self.daily_limited,
            "faults": dict(self.faults),
            "archived_pairs": self.archived_pairs,
            "archived_labels": self.archived_labels,
            "pairs_received": self.pairs_received,
            "created_pairs": self.created_pairs,
            "created_labels": self.created_labels,
            "token_refreshes": self.token_refreshes,
            "peak_in_flight": self.peak_in_flight,
        }
