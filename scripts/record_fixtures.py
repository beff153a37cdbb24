"""Record what the real lab looks like, for the TUI tests and the README screenshots.

For each scenario the lab is brought into a state (healthy, during a failover, during a DRBD resync,
with a node down); then
* the raw poll of each node (what every command printed, the wsrep rows), the web check and the
  failover-log lines are saved to tests/fixtures/snapshots/<scenario>.json (replayed by the tests
  through the same parsing code as a live poll), and
* the real app, connected to the lab, is rendered to screenshots/<scenario>.svg.

    sudo python scripts/record_fixtures.py        (needs the lab's packages; brings the lab up and down)
    sudo python scripts/record_fixtures.py --screenshots-only   (the README's screenshots, fixtures untouched)
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# a lab of its own: recording never touches the demo's lab (`make demo`) or the tests'
os.environ.setdefault("HATUI_LAB_NAME", "hatuibench")
os.environ.setdefault("HATUI_LAB_SUBNET", "198.18.7.0/24")

from hatui.collector import Collector  # noqa: E402
from hatui.config import load  # noqa: E402
from hatui_lab import observe  # noqa: E402
from hatui.tui.app import HatuiApp  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "snapshots"
SHOTS = ROOT / "screenshots"
SIZE = (110, 46)
# the README also shows the smallest terminal the layout is made for and a large one
EXTRA_SIZES = {"healthy": [(80, 24)], "resync": [(200, 60)]}


def lab(*args: str) -> None:
    observe.hatui_lab(*args, check=True)


SCREENSHOTS_ONLY = "--screenshots-only" in sys.argv[1:]


async def capture(name: str, settle_s: float) -> None:
    config = load(str(observe.LAB_DIR / "hatui-lab.yaml"))
    collector = Collector(config)
    raw: dict[str, dict] = {}
    collector.recorder = lambda node, poll, _snap: raw.__setitem__(node, poll) if "batch" in poll else None
    app = HatuiApp(config, collector)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(settle_s)
        snap = app.snapshot
        assert snap is not None
        SHOTS.mkdir(exist_ok=True)
        app.save_screenshot(str(SHOTS / f"{name}.svg"))
        for w, h in EXTRA_SIZES.get(name, []):
            await pilot.resize_terminal(w, h)
            await pilot.pause(0.5)
            app.save_screenshot(str(SHOTS / f"{name}-{w}x{h}.svg"))
    if SCREENSHOTS_ONLY:
        print(f"{name}: {len(snap.findings)} findings, screenshot screenshots/{name}.svg")
        return
    FIXTURES.mkdir(parents=True, exist_ok=True)
    doc = {
        "provenance": f"recorded from the hatui lab by scripts/record_fixtures.py on {time.strftime('%Y-%m-%d %H:%M')}",
        "taken_at_epoch_s": snap.taken_at_epoch_s,
        "config": config.path.name,
        "nodes": {n.node: ({"reachable": True, **raw[n.node]} if n.reachable and n.node in raw
                           else {"reachable": False, "error": n.error}) for n in snap.nodes},
        "web": dataclasses.asdict(snap.web) if snap.web else None,
        "failover_log": [[e.node, e.raw] for e in snap.failover_events],
    }
    (FIXTURES / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{name}: {len(snap.findings)} findings, screenshot screenshots/{name}.svg")


def main() -> None:
    lab("down")
    lab("up", "--resync-rate", "8192")
    try:
        asyncio.run(capture("healthy", 4))
        lab("fault", "stop-mariadb", "node1")
        observe.wait_until("failover", observe.outcome, lambda o: o.vip == ("node2",) and o.mounted == ("node2",), 15)
        asyncio.run(capture("failover", 3))
        lab("heal", "node1")
        observe.wait_until("node1 back", observe.outcome, lambda o: o.galera_of("node1") == "Primary/Synced", 60)
        res = observe.ssh("node1", "drbdadm invalidate r0")
        if res.returncode != 0:
            raise SystemExit(f"invalidate failed: {res.stderr}")
        asyncio.run(capture("resync", 5))
        lab("fault", "power-off", "node1")
        asyncio.run(capture("node-down", 12))
    finally:
        lab("down")


if __name__ == "__main__":
    main()
