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
        await asyncio.sleep(0.1)
        snap = await col.fresh()
        assert snap.node("node1").stream.startswith("restarting"), snap.node("node1").stream
        await asyncio.sleep(1.3)  # backoff 1 s: started again
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
