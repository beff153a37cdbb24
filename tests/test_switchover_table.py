"""The switchover and maintenance-clear plans, table by table on recorded lab polls (tests/fixtures/snapshots):
each pre-check failing on its own (and only it), each step's Verify against snapshots where it must hold and
where it must not, and the demotion sized from the priorities keepalived will compare."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hatui.actions.plan import Plan
from hatui.confmodel import hook_snippet
from hatui.actions.switchover import (
    drbd_on,
    maintenance_hook,
    plan_clear_maintenance,
    plan_switchover,
    vip_only_on,
)
from hatui.model import ClusterSnapshot, IpAddress, TrackFile, TrackScript, WebCheck
from tests.recordings import with_drbd, with_galera, CONFIG, recording, with_node

VIP = CONFIG.vip


def failed(plan: Plan) -> list[str]:
    return [c.name for c in plan.prechecks if not c.ok]


def check(plan: Plan, name: str):
    return next(c for c in plan.prechecks if c.name == name)




def _vrrp(snap: ClusterSnapshot, node: str, **changes) -> ClusterSnapshot:
    n = snap.node(node)
    return with_node(snap, node, vrrp=tuple(replace(v, **changes) for v in n.vrrp))


def _scripts(snap: ClusterSnapshot, node: str, **status_by_name: str) -> ClusterSnapshot:
    n = snap.node(node)
    return _vrrp(snap, node, track_scripts=tuple(replace(t, status=status_by_name.get(t.name, t.status))
                                                 for t in n.vrrp[0].track_scripts))


def _without_vip(snap: ClusterSnapshot, node: str) -> ClusterSnapshot:
    n = snap.node(node)
    return with_node(snap, node, addresses=tuple(a for a in n.addresses if a.address != VIP))


def _with_vip(snap: ClusterSnapshot, node: str) -> ClusterSnapshot:
    n = snap.node(node)
    return with_node(snap, node, addresses=(*n.addresses, IpAddress(2, "eth0", "inet", VIP, 24, "global", True, None)))


def switched() -> ClusterSnapshot:
    """The pair once a switchover to node2 is done: VIP, DRBD Primary and the mount on node2, Galera Primary and
    Synced on both (the failover recording with node1's MariaDB back)."""
    snap = recording("failover")
    g = replace(snap.node("node2").galera, cluster_size=2)
    return with_node(with_node(snap, "node1", galera=g), "node2", galera=g)


HEALTHY = recording("healthy")  # node1 active (VIP, DRBD Primary, mounted), node2 standby

# ---- each pre-check failing on its own ------------------------------------------------------------------
ALONE = {
    "node1 holds the VIP": _without_vip(HEALTHY, "node1"),
    "Galera on node1 non-Primary": with_galera(HEALTHY, "node1", cluster_status="non-Primary"),
    # Synced but not Primary, Primary but not Synced: both halves are needed
    "Galera on node2 non-Primary but Synced": with_galera(HEALTHY, "node2", cluster_status="non-Primary"),
    "Galera on node2 Donor": with_galera(HEALTHY, "node2", local_state_comment="Donor/Desynced"),
    "Galera on node1 size 1": with_galera(HEALTHY, "node1", cluster_size=1),
    "Galera on node1 size unknown": with_galera(HEALTHY, "node1", cluster_size=None),
    "Galera on node2 MariaDB down": with_node(HEALTHY, "node2", galera=None, mysql_error="Can't connect"),
    "DRBD on node1 Connecting": with_drbd(HEALTHY, "node1", connection_state="Connecting"),
    "DRBD on node2 Outdated": with_drbd(HEALTHY, "node2", disk_state="Outdated"),
    "DRBD on node1 peer Inconsistent": with_drbd(HEALTHY, "node1", peer_disk_state="Inconsistent"),
    "DRBD on node2 SyncTarget": with_drbd(HEALTHY, "node2", replication_state="SyncTarget"),
    "DRBD on node1 no status": with_node(HEALTHY, "node1", drbd=()),
    "node2's health checks chk_mysql BAD": _scripts(HEALTHY, "node2", chk_mysql="BAD"),
    "node2's health checks chk_galera unknown": _scripts(HEALTHY, "node2", chk_galera="unknown"),
    "node2's health checks no VRRP": with_node(HEALTHY, "node2", vrrp=()),
}


@pytest.mark.parametrize("case", sorted(ALONE))
def test_each_precheck_fails_on_its_own(case):
    variant = ALONE[case]
    name = next(n for n in (c.name for c in plan_switchover(HEALTHY, CONFIG, "node2").prechecks)
                if case.startswith(n))
    plan = plan_switchover(variant, CONFIG, "node2")
    assert failed(plan) == [name], (case, plan.render())
    assert not plan.runnable
    assert f"[FAIL] {name}" in plan.render()


def test_an_unreachable_target_fails_what_cannot_be_read_on_it():
    # reachability cannot fail alone: what was read on the node goes with it
    plan = plan_switchover(with_node(HEALTHY, "node2", reachable=False, error="timed out"), CONFIG, "node2")
    assert failed(plan) == ["target reachable", "Galera on node2", "DRBD on node2", "node2's health checks"]


def test_every_precheck_passes_on_the_healthy_pair_and_says_why():
    plan = plan_switchover(HEALTHY, CONFIG, "node2")
    assert plan.runnable and plan.refusal is None
    whys = {c.name: c.why for c in plan.prechecks}
    assert whys == {
        "target reachable": "node2 answers",
        "active node reachable": "node1 answers",
        "node1 holds the VIP": f"VIP {VIP} on node1",
        "Galera on node1": "Primary, Synced, size 2",
        "Galera on node2": "Primary, Synced, size 2",
        "DRBD on node1": "Connected, UpToDate/UpToDate, Established",
        "DRBD on node2": "Connected, UpToDate/UpToDate, Established",
        "node2's health checks": "chk_drbd BAD (fails only because the target is Secondary: passes once promoted)",
        "no other action running": "lock free",
    }
    assert plan.must_reach == ("node1", "node2") and plan.lock_nodes == ("node1", "node2")


def test_the_failing_prechecks_say_why():
    down = plan_switchover(with_node(HEALTHY, "node2", reachable=False, error="timed out"), CONFIG, "node2")
    assert check(down, "target reachable").why == "timed out"
    source_down = plan_switchover(with_node(HEALTHY, "node1", reachable=False, error="refused"), CONFIG, "node2")
    # an unreachable active node fails its reachability, the VIP, Galera and DRBD checks
    assert failed(source_down) == ["active node reachable", "node1 holds the VIP", "Galera on node1",
                                   "DRBD on node1"]
    assert check(source_down, "active node reachable").why == "node1 must be reachable to be demoted gracefully"
    assert check(source_down, "node1 holds the VIP").why == "the VIP is not on the active node"
    assert check(source_down, "Galera on node1").why == "MariaDB not answering"
    assert check(source_down, "DRBD on node1").why == "no DRBD status"
    # a reachable node1 with the VIP still fails "holds the VIP" when it is node2 that has it
    back = plan_switchover(switched(), CONFIG, "node2")
    assert check(back, "node1 holds the VIP").why == "node2 already holds it"
    assert not check(back, "node1 holds the VIP").ok
    odd = plan_switchover(with_drbd(HEALTHY, "node2", replication_state=None, disk_state="Outdated"), CONFIG, "node2")
    assert check(odd, "DRBD on node2").why == "Connected, Outdated/UpToDate, no resync"
    bad = plan_switchover(_scripts(HEALTHY, "node2", chk_mysql="BAD"), CONFIG, "node2")
    assert check(bad, "node2's health checks").why == (
        "chk_mysql BAD, chk_drbd BAD (fails only because the target is Secondary: passes once promoted)")
    assert check(plan_switchover(with_node(HEALTHY, "node2", vrrp=()), CONFIG, "node2"),
                 "node2's health checks").why == "no VRRP data"
    locked = plan_switchover(HEALTHY, CONFIG, "node2", lock_owner="alice@ws1 pid 7 switchover")
    assert failed(locked) == ["no other action running"]
    assert check(locked, "no other action running").why == "held by alice@ws1 pid 7 switchover"


def test_drbd_replication_off_or_unprinted_passes():
    for state in ("Off", None):
        plan = plan_switchover(with_drbd(HEALTHY, "node2", replication_state=state), CONFIG, "node2")
        assert plan.runnable, (state, plan.render())


def test_a_role_dependent_check_blocks_when_the_target_is_not_secondary():
    # chk_drbd BAD is excused only because node2 is Secondary; on a Primary (or unknown) role it blocks
    for role in ("Primary", "Unknown"):
        plan = plan_switchover(with_drbd(HEALTHY, "node2", role=role), CONFIG, "node2")
        assert "node2's health checks" in failed(plan), role
        assert "passes once promoted" not in check(plan, "node2's health checks").why
    good = plan_switchover(_scripts(HEALTHY, "node2", chk_drbd="GOOD"), CONFIG, "node2")
    assert check(good, "node2's health checks").why == "all pass" and good.runnable


def test_the_source_without_vrrp_data_is_not_refused_for_a_missing_hook():
    # no VRRP data on node1 says nothing about its hook: the pre-checks decide (the VIP, Galera, DRBD pass)
    plan = plan_switchover(with_node(HEALTHY, "node1", vrrp=()), CONFIG, "node2")
    assert plan.refusal is None and plan.steps


# ---- the maintenance hook ---------------------------------------------------------------------------------
@pytest.mark.parametrize("hook,found", [
    (TrackFile("maintenance", 1, 0), True),
    (TrackFile("maintenance", 2, 0), True),
    (TrackFile("maintenance", 0, 0), False),  # weight 0: writing to it moves nothing
    (TrackFile("maintenance", None, 0), False),
    (TrackFile("maintenance", -1, 0), False),
    (TrackFile("other", 1, 0), False),
])
def test_maintenance_hook_is_a_track_file_of_that_name_with_a_positive_weight(hook, found):
    inst = replace(HEALTHY.node("node1").vrrp[0], track_files=(TrackFile("other2", 5, 0), hook))
    assert (maintenance_hook(inst, CONFIG) == hook) is found
    if not found:
        assert maintenance_hook(inst, CONFIG) is None
        plan = plan_switchover(_vrrp(HEALTHY, "node1", track_files=(hook,)), CONFIG, "node2")
        assert not plan.runnable and not plan.steps
        assert plan.refusal == (
            "node1 has no maintenance hook (a keepalived track_file named maintenance, the basename of "
            "/etc/keepalived/maintenance), so hatui cannot demote it the keepalived way. Add this to "
            "keepalived.conf on both nodes and reload keepalived:\n" + hook_snippet(CONFIG))
    assert maintenance_hook(None, CONFIG) is None


# ---- the steps and their checks ---------------------------------------------------------------------------
def test_the_steps_of_a_switchover_on_the_healthy_pair():
    plan = plan_switchover(HEALTHY, CONFIG, "node2")
    demote, release, take = plan.steps
    assert (demote.node, demote.command) == ("node1", "printf '%s\\n' -40 > /etc/keepalived/maintenance")
    assert demote.effect == ("node1's priority drops to at most 60 (below node2's 70 while it is still Secondary): "
                             "keepalived moves the VIP to node2")
    assert demote.undo == "printf '%s\\n' 0 > /etc/keepalived/maintenance" and demote.skip_if is None
    assert demote.verify.description == f"the VIP {VIP} on node2 only" and demote.verify.timeout_s == 20
    assert demote.undo_verify.description == f"the VIP {VIP} on node1 only"
    assert (release.node, release.command) == (
        "node1", "if mountpoint -q /mnt/drbd; then umount /mnt/drbd; fi; drbdadm secondary r0")
    assert release.effect == "node1 releases DRBD (only if the notify script did not)"
    assert release.verify.description == "node1 DRBD Secondary" and release.verify.timeout_s == 10
    assert release.undo == "drbdadm primary r0 && { mountpoint -q /mnt/drbd || mount /dev/drbd0 /mnt/drbd; }"
    assert release.undo_verify.description == "DRBD r0 Primary and /mnt/drbd mounted on node1 again"
    assert (take.node, take.command) == ("node2", "drbdadm primary r0 && mount /dev/drbd0 /mnt/drbd")
    assert take.undo == "if mountpoint -q /mnt/drbd; then umount /mnt/drbd; fi; drbdadm secondary r0"
    assert take.undo_verify.description == "DRBD r0 Secondary and /mnt/drbd unmounted on node2"
    assert take.effect == "node2 takes DRBD and mounts /mnt/drbd (only if the notify script did not)"
    assert take.verify is take.skip_if is release.skip_if
    assert take.verify.description == "DRBD r0 Primary and /mnt/drbd mounted on node2 only"
    assert take.verify.timeout_s == 15
    galera_final, web_final = plan.final
    assert galera_final.description == "Galera Primary and Synced on both nodes" and galera_final.timeout_s == 20
    assert web_final.description == "the web page through the VIP answered by node2" and web_final.timeout_s == 10
    assert plan.notes == ("node1 stays in maintenance (-40) afterwards so that it does not take the VIP back; "
                          "`hatui maintenance clear --node node1` ends it.",)


def test_without_a_web_url_there_is_no_web_check():
    cfg = replace(CONFIG, web=replace(CONFIG.web, url=None))
    assert [v.description for v in plan_switchover(HEALTHY, cfg, "node2").final] == [
        "Galera Primary and Synced on both nodes"]


def _holds(verify, snap) -> bool:
    return bool(verify.holds(snap))


def test_vip_only_on_holds_only_where_the_vip_is_on_that_node_alone():
    v = vip_only_on("node2", CONFIG)
    assert _holds(v, switched())
    assert not _holds(v, HEALTHY)  # on node1
    assert not _holds(v, _with_vip(HEALTHY, "node2"))  # on both
    assert not _holds(v, _without_vip(HEALTHY, "node1"))  # on neither
    assert _holds(vip_only_on("node1", CONFIG), HEALTHY)


def test_drbd_on_holds_only_with_the_target_primary_and_mounted_and_the_source_secondary_and_unmounted():
    v = drbd_on("node2", "node1", CONFIG)
    done = switched()
    assert _holds(v, done)
    assert not _holds(v, HEALTHY)
    must_not = {
        "target Secondary": with_drbd(done, "node2", role="Secondary"),
        "source Primary too": with_drbd(done, "node1", role="Primary"),
        "source role unknown": with_drbd(done, "node1", role="Unknown"),
        "target not mounted": with_node(done, "node2", drbd_mounted=False),
        "target mount unknown": with_node(done, "node2", drbd_mounted=None),
        "source still mounted": with_node(done, "node1", drbd_mounted=True),
        "source mount unknown": with_node(done, "node1", drbd_mounted=None),
        "source unreachable": with_node(done, "node1", reachable=False),
        "target without DRBD": with_node(done, "node2", drbd=()),
    }
    for case, snap in must_not.items():
        assert not _holds(v, snap), case


def test_the_drbd_undo_checks_hold_only_where_drbd_is_back():
    """The source takes DRBD back (its peer Secondary, unmounted, or not answering: powered off); the
    target gives it up (Secondary, unmounted, answering)."""
    plan = plan_switchover(HEALTHY, CONFIG, "node2")
    _demote, release, take = plan.steps
    back, gone = release.undo_verify, take.undo_verify
    done = switched()
    assert _holds(back, HEALTHY) and not _holds(back, done)
    # the peer powered off: its last values (Primary, mounted) are stale and do not count
    off = with_node(with_drbd(HEALTHY, "node2", role="Primary"), "node2", reachable=False, drbd_mounted=True)
    assert _holds(back, off)
    assert back.timeout_s == 15 and gone.timeout_s == 15
    must_not = {
        "source Secondary": with_drbd(HEALTHY, "node1", role="Secondary"),
        "source not mounted": with_node(HEALTHY, "node1", drbd_mounted=False),
        "source unreachable": with_node(HEALTHY, "node1", reachable=False),
        "peer Primary too": with_drbd(HEALTHY, "node2", role="Primary"),
        "peer mounted": with_node(HEALTHY, "node2", drbd_mounted=True),
        "peer mount unknown": with_node(HEALTHY, "node2", drbd_mounted=None),
    }
    for case, snap in must_not.items():
        assert not _holds(back, snap), case
    assert _holds(gone, HEALTHY) and not _holds(gone, done)
    for case, snap in {"target Primary": with_drbd(HEALTHY, "node2", role="Primary"),
                       "target mounted": with_node(HEALTHY, "node2", drbd_mounted=True),
                       "target mount unknown": with_node(HEALTHY, "node2", drbd_mounted=None),
                       "target unreachable": with_node(HEALTHY, "node2", reachable=False)}.items():
        assert not _holds(gone, snap), case


def test_each_step_verify_on_the_snapshots_before_and_after():
    plan = plan_switchover(HEALTHY, CONFIG, "node2")
    demote, release, take = plan.steps
    done = switched()
    # before: nothing has moved yet; after: everything has
    assert not _holds(demote.verify, HEALTHY) and _holds(demote.verify, done)
    assert _holds(demote.undo_verify, HEALTHY) and not _holds(demote.undo_verify, done)
    assert not _holds(release.verify, HEALTHY) and _holds(release.verify, done)
    assert not _holds(release.verify, with_drbd(done, "node1", role="Unknown"))
    assert not _holds(take.verify, HEALTHY) and _holds(take.verify, done)
    galera_final, web_final = plan.final
    assert _holds(galera_final, done) and _holds(galera_final, HEALTHY)
    for bad in (with_galera(done, "node1", cluster_status="non-Primary"),
                with_galera(done, "node2", local_state_comment="Joined"),
                with_galera(done, "node2", cluster_size=1), with_node(done, "node1", galera=None),
                # the collector keeps an unreachable node's last data (collector._unreachable): stale, not Synced
                with_node(done, "node1", reachable=False, error="timed out")):
        assert not _holds(galera_final, bad)
    assert _holds(web_final, done) and not _holds(web_final, HEALTHY)  # HEALTHY's page is served by node1
    assert not _holds(web_final, replace(done, web=None))
    assert not _holds(web_final, replace(done, web=replace(done.web, ok=False)))
    assert not _holds(web_final, replace(done, web=WebCheck(url="http://x/", ok=True, node=None, latency_ms=1.0,
                                                            status=200, error=None, body="")))


# ---- the demotion: sized from the priorities keepalived will compare ---------------------------------------
def _demotion(plan: Plan) -> int:
    step = next(s for s in plan.steps if s.verify is not None and "VIP" in s.verify.description)
    return int(step.command.split()[2])


@pytest.mark.parametrize("source_changes,target_changes,value,at_most,floor", [
    # healthy: node1 can reach 100, node2 as a Secondary 90 - 20 (chk_drbd) = 70: 70 - 10 - 100
    ({}, {}, -40, 60, 70),
    # a positive-weight script on node1 raises what it can reach, whatever its status
    ({"track_scripts": (TrackScript("chk_extra", 5, "BAD"),)}, {}, -45, 60, 70),
    # a negative-weight script on node1 does not: it can pass again
    ({"track_scripts": (TrackScript("chk_mysql", -20, "BAD"),)}, {}, -40, 60, 70),
    # another track file of node1 counts with its value, only upwards
    ({"track_files": (TrackFile("maintenance", 1, 0), TrackFile("boost", 2, 3))}, {}, -46, 60, 70),
    ({"track_files": (TrackFile("maintenance", 1, 0), TrackFile("sink", 2, -3))}, {}, -40, 60, 70),
    ({"track_files": (TrackFile("maintenance", 1, 0), TrackFile("unset", None, 3))}, {}, -40, 60, 70),
    # the hook's own value does not count: it is what is being written
    ({"track_files": (TrackFile("maintenance", 1, 7),)}, {}, -40, 60, 70),
    # a hook of weight 3: -ceil(40 / 3) = -14 → 100 - 42
    ({"track_files": (TrackFile("maintenance", 3, 0),)}, {}, -14, 58, 70),
    # node2: an unknown check counts as failing; a passing positive one adds; a None weight is ignored
    ({}, {"track_scripts": (TrackScript("chk_mysql", -20, "unknown"), TrackScript("chk_drbd", -20, "GOOD"))},
     -60, 40, 50),
    ({}, {"track_scripts": (TrackScript("chk_x", None, "BAD"), TrackScript("chk_up", 15, "GOOD"),
                            TrackScript("chk_down", 15, "BAD"))}, -5, 95, 105),
    ({}, {"track_scripts": (TrackScript("chk_one", 1, "GOOD"),)}, -19, 81, 91),
    # a weight None counts nothing, a value None nothing (on either node)
    ({"track_scripts": (TrackScript("chk_x", None, "GOOD"),)}, {}, -40, 60, 70),
    ({"track_files": (TrackFile("maintenance", 1, 0), TrackFile("unset", 2, None))},
     {"track_files": (TrackFile("maintenance", 1, 0), TrackFile("w", None, 3), TrackFile("v", 2, None))},
     -40, 60, 70),
    # a positive-weight role-dependent check fails on the Secondary: it adds nothing
    ({}, {"track_scripts": (TrackScript("chk_drbd", 15, "GOOD"),)}, -20, 80, 90),
    # node2's other track files count with their value (here down), its hook does not
    ({}, {"track_files": (TrackFile("maintenance", 1, 0), TrackFile("sink", 2, -5))}, -50, 50, 60),
    # never less than 1 down, even when node2 already outranks node1 by far
    ({"base_priority": 10, "track_scripts": ()}, {}, -1, 9, 70),
    ({"base_priority": None, "track_scripts": ()}, {"base_priority": None, "track_scripts": ()}, -10, -10, 0),
])
def test_the_demotion_value(source_changes, target_changes, value, at_most, floor):
    snap = _vrrp(_vrrp(HEALTHY, "node1", **source_changes), "node2", **target_changes)
    plan = plan_switchover(snap, CONFIG, "node2")
    assert _demotion(plan) == value, plan.render()
    assert f"drops to at most {at_most} (below node2's {floor} while" in plan.steps[-3].effect


def test_the_demotion_undo_restores_the_value_in_place():
    snap = _vrrp(HEALTHY, "node1", track_files=(TrackFile("maintenance", 1, 5),))
    demote = plan_switchover(snap, CONFIG, "node2").steps[0]
    assert demote.undo == "printf '%s\\n' 5 > /etc/keepalived/maintenance"


def test_a_target_in_maintenance_leaves_it_first():
    snap = _vrrp(HEALTHY, "node2", track_files=(TrackFile("maintenance", 1, -30),))
    plan = plan_switchover(snap, CONFIG, "node2")
    first = plan.steps[0]
    assert (first.node, first.command) == ("node2", "printf '%s\\n' 0 > /etc/keepalived/maintenance")
    assert first.effect == "node2 leaves maintenance (-30 → 0)"
    assert first.undo == "printf '%s\\n' -30 > /etc/keepalived/maintenance" and first.verify is None
    assert len(plan.steps) == 4
    # a hook at 0 needs no step
    assert len(plan_switchover(HEALTHY, CONFIG, "node2").steps) == 3


def test_a_node_not_in_the_config():
    for plan in (plan_switchover(HEALTHY, CONFIG, "node9"), plan_clear_maintenance(HEALTHY, CONFIG, "node9")):
        assert plan.refusal == "unknown node 'node9': one of node1, node2" and not plan.steps
    refused = plan_switchover(HEALTHY, CONFIG, "node9")
    assert (refused.action, refused.title, refused.target) == ("switchover", "Switchover to node9", "node9")
    cleared = plan_clear_maintenance(HEALTHY, CONFIG, "node9")
    assert (cleared.action, cleared.title) == ("maintenance-clear", "Clear maintenance on node9")


def test_a_node_missing_from_the_snapshot_or_without_vrrp_data():
    # a snapshot that does not list the target at all (not polled yet): every check on it fails, nothing raises
    only_node1 = replace(HEALTHY, nodes=HEALTHY.nodes[:1])
    plan = plan_switchover(only_node1, CONFIG, "node2")
    assert failed(plan) == ["target reachable", "Galera on node2", "DRBD on node2", "node2's health checks"]
    assert "drops to at most -10 (below node2's 0 while" in plan.steps[0].effect  # 100 + (0 - 10 - 100)
    only_node2 = replace(HEALTHY, nodes=HEALTHY.nodes[1:])
    plan = plan_switchover(only_node2, CONFIG, "node2")
    assert "active node reachable" in failed(plan) and plan.refusal is None
    # no VRRP data on either side: the most the source reaches and the target's floor are 0
    blind = with_node(with_node(HEALTHY, "node1", vrrp=()), "node2", vrrp=())
    demote = plan_switchover(blind, CONFIG, "node2").steps[0]
    assert demote.effect.startswith("node1's priority drops to at most -10 (below node2's 0 while")
    assert demote.command == "printf '%s\\n' -10 > /etc/keepalived/maintenance"


def test_galera_size_unknown_fails_even_where_one_member_is_expected():
    cfg = replace(CONFIG, mariadb=replace(CONFIG.mariadb, expected_cluster_size=1))
    assert plan_switchover(with_galera(HEALTHY, "node2", cluster_size=1), cfg, "node2").runnable
    plan = plan_switchover(with_galera(HEALTHY, "node2", cluster_size=None), cfg, "node2")
    assert failed(plan) == ["Galera on node2"]


# ---- clearing maintenance --------------------------------------------------------------------------------
def _pinned(snap: ClusterSnapshot, node: str, value: int, eff: int, weight: int | None = 1) -> ClusterSnapshot:
    return _vrrp(snap, node, track_files=(TrackFile("maintenance", weight, value),), effective_priority=eff)


def test_clear_maintenance_returns_the_priority_and_undoes_to_the_value():
    snap = _pinned(switched(), "node1", -40, 40)  # node1 100 - 40 - 20 (chk_drbd) while pinned; node2 90
    plan = plan_clear_maintenance(snap, CONFIG, "node1")
    assert plan.runnable and plan.title == "Clear maintenance on node1" and plan.action == "maintenance-clear"
    assert [(c.name, c.ok, c.why) for c in plan.prechecks] == [("hook present", True, "current value -40")]
    (step,) = plan.steps
    assert (step.node, step.command) == ("node1", "printf '%s\\n' 0 > /etc/keepalived/maintenance")
    assert step.effect == "node1's priority returns to 80"
    assert step.undo == "printf '%s\\n' -40 > /etc/keepalived/maintenance"
    assert plan.notes == ()  # 80 < node2's 90


@pytest.mark.parametrize("other_eff,warns", [(79, True), (80, False), (81, False)])
def test_clear_maintenance_warns_only_when_the_node_would_preempt(other_eff, warns):
    snap = _vrrp(_pinned(switched(), "node1", -40, 40), "node2", effective_priority=other_eff)
    plan = plan_clear_maintenance(snap, CONFIG, "node1")
    assert bool(plan.notes) is warns
    if warns:
        assert plan.notes == (f"WARNING: node1 will have priority 80 > node2's {other_eff}: it will PREEMPT the VIP "
                              "(an unplanned switchover back to node1).",)


def test_clear_maintenance_does_not_warn_when_the_other_node_has_no_vip():
    snap = _without_vip(_vrrp(_pinned(switched(), "node1", -40, 40), "node2", effective_priority=10), "node2")
    assert plan_clear_maintenance(snap, CONFIG, "node1").notes == ()
    unknown = _vrrp(_pinned(switched(), "node1", -40, 40), "node2", effective_priority=None)
    assert plan_clear_maintenance(unknown, CONFIG, "node1").notes  # 80 > an unknown (0)
    gone = with_node(_pinned(switched(), "node1", -40, 40), "node2", reachable=False)
    assert plan_clear_maintenance(gone, CONFIG, "node1").notes == ()


def test_clear_maintenance_with_a_weighted_or_unset_hook():
    plan = plan_clear_maintenance(_pinned(switched(), "node1", -10, 40, weight=3), CONFIG, "node1")
    assert plan.steps[0].effect == "node1's priority returns to 70"
    unset = plan_clear_maintenance(_pinned(switched(), "node1", None, 40), CONFIG, "node1")
    assert unset.steps[0].effect == "node1's priority returns to 40"
    assert unset.steps[0].undo == "printf '%s\\n' 0 > /etc/keepalived/maintenance"
    assert unset.prechecks[0].why == "current value None"
    no_eff = plan_clear_maintenance(_vrrp(_pinned(switched(), "node1", -40, 40), "node1", effective_priority=None),
                                    CONFIG, "node1")
    assert no_eff.steps[0].effect == "node1's priority returns to 40"


def test_clear_maintenance_without_the_hook_or_vrrp_data_is_refused():
    for snap in (_vrrp(HEALTHY, "node1", track_files=()), with_node(HEALTHY, "node1", vrrp=()),
                 with_node(HEALTHY, "node1", reachable=False)):
        plan = plan_clear_maintenance(snap, CONFIG, "node1")
        assert not plan.runnable and not plan.steps
        assert [(c.name, c.ok, c.why) for c in plan.prechecks] == [
            ("node1 reachable with the hook", False, "no VRRP data or no maintenance track_file")]


def test_the_plans_name_their_action_target_and_nodes():
    plan = plan_switchover(HEALTHY, CONFIG, "node2")
    assert (plan.action, plan.title, plan.target) == ("switchover", "Switchover to node2", "node2")
    hookless = plan_switchover(_vrrp(HEALTHY, "node1", track_files=()), CONFIG, "node2")
    assert (hookless.action, hookless.title, hookless.target, hookless.steps) == (
        "switchover", "Switchover to node2", "node2", ())
    assert [c.name for c in hookless.prechecks] == [c.name for c in plan.prechecks]
    clear = plan_clear_maintenance(_pinned(switched(), "node1", -40, 40), CONFIG, "node1")
    assert (clear.action, clear.target) == ("maintenance-clear", "node1")
    refused = plan_clear_maintenance(HEALTHY, CONFIG, "node1")  # hook at 0 is still a hook
    assert refused.runnable
    nohook = plan_clear_maintenance(_vrrp(HEALTHY, "node1", track_files=()), CONFIG, "node1")
    assert (nohook.action, nohook.title, nohook.target, nohook.steps) == (
        "maintenance-clear", "Clear maintenance on node1", "node1", ())


def test_an_unreachable_target_without_an_error_text():
    plan = plan_switchover(with_node(HEALTHY, "node2", reachable=False, error=None), CONFIG, "node2")
    assert check(plan, "target reachable").why == ""


def test_without_vrrp_data_on_the_source_the_undo_writes_0():
    demote = plan_switchover(with_node(HEALTHY, "node1", vrrp=()), CONFIG, "node2").steps[0]
    assert demote.undo == "printf '%s\\n' 0 > /etc/keepalived/maintenance"


def test_clear_maintenance_on_a_pair_missing_from_the_snapshot():
    pinned = _pinned(switched(), "node1", -40, 40)
    alone = replace(pinned, nodes=pinned.nodes[:1])  # node2 not polled yet
    plan = plan_clear_maintenance(alone, CONFIG, "node1")
    assert plan.runnable and plan.notes == ()
    missing = plan_clear_maintenance(replace(pinned, nodes=pinned.nodes[1:]), CONFIG, "node1")
    assert not missing.runnable and missing.prechecks[0].name == "node1 reachable with the hook"


def test_clear_maintenance_warns_against_an_unknown_priority_from_1_up():
    # the other node's priority unknown counts as 0: a node returning to 1 would preempt it
    snap = _vrrp(_pinned(switched(), "node1", 0, 1), "node2", effective_priority=None)
    assert plan_clear_maintenance(snap, CONFIG, "node1").notes


SUDO_CONFIG = replace(CONFIG, nodes=tuple(replace(n, user="hatui", become="sudo") for n in CONFIG.nodes))


def test_the_steps_through_sudo():
    """With `become: sudo` every write is one exact command through sudo, on the node it is for."""
    plan = plan_switchover(_vrrp(HEALTHY, "node2", track_files=(TrackFile("maintenance", 1, -30),)),
                           SUDO_CONFIG, "node2")
    tee = "sudo -n tee /etc/keepalived/maintenance >/dev/null"
    assert [(s.node, s.command, s.undo) for s in plan.steps] == [
        ("node2", f"printf '%s\\n' 0 | {tee}", f"printf '%s\\n' -30 | {tee}"),
        ("node1", f"printf '%s\\n' -40 | {tee}", f"printf '%s\\n' 0 | {tee}"),
        ("node1", "if mountpoint -q /mnt/drbd; then sudo -n umount /mnt/drbd; fi; sudo -n drbdadm secondary r0",
         "sudo -n drbdadm primary r0 && { mountpoint -q /mnt/drbd || sudo -n mount /dev/drbd0 /mnt/drbd; }"),
        ("node2", "sudo -n drbdadm primary r0 && sudo -n mount /dev/drbd0 /mnt/drbd",
         "if mountpoint -q /mnt/drbd; then sudo -n umount /mnt/drbd; fi; sudo -n drbdadm secondary r0"),
    ]
    clear = plan_clear_maintenance(_pinned(switched(), "node1", -40, 40), SUDO_CONFIG, "node1")
    assert (clear.steps[0].command, clear.steps[0].undo) == (f"printf '%s\\n' 0 | {tee}",
                                                              f"printf '%s\\n' -40 | {tee}")
