"""A slow but answering node (300 ms added to every reply, by the lab's delay proxy in front of its sshd:
the lab's kernel has no sch_netem) is never shown unreachable, and its data stays live."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from hatui.collector import Collector
from hatui.config import load
from hatui.tui.app import HatuiApp
from hatui.tui.widgets import NodeHeader
from hatui_lab import delayproxy
from hatui_lab import observe as helpers

pytestmark = pytest.mark.lab

DELAY_MS = 300


def header(app, node: str) -> str:
    return str(app.screen.query_one(f"#node-{node}", NodeHeader).render())


async def test_a_node_300_ms_away_is_never_shown_unreachable(healthy_lab, tmp_path):
    cfg = load(str(helpers.LAB_DIR / "hatui-lab.yaml"))
    n1 = cfg.node("node1")
    with delayproxy.delayed(helpers.PLAN.node("node1").netns, n1.host, DELAY_MS) as port:
        known = delayproxy.known_hosts_for_port(n1.known_hosts, n1.host, port, tmp_path / "known_hosts")
        slow = replace(cfg, nodes=(replace(n1, port=port, known_hosts=known), cfg.node("node2")))
        app = HatuiApp(slow, Collector(slow))
        async with app.run_test(size=(120, 48)) as pilot:
            end = time.monotonic() + 30
            while time.monotonic() < end and not (app.snapshot and app.snapshot.node("node1").reachable
                                                   and "live" in header(app, "node1")):
                await pilot.pause(0.1)
            assert "live" in header(app, "node1"), header(app, "node1")
            shown, latencies, galera = [], [], []
            seen_at = None
            end = time.monotonic() + 15  # 15 intervals
            while time.monotonic() < end:
                await pilot.pause(0.05)
                shown.append(header(app, "node1"))
                n = app.snapshot.node("node1")
                if n.answered_at_epoch_s != seen_at and n.poll_latency_ms is not None:
                    seen_at = n.answered_at_epoch_s
                    latencies.append(n.poll_latency_ms)
                    galera.append(n.galera.cluster_status if n.galera else n.mysql_error)
        assert not [h for h in shown if "UNREACHABLE" in h or "last poll" in h], \
            sorted({h for h in shown if "UNREACHABLE" in h or "last poll" in h})
        # the delay really was there (every cycle's round trip took it), and MariaDB answered through it
        assert len(latencies) >= 10 and min(latencies) >= DELAY_MS, latencies
        assert galera.count("Primary") >= len(galera) - 1, galera  # the first cycle may still be connecting
