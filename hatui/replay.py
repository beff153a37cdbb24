"""Rebuild a ClusterSnapshot from a recorded poll (tests/fixtures/snapshots/*.json).

The recording holds what each command printed on each node and the wsrep rows, so replaying it runs
the same parsers and diagnosis as a live poll: a fixture is real output, not a hand-made snapshot.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from hatui.config import Config
from hatui.diagnosis import diagnose
from hatui.model import ClusterSnapshot, CommandResult, NodeSnapshot, WebCheck
from hatui.probes.failover_log import merge_failover_events, parse_failover_line
from hatui.probes.node import node_from_raw


def load_recording(path: Path, config: Config) -> ClusterSnapshot:
    doc = json.loads(path.read_text())
    taken = float(doc["taken_at_epoch_s"])
    events_by_node: dict[str, list] = {}
    for node, raw in doc.get("failover_log", []):
        ev = parse_failover_line(raw, node).value
        if ev is not None:
            events_by_node.setdefault(node, []).append(ev)
    nodes = []
    for name, rec in doc["nodes"].items():
        if not rec.get("reachable"):
            nodes.append(NodeSnapshot(node=name, reachable=False, since_epoch_s=taken - 30,
                                      error=rec.get("error") or "no answer",
                                      failover_events=tuple(events_by_node.get(name, ()))))
            continue
        res = {k: CommandResult(v[0], v[1]) for k, v in rec["batch"].items()}
        rows = [tuple(r) for r in rec["galera_rows"]] if rec.get("galera_rows") is not None else None
        snap = node_from_raw(config, name, res, rows, rec.get("mysql_error"))
        nodes.append(replace(snap, since_epoch_s=taken - 600, poll_latency_ms=4.0,
                             failover_events=tuple(events_by_node.get(name, ()))))
    web = WebCheck(**doc["web"]) if doc.get("web") else None
    cluster = ClusterSnapshot(taken_at_epoch_s=taken, nodes=tuple(nodes), web=web,
                              failover_events=merge_failover_events(*events_by_node.values()))
    return replace(cluster, findings=diagnose(cluster, config))
