"""The web check on loopback servers: a page sent in pieces, a wrong page, a refused connection."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from hatui.probes.web import fetch_web

EXPECT = "HA Web Service is running on node"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.1)  # the body arrives in a second segment
            self.wfile.write(b"HA Web Service is running on node node7\n")
        else:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"not here\n")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


async def test_page_in_pieces_names_the_node(server):
    w = await fetch_web(f"{server}/slow", EXPECT, 3)
    assert w.ok and w.node == "node7" and w.status == 200 and w.latency_ms >= 100


async def test_wrong_page_is_a_failure(server):
    w = await fetch_web(f"{server}/other", EXPECT, 3)
    assert not w.ok and w.status == 404 and w.node is None and "HTTP 404" in w.error


async def test_refused_connection_is_a_failure():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    w = await fetch_web(f"http://127.0.0.1:{port}/", EXPECT, 2)
    assert not w.ok and w.latency_ms is None and w.error
