"""Issue 11's figures on a lab of its own (never the demo's), each printed beside its target:

* event → screen, p50/p95 over N events each, measured from the change on the node (the node's own
  clock, which is the workstation's: the lab's nodes are namespaces of this machine) to the moment the
  app's widget shows it:  the VIP appearing on a node · a new failover-log line · (with --drbd9) a DRBD
  role change                                                                           p95 ≤ 100 ms
* CPU of the headless app (collector + rendering, streams on), RSS, new SSH channels per minute in
  steady state                                                               ≤ 2 %, ≤ 100 MB, 0
* a hung node (its sshd processes SIGSTOPped) → shown UNREACHABLE                   ≤ 2 × interval + 0.5 s
* 300 ms added to every reply of a node → never shown unreachable over the measured time.  The lab's
  kernel has no sch_netem (`tc qdisc add dev eth0 root netem delay 300ms`: "Specified qdisc kind is
  unknown"; CONFIG_NET_SCH_NETEM is not set, no modules), so hatui_lab/delayproxy.py delays the replies
  of node1's sshd inside its namespace and this phase connects through it

    sudo python benchmarks/events.py [--events 12] [--seconds 60] [--drbd9]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from textual.screen import Screen

os.environ.setdefault("HATUI_LAB_NAME", "hatuibench")
os.environ.setdefault("HATUI_LAB_SUBNET", "198.18.7.0/24")

from hatui.collector import Collector
from hatui.config import load
from hatui.tui.app import HatuiApp
from hatui.tui.widgets import DrbdPanel, NodeHeader
from hatui_lab import delayproxy, observe
from monitor import cpu_s, rss_mb  # the same readings as benchmarks/monitor.py


def in_ns(node: str, *argv: str) -> float:
    """Run argv in the node's network namespace; returns the time right after it changed things."""
    subprocess.run(["ip", "netns", "exec", observe.PLAN.node(node).netns, *argv], check=True,
                   capture_output=True, timeout=10)
    return time.time()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p * len(s)) - 1))]


_WATCH: list = []  # [condition, wall time of the first frame painted while it held]
_paint = Screen._compositor_refresh


def _painted(self) -> None:
    _paint(self)
    if _WATCH and _WATCH[1] is None and _WATCH[0]():
        _WATCH[1] = time.time()


Screen._compositor_refresh = _painted  # type: ignore[method-assign]


async def until(pilot, cond, timeout_s: float = 10.0) -> float | None:
    """Wait for `cond` (read from the widgets); returns when it held (no frame needed)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return time.time()
        await asyncio.sleep(0.002)
    return None


async def painted(pilot, cond, timeout_s: float = 10.0) -> float | None:
    """Wall time of the first frame painted with `cond` true (checked right after each screen update):
    the moment the change is on screen.  Plain sleeps (the app runs in this loop): pilot.pause() also
    waits for the app to be idle, which on the loaded lab machine added tens of ms to each reading."""
    _WATCH[:] = [cond, None]
    end = time.monotonic() + timeout_s
    try:
        while time.monotonic() < end and _WATCH[1] is None:
            await asyncio.sleep(0.002)
        return _WATCH[1]
    finally:
        _WATCH.clear()


def shows(widget) -> str:
    """The text a Static shows (its content may be a Rich table), unwrapped: at the panel's own width a
    cell such as "Secondary (peer Secondary)" folds over two lines, and a search for it never matched."""
    console = Console(width=240, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


async def slow_node(cfg, seconds: float) -> tuple[bool, list[float], float, int]:
    """node1 behind the delay proxy (300 ms on every reply): was it ever shown unreachable or stale?"""
    n1 = cfg.node("node1")
    with tempfile.TemporaryDirectory() as tmp, \
            delayproxy.delayed(observe.PLAN.node("node1").netns, n1.host, 300) as port:
        known = delayproxy.known_hosts_for_port(n1.known_hosts, n1.host, port, Path(tmp) / "known_hosts")
        slow = replace(cfg, nodes=(replace(n1, port=port, known_hosts=known), cfg.node("node2")))
        collector = Collector(slow)
        app = HatuiApp(slow, collector)
        async with app.run_test(size=(120, 48)) as pilot:
            header = lambda: str(app.screen.query_one("#node-node1", NodeHeader).render())  # noqa: E731
            await until(pilot, lambda: "live" in header(), 30)
            ever, lat, primary, seen = False, [], 0, None
            w0 = time.monotonic()
            while time.monotonic() - w0 < seconds:
                await pilot.pause(0.05)
                ever |= "UNREACHABLE" in header() or "last poll" in header()
                n = app.snapshot.node("node1")
                if n.answered_at_epoch_s != seen and n.poll_latency_ms is not None:
                    seen = n.answered_at_epoch_s
                    lat.append(n.poll_latency_ms)
                    primary += bool(n.galera and n.galera.cluster_status == "Primary")
            wall = time.monotonic() - w0
        await collector.close()
    return ever, lat or [float("nan")], wall, primary


def report(what: str, lat_ms: list[float], target: float = 100) -> None:
    if not lat_ms:
        print(f"{what}: not observed")
        return
    print(f"{what}: p50 {statistics.median(lat_ms):.0f} ms, p95 {pct(lat_ms, 0.95):.0f} ms, max {max(lat_ms):.0f} ms "
          f"over {len(lat_ms)} events (target p95 <= {target:.0f} ms)")


async def main(n_events: int, seconds: float, drbd9: bool) -> None:
    cfg = load(str(observe.LAB_DIR / "hatui-lab.yaml"))
    collector = Collector(cfg)
    app = HatuiApp(cfg, collector)
    async with app.run_test(size=(120, 48)) as pilot:
        await until(pilot, lambda: app.first_frame_at is not None, 15)
        await until(pilot, lambda: all(n.stream == "up" for n in app.snapshot.nodes), 10)
        await pilot.pause(2)

        def header(node: str) -> str:
            return str(app.screen.query_one(f"#node-{node}", NodeHeader).render())

        # ---- the VIP appearing on node2 (added by hand beside node1's; removed after) ----------------
        vip_ms = []
        for _ in range(n_events):
            t0 = in_ns("node2", "ip", "addr", "add", f"{cfg.vip}/32", "dev", "eth0")
            t1 = await painted(pilot, lambda: "VIP" in header("node2"))
            in_ns("node2", "ip", "addr", "del", f"{cfg.vip}/32", "dev", "eth0")
            if t1:
                vip_ms.append((t1 - t0) * 1000)
            await until(pilot, lambda: "VIP" not in header("node2"))
            await pilot.pause(0.3)
        # ---- a new failover-log line on node1 --------------------------------------------------------
        log_ms = []
        log = app.screen.query_one("#log")
        for i in range(n_events):
            tag = f"BENCH{i}"
            line = f"$(date '+%Y-%m-%d %H:%M:%S') - Keepalived notification on {tag}: State changed to MASTER " \
                   "(Type: INSTANCE)"
            res = observe.ssh("node1", f"echo \"{line}\" >> {cfg.failover_log}; date +%s.%N")
            t0 = float(res.stdout.split()[-1])
            t1 = await painted(pilot, lambda tag=tag: any(f"{tag} → MASTER" in ln.text for ln in log.lines))
            if t1:
                log_ms.append((t1 - t0) * 1000)
            await pilot.pause(0.3)
        # ---- DRBD role change (DRBD 9: events2 streamed) ----------------------------------------------
        drbd_ms = []
        if drbd9:
            panel = app.screen.query_one(DrbdPanel)

            def role_text() -> str:
                return shows(panel.query_one("#drbd-table"))

            for _ in range(n_events):
                res = observe.ssh("node1", "umount /mnt/drbd; drbdadm secondary r0; date +%s.%N")
                t0 = float(res.stdout.split()[-1])
                t1 = await painted(pilot, lambda: role_text().count("Secondary (peer Secondary)") >= 1)
                observe.ssh("node1", "drbdadm primary r0 && mount /dev/drbd0 /mnt/drbd")
                if t1:
                    drbd_ms.append((t1 - t0) * 1000)
                await until(pilot, lambda: "Primary (peer Secondary)" in role_text())
                await pilot.pause(0.3)
        # ---- steady state: CPU, RSS, channels --------------------------------------------------------
        ch0 = {n: t.stats.channels_opened for n, t in collector.transports.items()}
        cpu0, w0 = cpu_s(), time.monotonic()
        await pilot.pause(seconds)
        wall = time.monotonic() - w0
        cpu_pct = (cpu_s() - cpu0) / wall * 100
        new_ch = {n: t.stats.channels_opened - ch0[n] for n, t in collector.transports.items()}
        rss = rss_mb()
        # ---- a hung node -----------------------------------------------------------------------------
        pids = observe.sshd_pids("node1")
        t0 = time.time()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            t1 = await painted(pilot, lambda: "UNREACHABLE" in header("node1"), 15)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        hung_s = (t1 - t0) if t1 else None
        await until(pilot, lambda: "live" in header("node1"), 30)
    await collector.close()
    delayed = await slow_node(cfg, min(seconds, 30))
    print(f"interval {cfg.poll_interval_s} s, streams {'on' if cfg.streams else 'off'}, lab {observe.NAME}")
    report("VIP appears on node2 → header shows it", vip_ms)
    report("new failover-log line on node1 → log panel shows it", log_ms)
    if drbd9:
        report("DRBD role change on node1 (DRBD 9) → DRBD panel shows it", drbd_ms)
    print(f"CPU: {cpu_pct:.1f} % of one core over {wall:.0f} s (target <= 2 %)")
    print(f"RSS: {rss:.0f} MB (target <= 100 MB)")
    for node, n in new_ch.items():
        print(f"new SSH channels in steady state {node}: {n / wall * 60:.1f}/min (target 0)")
    limit = 2 * cfg.poll_interval_s + 0.5
    print("hung node1 (sshd SIGSTOPped) → UNREACHABLE: " +
          (f"{hung_s:.2f} s" if hung_s is not None else "not within 15 s") + f" (target <= {limit:.1f} s)")
    ever, lat, wall_d, primary = delayed
    print(f"300 ms added to node1's replies (delay proxy, no sch_netem here): {'WAS' if ever else 'never'} shown "
          f"unreachable or stale over {wall_d:.0f} s (target: never); its cycles took "
          f"p50 {statistics.median(lat):.0f} ms, max {max(lat):.0f} ms over {len(lat)} cycles; "
          f"Galera Primary shown in {primary} of them")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--drbd9", action="store_true",
                        help="run the lab with the DRBD 9 emulator (events2 streamed)")
    args = parser.parse_args()
    observe.hatui_lab("down")
    observe.hatui_lab("up", *(["--drbd", "9"] if args.drbd9 else []), check=True)
    try:
        asyncio.run(main(args.events, args.seconds, args.drbd9))
    finally:
        observe.hatui_lab("down")
