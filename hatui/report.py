"""One snapshot, three renderings: `hatui status` (text), `hatui status --json`, `hatui check` (Nagios)."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from typing import Any

from hatui.config import Config
from hatui.model import ClusterSnapshot, NodeSnapshot
from hatui.probes import printable

JSON_SCHEMA_VERSION = 2  # docs/status.schema.json: raised with every change of a key (tests/test_status_schema.py)
NAGIOS = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(snap: ClusterSnapshot, cfg: Config, fault_predictions: list | None = None) -> str:
    """The full snapshot and findings (docs/status.schema.json, explained in docs/status-json.md),
    and, when given, what each fault would do (hatui.predict.FaultPrediction, most harmful first)."""
    doc = {
        "schema": JSON_SCHEMA_VERSION,
        "config": str(cfg.path),
        "vip": cfg.vip,
        "summary": summary(snap, cfg),
        **_plain(snap),
    }
    if fault_predictions is not None:
        doc["fault_predictions"] = _plain(fault_predictions)
    # the raw variable list is large and redundant with the typed fields
    for node in doc["nodes"]:
        if node.get("galera"):
            node["galera"].pop("variables", None)
    return json.dumps(doc, indent=2, sort_keys=False)


def summary(snap: ClusterSnapshot, cfg: Config) -> dict[str, Any]:
    holders = list(snap.vip_holders(cfg.vip))
    primaries = list(snap.drbd_primaries(cfg.drbd.resource))
    worst = "ok"
    for f in snap.findings:
        if not f.counts:
            continue
        if NAGIOS.get(f.severity, 0) > NAGIOS[worst]:
            worst = f.severity
    return {"status": worst, "vip_holders": holders, "drbd_primaries": primaries,
            "web_node": snap.web.node if snap.web else None,
            "unreachable": list(snap.unreachable())}


def vip_words(snap: ClusterSnapshot, cfg: Config) -> str:
    """Who holds the VIP, saying only what is known: NOBODY only when every node was read."""
    holders = snap.vip_holders(cfg.vip)
    if holders:
        return f"VIP {cfg.vip} on {', '.join(holders)}"
    unreachable = snap.unreachable()
    if not unreachable:
        return f"VIP {cfg.vip} on NOBODY"
    read = [n.node for n in snap.nodes if n.reachable]
    words = f"VIP {cfg.vip}: unknown — {', '.join(unreachable)} not reachable"
    if read:
        words += f", {', '.join(read)} {'does' if len(read) == 1 else 'do'} not hold it"
    w = snap.web
    if w is not None:
        words += f"; the VIP answers as {w.node}" if w.ok and w.node else "; the VIP does not answer"
    return words


def _node_lines(n: NodeSnapshot, cfg: Config) -> list[str]:
    if not n.reachable:
        return [f"{n.node}: UNREACHABLE — {n.error}"]
    inst = n.vrrp_instance(cfg.keepalived_instance)
    vrrp = "keepalived DOWN" if n.keepalived_running is False else (
        f"VRRP {inst.state} prio {inst.effective_priority}/{inst.base_priority}" if inst else "VRRP ?")
    r = n.drbd_resource(cfg.drbd.resource)
    drbd = "DRBD ?"
    if r is not None:
        drbd = f"DRBD {r.role}/{r.peer_role or '?'} {r.connection_state} {r.disk_state}/{r.peer_disk_state}"
        if r.sync_percent is not None and r.syncing:
            drbd += f" {r.sync_percent:.1f}%"
    mount = "mounted" if n.drbd_mounted else "not mounted"
    g = n.galera
    gal = (f"Galera {g.cluster_status} size {g.cluster_size} {g.local_state_comment}" if g
           else f"MariaDB DOWN ({n.mysql_error})")
    vip = " VIP" if n.holds_vip(cfg.vip) else ""
    return [f"{n.node}:{vip} {vrrp}; {drbd}, {mount}; {gal}"]


def to_text(snap: ClusterSnapshot, cfg: Config) -> str:
    s = summary(snap, cfg)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snap.taken_at_epoch_s))
    lines = [f"hatui status {when}: {s['status'].upper()} — {vip_words(snap, cfg)}"]
    for n in snap.nodes:
        lines += _node_lines(n, cfg)
    if snap.web:
        w = snap.web
        lines.append(f"web: {'OK' if w.ok else 'FAIL'} {w.url} → {w.node or w.error}"
                     + (f" in {w.latency_ms:.0f} ms" if w.latency_ms is not None else ""))
    lines.append("findings:")
    for f in snap.findings:
        lines.append(f"  [{f.severity.upper():8}] {f.title}")
        if f.severity in ("critical", "warning"):
            lines.append(f"             {f.explanation}")
            lines.append(f"             → {f.action}")
    if snap.failover_events:
        lines.append("failover log (latest):")
        for ev in snap.failover_events[-6:]:
            lines.append(f"  {ev.node}: {ev.raw}")
    # Node text (log lines, names, errors) is data: no escape sequence of it reaches the terminal.
    return "\n".join(printable(line) for line in lines)


def to_check(snap: ClusterSnapshot, cfg: Config) -> tuple[int, str]:
    s = summary(snap, cfg)
    problems = [f.title for f in snap.findings if f.severity == s["status"] and f.counts]
    code = NAGIOS[s["status"]]
    label = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[code]
    detail = "; ".join(problems[:3]) if code else f"VIP on {', '.join(s['vip_holders'])}"
    return code, printable(f"HATUI {label} - {detail}")
