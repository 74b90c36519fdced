"""The HTTP mechanics of one client: a urllib3 connection pool, the environment read once, answers as bytes.

``requests`` was the client's HTTP layer; its per-request work (merging session settings, cookies,
hooks, a look-up of the CA bundle on disk, the environment's proxies and netrc) cost as much CPU as
everything else a request does, so the client sends through urllib3 (which ``requests`` is built
on) directly. What ``requests`` took from the environment is taken once, when the client starts:
the proxies that apply to HubSpot's host (``*_PROXY``, ``NO_PROXY``, read the way ``requests``
reads them) and a CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's, as
``requests`` does); a proxy's user and password (in its URL) go to the proxy as its basic auth, and a
SOCKS proxy needs PySocks, as with ``requests``. netrc is never read: its basic auth would replace the
bearer token. Redirects are never followed and nothing is retried here (the transport decides). No
Airflow import.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
import requests.utils
import urllib3

USER_AGENT = "airflow-provider-hubspot-assoc"
# Every request's own headers; the bearer token and the body's type are added per request.
BASE_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT}
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Failures of a send: urllib3's own, and a header or URL http.client refuses (ValueError). Their text
# may quote the request, token included: the transport names them by type only (``answers``).
SEND_ERRORS = (urllib3.exceptions.HTTPError, ValueError)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read in full.

    :param status_code: the HTTP status.
    :param headers: the headers, looked up without regard to case.
    :param content: the body (decoded from gzip or deflate when it came so).
    """

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON (``ValueError`` when it is not JSON); UTF-8, -16 or -32."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def json_bytes(body: Any) -> bytes:
    """A request body as JSON: compact, and no NaN or infinity, which are not JSON.

    Bodies are built by this package from the rows it checked, never cyclic: the encoder's check
    for cycles (a look-up per object, a quarter of its time) is left out.
    """
    return json.dumps(body, separators=(",", ":"), allow_nan=False, check_circular=False).encode()


def environ_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (None: direct, or ``NO_PROXY`` covers it)."""
    proxies = requests.utils.get_environ_proxies(base_url)
    scheme = urlsplit(base_url).scheme
    found = proxies.get(scheme) or proxies.get("all")
    return str(found) if found else None


def _manager(proxy: str | None, settings: dict[str, Any]) -> urllib3.PoolManager:
    """A pool manager, through ``proxy`` when one applies, its user and password (in its URL) sent as
    ``requests`` sends them: as the proxy's basic auth, never to HubSpot."""
    if proxy is None:
        return urllib3.PoolManager(**settings)
    parts = urlsplit(proxy)
    if parts.scheme.startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError:  # PySocks, as for requests; the message names no part of the proxy's URL
            raise ValueError("a SOCKS proxy in the environment needs PySocks (pip install PySocks)") from None
        return SOCKSProxyManager(proxy, **settings)
    auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}" if parts.username else None
    headers = urllib3.make_headers(proxy_basic_auth=auth) if auth else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, **settings)


def _ca_bundle() -> dict[str, str]:
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    return {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}


class Http:
    """Sends requests through one pool of at most ``pool_size`` kept-alive connections per host.

    :param base_url: HubSpot's host; the proxy that applies to it is read from the environment now.
    :param pool_size: connections kept per host (as many threads may send at once; more connect
        and close again).
    :param connect_timeout: seconds to connect.
    :param read_timeout: seconds to wait for an answer.
    """

    def __init__(self, base_url: str, pool_size: int, connect_timeout: float, read_timeout: float) -> None:
        self.proxy = environ_proxy(base_url)
        settings: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": pool_size,
            "block": False,
            "retries": False,
            "cert_reqs": "CERT_REQUIRED",
            **_ca_bundle(),
        }
        self.pool = _manager(self.proxy, settings)
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        # Without a proxy, a request to HubSpot's host goes straight to that host's pool: the manager
        # would parse the URL and look the pool up again at every request.
        parts = urlsplit(base_url)
        direct = self.proxy is None and "@" not in parts.netloc and parts.scheme in ("http", "https")
        self._origin = f"{parts.scheme}://{parts.netloc}/" if direct else None
        self._host_pool = self.pool.connection_from_url(base_url) if direct else None

    def send(
        self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """One attempt, its answer read in full; a redirect is returned, not followed.

        Raises one of ``SEND_ERRORS`` when no whole answer came.
        """
        origin = self._origin
        pool: urllib3.PoolManager | urllib3.HTTPConnectionPool = self.pool
        if origin is not None and self._host_pool is not None and url.startswith(origin):
            pool, url = self._host_pool, url[len(origin) - 1 :]  # the path (and query), on the host's pool
        answer = pool.urlopen(
            method,
            url,
            body=body,
            headers={**BASE_HEADERS, **(headers or {})},
            timeout=self.timeout,
            retries=False,
            redirect=False,
            preload_content=True,
        )
        return Answer(answer.status, answer.headers, answer.data)

    def close(self) -> None:
        """Close the kept-alive connections; a request sent after this opens a new one."""
        self.pool.clear()  # the manager forgets its pools (their connections close as they go) ...
        host_pool, self._host_pool = self._host_pool, None
        if host_pool is not None:
            host_pool.close()  # ... but this one is held here too: closed now, not left open
