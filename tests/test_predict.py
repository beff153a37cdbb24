"""Fault predictions (hatui/predict.py) from a recorded healthy poll of the lab and the lab's own
configuration files (rendered by hatui_lab.nodefiles, read through the doctor's parsers), checked
against what docs/faults.md measured in the lab for each fault."""

from __future__ import annotations

import pytest

from hatui.predict import FAULTS, predict, predict_all, prediction_findings
from tests.config_reads import reads
from tests.recordings import CONFIG, recording, with_node

def row(fault: str, **kw):
    x = predict(fault, recording("healthy"), reads(**kw), CONFIG)
    assert x is not None
    return x.fields()


# docs/faults.md, "measured after the fault" (the lab's notify script), identical for both check sets
MEASURED = {
    "kill-mariadb": ("node2", "node2", "node2", "node2", "node1:down node2:non-Primary"),
    "stop-mariadb": ("node2", "node2", "node2", "node2", "node1:down node2:Primary"),
    "stop-keepalived": ("node2", "node1", "node1", "node2", "node1:Primary node2:Primary"),
    "cut-link": ("node2", "node2", "node2", "node2", "node1:unreachable node2:non-Primary"),
    "power-off": ("node2", "node2", "node2", "node2", "node1:unreachable node2:non-Primary"),
    "drbd-disconnect": ("node1", "node1", "node1", "node1", "node1:Primary node2:Primary"),
    "split-brain": ("node1", "node1", "node1", "node1", "node1:Primary node2:Primary"),
    "hang-sshd": ("node1", "node1", "node1", "node1", "node1:Primary node2:Primary"),
}


@pytest.mark.parametrize("checks", ["seed", "recommended"])
@pytest.mark.parametrize("fault", FAULTS)
def test_prediction_matches_the_measured_table(fault: str, checks: str) -> None:
    f = row(fault, checks=checks)
    assert (f["vip"], f["drbd_primary"], f["mounted"], f["web"], f["galera"]) == MEASURED[fault]


def test_seed_notify_moves_the_vip_without_the_data() -> None:
    f = row("stop-mariadb", notify="seed")
    assert (f["vip"], f["drbd_primary"], f["mounted"]) == ("node2", "node1", "node1")
    # a crash: node2 takes over, then loses quorum; the seed's chk_galera (`grep Primary`) still passes on
    # "non-Primary", so node2 stays at 70 > node1's 60 (measured by the drill; the model had it fail and
    # node1 preempt back at 50 < 60)
    f = row("kill-mariadb", notify="seed")
    assert (f["vip"], f["drbd_primary"], f["galera"]) == ("node2", "node1", "node1:down node2:non-Primary")
    f = row("power-off", notify="seed")
    assert (f["vip"], f["drbd_primary"], f["mounted"]) == ("node2", "none", "none")


def test_arbitrator_or_weight_keeps_the_survivor_primary() -> None:
    assert row("kill-mariadb", size=3)["galera"] == "node1:down node2:Primary"  # garbd: 3 members
    assert row("power-off", weights=(1, 2))["galera"] == "node1:unreachable node2:Primary"
    assert row("power-off", weights=(2, 1))["galera"] == "node1:unreachable node2:non-Primary"


def test_maintenance_pin_and_nopreempt_change_the_outcome() -> None:
    snap = recording("healthy")
    node2 = snap.node("node2")
    inst = node2.vrrp[0]
    from dataclasses import replace

    pinned = replace(inst, track_files=tuple(replace(t, value=-50) for t in inst.track_files))
    snap = with_node(snap, "node2", vrrp=(pinned,))
    x = predict("stop-mariadb", snap, reads(checks="recommended"), CONFIG)
    assert x is not None and x.fields()["vip"] == "node1"  # node2 at 40 cannot take over from 60
    assert "node1 drops to 60" in x.story


def test_findings_most_consequential_first_and_never_counted() -> None:
    preds = predict_all(recording("healthy"), reads(), CONFIG)
    assert [p.fault for p in preds][:1] in (["kill-mariadb"], ["stop-keepalived"], ["cut-link"], ["power-off"])
    assert [p.harm for p in preds] == sorted((p.harm for p in preds), reverse=True)
    fs = prediction_findings(preds)
    assert len(fs) == len(FAULTS) and all(not f.counts and f.code == "fault-prediction" for f in fs)
    assert any("If stop-keepalived on node1: VIP node2, DRBD primary node1" in f.title for f in fs)


def _swapped_roles():
    """The healthy recording with node2 active (VIP, MASTER, DRBD Primary, mounted) and node1 standby:
    where the pair stands after a failover the seed's checks do not undo."""
    from dataclasses import replace

    snap = recording("healthy")
    for name, state, role, mounted in (("node1", "BACKUP", "Secondary", False), ("node2", "MASTER", "Primary", True)):
        n = snap.node(name)
        snap = with_node(snap, name, vrrp=(replace(n.vrrp[0], state=state),),
                         drbd=(replace(n.drbd[0], role=role),), drbd_mounted=mounted)
    return snap


def test_drbd_disconnect_on_node2_moves_the_vip_with_the_seed_checks() -> None:
    """Measured by the drill (seed checks): node2 active at 90, disconnected its chk_drbd (cs:Connected)
    fails: 70 < node1's 80, node1 preempts and promotes; the VIP moves 6-7 s after the fault."""
    x = predict("drbd-disconnect", _swapped_roles(), reads(), CONFIG)
    assert x is not None and x.node == "node2"
    f = x.fields()
    assert (f["vip"], f["drbd_primary"], f["mounted"]) == ("node1", "node1", "node1")
    assert x.after_s[1] >= 7.0  # election, then demote/promote/mount
    assert "node2 70 vs node1 80" in x.story


def test_no_prediction_while_the_pair_is_about_to_preempt() -> None:
    """The drill measured stop-keepalived on node2 while node1 (100, recommended checks) was about to
    take the VIP back from node2 (90): the prediction raced that preempt (DRBD measured on node1,
    predicted on node2).  A state that would move without any fault gives no prediction."""
    from hatui.predict import settling

    assert settling(_swapped_roles(), reads(checks="recommended"), CONFIG) == [("node2", "BACKUP"),
                                                                               ("node1", "MASTER")]
    assert predict("stop-keepalived", _swapped_roles(), reads(checks="recommended"), CONFIG) is None
    assert settling(_swapped_roles(), reads(checks="seed"), CONFIG) == []  # 80 < 90: node2 stays
    assert settling(recording("healthy"), reads(checks="recommended"), CONFIG) == []


def test_a_resync_after_heal_makes_the_seed_chk_drbd_fail_and_node1_preempt() -> None:
    """node2 active after a failover, node1 healed and resyncing (8.4: node2 cs:SyncSource, node1
    cs:SyncTarget).  The seed's chk_drbd wants the literal `cs:Connected`, so it fails on node2 too: 70
    against node1's 80, and node1 preempts at once (docs/faults.md, "After heal"; seen in the lab's
    power-off case).  hatui read the 8.4 state as "Connected" (DRBD 9's word) and had node2 pass at 90."""
    from dataclasses import replace

    from hatui.predict import settling

    snap = _swapped_roles()
    for name, repl, disk, peer_disk in (("node1", "SyncTarget", "Inconsistent", "UpToDate"),
                                        ("node2", "SyncSource", "UpToDate", "Inconsistent")):
        r = snap.node(name).drbd[0]
        snap = with_node(snap, name, drbd=(replace(r, replication_state=repl, disk_state=disk,
                                                   peer_disk_state=peer_disk),))
    assert settling(snap, reads(checks="seed"), CONFIG) == [("node2", "BACKUP"), ("node1", "MASTER")]
    # the recommended chk_drbd asks only for node2's own disk (UpToDate): node2 90 stays against node1's 80
    assert settling(snap, reads(checks="recommended"), CONFIG) == []
