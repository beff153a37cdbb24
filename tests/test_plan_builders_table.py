"""The DRBD and Galera plan builders (hatui/actions/drbd.py, galera.py), table by table on recorded lab polls:
each pre-check passing on the pair it is meant for and failing on its own, each step's Verify against snapshots
where it must hold and where it must not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hatui.actions.drbd import RESYNC_TIMEOUT_S, both_uptodate, plan_drbd, plan_split_brain
from hatui.actions.galera import plan_galera_bootstrap
from hatui.actions.plan import Plan
from hatui.model import ClusterSnapshot, GraState
from tests.recordings import with_drbd, with_galera, CONFIG, recording, with_node

HEALTHY = recording("healthy")  # node1 Primary, mounted, VIP; node2 Secondary; both UpToDate
RESYNC = recording("resync")  # node1 SyncTarget (Inconsistent), node2 SyncSource, VIP on node2
DOWN = recording("node-down")  # node1 unreachable; node2 Primary, Connecting, Galera non-Primary


def failed(plan: Plan) -> list[str]:
    return [c.name for c in plan.prechecks if not c.ok]


def whys(plan: Plan) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.ok, c.why) for c in plan.prechecks}




def standalone(snap: ClusterSnapshot, node: str) -> ClusterSnapshot:
    return with_drbd(snap, node, connection_state="StandAlone", replication_state="Off", peer_disk_state="DUnknown")


# ---- DRBD: disconnect / connect ---------------------------------------------------------------------------
def test_disconnect():
    plan = plan_drbd(HEALTHY, CONFIG, "disconnect", "node2")
    assert plan.runnable and plan.action == "drbd-disconnect" and plan.title == "DRBD disconnect on node2"
    assert whys(plan) == {"node2 reachable with DRBD status": (True, "Secondary, Connected, UpToDate"),
                          "not already StandAlone": (True, "connection Connected")}
    (step,) = plan.steps
    assert (step.node, step.command, step.undo) == ("node2", "drbdadm disconnect r0", "drbdadm connect r0")
    assert step.effect == "replication stops; the node goes StandAlone"
    assert step.verify.description == "node2 StandAlone" and step.verify.timeout_s == 10
    assert not step.verify.holds(HEALTHY) and step.verify.holds(standalone(HEALTHY, "node2"))
    assert not step.verify.holds(standalone(HEALTHY, "node1"))
    assert not step.verify.holds(with_node(HEALTHY, "node2", drbd=()))
    assert plan.notes == () and plan.final == ()
    again = plan_drbd(standalone(HEALTHY, "node2"), CONFIG, "disconnect", "node2")
    assert failed(again) == ["not already StandAlone"]
    # disconnecting the Primary warns: its writes are no longer mirrored
    primary = plan_drbd(HEALTHY, CONFIG, "disconnect", "node1")
    assert primary.notes == ("WARNING: node1 is Primary: its writes are no longer mirrored until `connect`.",)


def test_connect():
    plan = plan_drbd(standalone(HEALTHY, "node2"), CONFIG, "connect", "node2")
    assert plan.runnable
    assert whys(plan)["node2 StandAlone"] == (True, "connection StandAlone (connect needs StandAlone)")
    (step,) = plan.steps
    assert (step.command, step.undo) == ("drbdadm connect r0", "drbdadm disconnect r0")
    assert step.effect == "the node connects to its peer (and resyncs if needed)"
    assert step.verify.description == "node2 connected" and step.verify.timeout_s == 30
    assert step.verify.holds(HEALTHY) and not step.verify.holds(standalone(HEALTHY, "node2"))
    assert not step.verify.holds(with_node(HEALTHY, "node2", reachable=False))
    (final,) = plan.final
    assert final.description == "DRBD r0 Connected, UpToDate on node2 and node1 (resync at 100 %)"
    assert final.timeout_s == RESYNC_TIMEOUT_S
    assert failed(plan_drbd(HEALTHY, CONFIG, "connect", "node2")) == ["node2 StandAlone"]


def test_an_unreachable_node_fails_its_first_check():
    for action in ("disconnect", "connect", "resync", "verify", "pause-sync", "resume-sync"):
        plan = plan_drbd(DOWN, CONFIG, action, "node1")
        assert plan.prechecks[0].name == "node1 reachable with DRBD status"
        assert plan.prechecks[0].why == "no DRBD status" and not plan.prechecks[0].ok, action


def test_unknown_action_and_node():
    plan = plan_drbd(HEALTHY, CONFIG, "explode", "node1")
    assert plan.refusal == "unknown DRBD action 'explode'" and not plan.steps
    assert plan_drbd(HEALTHY, CONFIG, "connect", "node9").refusal == "unknown node 'node9': one of node1, node2"
    assert plan_split_brain(HEALTHY, CONFIG, "node9").refusal == "unknown node 'node9': one of node1, node2"
    assert plan_galera_bootstrap(HEALTHY, CONFIG, "node9").refusal == "unknown node 'node9': one of node1, node2"


# ---- DRBD: resync (invalidate) ----------------------------------------------------------------------------
RESYNC_CHECKS = ("connected to the peer", "node1 has UpToDate data", "node2 is not the Primary with a mounted "
                 "filesystem", "no resync running")


def test_resync_on_the_standby():
    plan = plan_drbd(HEALTHY, CONFIG, "resync", "node2")
    assert plan.runnable
    assert whys(plan) == {
        "node2 reachable with DRBD status": (True, "Secondary, Connected, UpToDate"),
        "connected to the peer": (True, "connection Connected"),
        "node1 has UpToDate data": (True, "node1 UpToDate"),
        "node2 is not the Primary with a mounted filesystem": (True, "node2 is Secondary"),
        "no resync running": (True, "Established"),
    }
    (step,) = plan.steps
    assert (step.node, step.command, step.undo) == ("node2", "drbdadm invalidate r0", None)
    assert step.effect == "node2's copy is discarded and fully resynced from node1"
    assert step.verify.description == "node2 SyncTarget or already UpToDate" and step.verify.timeout_s == 15
    assert [v.description for v in plan.final] == [
        "DRBD r0 Connected, UpToDate on node2 and node1 (resync at 100 %)"]


@pytest.mark.parametrize("case,snap,node,fails", [
    ("StandAlone", standalone(HEALTHY, "node2"), "node2", "connected to the peer"),
    ("peer Outdated", with_drbd(HEALTHY, "node1", disk_state="Outdated"), "node2", "node1 has UpToDate data"),
    ("peer without DRBD", with_node(HEALTHY, "node1", drbd=()), "node2", "node1 has UpToDate data"),
    ("mounted Primary", HEALTHY, "node1", "node1 is not the Primary with a mounted filesystem"),
    ("syncing", with_drbd(HEALTHY, "node2", replication_state="PausedSyncT"), "node2", "no resync running"),
])
def test_each_resync_precheck_fails_on_its_own(case, snap, node, fails):
    assert failed(plan_drbd(snap, CONFIG, "resync", node)) == [fails], case


def test_resync_prechecks_say_why():
    outdated = whys(plan_drbd(with_drbd(HEALTHY, "node1", disk_state="Outdated"), CONFIG, "resync", "node2"))
    assert outdated["node1 has UpToDate data"] == (
        False, "node1 disk Outdated: invalidating node2 would destroy the only good copy")
    gone = whys(plan_drbd(with_node(HEALTHY, "node1", drbd=()), CONFIG, "resync", "node2"))
    assert gone["node1 has UpToDate data"][1].startswith("node1 disk unknown:")
    mounted = whys(plan_drbd(HEALTHY, CONFIG, "resync", "node1"))
    assert mounted["node1 is not the Primary with a mounted filesystem"] == (
        False, "node1 is Primary with /mnt/drbd mounted: switch over first")
    # Primary but not mounted (or mounted as a Secondary: impossible, but not the check's case) is no block
    assert not failed(plan_drbd(with_node(HEALTHY, "node1", drbd_mounted=False), CONFIG, "resync", "node1"))
    assert not failed(plan_drbd(with_node(HEALTHY, "node2", drbd_mounted=True), CONFIG, "resync", "node2"))
    running = whys(plan_drbd(RESYNC, CONFIG, "resync", "node1"))
    assert running["no resync running"] == (False, "SyncTarget")
    assert running["connected to the peer"] == (True, "connection Connected")
    assert running["node2 has UpToDate data"] == (True, "node2 UpToDate")
    none = whys(plan_drbd(with_drbd(HEALTHY, "node2", replication_state=None), CONFIG, "resync", "node2"))
    assert none["no resync running"] == (True, "none")


def test_resync_step_verify():
    (step,) = plan_drbd(HEALTHY, CONFIG, "resync", "node2").steps
    assert step.verify.holds(with_drbd(HEALTHY, "node2", replication_state="SyncTarget", disk_state="Inconsistent"))
    assert step.verify.holds(with_drbd(HEALTHY, "node2", replication_state="StartingSyncT", disk_state="Outdated"))
    assert step.verify.holds(with_drbd(HEALTHY, "node2", disk_state="Inconsistent"))
    assert step.verify.holds(HEALTHY)  # already UpToDate (a tiny device resyncs within a cycle)
    assert not step.verify.holds(with_drbd(HEALTHY, "node2", disk_state="Outdated"))
    assert not step.verify.holds(with_node(HEALTHY, "node2", drbd=()))


# ---- DRBD: verify, pause / resume -------------------------------------------------------------------------
def test_verify():
    plan = plan_drbd(HEALTHY, CONFIG, "verify", "node2")
    assert plan.runnable and whys(plan)["connected, no resync"] == (True, "Connected, Established")
    (step,) = plan.steps
    assert (step.command, step.verify, step.undo) == ("drbdadm verify r0", None, None)
    assert step.effect == "online verify compares both copies block by block"
    assert plan.notes == ("Blocks found out of sync are only marked: `disconnect` + `connect` resyncs them.",)
    assert len(plan.final) == 1
    assert failed(plan_drbd(RESYNC, CONFIG, "verify", "node1")) == ["connected, no resync"]
    assert failed(plan_drbd(standalone(HEALTHY, "node2"), CONFIG, "verify", "node2")) == ["connected, no resync"]


def test_pause_and_resume_sync():
    pause = plan_drbd(RESYNC, CONFIG, "pause-sync", "node1")
    assert pause.runnable and whys(pause)["a resync exists"] == (True, "SyncTarget")
    (step,) = pause.steps
    assert (step.command, step.undo) == ("drbdadm pause-sync r0", "drbdadm resume-sync r0")
    assert step.effect == "the resync pauses" and step.verify.description == "resync paused"
    assert step.verify.timeout_s == 10
    paused = with_drbd(RESYNC, "node1", replication_state="PausedSyncT")
    assert step.verify.holds(paused) and not step.verify.holds(RESYNC)
    assert not step.verify.holds(with_node(RESYNC, "node1", drbd=()))
    resume = plan_drbd(paused, CONFIG, "resume-sync", "node1")
    assert resume.runnable and whys(resume)["a resync exists"] == (True, "PausedSyncT")
    (step,) = resume.steps
    assert (step.command, step.undo) == ("drbdadm resume-sync r0", "drbdadm pause-sync r0")
    assert step.effect == "the resync continues" and step.verify.description == "resync running"
    assert step.verify.holds(RESYNC) and not step.verify.holds(paused)
    idle = plan_drbd(HEALTHY, CONFIG, "pause-sync", "node2")
    assert failed(idle) == ["a resync exists"] and whys(idle)["a resync exists"] == (False, "Established")


def test_both_uptodate():
    v = both_uptodate(CONFIG, "node1", "node2", 99)
    assert v.timeout_s == 99 and v.holds(HEALTHY)
    must_not = [RESYNC, DOWN, standalone(HEALTHY, "node1"), with_drbd(HEALTHY, "node2", disk_state="Outdated"),
                with_drbd(HEALTHY, "node1", disk_state="Inconsistent"),
                with_drbd(HEALTHY, "node1", replication_state="VerifyS"),
                with_drbd(HEALTHY, "node2", replication_state="VerifyT"),
                with_drbd(HEALTHY, "node2", connection_state="Connecting"), with_node(HEALTHY, "node2", drbd=())]
    for snap in must_not:
        assert not v.holds(snap)
    assert v.holds(with_drbd(with_drbd(HEALTHY, "node1", replication_state=None), "node2", replication_state=None))
    # the live report while waiting: the resync's progress on the first node
    assert v.report(RESYNC).startswith("node1: SyncTarget") and v.report(RESYNC).endswith("disk Inconsistent")
    n1 = RESYNC.node("node1").drbd[0]
    detail = with_drbd(RESYNC, "node1", sync_percent=42.25, eta_s=30, speed_kib_s=12345)
    assert v.report(detail) == "node1: SyncTarget 42.2 %, 12,345 KiB/s, ETA 30 s, disk Inconsistent"
    bare = with_drbd(RESYNC, "node1", sync_percent=None, eta_s=None, speed_kib_s=None, replication_state=None)
    assert v.report(bare) == f"node1: {n1.connection_state}, disk Inconsistent"
    assert v.report(DOWN) == "node1: no DRBD status"


# ---- DRBD: split-brain recovery ---------------------------------------------------------------------------
def split(snap: ClusterSnapshot = HEALTHY) -> ClusterSnapshot:
    """Both sides StandAlone, how much each changed not known (out_of_sync_kib None)."""
    both = standalone(standalone(snap, "node1"), "node2")
    return with_drbd(with_drbd(both, "node1", out_of_sync_kib=None), "node2", out_of_sync_kib=None)


def test_split_brain_recovery_discarding_the_standby():
    plan = plan_split_brain(split(), CONFIG, "node2")
    assert plan.runnable and plan.action == "drbd-split-brain"
    assert plan.title == "DRBD split-brain recovery: discard the changes of node2"
    assert whys(plan) == {
        "both nodes reachable": (True, "node2: Secondary, StandAlone, disk UpToDate; "
                                       "node1: Primary, StandAlone, disk UpToDate"),
        "split brain (a side StandAlone)": (True, "node2 StandAlone, node1 StandAlone"),
        "the victim node2 does not hold the VIP": (True, "node1 serves clients"),
    }
    assert [(s.node, s.command) for s in plan.steps] == [
        ("node2", "if mountpoint -q /mnt/drbd; then umount /mnt/drbd; fi; drbdadm secondary r0"),
        ("node2", "drbdadm connect --discard-my-data r0"),
        ("node1", "drbdadm connect r0"),
    ]
    release = plan.steps[0]
    assert release.verify.description == "node2 Secondary" and release.verify.timeout_s == 10
    assert release.verify.holds(split()) and not release.verify.holds(with_drbd(split(), "node2", role="Primary"))
    assert not release.verify.holds(with_node(split(), "node2", drbd=()))
    assert plan.steps[1].effect == "node2 will throw away its changes and take node1's"
    assert plan.steps[2].effect == "node1 reconnects and becomes SyncSource"
    assert [v.description for v in plan.final] == ["DRBD r0 Connected, UpToDate on node2 and node1 (resync at 100 %)"]
    assert plan.notes[0].startswith("node2's changes made during the split brain are LOST for good")


def test_split_brain_recovery_when_only_the_victim_dropped_the_connection_or_only_the_survivor():
    # the survivor still Connecting: it needs no `connect`; a victim not yet StandAlone is disconnected first
    only_victim = standalone(with_drbd(HEALTHY, "node1", connection_state="Connecting"), "node2")
    assert [s.command for s in plan_split_brain(only_victim, CONFIG, "node2").steps][1:] == [
        "drbdadm connect --discard-my-data r0"]
    only_survivor = standalone(with_drbd(HEALTHY, "node2", connection_state="Connecting"), "node1")
    plan = plan_split_brain(only_survivor, CONFIG, "node2")
    assert plan.runnable
    assert [s.command for s in plan.steps][1:] == ["drbdadm disconnect r0", "drbdadm connect --discard-my-data r0",
                                                  "drbdadm connect r0"]
    assert plan.steps[1].effect == "node2 StandAlone (needed before discarding)"


def test_each_split_brain_precheck_fails_on_its_own():
    assert failed(plan_split_brain(HEALTHY, CONFIG, "node2")) == ["split brain (a side StandAlone)"]
    victim_has_vip = plan_split_brain(split(), CONFIG, "node1")
    assert failed(victim_has_vip) == ["the victim node1 does not hold the VIP"]
    assert whys(victim_has_vip)["the victim node1 does not hold the VIP"][1] == (
        "node1 serves clients: switch over first, or choose node2 as the victim")
    gone = plan_split_brain(with_node(split(), "node1", reachable=False), CONFIG, "node2")
    assert failed(gone) == ["both nodes reachable", "split brain (a side StandAlone)"]
    assert whys(gone)["both nodes reachable"][1] == "node2: Secondary, StandAlone, disk UpToDate"
    assert whys(gone)["split brain (a side StandAlone)"][1] == "node2 StandAlone, node1 ?"
    nothing = plan_split_brain(with_node(with_node(split(), "node1", drbd=()), "node2", drbd=()), CONFIG, "node2")
    assert whys(nothing)["both nodes reachable"] == (False, "no DRBD status")
    assert whys(nothing)["split brain (a side StandAlone)"] == (False, "node2 ?, node1 ?")
    oos = plan_split_brain(with_drbd(split(), "node1", out_of_sync_kib=2048), CONFIG, "node2")
    assert "node1: Primary, StandAlone, disk UpToDate, 2,048 KiB changed that the other lacks" in \
        whys(oos)["both nodes reachable"][1]


# ---- Galera re-bootstrap ----------------------------------------------------------------------------------
def test_bootstrap_of_a_survivor_whose_peer_is_down():
    plan = plan_galera_bootstrap(DOWN, CONFIG, "node2")
    assert plan.action == "galera-bootstrap" and plan.must_reach == ("node2",)
    ok = whys(plan)
    assert ok["MariaDB on node2 answers"] == (True, "yes")
    assert ok["node2 is non-Primary"] == (True, "cluster status non-Primary")
    assert ok["node1 is really down or non-Primary too"] == (True, (
        "node1: unreachable (an unreachable node1 does not block this plan: the lock and the audit are required "
        "on node2 only; node1 gets them if it answers)"))
    mine = DOWN.node("node2").galera.last_committed
    assert ok["most recent data"][0] is True
    assert ok["most recent data"][1].startswith(f"node2 last committed {mine}; node1's seqno unknown (unreachable)")
    assert plan.runnable
    (step,) = plan.steps
    assert (step.node, step.command) == ("node2", 'mysql -e "SET GLOBAL wsrep_provider_options=\'pc.bootstrap=YES\'"')
    assert step.effect == "node2 forms a new Primary component on its own"
    assert step.verify.description == "Galera Primary on node2" and step.verify.timeout_s == 20
    assert not step.verify.holds(DOWN) and step.verify.holds(with_galera(DOWN, "node2", cluster_status="Primary"))
    assert not step.verify.holds(with_node(DOWN, "node2", galera=None))
    assert plan.notes[0].startswith("Afterwards node1 rejoins when its MariaDB runs again")


def test_bootstrap_prechecks_each_failing():
    primary = plan_galera_bootstrap(HEALTHY, CONFIG, "node2")
    assert whys(primary)["node2 is non-Primary"] == (False, "cluster status Primary (nothing to bootstrap)")
    assert whys(primary)["node1 is really down or non-Primary too"][0] is False
    assert whys(primary)["node1 is really down or non-Primary too"][1].endswith(
        " — it has the Primary component: bootstrapping would split the cluster")
    no_db = plan_galera_bootstrap(with_node(DOWN, "node2", galera=None, mysql_error="Can't connect"), CONFIG, "node2")
    assert whys(no_db)["MariaDB on node2 answers"] == (False, "Can't connect")
    assert whys(no_db)["node2 is non-Primary"] == (False, "cluster status ?")
    assert whys(no_db)["most recent data"][0] is False
    # the peer answers, non-Primary too, with its seqno: compared
    g2 = DOWN.node("node2").galera
    both = with_node(HEALTHY, "node2", galera=g2)
    both = with_node(both, "node1", galera=replace(g2, last_committed=(g2.last_committed or 0) + 5))
    behind = plan_galera_bootstrap(both, CONFIG, "node2")
    assert whys(behind)["node1 is really down or non-Primary too"] == (
        True, f"node1: non-Primary, last committed {(g2.last_committed or 0) + 5}")
    assert whys(behind)["most recent data"] == (
        False, f"node2 {g2.last_committed} vs node1 {(g2.last_committed or 0) + 5}: node1 is ahead: bootstrap node1 "
               "instead")
    level = with_node(both, "node1", galera=g2)
    assert whys(plan_galera_bootstrap(level, CONFIG, "node2"))["most recent data"] == (
        True, f"node2 {g2.last_committed} vs node1 {g2.last_committed}: node2 has the most recent data")
    # MariaDB down on a reachable peer: its grastate.dat seqno is compared; -1 (unknown) is not
    for seqno, expect in (((g2.last_committed or 0) + 1, False), ((g2.last_committed or 0) - 1, True), (-1, True)):
        peer_down = with_node(both, "node1", galera=None, grastate=GraState(uuid="u", seqno=seqno,
                                                                            safe_to_bootstrap=False))
        plan = plan_galera_bootstrap(peer_down, CONFIG, "node2")
        assert whys(plan)["most recent data"][0] is expect, seqno
        assert whys(plan)["node1 is really down or non-Primary too"] == (True, "node1: MariaDB down")
