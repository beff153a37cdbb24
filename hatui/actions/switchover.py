"""Guided switchover: move the service to the standby the keepalived way, checked at every step.

The active node is demoted through the maintenance hook (a keepalived `track_file` whose value is
added to the priority, see config.example.yaml): writing a negative number there lowers its priority
below the target's, keepalived moves the VIP, the notify scripts move DRBD and the mount.  If they do
not, the plan does the DRBD steps itself.  Without the hook hatui refuses and shows the snippet: it
does not improvise a demotion (stopping keepalived would leave DRBD behind, see docs/faults.md).
"""

from __future__ import annotations

from hatui.actions import commands
from hatui.actions.plan import Check, Plan, Step, Verify, peer_of, unknown_node
from hatui.config import Config
from hatui.confmodel import hook_name, hook_snippet
from hatui.diagnosis import role_dependent
from hatui.model import ClusterSnapshot, NodeSnapshot, TrackFile, VrrpInstance

MARGIN = 10  # how far below the target's priority the demoted node goes


def maintenance_hook(inst: VrrpInstance | None, cfg: Config) -> TrackFile | None:
    if inst is None:
        return None
    name = hook_name(cfg)
    return next((t for t in inst.track_files if t.name == name and (t.weight or 0) > 0), None)


def _write_value(cfg: Config, node: str, value: int) -> str:
    return commands.maintenance_value(cfg, node, value)


def _galera_ok(n: NodeSnapshot | None, cfg: Config) -> bool:
    # an unreachable node keeps its last values for the screen: a check never passes on them
    g = n.galera if n and n.reachable else None
    return bool(g and g.cluster_status == "Primary" and g.local_state_comment == "Synced"
                and (g.cluster_size or 0) >= cfg.mariadb.expected_cluster_size)


def _role(snap: ClusterSnapshot, cfg: Config, node: str) -> str | None:
    n = snap.node(node)
    r = n.drbd_resource(cfg.drbd.resource) if n else None
    return r.role if r else None


def vip_only_on(node: str, cfg: Config) -> Verify:
    return Verify(f"the VIP {cfg.vip} on {node} only",
                  lambda s: list(s.vip_holders(cfg.vip)) == [node], 20)


def drbd_on(target: str, source: str, cfg: Config) -> Verify:
    def holds(s: ClusterSnapshot) -> bool:
        t, o = s.node(target), s.node(source)
        return (_role(s, cfg, target) == "Primary" and _role(s, cfg, source) == "Secondary"
                and bool(t and t.drbd_mounted) and o is not None and o.drbd_mounted is False)
    return Verify(f"DRBD {cfg.drbd.resource} Primary and {cfg.drbd.mount_point} mounted on {target} only", holds, 15)


def drbd_only_on(node: str, peer: str, cfg: Config) -> Verify:
    """`node` Primary with the mount, `peer` not Primary nor mounted — or not answering: what an undo that puts
    DRBD back on `node` must reach even when the peer is powered off."""
    def holds(s: ClusterSnapshot) -> bool:
        n, p = s.node(node), s.node(peer)
        peer_clear = p is None or not p.reachable or (_role(s, cfg, peer) != "Primary" and p.drbd_mounted is False)
        return _role(s, cfg, node) == "Primary" and bool(n and n.reachable and n.drbd_mounted) and peer_clear
    return Verify(f"DRBD {cfg.drbd.resource} Primary and {cfg.drbd.mount_point} mounted on {node} again", holds, 15)


def drbd_released_on(node: str, cfg: Config) -> Verify:
    def holds(s: ClusterSnapshot) -> bool:
        n = s.node(node)
        return _role(s, cfg, node) == "Secondary" and bool(n and n.reachable and n.drbd_mounted is False)
    return Verify(f"DRBD {cfg.drbd.resource} Secondary and {cfg.drbd.mount_point} unmounted on {node}", holds, 15)


def _highest(inst: VrrpInstance | None, hook: TrackFile | None) -> int:
    """The most the node's priority can reach without its maintenance hook: base, every check passing, the
    other track files' raises — not its priority of the moment, which a check that has not re-run since
    the last role change would make too low."""
    if inst is None:
        return 0
    return ((inst.base_priority or 0) + sum(max(0, sc.weight or 0) for sc in inst.track_scripts)
            + sum(max(0, (tf.weight or 0) * (tf.value or 0)) for tf in inst.track_files if tf is not hook))


def _while_secondary(inst: VrrpInstance | None, hook: TrackFile | None) -> int:
    """The node's priority as a Secondary with its maintenance hook cleared: its role-dependent checks
    fail (see diagnosis.role_dependent) whatever they last reported — right after a switchover the old
    master's chk_drbd still says GOOD until it re-runs — and a check not known to pass counts as failing."""
    if inst is None:
        return 0
    prio = inst.base_priority or 0
    for sc in inst.track_scripts:
        if sc.weight is None:
            continue
        bad = sc.status != "GOOD" or role_dependent(sc.name)
        if (sc.weight < 0 and bad) or (sc.weight > 0 and not bad):
            prio += sc.weight
    return prio + sum((tf.weight or 0) * (tf.value or 0) for tf in inst.track_files if tf is not hook)


def plan_switchover(snap: ClusterSnapshot, cfg: Config, target: str, lock_owner: str | None = None) -> Plan:
    title = f"Switchover to {target}"
    if (refused := unknown_node("switchover", title, target, cfg)) is not None:
        return refused
    source = peer_of(cfg, target)
    t, s = snap.node(target), snap.node(source)
    t_inst = t.vrrp_instance(cfg.keepalived_instance) if t else None
    s_inst = s.vrrp_instance(cfg.keepalived_instance) if s else None
    checks: list[Check] = []

    def check(name: str, ok: bool, why: str) -> None:
        checks.append(Check(name, ok, why))

    check("target reachable", bool(t and t.reachable), t.error or "" if t and not t.reachable else f"{target} answers")
    check("active node reachable", bool(s and s.reachable),
          f"{source} answers" if s and s.reachable else f"{source} must be reachable to be demoted gracefully")
    check(f"{source} holds the VIP", bool(s and s.reachable and s.holds_vip(cfg.vip)),
          f"VIP {cfg.vip} on {source}" if s and s.holds_vip(cfg.vip)
          else f"{target} already holds it" if t and t.holds_vip(cfg.vip) else "the VIP is not on the active node")
    for node, n in ((source, s), (target, t)):
        g = n.galera if n and n.reachable else None
        check(f"Galera on {node}", _galera_ok(n, cfg),
              f"{g.cluster_status}, {g.local_state_comment}, size {g.cluster_size}" if g else "MariaDB not answering")
    for node, n in ((source, s), (target, t)):
        r = n.drbd_resource(cfg.drbd.resource) if n else None
        ok = bool(r and r.connection_state == "Connected" and r.disk_state == "UpToDate"
                  and r.peer_disk_state == "UpToDate"
                  and (r.replication_state or "Established") in ("Established", "Off"))
        check(f"DRBD on {node}", ok, f"{r.connection_state}, {r.disk_state}/{r.peer_disk_state}, "
              f"{r.replication_state or 'no resync'}" if r else "no DRBD status")
    bad = [sc for sc in (t_inst.track_scripts if t_inst else ()) if sc.status != "GOOD"]
    t_role = _role(snap, cfg, target)
    # the seed's chk_drbd fails on every healthy Secondary: it passes once the target is promoted
    excused = [sc for sc in bad if role_dependent(sc.name) and t_role == "Secondary"]
    blocking = [sc for sc in bad if sc not in excused]
    why = "all pass" if not bad else ", ".join(
        f"{sc.name} {sc.status}" + (" (fails only because the target is Secondary: passes once promoted)"
                                    if sc in excused else "") for sc in bad)
    check(f"{target}'s health checks", t_inst is not None and not blocking, why if t_inst else "no VRRP data")
    check("no other action running", lock_owner is None, "lock free" if lock_owner is None else f"held by {lock_owner}")

    hook_s, hook_t = maintenance_hook(s_inst, cfg), maintenance_hook(t_inst, cfg)
    if s_inst is not None and hook_s is None:
        return Plan("switchover", title, target, tuple(checks), (), refusal=(
            f"{source} has no maintenance hook (a keepalived track_file named {hook_name(cfg)}, the basename of "
            f"{cfg.actions.maintenance_file}), "
            "so hatui cannot demote it the keepalived way. Add this to keepalived.conf on both nodes and "
            f"reload keepalived:\n{hook_snippet(cfg)}"))
    steps: list[Step] = []
    if t_inst and hook_t and hook_t.value:
        steps.append(Step(target, _write_value(cfg, target, 0), f"{target} leaves maintenance ({hook_t.value} → 0)",
                          undo=_write_value(cfg, target, hook_t.value)))
    s_max = _highest(s_inst, hook_s)
    t_floor = _while_secondary(t_inst, hook_t)
    current = hook_s.value or 0 if hook_s else 0
    weight = hook_s.weight or 1 if hook_s else 1
    # the VIP moves while the target is still Secondary: the source, at the most it can reach, must end up
    # MARGIN below that (rounded up to the hook's weight)
    value = min(-1, (t_floor - MARGIN - s_max) // weight)  # floor: -ceil(needed / weight)
    steps.append(Step(source, _write_value(cfg, source, value),
                      f"{source}'s priority drops to at most {s_max + value * weight} (below {target}'s {t_floor} "
                      f"while it is still Secondary): keepalived moves the VIP to {target}",
                      verify=vip_only_on(target, cfg), undo=_write_value(cfg, source, current),
                      undo_verify=vip_only_on(source, cfg)))
    moved = drbd_on(target, source, cfg)
    # each DRBD step is undone by putting DRBD and the mount back where they were, the target's first (undo
    # runs in reverse): should the target die after the VIP moved, keepalived hands the VIP back to the source,
    # which must then have its data again
    steps.append(Step(source, commands.release_drbd(cfg, source),
                      f"{source} releases DRBD (only if the notify script did not)", skip_if=moved,
                      verify=Verify(f"{source} DRBD Secondary", lambda sn: _role(sn, cfg, source) == "Secondary", 10),
                      undo=commands.retake_drbd(cfg, source), undo_verify=drbd_only_on(source, target, cfg)))
    steps.append(Step(target, commands.take_drbd(cfg, target),
                      f"{target} takes DRBD and mounts {cfg.drbd.mount_point} (only if the notify script did not)",
                      skip_if=moved, verify=moved, undo=commands.release_drbd(cfg, target),
                      undo_verify=drbd_released_on(target, cfg)))
    final = [
        Verify("Galera Primary and Synced on both nodes",
               lambda sn: all(_galera_ok(sn.node(n), cfg) for n in (source, target)), 20),
    ]
    if cfg.web.url:
        final.append(Verify(f"the web page through the VIP answered by {target}",
                            lambda sn: bool(sn.web and sn.web.ok and sn.web.node == target), 10))
    notes = (f"{source} stays in maintenance ({value}) afterwards so that it does not take the VIP back; "
             f"`hatui maintenance clear --node {source}` ends it.",)
    # both nodes change: neither may be skipped by the lock or the audit
    return Plan("switchover", title, target, tuple(checks), tuple(steps), tuple(final), notes=notes,
                must_reach=(source, target))


def plan_clear_maintenance(snap: ClusterSnapshot, cfg: Config, node: str) -> Plan:
    """Set the node's maintenance value back to 0, warning when that makes it preempt the VIP."""
    title = f"Clear maintenance on {node}"
    if (refused := unknown_node("maintenance-clear", title, node, cfg)) is not None:
        return refused
    n = snap.node(node)
    inst = n.vrrp_instance(cfg.keepalived_instance) if n else None
    hook = maintenance_hook(inst, cfg)
    if inst is None or hook is None:
        return Plan("maintenance-clear", title, node, (Check(f"{node} reachable with the hook", False,
                    "no VRRP data or no maintenance track_file"),), ())
    other = snap.node(peer_of(cfg, node))
    o_inst = other.vrrp_instance(cfg.keepalived_instance) if other else None
    after = (inst.effective_priority or 0) - (hook.value or 0) * (hook.weight or 1)
    notes = []
    if o_inst and other.holds_vip(cfg.vip) and after > (o_inst.effective_priority or 0):
        notes.append(f"WARNING: {node} will have priority {after} > {other.node}'s {o_inst.effective_priority}: "
                     f"it will PREEMPT the VIP (an unplanned switchover back to {node}).")
    step = Step(node, _write_value(cfg, node, 0), f"{node}'s priority returns to {after}",
                undo=_write_value(cfg, node, hook.value or 0))
    return Plan("maintenance-clear", title, node, (Check("hook present", True, f"current value {hook.value}"),),
                (step,), notes=tuple(notes))
