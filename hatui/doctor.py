"""`hatui doctor`: hazards in the pair's configuration, each with why it matters and the fix.

Pure rules over what `probes/` read from both nodes (confmodel.NodeConfigRead): nothing here talks to
a node, so every rule is tested on the seed's real files (tests/fixtures/seed/).  No rule prints a
secret: passwords are redacted by the parsers, secrets in scripts are named by file, line and
variable only.
"""

from __future__ import annotations

from collections.abc import Iterable

from hatui.config import Config
from hatui.confmodel import (NodeConfigRead, galera_facts, hook_name, maintenance_hook, notify_facts, roles,
                             tracked_checks)
from hatui.doctor_drift import drift_hazards
from hatui.doctor_hazard import Hazard, hz
from hatui.probes.scripts import parse_secrets

__all__ = ["RULES", "Hazard", "exit_code", "hazards"]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def unreadable(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    for r in reads:
        if not r.reachable:
            yield hz("critical", "doctor-unreachable", f"{r.node} could not be read",
                     f"{r.error or 'no answer'}. The doctor compares both nodes; what it would say about this one "
                     "is missing.",
                     f"Restore SSH access to {r.node} and run `hatui doctor` again.", r.node)
        elif r.keepalived is None or r.instance(cfg) is None:
            yield hz("critical", "keepalived-conf-unread", f"{r.node}: no vrrp_instance {cfg.keepalived_instance} "
                     "in /etc/keepalived/keepalived.conf",
                     "Without the instance the doctor cannot judge checks, notify, preempt or authentication.",
                     f"Check the file on {r.node} (and `keepalived_instance` in hatui's config).", r.node)
        for path in r.missing_scripts:
            yield hz("warning", "script-unreadable", f"{r.node}: {path} is named in keepalived.conf but cannot be read",
                     "keepalived cannot run a script that is missing or not executable: a check that cannot run "
                     "counts as failed, a notify script that cannot run does nothing.",
                     f"Install {path} on {r.node} (mode 0755, owned by root).", r.node, where=(f"{r.node}:{path}",))


def role_dependent_checks(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    pair = roles(reads, cfg)
    if pair is None:
        return
    master, standby = pair
    m_inst, s_inst = master.instance(cfg), standby.instance(cfg)
    assert m_inst is not None and s_inst is not None
    s_checks = tracked_checks(standby, cfg)
    dependent = [c for c in s_checks if c.role_dependent]
    if not dependent:
        return
    s_eff = s_inst.priority + sum(c.weight for c in dependent)
    margin = m_inst.priority - s_eff
    lines = []
    for c in tracked_checks(master, cfg):
        if c.weight >= 0:
            continue
        after = m_inst.priority + c.weight
        verdict = ("moves the VIP" if after < s_eff else "ties (the higher IP address wins)" if after == s_eff
                   else "does NOT move the VIP")
        lines.append(f"{c.name} alone on {master.node} ({c.weight:+d} → {after} vs {s_eff}) {verdict}")
    names = ", ".join(c.name for c in dependent)
    also = [c.name for c in dependent if c.kind and c.kind.wants_connected]
    connected = (f" {', '.join(also)} also wants cs:Connected, so it fails on a Primary whose peer is away: after "
                 "a failover the survivor runs down too." if also else "")
    yield hz("warning", "role-dependent-check",
             f"{names} fail(s) on every healthy standby: {standby.node} runs at {s_eff}, not {s_inst.priority}",
             f"{names} want(s) the DRBD Primary role, which only the active node has. The standby competes "
             f"{s_inst.priority - s_eff} points down, so the failover margin is {margin} points instead of "
             f"{m_inst.priority - s_inst.priority}: a failure on {master.node} that costs {margin} points or fewer "
             f"does not move the VIP. {'; '.join(lines)}.{connected}",
             "Make the DRBD check accept a healthy Secondary: test the local disk, not the role (`drbdadm dstate "
             "r0` starts with UpToDate, on DRBD 8.4 and 9; /proc/drbd has no resource lines on 9).", standby.node,
             where=tuple(f"{standby.node}:{c.path}" for c in dependent if c.path))


def loose_galera_check(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    where = [f"{r.node}:{c.path}" for r in reads for c in tracked_checks(r, cfg)
             if c.kind and c.kind.passes_non_primary and c.path]
    if where:
        nodes = sorted({w.split(":", 1)[0] for w in where})
        yield hz("warning", "galera-check-non-primary",
                 "the Galera check's `grep Primary` also matches \"non-Primary\"",
                 "It passes on a node that lost quorum (wsrep_cluster_status non-Primary), so keepalived keeps "
                 "the VIP on a node whose database refuses every query, and never moves it for that reason.",
                 "Match the whole value: `grep -qx Primary` on `-N -B` output, or compare it: "
                 "[ \"$STATUS\" = Primary ] (and wsrep_ready ON).", *nodes, where=tuple(where))


def proc_drbd_check_on_9(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    """A DRBD check that only greps /proc/drbd's 8.4 resource line (cs:/ro:/ds:) on a node running DRBD 9,
    whose /proc/drbd has its header only: the check fails there whatever DRBD does."""
    where = [f"{r.node}:{c.path}" for r in reads if r.drbd9_proc for c in tracked_checks(r, cfg)
             if c.kind and c.kind.proc_only and c.path]
    if where:
        nodes = sorted({w.split(":", 1)[0] for w in where})
        yield hz("warning", "drbd-check-proc-drbd9",
                 f"the DRBD check reads /proc/drbd, which has no resource lines on DRBD 9 ({', '.join(nodes)})",
                 "DRBD 9's /proc/drbd holds only its version header, so a check that greps it for cs:/ro:/ds: "
                 "fails on every node, always: each node runs its weight down, and the check never moves the "
                 "VIP for a DRBD reason.",
                 "Ask drbdadm instead: `drbdadm dstate r0` (UpToDate/…, on DRBD 8.4 and 9) for the local disk, "
                 "`drbdadm role r0` for the role.", *nodes, where=tuple(where))


def notify_scripts(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    none, no_promote, no_stop, no_fault = [], [], [], []
    where: dict[str, list[str]] = {"none": [], "promote": [], "stop": [], "fault": []}
    for r in reads:
        facts = notify_facts(r, cfg)
        if facts is None:
            continue
        loc = [f"{r.node}:{p}" for p in facts.scripts]
        if not facts.scripts:
            none.append(r.node)
            continue
        if not facts.read:
            continue  # script-unreadable says it
        if not (facts.promotes_on_master and facts.mounts_on_master):
            no_promote.append(r.node)
            where["promote"] += loc
        if "STOP" not in facts.states:
            no_stop.append(r.node)
            where["stop"] += loc
        if "FAULT" not in facts.states:
            no_fault.append(r.node)
            where["fault"] += loc
    d = cfg.drbd
    if none:
        yield hz("critical", "notify-missing", f"no notify script on {', '.join(none)}",
                 "Nothing moves DRBD or the mount when the VIP moves: the new master serves without the data.",
                 f"Add `notify /etc/keepalived/notify.sh` with MASTER (drbdadm primary {d.resource}; mount "
                 f"{d.device} {d.mount_point}) and BACKUP/FAULT/STOP (umount; drbdadm secondary) branches.", *none)
    if no_promote:
        yield hz("critical", "notify-no-promote",
                 f"the notify script does not promote DRBD and mount {d.mount_point} on MASTER "
                 f"({', '.join(no_promote)})",
                 "When the VIP moves, the data does not: the new master answers clients without the replicated "
                 f"data ({d.mount_point} unmounted, DRBD Secondary), although a failover should promote and mount.",
                 f"In the MASTER branch: `drbdadm primary {d.resource}` (retried for a few seconds: the old master "
                 f"demotes at the same moment) and `mount {d.device} {d.mount_point}`; in BACKUP/FAULT/STOP: "
                 f"`umount {d.mount_point}; drbdadm secondary {d.resource}`.", *no_promote,
                 where=tuple(where["promote"]))
    if no_stop:
        yield hz("warning", "notify-no-stop", f"the notify script has no STOP case ({', '.join(no_stop)})",
                 "Stopping keepalived on the active node (a restart, a package upgrade) moves the VIP, but the "
                 f"stopped node stays DRBD Primary with {d.mount_point} mounted, so the new master's `drbdadm "
                 "primary` is refused: the service address points at a node without the data.",
                 f"Handle STOP like BACKUP (umount {d.mount_point}; drbdadm secondary {d.resource}).", *no_stop,
                 where=tuple(where["stop"]))
    if no_fault:
        yield hz("warning", "notify-no-fault", f"the notify script has no FAULT case ({', '.join(no_fault)})",
                 "A node that goes to FAULT (its interface down, a check with weight 0 failing) gives up the VIP "
                 "but keeps DRBD Primary and the mount: the peer cannot promote.",
                 f"Handle FAULT like BACKUP (umount {d.mount_point}; drbdadm secondary {d.resource}).", *no_fault,
                 where=tuple(where["fault"]))


def galera_quorum(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    g = galera_facts(reads, cfg)
    if g is None or g.data_nodes != 2 or g.arbitrator:
        return
    if len(set(g.weights.values())) > 1:
        heavy = max(g.weights, key=lambda n: g.weights[n])
        yield hz("info", "galera-weighted", f"two-node Galera with pc.weight: {heavy} keeps quorum alone",
                 f"pc.weight {g.weights}: if the other node fails {heavy} stays Primary; if {heavy} fails the "
                 "survivor still loses quorum.", "Add garbd on a third machine for symmetric survival.", heavy)
        return
    yield hz("warning", "galera-two-node", "two-node Galera without an arbitrator (garbd) or pc.weight",
             "A crash, power loss or network cut leaves the survivor with 1 vote of 2, no majority: "
             f"{g.suspect_timeout_s:g} s later (evs.suspect_timeout) it goes non-Primary and refuses queries, "
             "even though keepalived has moved the VIP to it. Only a clean shutdown keeps its quorum.",
             "Run garbd (the Galera arbitrator) on a third machine, or give one node pc.weight=2 "
             "(wsrep_provider_options), or plan the guided re-bootstrap (`hatui galera bootstrap`).",
             *[r.node for r in reads if r.galera is not None])


def preempt_and_hook(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    hookless = [r.node for r in reads if r.instance(cfg) is not None and maintenance_hook(r, cfg) is None]
    name = hook_name(cfg)
    if hookless:
        yield hz("warning", "maintenance-hook-missing", f"no maintenance hook on {', '.join(hookless)}",
                 f"hatui's switchover lowers a node's priority through a track_file ({cfg.actions.maintenance_file}); "
                 "without it there is no graceful way to move the VIP (only stopping keepalived, which the notify "
                 "script may not handle).",
                 f"Add `track_file {name} {{ file \"{cfg.actions.maintenance_file}\" weight 1 init_file 0 }}` and "
                 f"`track_file {{ {name} }}` in vrrp_instance {cfg.keepalived_instance} (config.example.yaml).",
                 *hookless)
    misnamed = {r.node: hook[0] for r in reads if (hook := maintenance_hook(r, cfg)) is not None and hook[0] != name}
    if misnamed:
        yield hz("warning", "maintenance-hook-name",
                 f"the maintenance hook's track_file is not named {name} on {', '.join(misnamed)}",
                 "keepalived's live data names a track_file, not its file: hatui finds the hook by the basename of "
                 f"actions.maintenance_file ({name}), so with "
                 + ", ".join(f"`{n}` on {node}" for node, n in misnamed.items())
                 + " `hatui switchover` refuses as if there were no hook.",
                 f"Rename the track_file to {name} (in its definition and in the instance's track_file block), or "
                 "rename the file, in keepalived.conf and in actions.maintenance_file alike, after the track_file.",
                 *misnamed)
    pair = roles(reads, cfg)
    if pair is None:
        return
    master, standby = pair
    m, s = master.instance(cfg), standby.instance(cfg)
    assert m is not None and s is not None
    if m.nopreempt or s.nopreempt:
        bad_state = [r.node for r, i in ((master, m), (standby, s)) if i.nopreempt and i.state == "MASTER"]
        ignored = f" keepalived ignores nopreempt with `state MASTER` ({', '.join(bad_state)})." if bad_state else ""
        yield hz("warning", "nopreempt", "nopreempt is set: the maintenance hook cannot switch over",
                 "With nopreempt a backup with a higher priority does not take the VIP, so lowering the active "
                 "node's priority (hatui's switchover) moves nothing." + ignored,
                 "Remove nopreempt and use preempt_delay if the second switch after a heal is the concern.",
                 master.node, standby.node)
        return
    dependent = [c for c in tracked_checks(master, cfg) if c.role_dependent]
    back = m.priority + sum(c.weight for c in dependent)
    if back > s.priority:
        outcome = (f"when {master.node} comes back healthy ({back} > {standby.node}'s {s.priority}) it takes the VIP "
                   "back at once: a second switch, with its own short outage and DRBD/Galera moves")
        sev = "warning"
    else:
        outcome = (f"{master.node} comes back at {back} (its {', '.join(c.name for c in dependent)} fail(s) as "
                   f"Secondary) against {standby.node}'s {s.priority}, so it stays backup — by accident of the "
                   "role-dependent check, not by design; fix that check and the second switch appears")
        sev = "info"
    delay = f" preempt_delay {m.preempt_delay_s:g} s postpones it." if m.preempt_delay_s else ""
    hook = maintenance_hook(master, cfg)
    pin = (f" Clearing a maintenance pin on {master.node} preempts the same way: the VIP moves back the moment the "
           "value is cleared." if hook else "")
    takes = "takes the VIP back" if back > s.priority else "stays backup"
    yield hz(sev, "preempt-after-heal", f"preempt after a heal: {master.node} {takes}",
             f"keepalived preempts by default: {outcome}.{delay}{pin}",
             "Decide which you want: the automatic switch back (keep, add preempt_delay so the node settles "
             "first), or staying put (hatui's maintenance pin on the healed node; not nopreempt, which also "
             "disables the hook).", master.node)


def vrrp_auth(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    plain = [r.node for r in reads if (i := r.instance(cfg)) is not None and (i.auth_type or "").upper() == "PASS"]
    if plain:
        yield hz("warning", "vrrp-auth-pass", f"VRRP auth_type PASS on {', '.join(plain)}",
                 "The password travels in clear text in every advert (anyone on the segment reads it), and "
                 "keepalived uses only its first 8 characters. It protects against nothing but a mistake. "
                 "(hatui never reads or shows the password.)",
                 "Remove the authentication block (RFC 5798 VRRPv3 dropped it) and keep the VRRP segment private, "
                 "or use auth_type AH.", *plain,
                 where=tuple(f"{n}:/etc/keepalived/keepalived.conf" for n in plain))


def script_secrets(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    for r in reads:
        for path, text in sorted(r.scripts.items()):
            found = parse_secrets(text).value or ()
            if not found:
                continue
            what = ", ".join(f"line {s.line} ({s.what})" for s in found)
            yield hz("warning", "script-secret", f"{r.node}:{path} holds a secret: {what}",
                     "A secret written into a script is in every copy of it: backups, config management, "
                     "documentation, support bundles. hatui does not show its value.",
                     "Move it to a root-only file (chmod 600) that the script reads at run time, and rotate it.",
                     r.node, where=tuple(f"{r.node}:{path}:{s.line}" for s in found))


def drbd_policies(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    seen: dict[str, list[str]] = {}
    for r in reads:
        if not r.reachable:
            continue
        if r.drbd is None:
            yield hz("warning", "drbd-conf-unread", f"{r.node}: DRBD's configuration could not be read",
                     f"`drbdadm dump-xml` and `drbdadm dump` failed: {r.drbd_error or 'no output'}.",
                     f"Run `drbdadm dump {cfg.drbd.resource}` on {r.node}.", r.node)
            continue
        res = next((x for x in r.drbd if x.name == cfg.drbd.resource), None)
        if res is None:
            continue
        fencing = res.option("disk", "fencing") or res.option("net", "fencing")
        missing = []
        if fencing in (None, "dont-care"):
            missing.append("fencing")
        missing += [p for p in ("after-sb-0pri", "after-sb-1pri", "after-sb-2pri") if res.option("net", p) is None]
        key = ",".join(missing)
        if missing:
            seen.setdefault(key, []).append(r.node)
    for key, nodes in seen.items():
        missing = key.split(",")
        why = []
        if "fencing" in missing:
            why.append("without fencing (resource-only plus a fence-peer handler) a Primary that loses its peer "
                       "keeps writing and the peer can be promoted on outdated data")
        if any(m.startswith("after-sb") for m in missing):
            why.append("without after-sb-0pri/1pri/2pri policies (default: disconnect) every split brain leaves "
                       "both sides StandAlone until an operator picks the victim by hand")
        yield hz("warning", "drbd-policies", f"DRBD {cfg.drbd.resource} has no {', '.join(missing)}",
                 _sentence("; ".join(why)) + ". (Read with drbd-utils' own parser, `drbdadm dump-xml`.)",
                 "In the resource: `fencing resource-only;` with `handlers { fence-peer ...; after-resync-target "
                 "...; }`, and `net { after-sb-0pri discard-zero-changes; after-sb-1pri discard-secondary; "
                 "after-sb-2pri disconnect; }` — the policies only if losing the secondary's changes is acceptable.",
                 *nodes)


def keepalived_build_and_peering(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    nojson = [r.node for r in reads if r.build is not None and r.build.json is False]
    if nojson:
        yield hz("warning", "keepalived-no-json", f"keepalived on {', '.join(nojson)} is built without JSON",
                 "hatui reads priorities and states from keepalived's JSON dump; without it it falls back to the "
                 "data dump, which is slower and has fewer counters.",
                 "Install a keepalived built with --enable-json (Debian's and Ubuntu's packages are).", *nojson)
    insts = [(r, r.instance(cfg)) for r in reads if r.instance(cfg) is not None]
    if len(insts) != 2:
        return
    (ra, a), (rb, b) = insts
    assert a is not None and b is not None
    if a.vrid != b.vrid:
        yield hz("critical", "vrid-mismatch", f"virtual_router_id differs: {ra.node} {a.vrid}, {rb.node} {b.vrid}",
                 "The nodes run two separate VRRP routers: each hears no adverts of its own instance, so both "
                 "become MASTER and both hold the VIP.", "Use the same virtual_router_id on both nodes.",
                 ra.node, rb.node)
    for (rx, x), (ry, y) in (((ra, a), (rb, b)), ((rb, b), (ra, a))):
        if not x.unicast_peers and not y.unicast_peers:
            continue
        own = {*ry.addresses, *([y.unicast_src_ip] if y.unicast_src_ip else []),
               *([n.host for n in cfg.nodes if n.name == ry.node])}
        if not x.unicast_peers:
            yield hz("critical", "unicast-mismatch", f"{ry.node} sends unicast adverts, {rx.node} multicasts",
                     "Each side ignores the other's adverts: both become MASTER.",
                     "Configure unicast_peer (and unicast_src_ip) on both nodes, or on neither.", rx.node, ry.node)
        elif not own & set(x.unicast_peers):
            yield hz("critical", "unicast-mismatch", f"{rx.node}'s unicast_peer does not name {ry.node}",
                     f"{rx.node} sends its adverts to {', '.join(x.unicast_peers)}, none of which is {ry.node}'s "
                     "address: the peer never hears it and becomes MASTER too.",
                     f"List {ry.node}'s address in {rx.node}'s unicast_peer block.", rx.node, ry.node)


RULES = (unreadable, role_dependent_checks, loose_galera_check, proc_drbd_check_on_9, notify_scripts, galera_quorum,
         preempt_and_hook, vrrp_auth, script_secrets, drbd_policies, keepalived_build_and_peering, drift_hazards)
ORDER = {"critical": 0, "warning": 1, "info": 2}


def hazards(reads: list[NodeConfigRead], cfg: Config) -> list[Hazard]:
    out: list[Hazard] = []
    for rule in RULES:
        out.extend(rule(reads, cfg))
    out.sort(key=lambda h: ORDER.get(h.severity, 9))
    return out


def exit_code(found: list[Hazard]) -> int:
    """0 nothing to fix, 1 warnings, 2 something critical (or a node not read)."""
    sev = {h.severity for h in found}
    return 2 if "critical" in sev else 1 if "warning" in sev else 0

