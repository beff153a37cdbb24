"""Event-driven polling (issue 11): a node's change stream wakes its loop, a stream that stops is
restarted and said with the node, and a cycle has a deadline of 1.5 intervals."""

from __future__ import annotations

import asyncio

from hatui.collector import Collector, cycle_deadline_s
from hatui.model import CommandResult
from hatui.transport import TransportError
from tests.recordings import CONFIG


class StreamingNode:
    def __init__(self) -> None:
        self.batches = 0
        self.timeouts: list[float | None] = []
        self.events: asyncio.Queue[str | None] = asyncio.Queue()
        self.follows = 0

    async def batch(self, commands, timeout_s=None):
        self.batches += 1
        self.timeouts.append(timeout_s)
        return {k: CommandResult(0, "") for k in commands}

    async def mysql_socket(self, socket):
        raise TransportError("no MariaDB here")

    async def follow(self, command):
        self.follows += 1
        assert "ip -o monitor address" in command and "tail -n 0 -F" in command
        yield "ready"
        while (line := await self.events.get()) is not None:
            yield line

    async def close(self):
        pass


async def test_a_stream_event_polls_the_node_at_once_and_a_dead_stream_is_restarted_and_said():
    col = Collector(CONFIG)
    nodes = {n: StreamingNode() for n in col.transports}
    for n, fake in nodes.items():
        col._loops[n].transport = fake  # type: ignore[assignment]
    col.start()
    try:
        fake = nodes["node1"]
        for _ in range(50):
            await asyncio.sleep(0.02)
            if col._loops["node1"].stream == "up" and fake.batches:
                break
        before = fake.batches
        await fake.events.put("addr")  # the VIP appeared or went: poll now, not at the next interval
        for _ in range(25):
            await asyncio.sleep(0.02)
            if fake.batches > before:
                break
        assert fake.batches > before, "the event did not wake the loop within 0.5 s (interval 1 s)"
        await fake.events.put(None)  # the stream's channel closes
        for _ in range(50):
            if col._loops["node1"].stream.startswith("restarting"):
                break
            await asyncio.sleep(0.02)
        snap = await col.fresh()
        assert snap.node("node1").stream.startswith("restarting"), snap.node("node1").stream
        for _ in range(100):  # backoff 1 s: started again
            if fake.follows == 2:
                break
            await asyncio.sleep(0.05)
        assert fake.follows == 2
    finally:
        await col.close()


async def test_each_cycle_has_a_deadline_of_one_and_a_half_intervals():
    assert cycle_deadline_s(CONFIG) == 1.5 * CONFIG.poll_interval_s
    col = Collector(CONFIG)
    fake = StreamingNode()
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    await col._poll("node1")
    assert fake.timeouts == [1.5 * CONFIG.poll_interval_s]


class SlowNode(StreamingNode):
    """Answers each batch after `delay_s` (the two nodes answer a few ms apart, as on the lab)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    async def batch(self, commands, timeout_s=None):
        await asyncio.sleep(self.delay_s)
        return await super().batch(commands, timeout_s)


async def test_the_scheduled_cycles_of_both_nodes_make_one_snapshot_and_an_event_is_published_at_once():
    """Each node's scheduled cycle and the web check end a few ms apart: one snapshot for the three (one
    diagnosis, one screen update a second, not three), and they stay on one schedule; a stream event's
    cycle, alone, is published as soon as it ends."""
    from dataclasses import replace

    col = Collector(replace(CONFIG, web=replace(CONFIG.web, url="")), streams=True)
    nodes = {"node1": SlowNode(0.005), "node2": SlowNode(0.015)}
    for n, fake in nodes.items():
        col._loops[n].transport = fake  # type: ignore[assignment]
    published: list[float] = []
    col.on_snapshot = lambda _snap: published.append(asyncio.get_running_loop().time())
    col.start()
    try:
        await asyncio.sleep(0.5)
        published.clear()
        await asyncio.sleep(3.0)  # 3 intervals: 3 snapshots, not 6
        assert len(published) == 3, published
        await asyncio.sleep(0.3)
        t0 = asyncio.get_running_loop().time()
        await nodes["node2"].events.put("log")
        for _ in range(100):
            if published:
                break
            await asyncio.sleep(0.005)
        assert published and published[-1] - t0 < 0.1
    finally:
        await col.close()


class SlowConnection:
    def __init__(self, rows):
        self.rows = rows

    def cursor(self):
        conn = self

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql):
                pass

            def fetchall(self):
                return conn.rows

        return Cursor()

    def close(self):
        pass


async def test_a_slow_mariadb_keeps_its_connection_while_its_query_is_still_on_its_way(monkeypatch):
    """300 ms away, a MariaDB connect (SSH channel, greeting, auth, query) outlasts a cycle.  The next
    cycle finds the query still running: that must not close the connection, or every cycle connects
    again and the node's MariaDB never answers again (measured through the lab's delay proxy)."""
    import time as _time

    import pymysql

    connects: list[float] = []

    def slow_connect(**_kw):
        connects.append(_time.monotonic())
        _time.sleep(0.4)
        return SlowConnection([("wsrep_cluster_status", "Primary")])

    monkeypatch.setattr(pymysql, "connect", slow_connect)

    class Forward(StreamingNode):
        async def mysql_socket(self, socket):
            return "/nonexistent/forward.sock"

    col = Collector(CONFIG, streams=False)
    lp = col._loops["node1"]
    lp.transport = Forward()  # type: ignore[assignment]
    first = asyncio.ensure_future(col._galera(lp))
    await asyncio.sleep(0.1)
    rows, why = await col._galera(lp)  # the next cycle, while the first still connects
    assert rows is None and "previous" in why
    assert (await first)[0] == [("wsrep_cluster_status", "Primary")]
    rows, why = await col._galera(lp)
    assert rows == [("wsrep_cluster_status", "Primary")] and why is None
    assert len(connects) == 1, "the connection was dropped and made again"
    lp.wsrep.close()


MONITOR_ADD = "2: eth0    inet 198.18.0.100/32 scope global eth0\\       valid_lft forever preferred_lft forever"


def test_an_address_line_of_ip_monitor_is_applied_to_the_node_s_addresses():
    from hatui.probes.keepalived import apply_addr_event, parse_ip_addr

    base = parse_ip_addr("2: eth0    inet 198.18.0.12/24 brd 198.18.0.255 scope global eth0").value
    added = apply_addr_event(base, MONITOR_ADD)  # the lines as the lab's `ip -o monitor address` printed them
    assert [a.address for a in added] == ["198.18.0.12", "198.18.0.100"]
    assert apply_addr_event(added, "Deleted " + MONITOR_ADD) == base
    assert apply_addr_event(base, "garbage") is None


async def test_the_vip_from_the_stream_is_shown_before_the_poll_it_wakes_answers():
    """The stream carries the `ip -o monitor address` line: the VIP is published from it at once, not a
    poll round trip later (the poll here takes 0.5 s), and the poll that began before it does not undo it."""

    class SlowPoll(StreamingNode):
        vip = False

        async def batch(self, commands, timeout_s=None):
            out = {k: CommandResult(0, "") for k in commands}  # `ip addr` runs first, the answer comes late
            out["addr"] = CommandResult(0, "2: eth0    inet 198.18.0.12/24 scope global eth0" +
                                        ("\n" + MONITOR_ADD.split("\\")[0] if self.vip else ""))
            await asyncio.sleep(0.5)
            return out

    col = Collector(CONFIG, streams=True)
    fake = SlowPoll()
    col._loops["node2"].transport = fake  # type: ignore[assignment]
    col._loops["node1"].transport = StreamingNode()  # type: ignore[assignment]
    holders: list[tuple[float, tuple[str, ...]]] = []
    col.on_snapshot = lambda s: holders.append((asyncio.get_running_loop().time(), s.vip_holders(CONFIG.vip)))
    col.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.02)
            if col._loops["node2"].stream == "up" and col._loops["node2"].done:
                break
        await asyncio.sleep(0.6)  # node2's next poll is under way now (each takes 0.5 s of a 1 s interval)
        t0 = asyncio.get_running_loop().time()
        fake.vip = True
        await fake.events.put("addr " + MONITOR_ADD)
        for _ in range(100):
            if any("node2" in h for _, h in holders):
                break
            await asyncio.sleep(0.005)
        assert any("node2" in h for _, h in holders), "the VIP was not published from the stream's line"
        shown = next(t for t, h in holders if "node2" in h)
        assert shown - t0 < 0.1
        await asyncio.sleep(1.2)  # the polls that began before and after the line both answered
        assert all("node2" in h for t, h in holders if t >= shown)
    finally:
        await col.close()


async def test_a_streamed_log_line_is_shown_at_once_and_a_burst_makes_one_snapshot():
    """`tail -F` streams each failover-log line: it is shown before the poll it wakes has read it (the poll
    here takes 0.5 s), and the 50 lines of a burst make one or two snapshots, not 50."""

    class SlowPoll(StreamingNode):
        async def batch(self, commands, timeout_s=None):
            await asyncio.sleep(0.5)
            return await super().batch(commands, timeout_s)

    col = Collector(CONFIG, streams=True)
    fake = SlowPoll()
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    col._loops["node2"].transport = StreamingNode()  # type: ignore[assignment]
    seen: list[tuple[float, int]] = []
    col.on_snapshot = lambda s: seen.append((asyncio.get_running_loop().time(),
                                             sum("BURST" in e.raw for e in s.failover_events)))
    col.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.02)
            if col._loops["node1"].stream == "up" and col._loops["node1"].done:
                break
        await asyncio.sleep(0.6)
        before = len(seen)
        t0 = asyncio.get_running_loop().time()
        for i in range(50):
            fake.events.put_nowait(f"log 2026-12-01 11:49:47 - Keepalived notification on BURST{i}: "
                                   "State changed to MASTER (Type: INSTANCE)")
        for _ in range(100):
            if seen[before:] and seen[-1][1] == 50:
                break
            await asyncio.sleep(0.005)
        shown = [t for t, n in seen[before:] if n == 50]
        assert shown and shown[0] - t0 < 0.1, seen[before:]
        assert len([n for _, n in seen[before:] if n]) <= 2  # one burst, one snapshot (two at a boundary)
    finally:
        await col.close()
