"""What the core's tests replay: the lab-like config the recordings were made with, the recorded polls,
and variants of them.  Not a test module: the test modules import this, never each other.

tests/fixtures/lab-config.yaml is the config `hatui lab up` writes for the default lab (checked against
the lab's own renderer in tests/test_lab_config.py), so the core's tests need no lab package."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from hatui.config import parse
from hatui.model import ClusterSnapshot, CommandResult, NodeSnapshot, WebCheck
from hatui.probes.node import node_from_raw
from hatui.replay import load_recording

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"
LAB_CONFIG_FILE = Path(__file__).parent / "fixtures" / "lab-config.yaml"
CONFIG = parse(LAB_CONFIG_FILE.read_text(), LAB_CONFIG_FILE)


def recording(name: str) -> ClusterSnapshot:
    """A poll recorded from the lab (tests/fixtures/snapshots/NAME.json), replayed through the parsers."""
    return load_recording(FIXTURES / f"{name}.json", CONFIG)


def with_node(snap: ClusterSnapshot, name: str, **changes) -> ClusterSnapshot:
    """`snap` with node `name` changed (dataclasses.replace)."""
    return replace(snap, nodes=tuple(replace(n, **changes) if n.node == name else n for n in snap.nodes))


def with_drbd(snap: ClusterSnapshot, name: str, **changes) -> ClusterSnapshot:
    """`snap` with every DRBD resource of node `name` changed."""
    n = snap.node(name)
    return with_node(snap, name, drbd=tuple(replace(r, **changes) for r in n.drbd))


def with_galera(snap: ClusterSnapshot, name: str, **changes) -> ClusterSnapshot:
    """`snap` with node `name`'s Galera status changed."""
    n = snap.node(name)
    return with_node(snap, name, galera=replace(n.galera, **changes))


def raw_poll(name: str, node: str) -> tuple[dict, NodeSnapshot]:
    """Node `node`'s raw poll in recording NAME, as the collector hands it to a recorder (with the
    failover-log lines its cycle read), and the NodeSnapshot it parses to."""
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    rec = doc["nodes"][node]
    if not rec.get("reachable"):
        snap = NodeSnapshot(node=node, reachable=False, error=rec.get("error") or "no answer")
        return {"reachable": False, "error": snap.error, "error_kind": "network"}, snap
    res = {k: CommandResult(v[0], v[1]) for k, v in rec["batch"].items()}
    rows = [tuple(r) for r in rec["galera_rows"]] if rec.get("galera_rows") is not None else None
    snap = node_from_raw(CONFIG, node, res, rows, rec.get("mysql_error"))
    raw = {"batch": rec["batch"], "galera_rows": rec["galera_rows"], "mysql_error": rec.get("mysql_error"),
           "failover_lines": []}
    return raw, snap


def web_of(name: str) -> WebCheck | None:
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    return WebCheck(**doc["web"]) if doc.get("web") else None


def record_cycles(recorder, scenarios: list[tuple[float, str]], interval_s: float = 1.0) -> float:
    """Feed `recorder` (hatui.record.recorder.Recorder, its clock set here) one cycle of each node
    and of the web page per scenario, from t0 on, `interval_s` apart; returns the time after the last."""
    t = scenarios[0][0] if scenarios else 0.0
    for t, name in scenarios:
        for i, node in enumerate(("node1", "node2")):
            raw, snap = raw_poll(name, node)
            recorder.clock = lambda t=t, i=i: t + 0.01 * i
            recorder.node(node, raw, snap)
        w = web_of(name)
        if w is not None:
            recorder.clock = lambda t=t: t + 0.05
            recorder.web(w)
    return t + interval_s
