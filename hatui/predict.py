"""What each fault the lab can inject (and a hung sshd) will do to the pair, predicted from the live
snapshot and the nodes' configuration as the doctor reads it (confmodel): which checks fail on which
role, what the notify script does in each state, maintenance pins, Galera's size and arbitrator.

Pure.  The model is keepalived's and DRBD's own rules, step by step:

* a node's priority is its base plus the weight of each failing check (and track_file value ×
  weight); a check's verdict follows from the node's state and what the script tests (role, peer
  connection, local disk, Galera Primary or Synced, MariaDB up);
* the reachable MASTER with the highest priority holds the VIP; a BACKUP with a higher priority
  preempts (unless nopreempt); equal priorities: the higher address wins; an isolated node is MASTER
  of its own island (invisible from the workstation);
* a node becoming MASTER runs its notify script: it promotes DRBD only if the script does, its disk is
  UpToDate and the peer is not Primary (the old master demotes only in the states its script handles),
  or the peer is gone (no fencing);
* Galera: a clean leave keeps the survivor Primary; a crash, power loss or cut leaves a two-node
  survivor non-Primary after evs.suspect_timeout, unless an arbitrator or a heavier pc.weight holds
  the majority.
The faults act on the VIP holder, split brain on the other node (as the lab's drill injects them).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from hatui.config import Config
from hatui.confmodel import (NodeConfigRead, TrackedCheck, galera_facts, notify_facts, tracked_checks)
from hatui.model import ClusterSnapshot, Finding, NodeSnapshot
from hatui.probes.scripts import CheckKind

FAULTS = ("kill-mariadb", "stop-mariadb", "stop-keepalived", "cut-link", "power-off", "drbd-disconnect",
          "split-brain", "hang-sshd")
NOTIFY_S = 3.0  # the notify scripts' demote, promote (retried every 0.5 s) and mount: ≤ 3 s in the lab
SAMPLE_S = 1.0  # the observer's sampling step and clock skew


@dataclass(frozen=True)
class NodeState:
    name: str
    base: int
    pin: int  # track_file value × weight (the maintenance hook)
    running: bool = True  # powered
    linked: bool = True  # its link up (seen from the peer and the workstation)
    keepalived: bool = True
    mysql: bool = True
    galera: str = "Primary"  # Primary | non-Primary | down
    synced: bool = True
    ready: bool = True  # wsrep_ready ON
    role: str = "Secondary"
    connected: bool = True
    # replication Established (8.4: cs:Connected); not during a resync or verify (cs:SyncSource, ...)
    established: bool = True
    uptodate: bool = True
    proc_lines: bool = True  # /proc/drbd shows the resource (DRBD 8.4); on 9 it has only its header
    mounted: bool = False
    master: bool = False


@dataclass(frozen=True)
class FaultPrediction:
    fault: str
    node: str  # where it is injected
    vip: tuple[str, ...]  # as seen from the workstation
    drbd_primary: tuple[str, ...]
    mounted: tuple[str, ...]
    web: str  # the node the page through the VIP names, or "none"
    galera: tuple[tuple[str, str], ...]  # node → Primary | non-Primary | down | unreachable
    after_s: tuple[float, float]  # when the last change comes, a window
    story: str
    harm: int  # 0 fine … 3 the service answers without its data or database

    def fields(self) -> dict[str, str]:
        return {"vip": ",".join(self.vip) or "none", "drbd_primary": ",".join(self.drbd_primary) or "none",
                "mounted": ",".join(self.mounted) or "none", "web": self.web,
                "galera": " ".join(f"{n}:{s}" for n, s in self.galera)}


def _passes(c: TrackedCheck, st: NodeState, live: bool | None) -> bool | None:
    k: CheckKind | None = c.kind
    if k is None or k.kind is None:
        return live
    if not st.running:
        return False
    if k.kind == "mysql":
        return st.mysql
    if k.kind == "galera":
        if k.passes_non_primary:  # `grep Primary` matches "non-Primary" too: any answer passes
            return st.galera in ("Primary", "non-Primary")
        return st.galera == "Primary" and (st.synced or not k.wants_synced) and (st.ready or not k.wants_ready)
    if k.proc_only and not st.proc_lines:  # DRBD 9: no cs:/ro:/ds: line to find
        return False
    linked = (st.established if k.wants_established else st.connected) or not k.wants_connected
    if k.wants_primary_role:
        return st.role == "Primary" and linked
    return st.uptodate and linked


def priority(st: NodeState, checks: list[TrackedCheck], live: dict[str, bool]) -> int:
    p = st.base + st.pin
    for c in checks:
        ok = _passes(c, st, live.get(c.name))
        if c.weight < 0 and ok is False:
            p += c.weight
        elif c.weight > 0 and ok:
            p += c.weight
    return max(1, min(254, p))


def _initial(n: NodeSnapshot, cfg: Config) -> tuple[NodeState, dict[str, bool]]:
    inst = n.vrrp_instance(cfg.keepalived_instance)
    res = n.drbd_resource(cfg.drbd.resource)
    g = n.galera
    pin = sum((t.weight or 0) * (t.value or 0) for t in inst.track_files) if inst else 0
    st = NodeState(
        n.node, (inst.base_priority or 0) if inst else 0, pin, keepalived=n.keepalived_running is not False,
        mysql=g is not None, galera=(g.cluster_status or "down") if g else "down",
        synced=bool(g and g.local_state_comment == "Synced"), ready=bool(g and g.ready),
        role=res.role if res else "Unknown",
        connected=bool(res and res.connection_state == "Connected"),
        established=bool(res and res.connection_state == "Connected"
                         and (res.replication_state or "Established") == "Established"),
        uptodate=bool(res and res.disk_state == "UpToDate"), proc_lines=res is None or res.source == "/proc/drbd",
        mounted=bool(n.drbd_mounted), master=bool(inst and inst.state == "MASTER"))
    live = {s.name: s.status == "GOOD" for s in inst.track_scripts if s.status != "unknown"} if inst else {}
    return st, live


class _Pair:
    """The two nodes' states and what their configuration makes them do."""

    def __init__(self, snap: ClusterSnapshot, reads: list[NodeConfigRead], cfg: Config) -> None:
        self.cfg = cfg
        by = {r.node: r for r in reads}
        self.st: dict[str, NodeState] = {}
        self.live: dict[str, dict[str, bool]] = {}
        self.checks: dict[str, list[TrackedCheck]] = {}
        self.notify = {}
        self.nopreempt = {}
        self.order = [n.node for n in snap.nodes]
        self.ip = {n.name: n.host for n in cfg.nodes}
        for n in snap.nodes:
            self.st[n.node], self.live[n.node] = _initial(n, cfg)
            r = by.get(n.node)
            self.checks[n.node] = tracked_checks(r, cfg) if r else []
            self.notify[n.node] = notify_facts(r, cfg) if r else None
            inst = r.instance(cfg) if r else None
            self.nopreempt[n.node] = bool(inst and inst.nopreempt and inst.state != "MASTER")
        self.galera = galera_facts(reads, cfg)

    def peer(self, name: str) -> str:
        return next(n for n in self.order if n != name)

    def prio(self, name: str) -> int:
        return priority(self.st[name], self.checks[name], self.live[name])

    def set(self, name: str, **kw) -> None:
        self.st[name] = replace(self.st[name], **kw)

    def can_hear(self, a: str, b: str) -> bool:
        sa, sb = self.st[a], self.st[b]
        return sa.running and sb.running and sa.linked and sb.linked

    def _ip_key(self, n: str) -> tuple[int, object]:
        try:
            return 0, ipaddress.ip_address(self.ip.get(n, ""))
        except ValueError:
            return 1, self.ip.get(n, n)

    def elect(self) -> list[tuple[str, str]]:
        """Run VRRP (RFC 5798 as keepalived does it) to a stable state, each transition followed by the
        node's notify script; returns the transitions (node, new state) in order."""
        changes: list[tuple[str, str]] = []
        for _ in range(6):
            start = len(changes)
            alive = [n for n in self.order if self.st[n].running and self.st[n].keepalived]
            for n in self.order:
                if n not in alive and self.st[n].master:
                    self.set(n, master=False)
                    changes.append((n, "STOP" if self.st[n].running else "DEAD"))
            for n in alive:
                rivals = [o for o in alive if o != n and self.can_hear(n, o)]
                if not rivals:
                    if not self.st[n].master:  # no adverts heard: MASTER of its own island
                        self.set(n, master=True)
                        changes.append((n, "MASTER"))
                    continue
                o = rivals[0]
                mine, theirs = self.prio(n), self.prio(o)
                higher = mine > theirs or (mine == theirs and self._ip_key(n) > self._ip_key(o))
                sn, so = self.st[n], self.st[o]
                if sn.master and so.master and not higher:  # two masters meet: the lower steps down
                    self.set(n, master=False)
                    changes.append((n, "BACKUP"))
                elif not sn.master and not so.master and higher:
                    self.set(n, master=True)
                    changes.append((n, "MASTER"))
                elif not sn.master and so.master and mine > theirs and not self.nopreempt[n]:
                    self.set(o, master=False)  # a backup preempts only a strictly lower priority
                    self.set(n, master=True)
                    changes += [(o, "BACKUP"), (n, "MASTER")]
            for n, state in changes[start:]:
                self._notify(n, state)
            if len(changes) == start:
                break
        return changes

    def _notify(self, n: str, state: str) -> None:
        nf = self.notify.get(n)
        st = self.st[n]
        if nf is None or not st.running:
            return
        if state in ("BACKUP", "FAULT", "STOP") and state in nf.demotes_in and st.role == "Primary":
            self.set(n, mounted=False, role="Secondary")
        elif state == "MASTER" and nf.promotes_on_master and st.role != "Primary" and st.uptodate:
            p = self.peer(n)
            # DRBD refuses a second primary while connected; the old master's own notify (run first,
            # for its BACKUP/STOP) has demoted it if its script does that in that state
            peer_primary = self.st[p].role == "Primary" and self.st[p].connected and self.st[n].connected
            if not peer_primary:
                self.set(n, role="Primary", mounted=nf.mounts_on_master)

    def outcome(self, fault: str, node: str, window: tuple[float, float], story: list[str]) -> FaultPrediction:
        seen = [n for n in self.order if self.st[n].running and self.st[n].linked]
        vip = tuple(n for n in seen if self.st[n].master)
        galera = tuple((n, self.st[n].galera if n in seen else "unreachable") for n in self.order)
        primary = tuple(n for n in seen if self.st[n].role == "Primary")
        mounted = tuple(n for n in seen if self.st[n].mounted)
        web = vip[0] if len(vip) == 1 else "none"
        harm = 0
        if vip and vip[0] not in mounted:
            harm = 3
            story.append(f"{vip[0]} answers on the VIP without {self.cfg.drbd.mount_point}")
        if vip and dict(galera).get(vip[0]) != "Primary":
            harm = 3
            story.append(f"{vip[0]}'s database refuses queries (Galera {dict(galera).get(vip[0])})")
        if not vip:
            harm = 3
        elif vip[0] != node and harm == 0:
            harm = 1
        return FaultPrediction(fault, node, vip, primary, mounted, web, galera, window, "; ".join(story), harm)


def _interval(p: _Pair, n: str, kinds: set[str]) -> float:
    """How long the failing checks take to count: interval × fall of the slowest of those kinds."""
    ts = [c.conf.interval_s * c.conf.fall for c in p.checks[n] if c.conf and c.kind and c.kind.kind in kinds]
    return max(ts, default=3.0)


def settling(snap: ClusterSnapshot, reads: list[NodeConfigRead], cfg: Config) -> list[tuple[str, str]]:
    """The transitions the pair is about to make with no fault at all (a preempt after a heal whose
    checks keepalived has not re-run yet): predicting a fault from such a state would race it."""
    return _Pair(snap, reads, cfg).elect()


def predict(fault: str, snap: ClusterSnapshot, reads: list[NodeConfigRead], cfg: Config) -> FaultPrediction | None:
    """None when there is nothing to predict from: not exactly one VIP holder, or the pair still moving."""
    p = _Pair(snap, reads, cfg)
    holders = [n for n in p.order if p.st[n].master]
    if len(holders) != 1 or len(p.order) != 2 or settling(snap, reads, cfg):
        return None
    a = holders[0]
    s = p.peer(a)
    adv = 1.0
    inst = next((r.instance(cfg) for r in reads if r.node == a and r.instance(cfg)), None)
    if inst:
        adv = inst.advert_int_s
    suspect = p.galera.suspect_timeout_s if p.galera else 5.0
    two_node = bool(p.galera and p.galera.data_nodes == 2 and not p.galera.arbitrator)
    weights = p.galera.weights if p.galera else {}
    survivor_keeps = not two_node or weights.get(s, 1.0) > weights.get(a, 1.0)
    story: list[str] = []
    target = s if fault == "split-brain" else a

    def lose_galera_peer(who: str) -> None:
        if not survivor_keeps and p.st[who].galera == "Primary":
            p.set(who, galera="non-Primary", synced=False, ready=False)
            story.append(f"{who}'s Galera non-Primary after {suspect:g} s (1 vote of 2)")

    if fault in ("kill-mariadb", "stop-mariadb"):
        p.set(a, mysql=False, galera="down", synced=False, ready=False)
        before = p.prio(a)
        p.elect()
        detect = _interval(p, a, {"mysql", "galera"})
        story.append(f"{a} drops to {before} within {detect:g} s; {s} at {p.prio(s)}")
        end = detect + adv
        if fault == "kill-mariadb":
            lose_galera_peer(s)
            p.elect()
            end = max(end, suspect + _interval(p, s, {"galera"}) + adv)
        window = (0.0, end + NOTIFY_S + SAMPLE_S + (3.0 if fault == "stop-mariadb" else 2.0))
    elif fault == "stop-keepalived":
        p.set(a, keepalived=False)
        p.elect()
        story.append(f"{a} leaves VRRP (priority 0): {s} takes over at once")
        window = (0.0, adv + NOTIFY_S + SAMPLE_S)
    elif fault in ("cut-link", "power-off"):
        p.set(a, linked=False, **({"running": False} if fault == "power-off" else {}))
        p.set(s, connected=False, established=False)
        p.set(a, connected=False, established=False)
        p.elect()
        story.append(f"{s} hears no adverts for {3 * adv:g} s and becomes MASTER")
        lose_galera_peer(s)
        p.elect()
        window = (min(3 * adv, suspect), max(3 * adv + NOTIFY_S, suspect + _interval(p, s, {"galera"})) + 3.0)
    elif fault == "drbd-disconnect":
        p.set(a, connected=False, established=False)
        p.set(s, connected=False, established=False)
        p.elect()
        story.append(f"replication stops; {a} {p.prio(a)} vs {s} {p.prio(s)}")
        # if the VIP moves, the notify scripts (demote, then promote and mount) come after the election
        window = (0.0, _interval(p, a, {"drbd"}) + adv + SAMPLE_S + (0.0 if p.st[a].master else NOTIFY_S))
    elif fault == "split-brain":
        p.set(a, connected=False, established=False)
        p.set(s, connected=False, established=False)
        p.elect()
        story.append(f"both StandAlone; {a} {p.prio(a)} vs {s} {p.prio(s)}")
        window = (0.0, _interval(p, a, {"drbd"}) + adv + SAMPLE_S + (0.0 if p.st[a].master else NOTIFY_S))
    elif fault == "hang-sshd":
        story.append("nothing in the pair changes; only SSH (and hatui) stops reading the node")
        window = (0.0, SAMPLE_S)
    else:
        return None
    return p.outcome(fault, target, window, story)


def predict_all(snap: ClusterSnapshot, reads: list[NodeConfigRead], cfg: Config) -> list[FaultPrediction]:
    out = [x for f in FAULTS if (x := predict(f, snap, reads, cfg)) is not None]
    return sorted(out, key=lambda x: -x.harm)


def prediction_findings(preds: list[FaultPrediction]) -> list[Finding]:
    out = []
    for x in preds:
        f = x.fields()
        title = (f"If {x.fault} on {x.node}: VIP {f['vip']}, DRBD primary {f['drbd_primary']} (mounted "
                 f"{f['mounted']}), web {x.web}, Galera {f['galera']} ({x.after_s[0]:.0f}-{x.after_s[1]:.0f} s)")
        out.append(Finding("warning" if x.harm >= 2 else "info", "fault-prediction", title, x.story + ".",
                           "See hatui doctor for the configuration behind it." if x.harm else "Nothing to do.",
                           (x.node,), counts=False, expand=x.harm >= 2))
    return out
