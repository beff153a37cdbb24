"""What changed, when, across the layers: snapshots in, events out.  Pure (no I/O, no clock).

`node_facts()` / `web_facts()` reduce a snapshot to the few values an incident timeline is made of
(VIP held, VRRP state and priority, DRBD role / connection / disk / resync, Galera status / size /
state, reachability, the web answer); `ChangeDetector` turns a time-ordered stream of snapshots into
an `Event` for every fact that moved, plus the pair's own facts (who holds the VIP, who is DRBD
Primary).  The failover-log lines and hatui's audit records become events too, and where a node's
own timestamp cannot be right on this machine's clock the offset is noted (`clock_offset_s`).

Times are this machine's clock when the answer arrived (`at_epoch_s`): one clock for both nodes,
so the order is the order hatui saw things in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from hatui.config import Config
from hatui.model import NodeSnapshot, WebCheck
from hatui.probes.failover_log import parse_failover_line

PAIR = "pair"  # the node of events about both nodes (who holds the VIP, who is Primary)


@dataclass(frozen=True)
class Event:
    at_epoch_s: float  # this machine's clock: when hatui saw it
    node: str  # a node's name, "web", or PAIR
    source: str  # reachability, keepalived, drbd, galera, mariadb, web, pair, failover-log, audit
    what: str  # the fact: vrrp.state, drbd.role, ... (failover-log / audit: the kind of line)
    before: str | None
    after: str | None
    text: str  # one sentence
    node_time: str | None = None  # the node's own timestamp, where it printed one
    clock_offset_s: float | None = None  # node clock minus this machine's, when it is certainly off

    def to_dict(self) -> dict:
        return asdict(self)


# ---- facts -------------------------------------------------------------------------------------
LABELS = {
    "reachable": ("reachability", "reachable"), "keepalived": ("keepalived", "keepalived"),
    "vip": ("keepalived", "VIP"), "vrrp.state": ("keepalived", "VRRP state"),
    "vrrp.priority": ("keepalived", "VRRP priority"), "drbd.role": ("drbd", "DRBD role"),
    "drbd.connection": ("drbd", "DRBD connection"), "drbd.disk": ("drbd", "DRBD disk"),
    "drbd.sync": ("drbd", "DRBD resync"), "drbd.mounted": ("drbd", "mount"),
    "mariadb": ("mariadb", "MariaDB"), "galera.status": ("galera", "Galera status"),
    "galera.size": ("galera", "Galera cluster size"), "galera.state": ("galera", "Galera state"),
    "web.answer": ("web", "web answer"), "web.node": ("web", "web answered by"),
    "pair.vip": ("pair", "VIP holder"), "pair.drbd_primary": ("pair", "DRBD Primary"),
}


def node_facts(n: NodeSnapshot, config: Config) -> dict[str, str]:
    """The timeline's facts of one node.  An unreachable node has only `reachable`: what it was
    before is not known to have changed."""
    if not n.reachable:
        return {"reachable": "no"}
    f = {"reachable": "yes", "keepalived": "running" if n.keepalived_running else "not running",
         "vip": "held" if n.holds_vip(config.vip) else "not held"}
    inst = n.vrrp_instance(config.keepalived_instance)
    if inst is not None:
        f["vrrp.state"] = inst.state
        f["vrrp.priority"] = str(inst.effective_priority)
    r = n.drbd_resource(config.drbd.resource)
    if r is not None:
        f["drbd.role"] = r.role
        f["drbd.connection"] = r.connection_state or "unknown"
        f["drbd.disk"] = f"{r.disk_state or '?'}/{r.peer_disk_state or '?'}"
        f["drbd.sync"] = "resyncing" if r.syncing else "verifying" if r.verifying else "no"
    f["drbd.mounted"] = "yes" if n.drbd_mounted else "no"
    g = n.galera
    f["mariadb"] = "answering" if g is not None else "not answering"
    if g is not None:
        f["galera.status"] = g.cluster_status or "unknown"
        f["galera.size"] = str(g.cluster_size)
        f["galera.state"] = g.local_state_comment or "unknown"
    return f


def web_facts(w: WebCheck | None) -> dict[str, str]:
    if w is None:
        return {}
    answer = "ok" if w.ok else (f"HTTP {w.status}" if w.status else "no answer")
    return {"web.answer": answer, "web.node": w.node or "none"}


def _sentence(node: str, what: str, before: str | None, after: str | None, detail: str = "") -> str:
    label = LABELS.get(what, ("", what))[1]
    who = "" if node in (PAIR, "web") else f"{node}: "
    if what == "reachable":
        return f"{who}{'reachable again' if after == 'yes' else 'unreachable'}{detail}"
    if what == "mariadb":
        return f"{who}MariaDB {'answers again' if after == 'answering' else 'does not answer'}{detail}"
    if what == "vip":
        return f"{who}{'took' if after == 'held' else 'released'} the VIP"
    if what == "drbd.sync":
        return f"{who}DRBD resync {'started' if after == 'resyncing' else 'ended' if before == 'resyncing' else after}"
    return f"{who}{label} {before} → {after}"


class ChangeDetector:
    """Feed snapshots in time order (`node()`, `web()`); get the events of what moved.  The first
    snapshot of a source is its baseline (no events).  `tolerance_s`: how far a node's own
    timestamp may stray from the window it must lie in before its clock is called off."""

    def __init__(self, config: Config, tolerance_s: float = 2.0) -> None:
        self.config = config
        self.tolerance_s = tolerance_s
        self.facts: dict[str, dict[str, str]] = {}
        self.seen_at: dict[str, float] = {}  # each source's previous answer
        self.pair: dict[str, str] = {}
        self.offsets: dict[str, float] = {}  # node → the last clock offset noted

    def node(self, at: float, snap: NodeSnapshot, baseline: bool = False,
             prev_at: float | None = None) -> list[Event]:
        """`prev_at`: the node's previous answer (default: the previous one fed)."""
        name = snap.node
        new = node_facts(snap, self.config)
        old = self.facts.get(name)
        prev_at = prev_at if prev_at is not None else self.seen_at.get(name)
        self.seen_at[name] = at
        merged = dict(old or {})
        merged.update(new)
        self.facts[name] = merged
        out: list[Event] = []
        if old is not None and not baseline:
            for key, value in new.items():
                was = old.get(key)
                if was == value or was is None:
                    continue
                detail = ""
                if key == "reachable" and value == "no" and snap.error:
                    detail = f" ({snap.error})"
                if key == "mariadb" and value != "answering" and snap.mysql_error:
                    detail = f" ({snap.mysql_error})"
                offset = node_time = None
                if key == "vrrp.state":
                    inst = snap.vrrp_instance(self.config.keepalived_instance)
                    if inst is not None and inst.last_transition:
                        node_time = _iso(inst.last_transition)
                        offset = self._offset(name, inst.last_transition, prev_at, at)
                out.append(Event(at, name, LABELS[key][0], key, was, value, _sentence(name, key, was, value, detail),
                                 node_time, offset))
        out.extend(self._pair(at, baseline or old is None))
        return out

    def web(self, at: float, w: WebCheck | None, baseline: bool = False) -> list[Event]:
        new = web_facts(w)
        old = self.facts.get("web")
        self.facts["web"] = new
        if old is None or baseline:
            return []
        out = []
        for key, value in new.items():
            was = old.get(key)
            if was is not None and was != value:
                detail = f" ({w.error})" if key == "web.answer" and w is not None and w.error else ""
                out.append(Event(at, "web", "web", key, was, value, _sentence("web", key, was, value) + detail))
        return out

    def _pair(self, at: float, quiet: bool) -> list[Event]:
        nodes = [n.name for n in self.config.nodes]
        facts = [self.facts.get(n, {}) for n in nodes]
        unknown = any(f.get("reachable") != "yes" for f in facts)
        read = [(n, f) for n, f in zip(nodes, facts, strict=True) if f.get("reachable") == "yes"]
        vip = [n for n, f in read if f.get("vip") == "held"]
        primary = [n for n, f in read if f.get("drbd.role") == "Primary"]
        new = {"pair.vip": "+".join(vip) or ("unknown" if unknown else "nobody"),
               "pair.drbd_primary": "+".join(primary) or ("unknown" if unknown else "nobody")}
        out = []
        for key, value in new.items():
            was = self.pair.get(key)
            if was is not None and was != value and not quiet:
                label = LABELS[key][1]
                out.append(Event(at, PAIR, "pair", key, was, value, f"{label} {was} → {value}"))
        self.pair.update(new)
        return out

    def _offset(self, node: str, node_epoch_s: float, prev_at: float | None, at: float) -> float | None:
        """The node's clock offset, when its timestamp of something seen at `at` (and not at
        `prev_at`) cannot be right: after `at`, or before `prev_at`."""
        if node_epoch_s > at + self.tolerance_s:
            off: float | None = node_epoch_s - at
        elif prev_at is not None and node_epoch_s < prev_at - self.tolerance_s:
            off = node_epoch_s - prev_at
        else:
            off = None
        if off is not None:
            self.offsets[node] = off
        return off

    def log_line(self, at: float, node: str, raw: str, prev_at: float | None) -> Event:
        """A failover-log line first read at `at` (the node's previous read: `prev_at`)."""
        ev = parse_failover_line(raw, node).value
        ts = ev.timestamp if ev is not None else None
        offset = self._offset(node, ts.timestamp(), prev_at, at) if ts is not None and prev_at is not None else None
        what = f"{ev.name} {ev.state}" if ev is not None and ev.state else "line"
        return Event(at, node, "failover-log", "failover-log", None, what, f"{node} failover log: {raw.strip()}",
                     ts.isoformat(sep=" ") if ts else None, offset)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s).isoformat(sep=" ", timespec="milliseconds")


def audit_events(lines: Iterable[str], since: float | None = None, until: float | None = None) -> list[Event]:
    """hatui's own actions from the local audit log (hatui/actions/audit.py: one JSON object a line)."""
    out = []
    for line in lines:
        try:
            rec = json.loads(line)
            at = datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        if (since is not None and at < since) or (until is not None and at > until):
            continue
        event = str(rec.get("event", "?"))
        action = f"{rec.get('action', '?')}" + (f" {rec['target']}" if rec.get("target") else "")
        detail = {"step": lambda r: f" step {r.get('n')} on {r.get('node')}: {r.get('command')} → {r.get('status')}",
                  "end": lambda r: f" ok={r.get('ok')}" + (f" ({r.get('failure')})" if r.get("failure") else ""),
                  "refused": lambda r: f": {r.get('reason')}",
                  "undo": lambda r: f" on {r.get('node')}: {r.get('command')} ok={r.get('ok')}"}.get(event)
        by = f" (by {rec.get('user')}@{rec.get('host')})"
        text = f"hatui {action}: {event}" + (detail(rec) if detail else "") + by
        node = rec.get("node") if event in ("step", "undo") and rec.get("node") else PAIR
        out.append(Event(at, str(node), "audit", f"audit.{event}", None, event, text))
    return out


def in_order(*streams: Iterable[Event]) -> list[Event]:
    """Every stream merged by this machine's time; equal times keep the order they were given in."""
    return sorted((e for s in streams for e in s), key=lambda e: e.at_epoch_s)
