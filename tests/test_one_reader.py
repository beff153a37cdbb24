"""Only the live loops read the nodes: a caller that wants fresh data (`hatui status`, the action
executor) asks the loops for a cycle instead of polling beside them.

Regression (issue 8, item 1): the executor called `snapshot_once()` → `poll_node()` while the live loop
polled the same node; both read the failover log's byte offset before awaiting, so one new line became
two events and the next line was skipped, and one pymysql connection was used from two threads."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from hatui.collector import Collector
from hatui.config import parse
from hatui.model import CommandResult
from hatui.transport import TransportError

CONFIG = parse("""\
nodes:
  - {name: node1, host: 198.18.0.11, identity_file: /nonexistent/id, known_hosts: /nonexistent/kh}
  - {name: node2, host: 198.18.0.12, identity_file: /nonexistent/id, known_hosts: /nonexistent/kh}
vip: 198.18.0.100
poll_interval_s: 0.2
""", Path("one-reader.yaml"))

LINE = "2026-12-01 08:00:{:02d} - Keepalived notification on VI_1: State changed to {} (Type: INSTANCE)\n"


class LogNode:
    """A node whose failover log grows; answers the collector's log commands from its bytes, slowly
    enough (a few ms per round trip, like SSH) that two readers overlap."""

    def __init__(self) -> None:
        self.log = b""
        self.concurrent = 0
        self.max_concurrent = 0

    async def batch(self, commands: dict[str, str], timeout_s: float | None = None) -> dict[str, CommandResult]:
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            snapshot_of_log = self.log
            await asyncio.sleep(0.01)
            out = {}
            for name, cmd in commands.items():
                text = ""
                if name == "log":
                    if m := re.search(r"tail -c \+(\d+)", cmd):
                        text = snapshot_of_log[int(m.group(1)) - 1:].decode()
                    elif re.search(r"tail -n \d+", cmd):
                        text = snapshot_of_log.decode()
                    if cmd.startswith("echo -"):
                        text = "-\n" + text
                    elif cmd.startswith("stat"):
                        text = f"{len(snapshot_of_log)}\n" + text
                out[name] = CommandResult(0, text)
            return out
        finally:
            self.concurrent -= 1

    async def mysql_socket(self, socket: str) -> int:
        raise TransportError("no MariaDB here")

    async def close(self) -> None:
        pass


async def test_fresh_snapshots_while_the_loops_run_read_each_log_line_once() -> None:
    col = Collector(CONFIG)
    nodes = {name: LogNode() for name in col.transports}
    for name, fake in nodes.items():
        col._loops[name].transport = fake  # type: ignore[assignment]
    col.start()
    try:
        states = ["MASTER", "BACKUP"]
        for i in range(12):
            for fake in nodes.values():
                fake.log += LINE.format(i, states[i % 2]).encode()
            # what the executor does to check a step, while the loops keep polling on their own
            await asyncio.gather(col.snapshot_once(), col.snapshot_once())
        snap = await col.snapshot_once()
    finally:
        await col.close()
    for name, fake in nodes.items():
        seen = [ev.raw for ev in snap.node(name).failover_events]
        expected = [LINE.format(i, states[i % 2]).rstrip("\n") for i in range(12)]
        assert seen == expected, f"{name}: each line exactly once, in order"
        assert fake.max_concurrent == 1, f"{name}: two reads of the node overlapped"
