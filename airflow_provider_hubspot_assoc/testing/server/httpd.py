"""The HTTP side: a threading server on 127.0.0.1 and a handler that moves bytes to and from the simulator.

The handler reads the request body (``Content-Length`` or ``Transfer-Encoding: chunked``), hands
(method, path, headers, body) to ``HubSpotSimulator.handle`` and writes its answer, keeping
connections alive (HTTP/1.1). A body it cannot frame gets a 400 and the connection is closed, since
the next request's start is unknown. It never logs headers, so never a token.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc.testing.server.errors import Drop

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc.testing.server.simulator import HubSpotSimulator

log = logging.getLogger("airflow_provider_hubspot_assoc.testing.server")

MAX_LINE = 8192  # bytes in a chunk-size or trailer line (the stdlib's own header line limit is 65536)


class BadFraming(ValueError):
    """A request body whose length cannot be known: bad ``Content-Length`` or chunked encoding."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Handler(BaseHTTPRequestHandler):
    """Moves bytes between the socket and ``HubSpotSimulator.handle``; keeps connections alive."""

    sim: HubSpotSimulator
    protocol_version = "HTTP/1.1"
    server_version = "HubSpotSimulator/1.0"

    def _serve(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._body()
        except BadFraming as error:
            self.close_connection = True
            self._send(*self.sim.unreadable(self.command, self.path, str(error)))
            return
        try:
            status, answer_headers, payload = self.sim.handle(self.command, self.path, headers, body)
        except Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(status, answer_headers, payload)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the simulator's clock, whose midnight ends the account's day."""
        return self.sim.limits.clock.http_date()

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and status != 204:
            self.wfile.write(payload)

    def _body(self) -> bytes:
        """The request body, framed by ``Transfer-Encoding: chunked`` or ``Content-Length``."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:  # it wins over Content-Length (RFC 9112, section 6.3)
            if encoding.strip().lower() != "chunked":
                raise BadFraming(f"Transfer-Encoding {encoding.strip()!r} is not supported, only chunked")
            return self._chunked()
        length = (self.headers.get("Content-Length") or "0").strip()
        if not length.isdigit():
            raise BadFraming(f"Content-Length must be a whole number of bytes, got {length!r}")
        return self.rfile.read(int(length)) if int(length) else b""

    def _chunked(self) -> bytes:
        """Chunks until the zero-size one; chunk extensions and trailer fields are skipped."""
        parts: list[bytes] = []
        while True:
            size_field = self._line().split(b";", 1)[0].strip()
            if not size_field or any(c not in b"0123456789abcdefABCDEF" for c in size_field):
                raise BadFraming(f"a chunk size must be hexadecimal, got {size_field[:20]!r}")
            size = int(size_field, 16)
            if size == 0:
                break
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.read(2) != b"\r\n":
                raise BadFraming("a chunk is shorter than its size or not ended by CRLF")
            parts.append(data)
        while self._line().strip():  # trailer fields, up to the empty line
            pass
        return b"".join(parts)

    def _line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE or not line.endswith(b"\n"):
            raise BadFraming("a line of the chunked body is too long or cut off")
        return line

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line holds the method and path only; headers (and so the token) are never logged.
        log.debug("%s %s", self.address_string(), format % args)


def handler_for(sim: HubSpotSimulator) -> type[Handler]:
    """A handler class bound to one simulator (the server makes one handler per connection)."""
    return type("SimulatorHandler", (Handler,), {"sim": sim})
