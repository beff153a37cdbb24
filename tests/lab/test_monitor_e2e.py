"""The monitor against the real lab: `hatui status --json`, `hatui check` and the live TUI following faults."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest

from hatui.collector import Collector
from hatui.config import load
from hatui_lab import observe as helpers
from hatui.tui.app import HatuiApp
from hatui.tui.widgets import DrbdPanel, NodeHeader

pytestmark = pytest.mark.lab


def config():
    return load(str(helpers.LAB_DIR / "hatui-lab.yaml"))


def hatui(*args: str) -> subprocess.CompletedProcess[str]:
    return helpers.hatui_cli(*args, timeout_s=60)


async def wait_app(pilot, what: str, cond, timeout_s: float):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if pilot.app.snapshot is not None and cond(pilot.app):
            return time.monotonic() - t0
        await pilot.pause(0.1)
    raise AssertionError(f"TUI did not show {what} within {timeout_s} s; findings: "
                         f"{[f.title for f in pilot.app.snapshot.findings] if pilot.app.snapshot else None}")


def header(app, node: str) -> str:
    return str(app.screen.query_one(f"#node-{node}", NodeHeader).render())


def codes(app) -> set[str]:
    return {f.code for f in app.snapshot.findings}



async def test_tui_follows_failover_and_galera_quorum_loss(fresh_lab):
    cfg = config()
    app = HatuiApp(cfg, Collector(cfg))
    async with app.run_test(size=(110, 46)) as pilot:
        await wait_app(pilot, "the healthy pair", lambda a: "MASTER" in header(a, "node1"), 10)
        t0 = time.monotonic()
        await asyncio.to_thread(helpers.hatui_lab, "fault", "kill-mariadb", "node1")
        await wait_app(pilot, "the VIP on node2", lambda a: "VIP" in header(a, "node2"), 20)
        took = time.monotonic() - t0
        assert took < 20
        await wait_app(pilot, "node2 non-Primary", lambda a: "galera-non-primary" in codes(a), 25)
        await wait_app(pilot, "MariaDB down on node1", lambda a: "mariadb-down" in codes(a), 5)


async def test_tui_marks_powered_off_node_and_keeps_the_other(fresh_lab):
    cfg = config()
    app = HatuiApp(cfg, Collector(cfg))
    async with app.run_test(size=(110, 46)) as pilot:
        await wait_app(pilot, "the healthy pair", lambda a: "BACKUP" in header(a, "node2"), 10)
        await asyncio.to_thread(helpers.hatui_lab, "fault", "power-off", "node2")
        await wait_app(pilot, "node2 unreachable", lambda a: "UNREACHABLE" in header(a, "node2"), 15)
        seen = app.snapshot.node("node1")
        await pilot.pause(2.5)
        assert app.snapshot.node("node1").poll_latency_ms is not None
        assert app.snapshot.taken_at_epoch_s > seen.since_epoch_s  # node1 keeps updating
        assert "node-unreachable" in codes(app) and "drbd-disconnected" in codes(app)


async def test_tui_follows_drbd_resync_to_100(fresh_lab):
    cfg = config()
    app = HatuiApp(cfg, Collector(cfg))
    async with app.run_test(size=(110, 46)) as pilot:
        await wait_app(pilot, "the healthy pair", lambda a: "BACKUP" in header(a, "node2"), 10)
        res = await asyncio.to_thread(helpers.ssh, "node2", "drbdadm invalidate r0")
        assert res.returncode == 0, res.stderr
        panel = app.screen.query_one(DrbdPanel)
        await wait_app(pilot, "resync progress", lambda a: panel.has_class("-syncing"), 5)
        seen: list[float] = []

        def progressing(a) -> bool:
            p = panel.query_one("#drbd-progress").progress
            if panel.has_class("-syncing") and (not seen or p != seen[-1]):
                seen.append(p)
            return not panel.has_class("-syncing")

        await wait_app(pilot, "the resync to finish", progressing, 60)
        assert len(seen) >= 3 and seen == sorted(seen), seen
        r = next(n for n in app.snapshot.nodes if n.node == "node2").drbd[0]
        assert r.disk_state == "UpToDate" and r.peer_disk_state == "UpToDate"


async def test_hung_node_does_not_freeze_the_ui(fresh_lab):
    cfg = config()
    app = HatuiApp(cfg, Collector(cfg))
    stopped: list[int] = []
    try:
        async with app.run_test(size=(110, 46)) as pilot:
            await wait_app(pilot, "the healthy pair", lambda a: "BACKUP" in header(a, "node2"), 10)
            # SIGSTOP every sshd of node2 (listener and the session serving hatui): it hangs, it does not close
            for pid in helpers.sshd_pids("node2"):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            assert stopped
            await wait_app(pilot, "node2 unreachable", lambda a: "UNREACHABLE" in header(a, "node2"), 15)
            before = app.snapshot.taken_at_epoch_s
            t0 = time.monotonic()
            await pilot.press("question_mark")  # the UI answers keys while node2 hangs
            assert time.monotonic() - t0 < 1.0
            await pilot.press("escape")
            await pilot.pause(2.5)
            assert app.snapshot.taken_at_epoch_s > before and app.snapshot.node("node1").reachable
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)

