"""Action plans are pure: built from recorded lab polls (and variants), checked without a cluster."""

from __future__ import annotations

from dataclasses import replace

from hatui.actions.executor import describe
from hatui.actions.switchover import MARGIN, plan_clear_maintenance, plan_switchover
from hatui.model import TrackFile, TrackScript
from tests.recordings import CONFIG, recording, with_node


def failed(plan) -> list[str]:
    return [c.name for c in plan.prechecks if not c.ok]


def test_switchover_plan_on_the_healthy_pair():
    plan = plan_switchover(recording("healthy"), CONFIG, "node2")
    assert plan.runnable, plan.render()
    first = plan.steps[0]
    assert first.node == "node1" and first.command == "printf '%s\\n' -40 > /etc/keepalived/maintenance"
    assert first.undo == "printf '%s\\n' 0 > /etc/keepalived/maintenance"
    assert first.verify is not None and "VIP 198.18.0.100 on node2 only" in first.verify.description
    # the DRBD steps run only if keepalived's notify scripts did not move DRBD
    assert all(s.skip_if is not None for s in plan.steps[1:])
    assert "drbdadm primary r0 && mount /dev/drbd0 /mnt/drbd" in plan.render()
    # the seed's chk_drbd failing on the Secondary target is explained, not blocking
    hc = next(c for c in plan.prechecks if c.name == "node2's health checks")
    assert hc.ok and "passes once promoted" in hc.why


def test_switchover_to_the_active_node_is_refused():
    plan = plan_switchover(recording("healthy"), CONFIG, "node1")
    assert not plan.runnable and "node2 holds the VIP" in failed(plan)


def test_unknown_target():
    plan = plan_switchover(recording("healthy"), CONFIG, "node9")
    assert not plan.runnable and "unknown node" in plan.refusal
    plan = plan_clear_maintenance(recording("healthy"), CONFIG, "node9")
    assert not plan.runnable and plan.refusal == "unknown node 'node9': one of node1, node2"


def test_each_failing_precheck_refuses():
    snap = recording("healthy")
    n1, n2 = snap.node("node1"), snap.node("node2")
    cases = {
        "target reachable": with_node(snap, "node2", reachable=False, error="timed out"),
        "Galera on node2": with_node(snap, "node2", galera=replace(n2.galera, cluster_status="non-Primary")),
        "DRBD on node1": with_node(snap, "node1", drbd=tuple(replace(r, replication_state="SyncSource")
                                                             for r in n1.drbd)),
        "DRBD on node2": with_node(snap, "node2", drbd=tuple(replace(r, disk_state="Inconsistent") for r in n2.drbd)),
        "node2's health checks": with_node(snap, "node2", vrrp=tuple(
            replace(v, track_scripts=tuple(replace(t, status="BAD") if t.name == "chk_mysql" else t
                                           for t in v.track_scripts)) for v in n2.vrrp)),
    }
    for name, variant in cases.items():
        plan = plan_switchover(variant, CONFIG, "node2")
        assert not plan.runnable and name in failed(plan), (name, failed(plan))
    locked = plan_switchover(snap, CONFIG, "node2", lock_owner="alice@ws1 pid 7 switchover")
    assert failed(locked) == ["no other action running"]


def test_no_maintenance_hook_shows_the_snippet_instead_of_improvising():
    snap = recording("healthy")
    n1 = snap.node("node1")
    snap = with_node(snap, "node1", vrrp=tuple(replace(v, track_files=()) for v in n1.vrrp))
    plan = plan_switchover(snap, CONFIG, "node2")
    assert not plan.runnable and not plan.steps
    assert "track_file maintenance" in plan.refusal and "no maintenance hook" in plan.refusal


def test_switch_back_first_clears_the_targets_maintenance():
    snap = recording("failover")  # node2 active; node1 was healed and is backup
    n1 = snap.node("node1")
    snap = with_node(snap, "node1", vrrp=tuple(replace(v, track_files=(TrackFile("maintenance", 1, -40),))
                                               for v in n1.vrrp))
    plan = plan_switchover(snap, CONFIG, "node1")
    assert plan.steps[0].node == "node1" and "printf '%s\\n' 0 >" in plan.steps[0].command
    assert plan.steps[0].undo.startswith("printf '%s\\n' -40 >")


def test_clearing_maintenance_warns_when_the_node_would_preempt():
    snap = recording("healthy")  # node1 MASTER 100, node2 BACKUP 70
    n2 = snap.node("node2")
    snap = with_node(snap, "node2", vrrp=tuple(replace(v, track_files=(TrackFile("maintenance", 1, -5),),
                                                       effective_priority=65) for v in n2.vrrp))
    plan = plan_clear_maintenance(snap, CONFIG, "node2")
    assert plan.runnable and not plan.notes  # 70 < 100: no preemption
    n1 = snap.node("node1")
    snap2 = with_node(snap, "node1", vrrp=tuple(replace(v, effective_priority=60) for v in n1.vrrp))
    warn = plan_clear_maintenance(snap2, CONFIG, "node2")
    assert warn.notes and "PREEMPT" in warn.notes[0]


def test_describe_names_a_half_switched_cluster():
    snap = recording("healthy")
    assert describe(snap, CONFIG) == "VIP on node1, DRBD primary node1, /mnt/drbd mounted on node1"
    n1 = snap.node("node1")
    half = with_node(snap, "node1", drbd=tuple(replace(r, role="Secondary") for r in n1.drbd), drbd_mounted=False)
    assert "NOT CONSISTENT" in describe(half, CONFIG)


def _just_switched_to_node2(drbd_check: str):
    """The pair a moment after `hatui switchover --to node2`: node2 MASTER and Primary; node1 Secondary in
    maintenance (-40), its chk_drbd still reporting `drbd_check` (GOOD: it has not re-run since it was
    demoted)."""
    snap = recording("failover")
    n1 = snap.node("node1")
    scripts = tuple(TrackScript(sc.name, sc.weight, drbd_check if sc.name == "chk_drbd" else "GOOD")
                    for sc in n1.vrrp[0].track_scripts)
    eff = 100 - 40 - (20 if drbd_check == "BAD" else 0)
    return with_node(snap, "node1", vrrp=tuple(replace(v, track_scripts=scripts, effective_priority=eff,
                                                       track_files=(TrackFile("maintenance", 1, -40),))
                                               for v in n1.vrrp))


def _demotion(plan) -> int:
    step = next(s for s in plan.steps if s.node == "node2" and s.verify is not None)
    return int(step.command.split()[2])


def test_switch_back_at_once_demotes_below_the_targets_priority_as_a_secondary():
    """S1: the switch back is sized from what the priorities will be, not from a stale chk_drbd GOOD."""
    for status in ("GOOD", "BAD"):
        plan = plan_switchover(_just_switched_to_node2(status), CONFIG, "node1")
        value = _demotion(plan)
        # what keepalived will compare when node2 is demoted: node1 still Secondary (chk_drbd fails, -20),
        # its maintenance cleared by step 1; node2 Primary, every check passing
        node1_while_secondary, node2_demoted = 100 - 20, 90 + value
        assert node2_demoted <= node1_while_secondary - MARGIN, (status, value, plan.render())
        assert "(below node1's 80 while it is still Secondary)" in plan.render()
    # the same demotion whether or not the check has re-run yet
    assert _demotion(plan_switchover(_just_switched_to_node2("GOOD"), CONFIG, "node1")) == _demotion(plan)
