"""The only reader of the nodes: one live loop per node (and one for the web page) that polls, backs
off and publishes ClusterSnapshots.  What to run and how to read it lives in `hatui.probes`.

Everything else — the TUI, `hatui status`, `hatui check`, the action executor — reads the snapshots
this publishes.  Who needs data newer than a moment (the executor checking a step) calls `fresh()`:
the loops run a cycle now and the call returns once every node has finished a cycle that started
after it.  Nothing else polls, so one failover-log line is one event and each node's MariaDB
connection is used by one loop only.

Each node has its own loop, so a node that hangs (say its sshd is SIGSTOPped) is marked unreachable
after the command timeout while the other node keeps updating.  One cycle of one node is ONE round
trip on its persistent shell plus one query on its persistent MariaDB connection, run concurrently.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pymysql

from hatui.config import Config
from hatui.model import ClusterSnapshot, CommandResult, DrbdResource, FailoverEvent, IpAddress, NodeSnapshot, WebCheck
from hatui.probes import failover_log
from hatui.probes.galera import QueryStillRunning, WsrepReader, mysql_why
from hatui.probes.node import NodeReader, node_from_raw
from hatui.probes.web import fetch_web
from hatui.stream_follow import STREAM_BURST_S, StreamFollower
from hatui.transport import HostKeyError, NodeTransport, TransportError, transports

MAX_EVENTS = 500
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)
# after a stream event, the next poll waits at least this long after the previous one began: a flood
# of events (a flapping notify script) costs at most 20 polls a second, not a busy loop
EVENT_MIN_GAP_S = 0.05
# the loops of both nodes and the web check begin their scheduled cycles together and end within a few
# ms of each other: a loop that ends while another is mid-cycle waits for it (at most this long) so that
# the three make one snapshot (one diagnosis, one screen update), not three.  A stream event's cycle runs
# alone and is published at once.
PUBLISH_WAIT_S = 0.03


def cycle_deadline_s(config: Config) -> float:
    """How long one cycle may take before the node counts as not answering: 1.5 intervals (at most the
    command timeout), so a hung node is shown unreachable within 2 intervals + 0.5 s of hanging, while
    a slow but answering one (300 ms of delay) is not."""
    return max(0.5, min(config.command_timeout_s, 1.5 * config.poll_interval_s))


@dataclass
class _NodeLoop:
    transport: NodeTransport
    reader: NodeReader
    wsrep: WsrepReader
    snapshot: NodeSnapshot
    events: collections.deque[FailoverEvent] = field(default_factory=lambda: collections.deque(maxlen=MAX_EVENTS))
    failures: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    started: int = 0  # cycles begun
    done: int = 0  # cycles finished
    wanted: int = 0  # the cycle a `fresh()` caller waits for
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) after each cycle
    stream: str = "starting"  # the change stream's state, shown with the node
    last_full_cycle: float = 0.0  # monotonic start of the last cycle that also queried MariaDB
    last_galera: tuple[list[tuple[str, str]] | None, str | None] | None = None
    due_at: float = float("inf")  # monotonic time of the next cycle while the loop sleeps
    # the addresses the stream last reported, and when (monotonic): newer than a poll that began before
    stream_addresses: tuple[float, tuple[IpAddress, ...]] | None = None
    stream_drbd: tuple[float, tuple[DrbdResource, ...]] | None = None  # the same for a DRBD 9 role change
    pending_log: list[tuple[float, FailoverEvent]] = field(default_factory=list)  # streamed, not yet polled


class Collector(StreamFollower):
    """Polls every node in its own loop and publishes ClusterSnapshots (merged, diagnosed).

    `start()` the loops (or await `run()`, e.g. from a Textual worker), read `latest` or get called
    back through `on_snapshot`, call `fresh()` for a snapshot newer than now, and `close()` at the end.
    `refresh_now()` and `paused` are the operator's: a paused collector still answers `fresh()`."""

    def __init__(self, config: Config, on_snapshot: Callable[[ClusterSnapshot], None] | None = None,
                 streams: bool | None = None) -> None:
        self.config = config
        # the change streams serve a live view; a one-shot `status` or a CLI action does without them
        self.streams = config.streams if streams is None else streams
        self.on_snapshot = on_snapshot
        self.paused = False
        self._loops = {
            name: _NodeLoop(t, NodeReader(config, name),
                            WsrepReader(config.mariadb.user, config.mariadb.password(), config.command_timeout_s),
                            NodeSnapshot(node=name, reachable=False, error="not polled yet"))
            for name, t in transports(config).items()
        }
        self._web: WebCheck | None = None
        self._web_wake = asyncio.Event()
        self._web_started = self._web_done = self._web_wanted = 0
        self._web_progress = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._publish_timer: asyncio.TimerHandle | None = None
        self._epoch = time.monotonic()  # the scheduled cycles' grid (set again by start())
        self._web_due_at = float("inf")
        self.latest: ClusterSnapshot | None = None
        # called with (node, raw poll, its NodeSnapshot) after every cycle of a node, the raw poll
        # being what each command printed (redacted), the wsrep rows and the new failover-log lines,
        # or {"reachable": False, "error", "error_kind"} when it did not answer (hatui/record/, the
        # fixtures script); and with each web answer.  A recorder must not raise.
        self.recorder: Callable[[str, dict, NodeSnapshot], None] | None = None
        self.web_recorder: Callable[[WebCheck], None] | None = None

    @property
    def transports(self) -> dict[str, NodeTransport]:
        return {n: lp.transport for n, lp in self._loops.items()}

    # ---- one node, one cycle (called by that node's loop only) -----------------------------------
    async def _galera(self, lp: _NodeLoop) -> tuple[list[tuple[str, str]] | None, str | None]:
        try:
            local_socket = await lp.transport.mysql_socket(self.config.mariadb.socket)
            query = lambda: lp.wsrep.query(unix_socket=local_socket)  # noqa: E731
            rows = await asyncio.wait_for(asyncio.to_thread(query), self.config.command_timeout_s + 1)
        except QueryStillRunning as exc:  # slow, not broken: its connection is kept for the next cycle
            return None, mysql_why(exc)
        except (TimeoutError, pymysql.MySQLError, OSError, TransportError) as exc:
            lp.wsrep.close()
            return None, mysql_why(exc)
        return rows, None

    async def _poll(self, name: str, light: bool = False) -> NodeSnapshot:
        """One cycle of one node.  `light` (a cycle a stream event asked for between two scheduled ones):
        the batch only, with the wsrep rows of the last full cycle (at most an interval old) — the event
        is about the VIP, the log or DRBD, and the MariaDB query would only add its latency."""
        lp = self._loops[name]
        t0, started_at = time.perf_counter(), time.monotonic()
        if light and lp.last_galera is not None:
            cached = lp.last_galera

            async def reuse() -> tuple[list[tuple[str, str]] | None, str | None]:
                return cached

            galera_task = asyncio.ensure_future(reuse())
        else:
            lp.last_full_cycle = time.monotonic()
            galera_task = asyncio.ensure_future(self._galera(lp))
        deadline = cycle_deadline_s(self.config)
        try:
            res = await lp.transport.batch(lp.reader.commands(), timeout_s=deadline)
            try:
                galera_rows, mysql_error = await asyncio.wait_for(asyncio.shield(galera_task),
                                                                  max(0.1, deadline - (time.perf_counter() - t0)))
            except TimeoutError:  # the node answers but its MariaDB does not: not an unreachable node
                galera_task.add_done_callback(lambda _t: None)
                galera_rows, mysql_error = None, "MariaDB did not answer within the cycle"
            lp.last_galera = (galera_rows, mysql_error)
        except TransportError as exc:
            galera_task.cancel()
            lp.wsrep.close()
            return self._unreachable(lp, str(exc), "host-key" if isinstance(exc, HostKeyError) else "network")

        async def run_more(cmds: dict[str, str]) -> dict[str, CommandResult]:
            try:
                return await lp.transport.batch(cmds)
            except TransportError:
                return {}  # the next full cycle decides whether the node is still reachable

        new_events = await lp.reader.absorb(res, run_more)
        lp.events.extend(new_events)
        if lp.pending_log:  # what the poll read replaces what the stream told; lines after its read stay
            polled = collections.Counter(e.raw for e in new_events)
            kept = []
            for at, ev in lp.pending_log:
                if polled[ev.raw]:
                    polled[ev.raw] -= 1
                elif at > started_at:
                    kept.append((at, ev))
            lp.pending_log = kept
        prev = lp.snapshot
        lp.failures = 0
        snap = node_from_raw(self.config, name, res, galera_rows, mysql_error)
        if lp.stream_addresses is not None and lp.stream_addresses[0] > started_at:
            # the stream told of a change after this poll's `ip addr` may have run: the poll it woke decides
            snap = replace(snap, addresses=lp.stream_addresses[1])
        if lp.stream_drbd is not None and lp.stream_drbd[0] > started_at:
            snap = replace(snap, drbd=lp.stream_drbd[1])
        lp.snapshot = replace(
            snap, since_epoch_s=prev.since_epoch_s if prev.reachable and prev.since_epoch_s else time.time(),
            failover_events=tuple(lp.events), poll_latency_ms=(time.perf_counter() - t0) * 1000,
            answered_at_epoch_s=time.time(), stream=lp.stream)
        if self.recorder is not None:
            self.recorder(name, {"batch": {k: [v.exit_status, v.output] for k, v in res.items()},
                                 "galera_rows": galera_rows, "mysql_error": mysql_error,
                                 "failover_lines": [e.raw for e in new_events]}, lp.snapshot)
        return lp.snapshot

    def _unreachable(self, lp: _NodeLoop, why: str, kind: str = "network") -> NodeSnapshot:
        prev = lp.snapshot
        lp.failures += 1
        since = prev.since_epoch_s if not prev.reachable and prev.since_epoch_s else time.time()
        lp.snapshot = replace(prev, reachable=False, since_epoch_s=since, error=why, error_kind=kind,  # type: ignore[arg-type]
                              failover_events=tuple(lp.events), poll_latency_ms=None)
        if self.recorder is not None:
            self.recorder(lp.reader.node, {"reachable": False, "error": why, "error_kind": kind}, lp.snapshot)
        return lp.snapshot

    # ---- the web page through the VIP ----------------------------------------------------------
    async def _check_web(self) -> WebCheck | None:
        url = self.config.web.url
        if not url:
            return None
        self._web = await fetch_web(url, self.config.web.expect_text, self.config.command_timeout_s)
        if self.web_recorder is not None:
            self.web_recorder(self._web)
        return self._web

    # ---- snapshots --------------------------------------------------------------------------------
    def snapshot(self) -> ClusterSnapshot:
        """The latest data of every node and the web page, merged and diagnosed (no node is read)."""
        from hatui.diagnosis import diagnose

        merged = failover_log.merge_failover_events(
            *((*lp.events, *(ev for _, ev in lp.pending_log)) if lp.pending_log else lp.events
              for lp in self._loops.values()))
        cluster = ClusterSnapshot(taken_at_epoch_s=time.time(), nodes=tuple(lp.snapshot for lp in self._loops.values()),
                                  web=self._web, failover_events=merged)
        cluster = replace(cluster, findings=diagnose(cluster, self.config))
        self.latest = cluster
        return cluster

    async def fresh(self) -> ClusterSnapshot:
        """A snapshot whose every node read began after this call: asks each loop for a cycle now and
        waits until it is done.  Starts the loops if they are not running (`hatui status`)."""
        if not self._tasks:
            self.start()
        waits = []
        for lp in self._loops.values():
            lp.wanted = max(lp.wanted, lp.started + 1)
            lp.wake.set()
            waits.append(self._until(lambda lp=lp, n=lp.wanted: lp.done >= n, lambda lp=lp: lp.progress))
        if self.config.web.url:
            self._web_wanted = max(self._web_wanted, self._web_started + 1)
            self._web_wake.set()
            waits.append(self._until(lambda n=self._web_wanted: self._web_done >= n, lambda: self._web_progress))
        await asyncio.gather(*waits)
        return self.snapshot()

    async def snapshot_once(self) -> ClusterSnapshot:
        """One fresh snapshot (for `hatui status` / `hatui check`): the same as `fresh()`."""
        return await self.fresh()

    async def _until(self, done: Callable[[], bool], event: Callable[[], asyncio.Event]) -> None:
        while not done():
            if any(t.done() for t in self._tasks):
                raise RuntimeError("a polling loop has stopped: " + "; ".join(
                    repr(t.exception()) for t in self._tasks if t.done() and not t.cancelled() and t.exception()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event().wait(), 1.0)

    # ---- live loops -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._tasks:
            return
        self._epoch = time.monotonic()
        for name in self._loops:
            self._tasks.append(asyncio.create_task(self._node_loop(name), name=f"poll-{name}"))
            if self.streams:
                self._tasks.append(asyncio.create_task(self._stream_loop(name), name=f"stream-{name}"))
        self._tasks.append(asyncio.create_task(self._web_loop(), name="poll-web"))

    async def run(self) -> None:
        """Run the loops until cancelled; a loop that dies raises here (for a Textual worker to show)."""
        self.start()
        await asyncio.gather(*self._tasks)

    def refresh_now(self) -> None:
        """The operator's `r`: poll now, and try again a host key that was refused (after fixing known_hosts)."""
        for lp in self._loops.values():
            lp.failures = 0
            retry = getattr(lp.transport, "retry_host_key", None)
            if retry is not None and lp.snapshot.error_kind == "host-key":
                retry()
            lp.wake.set()
        self._web_wake.set()

    def _until_tick(self, interval: float) -> float:
        """Seconds to the next scheduled cycle.  Every loop's are on one grid (multiples of the interval
        since start): the nodes and the web check poll together, so their cycles make one snapshot (see
        _publish), and a cycle a stream event asked for in between does not shift a node's schedule."""
        return interval - (time.monotonic() - self._epoch) % interval

    async def _sleep(self, event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()

    async def _node_loop(self, name: str) -> None:
        lp = self._loops[name]
        interval = self.config.poll_interval_s
        while not self._closing:
            started = time.monotonic()
            lp.due_at = float("inf")
            if not self.paused or lp.wanted > lp.done:
                lp.started += 1
                lp.wake.clear()  # an event from now on asks for another cycle
                light = lp.wanted <= lp.done and started - lp.last_full_cycle < interval
                try:
                    await self._poll(name, light=light)
                except Exception as exc:  # a bug or odd output must not end the loop (or freeze "live")
                    self._unreachable(lp, f"{type(exc).__name__}: {exc}", "hatui")
                finally:
                    lp.done = lp.started
                    lp.progress.set()
                    lp.progress = asyncio.Event()
                self._publish()
            if lp.wanted > lp.done:
                delay = 0.0
            elif lp.wake.is_set() and not lp.failures:  # a stream event came during this poll
                delay = max(0.0, EVENT_MIN_GAP_S - (time.monotonic() - started))
            elif lp.snapshot.error_kind == "host-key":
                # never a silent reconnect loop against a key that does not verify: wait for the
                # operator (r, after fixing known_hosts) or a caller of fresh()
                delay = 3600.0
            elif lp.failures:
                delay = BACKOFF_S[min(lp.failures - 1, len(BACKOFF_S) - 1)]
            else:
                delay = self._until_tick(interval)
            lp.due_at = time.monotonic() + delay
            await self._sleep(lp.wake, delay)

    def _publish_soon(self) -> None:
        """Publish within STREAM_BURST_S: the lines of one burst make one snapshot."""
        if self._publish_timer is None and self.on_snapshot is not None:
            self._publish_timer = asyncio.get_running_loop().call_later(STREAM_BURST_S, self._publish_now)

    async def _web_loop(self) -> None:
        while not self._closing:
            self._web_due_at = float("inf")
            if not self.paused or self._web_wanted > self._web_done:
                self._web_started += 1
                try:
                    await self._check_web()
                finally:
                    self._web_done = self._web_started
                    self._web_progress.set()
                    self._web_progress = asyncio.Event()
                self._publish()
            delay = 0.0 if self._web_wanted > self._web_done else self._until_tick(self.config.poll_interval_s)
            self._web_due_at = time.monotonic() + delay
            await self._sleep(self._web_wake, delay)

    def _mid_cycle(self) -> bool:
        """Whether a loop is in a cycle, or should have begun one by now (its timer fires a moment later
        than another's: the loops of one tick do not wake in the same turn)."""
        soon = time.monotonic() + 0.002
        return any(lp.started > lp.done or lp.due_at <= soon for lp in self._loops.values()) or \
            self._web_started > self._web_done or self._web_due_at <= soon

    def _publish(self) -> None:
        """Hand the new snapshot to the listener (the TUI posts it as a message that replaces an older
        one still pending, so a busy screen draws only the newest) — once the other loops' cycles that
        run now are done too, or PUBLISH_WAIT_S from now, whichever comes first."""
        if self.on_snapshot is None:
            return
        if not self._mid_cycle():
            self._publish_now()
        elif self._publish_timer is None:
            self._publish_timer = asyncio.get_running_loop().call_later(PUBLISH_WAIT_S, self._publish_now)

    def _publish_now(self) -> None:
        if self._publish_timer is not None:
            self._publish_timer.cancel()
            self._publish_timer = None
        if self.on_snapshot is not None and not self._closing:
            self.on_snapshot(self.snapshot())

    async def close(self) -> None:
        """Stop the loops and close every connection.  A loop that had died keeps its exception in
        `errors` (it was raised through `run()` already)."""
        self.errors: list[BaseException] = []
        self._closing = True  # a loop whose cancel was swallowed (3.11's wait_for can) ends at its next turn
        if self._publish_timer is not None:
            self._publish_timer.cancel()
            self._publish_timer = None
        for task in self._tasks:
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=1.0)
            if not task.cancelled() and task.exception() is not None:
                self.errors.append(task.exception())  # type: ignore[arg-type]
        self._tasks.clear()
        for lp in self._loops.values():
            lp.wsrep.close()
            await lp.transport.close()
