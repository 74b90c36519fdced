"""The HTTP side: a threading server on 127.0.0.1 and a handler that moves bytes to and from the simulator.

The handler reads the request, hands (method, path, headers, body) to ``HubSpotSimulator.handle``
and writes its answer, keeping connections alive (HTTP/1.1). It never logs headers, so never a token.
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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, answer_headers, payload = self.sim.handle(self.command, self.path, headers, body)
        except Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and status != 204:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line holds the method and path only; headers (and so the token) are never logged.
        log.debug("%s %s", self.address_string(), format % args)


def handler_for(sim: HubSpotSimulator) -> type[Handler]:
    """A handler class bound to one simulator (the server makes one handler per connection)."""
    return type("SimulatorHandler", (Handler,), {"sim": sim})
