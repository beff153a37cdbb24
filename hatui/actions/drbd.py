"""DRBD actions: disconnect/connect, invalidate (full resync from the peer), online verify,
pause/resume sync, and guided split-brain recovery.  Pure plan builders; the executor runs them."""

from __future__ import annotations

from hatui.actions import commands
from hatui.actions.plan import Check, Plan, Step, Verify, peer_of, unknown_node
from hatui.config import Config
from hatui.model import ClusterSnapshot, DrbdResource

RESYNC_TIMEOUT_S = 1800.0
DRBD_ACTIONS = ("resync", "connect", "disconnect", "verify", "pause-sync", "resume-sync")


def _res(snap: ClusterSnapshot, cfg: Config, node: str) -> DrbdResource | None:
    n = snap.node(node)
    return n.drbd_resource(cfg.drbd.resource) if n else None


def _progress(cfg: Config, node: str):
    def report(s: ClusterSnapshot) -> str:
        r = _res(s, cfg, node)
        if r is None:
            return f"{node}: no DRBD status"
        pct = f" {r.sync_percent:.1f} %" if r.sync_percent is not None else ""
        eta = f", ETA {r.eta_s} s" if r.eta_s is not None else ""
        speed = f", {r.speed_kib_s:,} KiB/s" if r.speed_kib_s is not None else ""
        return f"{node}: {r.replication_state or r.connection_state}{pct}{speed}{eta}, disk {r.disk_state}"
    return report


def both_uptodate(cfg: Config, a: str, b: str, timeout_s: float = RESYNC_TIMEOUT_S) -> Verify:
    def holds(s: ClusterSnapshot) -> bool:
        ra, rb = _res(s, cfg, a), _res(s, cfg, b)
        return bool(ra and rb and ra.connection_state == "Connected" and rb.connection_state == "Connected"
                    and ra.disk_state == "UpToDate" and rb.disk_state == "UpToDate"
                    and (ra.replication_state or "Established") == "Established"
                    and (rb.replication_state or "Established") == "Established")
    return Verify(f"DRBD {cfg.drbd.resource} Connected, UpToDate on {a} and {b} (resync at 100 %)", holds, timeout_s,
                  report=_progress(cfg, a))


def plan_drbd(snap: ClusterSnapshot, cfg: Config, action: str, node: str) -> Plan:
    title = f"DRBD {action} on {node}"
    if (refused := unknown_node(f"drbd-{action}", title, node, cfg)) is not None:
        return refused
    peer = peer_of(cfg, node)
    r, pr = _res(snap, cfg, node), _res(snap, cfg, peer)
    def adm(sub: str, *flags: str) -> str:
        return commands.drbdadm(cfg, node, sub, *flags)

    checks = [Check(f"{node} reachable with DRBD status", r is not None,
                    f"{r.role}, {r.connection_state}, {r.disk_state}" if r else "no DRBD status")]
    steps: list[Step] = []
    final: list[Verify] = []
    notes: list[str] = []
    cs = r.connection_state if r else None
    if action == "disconnect":
        checks.append(Check("not already StandAlone", cs != "StandAlone", f"connection {cs}"))
        steps.append(Step(node, adm("disconnect"), "replication stops; the node goes StandAlone",
                          Verify(f"{node} StandAlone", lambda s: (x := _res(s, cfg, node)) is not None
                                 and x.connection_state == "StandAlone", 10),
                          undo=adm("connect")))
        if r and r.role == "Primary":
            notes.append(f"WARNING: {node} is Primary: its writes are no longer mirrored until `connect`.")
    elif action == "connect":
        checks.append(Check(f"{node} StandAlone", cs == "StandAlone", f"connection {cs} (connect needs StandAlone)"))
        steps.append(Step(node, adm("connect"), "the node connects to its peer (and resyncs if needed)",
                          Verify(f"{node} connected", lambda s: (x := _res(s, cfg, node)) is not None
                                 and x.connection_state == "Connected", 30), undo=adm("disconnect")))
        final.append(both_uptodate(cfg, node, peer))
    elif action == "resync":
        checks.append(Check("connected to the peer", cs == "Connected", f"connection {cs}"))
        checks.append(Check(f"{peer} has UpToDate data", bool(pr and pr.disk_state == "UpToDate"),
                            f"{peer} disk {pr.disk_state if pr else 'unknown'}: invalidating {node} would destroy the "
                            "only good copy" if not (pr and pr.disk_state == "UpToDate") else f"{peer} UpToDate"))
        n = snap.node(node)
        mounted_primary = bool(r and r.role == "Primary" and n and n.drbd_mounted)
        checks.append(Check(f"{node} is not the Primary with a mounted filesystem", not mounted_primary,
                            f"{node} is Primary with {cfg.drbd.mount_point} mounted: switch over first"
                            if mounted_primary else f"{node} is {r.role if r else '?'}"))
        checks.append(Check("no resync running", not (r and r.syncing),
                            r.replication_state or "none" if r else "?"))
        steps.append(Step(node, adm("invalidate"),
                          f"{node}'s copy is discarded and fully resynced from {peer}",
                          Verify(f"{node} SyncTarget or already UpToDate",
                                 lambda s: (x := _res(s, cfg, node)) is not None
                                 and (x.syncing or x.disk_state in ("Inconsistent", "UpToDate")),
                                 15)))
        final.append(both_uptodate(cfg, node, peer))
    elif action == "verify":
        checks.append(Check("connected, no resync", cs == "Connected" and not (r and r.syncing),
                            f"{cs}, {r.replication_state if r else '?'}"))
        steps.append(Step(node, adm("verify"), "online verify compares both copies block by block"))
        final.append(both_uptodate(cfg, node, peer))
        notes.append("Blocks found out of sync are only marked: `disconnect` + `connect` resyncs them.")
    elif action in ("pause-sync", "resume-sync"):
        syncing = bool(r and r.syncing)
        checks.append(Check("a resync exists", syncing, r.replication_state or "none" if r else "?"))
        want = "Paused" if action == "pause-sync" else ""
        steps.append(Step(node, adm(action), "the resync pauses" if want else "the resync continues",
                          Verify("resync " + ("paused" if want else "running"),
                                 lambda s: (x := _res(s, cfg, node)) is not None
                                 and ("Paused" in (x.replication_state or "")) == bool(want), 10),
                          undo=adm("resume-sync" if want else "pause-sync")))
    else:
        return Plan(f"drbd-{action}", title, node, (), (), refusal=f"unknown DRBD action {action!r}")
    return Plan(f"drbd-{action}", title, node, tuple(checks), tuple(steps), tuple(final), notes=tuple(notes))


def plan_split_brain(snap: ClusterSnapshot, cfg: Config, victim: str) -> Plan:
    title = f"DRBD split-brain recovery: discard the changes of {victim}"
    if (refused := unknown_node("drbd-split-brain", title, victim, cfg)) is not None:
        return refused
    survivor = peer_of(cfg, victim)
    rv, rs = _res(snap, cfg, victim), _res(snap, cfg, survivor)
    vn = snap.node(victim)
    sides = []
    for name, r in ((victim, rv), (survivor, rs)):
        if r is not None:
            oos = f", {r.out_of_sync_kib:,} KiB changed that the other lacks" if r.out_of_sync_kib is not None else ""
            sides.append(f"{name}: {r.role}, {r.connection_state}, disk {r.disk_state}{oos}")
    checks = [
        Check("both nodes reachable", rv is not None and rs is not None, "; ".join(sides) or "no DRBD status"),
        Check("split brain (a side StandAlone)", bool(rv and rs and "StandAlone" in (rv.connection_state,
                                                                                    rs.connection_state)),
              f"{victim} {rv.connection_state if rv else '?'}, {survivor} {rs.connection_state if rs else '?'}"),
        Check(f"the victim {victim} does not hold the VIP", not (vn and vn.holds_vip(cfg.vip)),
              f"{victim} serves clients: switch over first, or choose {survivor} as the victim"
              if vn and vn.holds_vip(cfg.vip) else f"{survivor} serves clients"),
    ]
    steps = [
        Step(victim, commands.release_drbd(cfg, victim),
             f"{victim} is Secondary, nothing mounted",
             Verify(f"{victim} Secondary", lambda s: (x := _res(s, cfg, victim)) is not None and x.role == "Secondary",
                    10)),
    ]
    if rv is not None and rv.connection_state != "StandAlone":
        steps.append(Step(victim, commands.drbdadm(cfg, victim, "disconnect"),
                          f"{victim} StandAlone (needed before discarding)"))
    steps.append(Step(victim, commands.drbdadm(cfg, victim, "connect", "--discard-my-data"),
                      f"{victim} will throw away its changes and take {survivor}'s"))
    if rs is not None and rs.connection_state == "StandAlone":
        steps.append(Step(survivor, commands.drbdadm(cfg, survivor, "connect"),
                          f"{survivor} reconnects and becomes SyncSource"))
    final = [both_uptodate(cfg, victim, survivor)]
    notes = (f"{victim}'s changes made during the split brain are LOST for good (DRBD resyncs {survivor}'s "
             "blocks over them). Copy anything worth keeping off the victim before confirming.",)
    return Plan("drbd-split-brain", title, victim, tuple(checks), tuple(steps), tuple(final), notes=notes)
