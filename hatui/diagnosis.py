"""Pure rules over a ClusterSnapshot: what is wrong, why it matters, what to do.

Each rule looks only at the snapshot (and the config for what is expected) and returns Findings.
Nothing here talks to a node, so every rule is tested on recorded snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from hatui.config import Config
from hatui.model import ClusterSnapshot, Finding, NodeSnapshot, VrrpInstance

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
DISCONNECTED = {"Connecting", "WFConnection", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure",
                "ProtocolError", "Disconnecting", "TearDown"}


def _f(severity: str, code: str, title: str, explanation: str, action: str, *nodes: str,
       counts: bool = True, expand: bool | None = None) -> Finding:
    """A finding; problems (critical, warning) show their why and what-to-do unless told otherwise."""
    if expand is None:
        expand = severity in ("critical", "warning")
    return Finding(severity=severity, code=code, title=title, explanation=explanation, action=action,  # type: ignore[arg-type]
                   nodes=tuple(nodes), counts=counts, expand=expand)


def login_refused(mysql_error: str) -> bool:
    """MariaDB answered and refused the login (ER_ACCESS_DENIED_ERROR 1045, ER_ACCESS_DENIED_NO_PASSWORD
    1698): the server is up, hatui's credentials are the problem."""
    return "Access denied" in mysql_error or "(1045" in mysql_error or "(1698" in mysql_error


def _ago(epoch: float | None, now: float) -> str:
    if epoch is None:
        return ""
    secs = max(0, int(now - epoch))
    return f" for {secs // 60} min {secs % 60} s" if secs >= 60 else f" for {secs} s"


# ---- rules ---------------------------------------------------------------------------------------------
def reachability(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    for n in snap.nodes:
        if not n.reachable and n.error_kind == "host-key":
            yield _f("critical", "host-key-mismatch", f"{n.node}'s SSH host key does not verify: possible "
                     "man-in-the-middle",
                     f"{n.error or 'The host key is unknown or changed.'} hatui does not talk to a node whose "
                     "identity it cannot verify, and does not retry on its own.",
                     f"Verify {n.node}'s host key out of band (its console: ssh-keygen -lf "
                     "/etc/ssh/ssh_host_ed25519_key.pub); only if it changed on purpose, update known_hosts; "
                     "then press r.", n.node)
        elif not n.reachable and n.error_kind == "hatui":
            yield _f("critical", "poll-error", f"hatui could not read {n.node}: {n.error}",
                     f"hatui's own code failed on what {n.node} answered (a bug, or output it does not expect); "
                     "the node itself may be fine. What is shown for it is stale.",
                     "Report the error above with `hatui status --json`; hatui retries every cycle.", n.node)
        elif not n.reachable:
            ago = _ago(n.since_epoch_s, snap.taken_at_epoch_s)
            yield _f("critical", "node-unreachable", f"{n.node} unreachable{ago}",
                     f"hatui cannot reach {n.node}: {n.error or 'no answer'}. What it last showed may be stale.",
                     "Check the node's power and network; hatui keeps reconnecting with backoff.", n.node)
        elif n.stream and n.stream not in ("up", "starting"):
            yield _f("info", "stream-restarting", f"{n.node}'s change stream is {n.stream}",
                     "The long-lived channel that tells hatui of a change at once (VIP, failover log, DRBD 9 events) "
                     "stopped. What is shown is still polled every interval, only later.",
                     "Nothing to do if it comes back; if not, check that `ip`, `tail` and `drbdsetup` run on the node.",
                     n.node)
        if n.reachable and n.keepalived_running is False:
            yield _f("critical", "keepalived-down", f"keepalived not running on {n.node}",
                     f"{n.node} takes no part in VRRP: it can neither hold nor take over the VIP.",
                     f"Start keepalived on {n.node} (systemctl start keepalived).", n.node)


def vip(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    up = [n for n in snap.nodes if n.reachable]
    holders = list(snap.vip_holders(cfg.vip))
    if len(holders) > 1:
        yield _f("critical", "vip-both", f"both nodes hold the VIP {cfg.vip}",
                 "VRRP split brain: each node thinks it is MASTER (adverts not received: link, firewall or "
                 "auth mismatch). Clients reach either node at random.",
                 "Find why adverts are lost (auth failures, interface); stop keepalived on the node that must not "
                 "serve.", *holders)
    elif not holders and len(up) == len(snap.nodes):
        yield _f("critical", "vip-none", f"no node holds the VIP {cfg.vip}",
                 "The service address is down: nothing answers clients.",
                 "Check keepalived on both nodes (FAULT state? all checks failing?).")
    elif not holders:
        yield _f("warning", "vip-unknown", f"no reachable node holds the VIP {cfg.vip}",
                 "The unreachable node may hold it; hatui cannot tell.", "Restore access to the unreachable node.")
    for h in holders:
        node = snap.node(h)
        assert node is not None
        res = node.drbd_resource(cfg.drbd.resource)
        if res is not None and res.role == "Unknown":
            yield _f("warning", "drbd-role-unknown", f"DRBD role of VIP holder {h} not known",
                     f"{h}'s DRBD status did not say its role (cut or odd output): hatui does not guess it.",
                     f"Check `drbdadm status {cfg.drbd.resource}` on {h}.", h)
        elif res is not None and res.role != "Primary":
            yield _f("critical", "vip-not-drbd-primary", f"VIP holder {h} is not DRBD primary ({res.role})",
                     f"{h} serves clients but its DRBD {cfg.drbd.resource} is {res.role}: the replicated data is "
                     "not available where the service runs (the notify script's promotion failed or raced).",
                     f"Promote DRBD on {h} and mount {cfg.drbd.mount_point}, or switch the VIP to the primary.", h)
        if node.drbd_mounted is False:
            yield _f("critical", "vip-unmounted", f"{cfg.drbd.mount_point} not mounted on VIP holder {h}",
                     "The service's data directory is missing on the node that answers clients.",
                     f"Mount {cfg.drbd.device} on {cfg.drbd.mount_point} on {h} (after promoting DRBD).", h)
    for n in up:
        if n.node not in holders and n.drbd_mounted:
            yield _f("warning", "mounted-on-standby", f"{cfg.drbd.mount_point} mounted on {n.node}, which has no VIP",
                     "The data is mounted away from the service address.", "Switch over or unmount it.", n.node)


def drbd(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    resources = {n.node: n.drbd_resource(cfg.drbd.resource) for n in snap.nodes if n.reachable}
    primaries = [name for name, r in resources.items() if r is not None and r.role == "Primary"]
    if len(primaries) > 1:
        yield _f("critical", "drbd-dual-primary", f"DRBD {cfg.drbd.resource} is primary on both nodes",
                 "Both sides can write: their data diverges (split brain on the next connect).",
                 "Unmount and demote the node without the VIP (drbdadm secondary).", *primaries)
    for name, r in resources.items():
        node = snap.node(name)
        if r is None:
            if node is not None and node.reachable:
                yield _f("warning", "drbd-unknown", f"no DRBD status for {cfg.drbd.resource} on {name}",
                         "The resource is not configured, or its status could not be read.",
                         f"Check `drbdadm status {cfg.drbd.resource}` on {name}.", name)
            continue
        cs = r.connection_state or ""
        if r.unconfigured:
            yield _f("critical", "drbd-unconfigured", f"DRBD {r.name} unconfigured on {name}",
                     "The resource is down on this node.", f"drbdadm up {r.name} on {name}.", name)
        elif r.split_brain_suspected or cs == "StandAlone":
            yield _f("critical", "drbd-standalone", f"DRBD {r.name} StandAlone on {name} (split brain?)",
                     "Replication is off. After a split brain DRBD drops the connection and stays StandAlone until "
                     "an operator chooses the victim whose changes are discarded.",
                     "Guided split-brain recovery: pick the victim, `connect --discard-my-data` there, `connect` "
                     "on the survivor.", name)
        elif cs in DISCONNECTED:
            yield _f("warning", "drbd-disconnected", f"DRBD {r.name} on {name} waits for its peer ({cs})",
                     "No replication: the peer is down or unreachable; writes here are not mirrored.",
                     "Bring the peer back; DRBD reconnects and resyncs by itself.", name)
        rs = r.replication_state or ""
        if r.syncing:
            pct = f"{r.sync_percent:.1f} %" if r.sync_percent is not None else "?"
            eta = f", ETA {r.eta_s} s" if r.eta_s is not None else ""
            speed = f", {r.speed_kib_s} KiB/s" if r.speed_kib_s is not None else ""
            yield _f("warning", "drbd-resync",
                     f"DRBD {r.name} resync on {name}: {rs or cs} {pct}{speed}{eta}",
                     "Until the resync finishes the SyncTarget's data is Inconsistent: it cannot take over.",
                     "Wait for 100 % before any switchover.", name)
        elif r.disk_state and r.disk_state != "UpToDate":
            yield _f("critical" if r.disk_state in ("Diskless", "Failed") else "warning", "drbd-disk",
                     f"DRBD {r.name} disk {r.disk_state} on {name}",
                     "This node's copy is not known to be current: it must not become primary.",
                     "Reconnect/resync (or invalidate) so it becomes UpToDate.", name)


def galera(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    expected = cfg.mariadb.expected_cluster_size
    states = {}
    for n in snap.nodes:
        if not n.reachable:
            continue
        if n.galera is None:
            if n.mysql_error and login_refused(n.mysql_error):
                yield _f("warning", "mariadb-login-refused", f"MariaDB on {n.node} refused hatui's login",
                         f"{n.mysql_error}. MariaDB answers, but hatui cannot read the Galera status with the "
                         f"configured user ({cfg.mariadb.user}).",
                         f"Grant the login on {n.node}: `CREATE USER IF NOT EXISTS '{cfg.mariadb.user}'@'localhost' "
                         "IDENTIFIED VIA unix_socket` (the SSH user, no password stored), or set mariadb.password_env "
                         "/ mariadb.password_file in the hatui config.", n.node)
                continue
            yield _f("critical", "mariadb-down", f"MariaDB not answering on {n.node}",
                     n.mysql_error or "No answer from the server.", f"Check mariadb on {n.node} (error log).", n.node)
            continue
        g = n.galera
        states[n.node] = g
        if g.cluster_status and g.cluster_status != "Primary":
            two = (" In a two-node cluster a node that loses its peer without a clean leave (crash, power loss, "
                   "network cut) holds 1 vote of 2, no majority, so it refuses queries to avoid split brain."
                   if expected == 2 else "")
            inst = n.vrrp_instance(cfg.keepalived_instance)
            # what keepalived's own check says of it (the seed's `grep Primary` matches "non-Primary")
            blind = [s.name for s in (inst.track_scripts if inst else ()) if _script_kind(s.name) == "galera"
                     and s.status == "GOOD" and (s.weight or 0) < 0]
            unseen = (f" keepalived's {', '.join(blind)} still reports GOOD on {n.node}: the check does not see the "
                      "quorum loss, so it keeps the VIP there (hatui doctor: galera-check-non-primary)."
                      if blind else "")
            yield _f("critical", "galera-non-primary", f"Galera {g.cluster_status} on {n.node}: quorum lost",
                     f"{n.node} is not in a Primary component and serves no queries.{two}{unseen}",
                     f"If the peer is really down, re-bootstrap {n.node} (hatui galera bootstrap --node {n.node}: "
                     "pc.bootstrap=YES) — only after comparing last committed seqnos.", n.node)
            continue
        if g.cluster_size is not None and g.cluster_size < expected:
            yield _f("warning", "galera-size", f"Galera cluster size {g.cluster_size} < {expected} on {n.node}",
                     "A member is missing: one more failure and the cluster loses quorum.",
                     "Bring the missing node back (it rejoins by IST/SST).", n.node)
        if g.local_state_comment and g.local_state_comment != "Synced":
            yield _f("warning", "galera-not-synced", f"Galera {n.node} is {g.local_state_comment}",
                     "The node is joining, donating or desynced: it may lag or refuse reads.",
                     "Wait for Synced; check the error log if it does not come.", n.node)
    uuids = {g.cluster_state_uuid for g in states.values() if g.cluster_status == "Primary" and g.cluster_state_uuid}
    if len(uuids) > 1:
        yield _f("critical", "galera-uuid-mismatch", "Galera cluster state UUIDs differ",
                 "The nodes are in different clusters (history diverged).",
                 "Decide which node holds the data to keep; the other must rejoin with a full SST.", *states)


def web(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    w = snap.web
    if w is None:
        return
    if not w.ok:
        yield _f("critical", "web-down", f"web page through the VIP fails: {w.error}",
                 f"{w.url} does not serve the expected status page.", "Check the VIP holder's web server.")
        return
    holders = list(snap.vip_holders(cfg.vip))
    if w.node and holders and w.node not in holders:
        yield _f("warning", "web-wrong-node", f"web page names {w.node}, VIP held by {', '.join(holders)}",
                 "The page through the VIP comes from a node that does not hold it (stale ARP or a proxy).",
                 "Check ARP caches and the network path.", w.node)


# ---- prediction from the track-script weights ----------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    scenario: str
    active_priority: int
    standby_priority: int
    takes_over: bool


def _script_kind(name: str) -> str | None:
    low = name.lower()
    for kind, words in (("galera", ("galera", "wsrep")), ("mysql", ("mysql", "maria")), ("drbd", ("drbd",))):
        if any(w in low for w in words):
            return kind
    return None


def role_dependent(name: str) -> bool:
    """A check whose result follows the node's DRBD role (the seed's chk_drbd wants the Primary role): it
    fails on every Secondary and passes once the node is promoted, whatever its last reported status."""
    return _script_kind(name) == "drbd"


def _priority(inst: VrrpInstance, failing: set[str]) -> int | None:
    """Effective priority if the scripts of kinds `failing` turn BAD (the others keep their status)."""
    if inst.base_priority is None:
        return None
    prio = inst.base_priority
    for s in inst.track_scripts:
        if s.weight is None:
            continue
        bad = s.status == "BAD" or _script_kind(s.name) in failing
        if (s.weight < 0 and bad) or (s.weight > 0 and not bad):
            prio += s.weight
    for tf in inst.track_files:
        if tf.weight is not None and tf.value is not None:
            prio += tf.weight * tf.value
    return max(1, min(254, prio))


def predictions(snap: ClusterSnapshot, cfg: Config) -> tuple[list[Prediction], str | None, str | None]:
    insts = {n.node: n.vrrp_instance(cfg.keepalived_instance) for n in snap.nodes if n.reachable}
    active = next((n for n, i in insts.items() if i is not None and i.state == "MASTER"), None)
    standby = next((n for n, i in insts.items() if n != active and i is not None), None)
    if active is None or standby is None:
        return [], active, standby
    a, s = insts[active], insts[standby]
    assert a is not None and s is not None
    # A crash is seen by the active node's own checks within one interval, but by the standby's Galera
    # only after the peer is declared dead (evs.suspect_timeout, 5 s by default): the decision is taken
    # with the standby still intact; its quorum loss (two-node cluster) comes after.
    scenarios = [
        ("MariaDB on the active node stops cleanly", {"mysql", "galera"}),
        ("MariaDB on the active node crashes", {"mysql", "galera"}),
        ("DRBD on the active node degrades", {"drbd"}),
    ]
    out = []
    for title, fail_active in scenarios:
        pa, ps = _priority(a, fail_active), _priority(s, set())
        if pa is None or ps is None:
            continue
        out.append(Prediction(title, pa, ps, ps > pa))
    return out, active, standby


@dataclass(frozen=True)
class Penalty:
    source: str  # a track script's or track file's name
    points: int  # negative: what it takes off the base priority
    why: str  # "by design", "although …", "value 2"
    by_design: bool = False


def penalties(node: NodeSnapshot, inst: VrrpInstance, cfg: Config) -> list[Penalty]:
    """Each point a node runs below its base priority, attributed to its source: check by check (and
    whether it fails because of the node's role or for a real reason), track file by track file."""
    out: list[Penalty] = []
    drbd_res = node.drbd_resource(cfg.drbd.resource)
    g = node.galera
    for s in inst.track_scripts:
        if s.weight is None or s.weight >= 0 or s.status != "BAD":
            continue
        kind = _script_kind(s.name)
        healthy_standby_drbd = (drbd_res is not None and drbd_res.role == "Secondary"
                                and drbd_res.disk_state == "UpToDate" and drbd_res.connection_state == "Connected")
        galera_fine = bool(g and g.cluster_status == "Primary" and g.local_state_comment == "Synced")
        if kind == "drbd" and healthy_standby_drbd:
            out.append(Penalty(s.name, s.weight, "fails by design on a standby: it wants the Primary role", True))
        elif kind in ("mysql", "galera") and galera_fine:
            out.append(Penalty(s.name, s.weight, "fails although MariaDB answers and Galera is Primary, Synced: "
                                                  "the check itself fails (its login or its command)"))
        elif kind == "drbd" and drbd_res is not None:
            out.append(Penalty(s.name, s.weight, f"fails: DRBD is {drbd_res.role}, {drbd_res.connection_state}, "
                                                  f"{drbd_res.disk_state}"))
        elif kind in ("mysql", "galera"):
            state = f"Galera {g.cluster_status}, {g.local_state_comment}" if g else "MariaDB not answering"
            out.append(Penalty(s.name, s.weight, f"fails: {state}"))
        else:
            out.append(Penalty(s.name, s.weight, "fails"))
    for tf in inst.track_files:
        if tf.weight is not None and tf.value:
            out.append(Penalty(tf.name, tf.weight * tf.value, f"track file value {tf.value} × weight {tf.weight}"))
    return [p for p in out if p.points < 0]


def _penalised(node: NodeSnapshot, inst: VrrpInstance, cfg: Config) -> Iterable[Finding]:
    pens = penalties(node, inst, cfg)
    if not pens or inst.base_priority is None:
        return
    down = inst.base_priority - (inst.effective_priority or inst.base_priority)
    parts = ", ".join(f"{p.source} {p.points}" for p in pens)
    explanation = " ".join(f"{p.source} ({p.points}): {p.why}." for p in pens)
    explanation += (f" {node.node} competes with a lower priority, so some failures of the active node will not "
                    "move the VIP.")
    designed = [p.source for p in pens if p.by_design]
    real = [p.source for p in pens if not p.by_design and p.source in {s.name for s in inst.track_scripts}]
    files = [p.source for p in pens if p.source in {t.name for t in inst.track_files}]
    actions = []
    if designed:
        actions.append(f"make {', '.join(designed)} accept a healthy standby (docs: recommended checks)")
    if real:
        actions.append(f"find why {', '.join(real)} fail(s) on {node.node} (run the check by hand)")
    if files:
        actions.append(f"see the maintenance pin finding for {', '.join(files)}")
    yield _f("warning", "standby-penalised", f"standby {node.node} runs {down} points down: {parts}",
             explanation, "; ".join(actions).capitalize() + ".", node.node)


def maintenance_pins(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    """A maintenance value left standing (by a switchover, by hand) pins the pair: the node cannot take
    the VIP back while it stands, and a failure of the other node may not move the VIP to it."""
    name = cfg.actions.maintenance_file.rsplit("/", 1)[-1]
    for n in snap.nodes:
        inst = n.vrrp_instance(cfg.keepalived_instance)
        hook = next((t for t in inst.track_files if t.name == name), None) if inst else None
        if inst is None or hook is None or not hook.value or hook.weight is None:
            continue
        pin = hook.value * hook.weight
        eff = inst.effective_priority or 0
        cleared = eff - pin
        since = (f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(n.maintenance_since_epoch_s))}"
                 if n.maintenance_since_epoch_s else "")
        by = f" by {n.maintenance_set_by}" if n.maintenance_set_by else ""
        others = [o for o in snap.nodes if o.node != n.node]
        o_inst = others[0].vrrp_instance(cfg.keepalived_instance) if others else None
        o_eff = o_inst.effective_priority if o_inst else None
        if o_eff is None:
            preempt = "hatui cannot see the other node's priority, so it cannot tell whether clearing moves the VIP."
        elif cleared > o_eff:
            preempt = (f"Clearing it makes {n.node} PREEMPT: its priority returns to {cleared} > {others[0].node}'s "
                       f"{o_eff}, so the VIP moves back to {n.node} at once.")
        else:
            preempt = f"Clearing it does not move the VIP ({cleared} ≤ {others[0].node}'s {o_eff})."
        blocks = (f"{n.node} runs at {eff} instead of {cleared}: it cannot take the VIP back while this stands"
                  + (f", and keepalived moves the VIP to it only if {others[0].node} falls below {eff}."
                     if others else "."))
        yield _f("warning", "maintenance-pin", f"maintenance pin on {n.node}: value {hook.value} ({pin:+d}){since}{by}",
                 f"{cfg.actions.maintenance_file} holds {hook.value} (× weight {hook.weight}). {blocks} {preempt}",
                 f"When {n.node} should be able to take over again: `hatui maintenance clear --node {n.node}`.",
                 n.node)


def prediction_findings(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    preds, active, standby = predictions(snap, cfg)
    if not preds or active is None or standby is None:
        return
    s_node = snap.node(standby)
    s_inst = s_node.vrrp_instance(cfg.keepalived_instance) if s_node else None
    if s_node is not None and s_inst is not None and s_inst.base_priority is not None:
        yield from _penalised(s_node, s_inst, cfg)
    two_node = cfg.mariadb.expected_cluster_size == 2
    s_drbd = s_node.drbd_resource(cfg.drbd.resource) if s_node else None
    # DRBD promotes only a node with UpToDate data (a SyncTarget is Inconsistent until 100 %)
    no_data = s_drbd.disk_state if s_drbd is not None and s_drbd.disk_state != "UpToDate" else None
    for p in preds:
        verdict = "takes over" if p.takes_over else "would NOT take over"
        crash = "crash" in p.scenario and two_node
        severity = "warning" if not p.takes_over or crash or (p.takes_over and no_data) else "info"
        explanation = "Computed from the track scripts' weights and their current status."
        if p.takes_over and no_data:
            explanation += (f" But {standby}'s DRBD disk is {no_data}: DRBD refuses to promote it, so the VIP "
                            f"would move to a node that cannot mount {cfg.drbd.mount_point}.")
        if crash and p.takes_over:
            explanation += (f" Then {standby}'s Galera loses quorum (1 vote of 2, the peer left without a "
                            "goodbye): the VIP and the data move to a node whose database refuses queries.")
        action = ("Fix the weights or checks if the promised failover would not happen." if not p.takes_over
                  else f"Let {standby}'s DRBD disk reach UpToDate before relying on a failover." if no_data
                  else "Plan a Galera re-bootstrap of the survivor (or add an arbitrator, garbd)." if crash
                  else "Nothing to do.")
        # a prediction never raises the status; it shows its why when the outcome it predicts is harmful
        harmful = p.takes_over and crash
        yield _f(severity, "failover-prediction",
                 f"If {p.scenario}: {active} {p.active_priority} vs {standby} {p.standby_priority} "
                 f"→ {standby} {verdict}",
                 explanation, action, active, standby, counts=False, expand=harmful)


def sudo_refusals(snap: ClusterSnapshot, cfg: Config) -> Iterable[Finding]:
    """`become: sudo`: a command sudo would not run without a password.  What it reads is then unknown
    (e.g. keepalived's dumps are not refreshed): the finding names the command and the sudoers line."""
    from hatui.privilege import missing_line

    for n in snap.nodes:
        if not n.reachable or not n.sudo_refused:
            continue
        try:
            user = cfg.node(n.node).user
        except KeyError:
            user = "USER"
        lines = [missing_line(cfg, user, c) for c in n.sudo_refused]
        what = "; ".join(f"`sudo -n {c}`" for c in n.sudo_refused)
        yield _f("warning", "sudo-refused", f"sudo on {n.node} refused {len(lines)} command"
                 f"{'s' if len(lines) > 1 else ''} hatui needs: {n.sudo_refused[0]}",
                 f"{n.node}'s sudoers does not let {user} run {what} without a password, so what that command "
                 "reads or asks for is missing from this view (keepalived's dumps go stale without their signals; "
                 "DRBD 9 status and grastate.dat need root).",
                 f"Add to /etc/sudoers.d/hatui on {n.node} (visudo -f): " + " | ".join(lines)
                 + " — or install what `hatui sudoers` prints.", n.node)


RULES = (reachability, vip, drbd, galera, web, maintenance_pins, sudo_refusals, prediction_findings)


def diagnose(snap: ClusterSnapshot, cfg: Config) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(snap, cfg))
    problems = [f for f in findings if f.severity in ("critical", "warning") and f.counts]
    if not problems:
        findings.insert(0, _f("ok", "healthy", "all checks pass",
                              f"Checked at {time.strftime('%H:%M:%S', time.localtime(snap.taken_at_epoch_s))}.",
                              "Nothing to do."))
    findings.sort(key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
    return tuple(findings)
