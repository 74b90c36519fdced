"""A trigger that only waits: the worker sends every request, the triggerer only holds the slot free.

Requests are never sent from the triggerer: a triggerer restart runs a trigger again, and a request
sent there could be sent twice. So deferral here means "free the worker until ``moment``", after
which the task resumes on a worker and continues where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hubspot_assoc._compat import BaseTrigger, TriggerEvent

LOG_EVERY_SECONDS = 600.0  # a waiting line at least this often


class HubSpotWaitTrigger(BaseTrigger):
    """Fires once ``moment`` has passed; logs how long is left while waiting.

    :param moment: when to fire (a timezone-aware datetime).
    :param reason: what is awaited, for the waiting log lines.
    :param payload: what the event carries back to the task (a deferred run's checkpoint, a
        sensor's start), merged into ``{"status": "ready", "moment": ...}``.
    """

    def __init__(
        self, moment: datetime, reason: str = "waiting", payload: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        self.moment = moment
        self.reason = reason
        self.payload = payload or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hubspot_assoc.triggers.wait.HubSpotWaitTrigger",
            {"moment": self.moment, "reason": self.reason, "payload": self.payload},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            left = (self.moment - datetime.now(timezone.utc)).total_seconds()
            if left <= 0:
                break
            self.log.info(
                "HubSpot: %s; resuming in %.0f s (at %s)", self.reason, left, self.moment.isoformat()
            )
            await asyncio.sleep(min(left, LOG_EVERY_SECONDS))
        yield TriggerEvent({"status": "ready", "moment": self.moment.isoformat(), **self.payload})
