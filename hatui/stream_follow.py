"""The collector's change streams (issue 11): one long-lived command per node (`NodeReader.stream_command`)
whose lines wake the node's loop and, for an address, a DRBD 9 role and a failover-log line, are shown at
once from the line itself; the poll they wake stays the truth.  A mixin of `hatui.collector.Collector`
(its loops, `_publish_now`, `_publish_soon`), kept apart to keep each module readable."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hatui.probes import drbd, failover_log, keepalived
from hatui.transport import TransportError

if TYPE_CHECKING:
    from hatui.collector import _NodeLoop

STREAM_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
# failover-log lines streamed within this long make one snapshot; beyond MAX_PENDING_LOG streamed lines
# not yet read by a poll, the stream's lines are not shown (a flood: the polls catch up by offset)
STREAM_BURST_S = 0.005
MAX_PENDING_LOG = 200


class StreamFollower:
    _loops: dict[str, Any]
    _closing: bool
    _web_wake: asyncio.Event

    def _publish_now(self) -> None:
        raise NotImplementedError

    def _publish_soon(self) -> None:
        raise NotImplementedError

    async def _stream_loop(self, name: str) -> None:
        """Follow the node's change stream; each tag line wakes the node's loop (and, for an address,
        the web check).  A stream that stops is restarted with backoff and said with the node."""
        lp = self._loops[name]
        failures = 0
        while not self._closing:
            try:
                async for line in lp.transport.follow(lp.reader.stream_command()):
                    if line == "ready":
                        lp.stream, failures = "up", 0
                        continue
                    tag, _, rest = line.partition(" ")
                    if tag == "addr" and rest:
                        self._stream_address(lp, rest)
                    elif tag == "drbd" and rest:
                        self._stream_drbd(lp, rest)
                    elif tag == "log" and rest:
                        self._stream_log(lp, rest)
                    lp.wake.set()
                    if tag == "addr":
                        self._web_wake.set()
                why = "the stream ended"
            except TransportError as exc:
                why = str(exc)
            except Exception as exc:  # never let the stream take the collector down
                why = f"{type(exc).__name__}: {exc}"
            if self._closing:
                return
            failures += 1
            delay = STREAM_BACKOFF_S[min(failures - 1, len(STREAM_BACKOFF_S) - 1)]
            lp.stream = f"restarting in {delay:g} s ({why})"
            if lp.snapshot.error_kind != "host-key":  # a refused host key waits for the operator
                lp.wake.set()  # poll now: what the stream would have told may have changed meanwhile
            await asyncio.sleep(delay)

    def _stream_address(self, lp: _NodeLoop, line: str) -> None:
        """An address added or removed, as the node's kernel said it: shown at once (the VIP moving is what
        an operator watches for), the poll it wakes confirms it a round trip later."""
        snap = lp.snapshot
        new = keepalived.apply_addr_event(snap.addresses, line) if snap.reachable else None
        if new is None or new == snap.addresses:
            return
        lp.snapshot = replace(snap, addresses=new)
        lp.stream_addresses = (time.monotonic(), new)
        self._publish_now()

    def _stream_drbd(self, lp: _NodeLoop, line: str) -> None:
        """A DRBD 9 role change, as `drbdsetup events2` told it: shown at once, the poll confirms it."""
        snap = lp.snapshot
        new = drbd.apply_role_event(snap.drbd, line) if snap.reachable else None
        if new is None or new == snap.drbd:
            return
        lp.snapshot = replace(snap, drbd=new)
        lp.stream_drbd = (time.monotonic(), new)
        self._publish_now()

    def _stream_log(self, lp: _NodeLoop, line: str) -> None:
        """A failover-log line as `tail -F` streamed it: shown at once (a burst makes one snapshot, a few
        ms later); the poll it wakes reads it by offset and replaces it (the same event: no redraw)."""
        if not lp.snapshot.reachable or len(lp.pending_log) >= MAX_PENDING_LOG:
            return  # a flood: the polls catch up by offset
        event = failover_log.parse_failover_line(line, lp.reader.node).value
        if event is not None:
            lp.pending_log.append((time.monotonic(), event))
            self._publish_soon()

