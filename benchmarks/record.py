"""Figures of issue 12: what recording costs, and how fast a replay opens and steps.

    python3 benchmarks/record.py                    synthetic (from tests/fixtures/snapshots/*.json, real lab polls)
    python3 benchmarks/record.py --lab CONFIG --minutes 3 [--failover LABNAME]
                                                    the real collector on a running lab, recording for
                                                    that long (with --failover: stop-mariadb / heal on
                                                    node1 over and over, `hatui lab --name LABNAME`)

Synthetic: every cycle is a real recorded poll whose counters move as they do on the lab (keepalived's
advert counters, wsrep's byte and seqno counters), so no two cycles are identical; a failover every
hour.  24 h at 1 s: 86,400 cycles of each node and of the web page.
"""

from __future__ import annotations

import argparse
import asyncio

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hatui.record.navigate import Navigator  # noqa: E402
from hatui.record.rebuild import Recording  # noqa: E402
from hatui.record.recorder import Recorder  # noqa: E402
from hatui.record.store import RecordReader, RecordStore  # noqa: E402
from tests.recordings import CONFIG, raw_poll, web_of  # noqa: E402

DAY_S = 86400
_COUNTER_RE = re.compile(r'"(advert_sent|advert_rcvd)":(\d+)')
GALERA_COUNTERS = ("bytes", "received", "replicated", "last_committed", "commit", "apply")


def moving(raw: dict, i: int) -> dict:
    """The poll with its counters i steps on, as a real cycle i seconds later."""
    batch = dict(raw["batch"])
    if "ka_json" in batch:
        st, out = batch["ka_json"]
        batch["ka_json"] = [st, _COUNTER_RE.sub(lambda m: f'"{m[1]}":{int(m[2]) + i}', out)]
    rows = raw.get("galera_rows")
    if rows:
        rows = [[k, str(int(v) + 17 * i) if v.isdigit() and any(c in k for c in GALERA_COUNTERS) else v]
                for k, v in rows]
    return {**raw, "batch": batch, "galera_rows": rows}


def synthetic(db: Path, seconds: int, failover_every_s: int = 3600) -> tuple[float, float]:
    """Record `seconds` of cycles; returns (CPU seconds spent recording, wall seconds)."""
    store = RecordStore(db, clock=lambda: 1.7e9)
    rec = Recorder(store, CONFIG)
    polls = {name: {n: raw_poll(name, n) for n in ("node1", "node2")} for name in ("healthy", "failover")}
    webs = {name: web_of(name) for name in ("healthy", "failover")}
    t0 = 1.7e9
    cpu = time.process_time()
    wall = time.perf_counter()
    for i in range(seconds):
        name = "failover" if (i % failover_every_s) < 60 and i >= failover_every_s else "healthy"
        for k, node in enumerate(("node1", "node2")):
            raw, snap = polls[name][node]
            rec.clock = lambda t=t0 + i + 0.01 * k: t
            rec.node(node, moving(raw, i), snap)
        rec.clock = lambda t=t0 + i + 0.05: t
        rec.web(webs[name])
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    assert rec.error is None, rec.error
    store.close()
    return cpu, wall


def replay_figures(db: Path) -> None:
    t = time.perf_counter()
    recording = Recording(RecordReader(db), CONFIG)
    nav = Navigator(recording.times, recording.changes)
    recording.snapshot(nav.pos)
    opened = time.perf_counter() - t
    print(f"replay: open a {len(recording):,}-cycle recording and show its last cycle: {opened * 1000:.0f} ms "
          f"(budget 1000 ms)")
    steps = []
    for key in ["left"] * 100 + ["right"] * 50:
        t = time.perf_counter()
        nav.step(-1 if key == "left" else 1)
        recording.snapshot(nav.pos)
        steps.append(time.perf_counter() - t)
    nav.jump(recording.times[len(recording) // 2])
    for d in (1, 1, -1, -1):
        t = time.perf_counter()
        nav.next_change(d)
        recording.snapshot(nav.pos)
        steps.append(time.perf_counter() - t)
    steps.sort()
    print(f"replay: step (←/→, shift+←/→, {len(steps)} steps): median {steps[len(steps) // 2] * 1000:.1f} ms, "
          f"max {steps[-1] * 1000:.1f} ms (budget 50 ms)")


def main_synthetic(seconds: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "r.sqlite"
        cpu, wall = synthetic(db, seconds)
        size = db.stat().st_size + sum(p.stat().st_size for p in Path(d).glob("r.sqlite-*"))
        print(f"record (synthetic, {seconds:,} s at 1 s, a failover each hour): {cpu / seconds * 1000:.2f} ms CPU "
              f"per second of recording = {cpu / seconds * 100:.3f} % of one core (budget 0.3 %); "
              f"{size / 1e6:.1f} MB = {size / 1e6 * DAY_S / seconds:.1f} MB/day (budget 50); wall {wall:.0f} s")
        replay_figures(db)


async def lab_run(config_path: str, minutes: float, failover: str | None) -> None:
    from hatui.collector import Collector
    from hatui.config import load

    config = load(config_path)
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "r.sqlite"
        rec = Recorder.open(config, db)
        spent = [0.0]

        def timed(fn):
            def wrapper(*a):
                t = time.process_time()
                fn(*a)
                spent[0] += time.process_time() - t
            return wrapper

        col = Collector(config)
        col.recorder, col.web_recorder = timed(rec.node), timed(rec.web)
        col.start()
        await asyncio.sleep(30)  # past the first cycles (keyframes, the log's backlog): steady state from here

        def used() -> int:  # the data in the file, the WAL folded in
            rec.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return rec.store.used_bytes()

        used0, cpu0 = used(), spent[0]
        t0 = time.monotonic()
        faults = 0
        while time.monotonic() - t0 < minutes * 60:
            if failover:
                for step in (("fault", "stop-mariadb", "node1"), ("heal", "node1")):
                    await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "hatui_lab", "--name", failover,
                                                              *step], capture_output=True)
                    await asyncio.sleep(20)
                faults += 1
            else:
                await asyncio.sleep(5)
        wall = time.monotonic() - t0
        size, cpu = used() - used0, spent[0] - cpu0
        await col.close()
        rec.close()
        kind = f"failover-heavy ({faults} stop-mariadb/heal rounds)" if failover else "steady"
        print(f"record (lab, {kind}, {wall:.0f} s after 30 s of warm-up, {rec.cycles} node cycles in all): "
              f"{cpu / wall * 100:.3f} % of one core in the recorder hooks (budget 0.3 %); "
              f"{size / 1e6:.3f} MB = {size / 1e6 * DAY_S / wall:.1f} MB/day (budget 50)")
        replay_figures(db)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=DAY_S, help="synthetic recording length (default 24 h)")
    ap.add_argument("--lab", metavar="CONFIG")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--failover", metavar="LABNAME")
    a = ap.parse_args()
    if a.lab:
        asyncio.run(lab_run(a.lab, a.minutes, a.failover))
    else:
        main_synthetic(a.seconds)

