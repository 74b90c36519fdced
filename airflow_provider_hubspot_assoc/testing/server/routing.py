"""Which endpoint a request names: HubSpot's association paths, under ``/crm/v4`` and the dated bases.

Every association endpoint exists under each base with the same request bodies, so the table below
lists an endpoint once (its method, the path tail after ``{from}/{to}/``, and whether it writes); a new
endpoint is one line here plus its handler in ``endpoints.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATED_VERSIONS = ("2025-09", "2026-03", "2026-09", "2026-09-beta")
V4_BASE = "/crm/v4/associations"
# The current schema spec spells the v4 labels path this way; the 2024 one (and the SDK) as V4_BASE.
V4_SCHEMA_BASE = "/crm/associations/v4"
OAUTH_TOKEN_PATHS = ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token")
ACCOUNT_INFO_PATH = "/account-info/v3/details"
INSPECTION_PREFIX = "/_sim/"


# The one path parameter past ``{from}/{to}/``: a label's association type id.
TYPE_ID = "{associationTypeId}"


@dataclass(frozen=True)
class Endpoint:
    """One association endpoint: ``method`` and path ``tail`` after ``{from}/{to}/``."""

    name: str
    method: str
    tail: str
    writes: bool  # needs the write scope of both object types (reads accept read or write)


ENDPOINTS = (
    Endpoint("archive", "POST", "batch/archive", writes=True),
    Endpoint("archive_labels", "POST", "batch/labels/archive", writes=True),
    Endpoint("read", "POST", "batch/read", writes=False),
    Endpoint("create", "POST", "batch/create", writes=True),
    Endpoint("labels", "GET", "labels", writes=False),
    Endpoint("delete_label", "DELETE", f"labels/{TYPE_ID}", writes=True),
)


@dataclass(frozen=True)
class Route:
    """A request matched to an endpoint, with the raw object types of its path."""

    endpoint: Endpoint
    version: str  # "v4", or the date version of a dated base ("2026-03"): answers differ by version
    from_raw: str
    to_raw: str
    type_id: int | None = None  # the path's association type id, for an endpoint that has one

    @property
    def dated(self) -> bool:
        return self.version != "v4"


_SEGMENT = r"([^/]+)"


def _pattern(base: str, tail: str) -> re.Pattern[str]:
    escaped = r"(\d+)".join(re.escape(part) for part in tail.split(TYPE_ID))
    return re.compile(rf"^{re.escape(base)}/{_SEGMENT}/{_SEGMENT}/{escaped}$")


_ROUTES: list[tuple[Endpoint, re.Pattern[str], str]] = [
    (endpoint, _pattern(base, endpoint.tail), version)
    for base, version in [(V4_BASE, "v4"), *((f"/crm/associations/{v}", v) for v in DATED_VERSIONS)]
    for endpoint in ENDPOINTS
]
_ROUTES += [
    (e, _pattern(V4_SCHEMA_BASE, e.tail), "v4") for e in ENDPOINTS if e.name in ("labels", "delete_label")
]


def route(method: str, path: str) -> Route | None:
    """The association endpoint ``method path`` names, or None."""
    for endpoint, pattern, version in _ROUTES:
        match = pattern.match(path)
        if match and endpoint.method == method:
            type_id = int(match[3]) if TYPE_ID in endpoint.tail else None
            return Route(endpoint, version, match[1], match[2], type_id)
    return None
