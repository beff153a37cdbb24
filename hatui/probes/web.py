"""The status page fetched through the VIP from the workstation's side: what a client would see.

A plain HTTP/1.0 GET over asyncio streams (no extra dependency), timed; the page names the node that
served it ("HA Web Service is running on node NAME")."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from hatui.model import WebCheck
from hatui.probes import printable


async def fetch_web(url: str, expect_text: str, timeout_s: float) -> WebCheck:
    """GET `url` with a plain HTTP/1.0 request, timed; never raises (a failure is a WebCheck too)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=parts.scheme == "https" or None), timeout_s)
        path = parts.path or "/"
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: hatui\r\n\r\n".encode())
        async def read_all() -> bytes:  # HTTP/1.0: the server closes when done; the page may come in pieces
            data = b""
            while len(data) < 65536 and (chunk := await reader.read(65536)):
                data += chunk
            return data

        raw = await asyncio.wait_for(read_all(), timeout_s)
        writer.close()
    except (TimeoutError, OSError) as exc:
        why = "timed out" if isinstance(exc, asyncio.TimeoutError) else (exc.strerror or str(exc))
        return WebCheck(url=url, ok=False, node=None, latency_ms=None, error=why)
    latency = (time.perf_counter() - t0) * 1000
    head, _, body = raw.decode(errors="replace").partition("\r\n\r\n")
    status_line = head.split("\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
    text = printable(body.strip(), keep_lines=True)  # the page is the node's text: no escapes reach a screen
    node = None
    if expect_text in text:
        node = text.split(expect_text, 1)[1].split()[0] if text.split(expect_text, 1)[1].split() else None
    ok = status == 200 and expect_text in text
    return WebCheck(url=url, ok=ok, node=node, latency_ms=latency, status=status, body=text[:200],
                    error=None if ok else f"HTTP {status}: unexpected page" if status else "no HTTP answer")
