"""Each lab fault, with the seed's health checks (and one with the recommended ones): what REALLY happens,
measured from the workstation side.

The expected outcomes below are the measured ones (docs/faults.md has them beside what the seed
promises).  Where they differ from the promise, the test pins the real behaviour on purpose: hatui
exists to show operators that truth.
"""

from __future__ import annotations

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import Outcome, check_statuses, effective_priorities, outcome, stays, status_json, wait_until

pytestmark = pytest.mark.lab

GALERA_OK = "Primary/Synced"


def checks_settle(what: str, want: dict[str, tuple[int, dict[str, str]]], timeout_s: float = 15) -> dict:
    """Wait until keepalived reports, for each node in `want`, that priority and those check statuses."""
    def ok(d: dict) -> bool:
        prios = dict(zip(("node1", "node2"), effective_priorities(d), strict=False))
        got = check_statuses(d)
        return all(prios.get(n) == p and all(got.get(n, {}).get(k) == v for k, v in c.items())
                   for n, (p, c) in want.items())

    doc, _ = wait_until(what, status_json, ok, timeout_s=timeout_s, interval_s=1)
    return doc


def fault(kind: str, node: str) -> None:
    res = helpers.hatui_lab("fault", kind, node)
    assert res.returncode == 0, res.stdout + res.stderr


def heal(node: str) -> None:
    res = helpers.hatui_lab("heal", node)
    assert res.returncode == 0, res.stdout + res.stderr


def moved_to_node2(o: Outcome) -> bool:
    return o.vip == ("node2",) and o.drbd_primary == ("node2",) and o.mounted == ("node2",) and o.web == "node2"


def healed_as_backup(o: Outcome) -> bool:
    """node1 back as backup: VIP and DRBD primary stay on node2, DRBD resynced, Galera whole again."""
    return (moved_to_node2(o) and o.cstate_of("node1") == "Connected" and o.cstate_of("node2") == "Connected"
            and o.galera_of("node1") == GALERA_OK and o.galera_of("node2") == GALERA_OK)


def test_stop_mariadb_fails_over_to_node2(fresh_lab):
    fault("stop-mariadb", "node1")
    o, _took = wait_until("VIP, DRBD primary, mount and web on node2", outcome, moved_to_node2, timeout_s=10)
    assert o.galera_of("node2") == GALERA_OK  # a clean leave keeps the survivor's quorum
    assert o.galera_of("node1") == "down"
    log1, log2 = helpers.failover_log("node1"), helpers.failover_log("node2")
    assert "State changed to BACKUP" in log1[-1], log1
    assert "State changed to MASTER" in log2[-1], log2
    heal("node1")
    o, _ = wait_until("node1 back as backup, DRBD resynced", outcome, healed_as_backup, timeout_s=60)
    n1 = helpers.facts("node1")
    assert n1.role.startswith("Secondary") and n1.dstate == "UpToDate/UpToDate"


def test_kill_mariadb_moves_vip_but_leaves_galera_without_quorum(fresh_lab):
    """Promised: node2 takes over. Real: it does, but a crash leaves the two-node survivor non-Primary,
    so the VIP and the data move to a node whose database refuses queries — and the seed's chk_galera
    (`grep Primary`) matches "non-Primary": it stays GOOD on node2, which runs at its full 90."""
    fault("kill-mariadb", "node1")
    o, _ = wait_until("failover to node2", outcome, moved_to_node2, timeout_s=15)
    o, _ = wait_until("node2 Galera non-Primary", outcome,
                      lambda o: o.galera_of("node2").startswith("non-Primary"), timeout_s=20)
    assert o.galera_of("node1") == "down"
    checks_settle("node2 at 90 with chk_galera GOOD on non-Primary, node1 at 40",
                  {"node2": (90, {"chk_galera": "GOOD", "chk_drbd": "GOOD"}),
                   "node1": (40, {"chk_mysql": "BAD", "chk_galera": "BAD", "chk_drbd": "BAD"})})
    assert outcome().galera_of("node2").startswith("non-Primary")
    heal("node1")
    wait_until("node1 back as backup, Galera whole", outcome, healed_as_backup, timeout_s=60)


def test_stop_keepalived_moves_vip_but_not_drbd(fresh_lab):
    """Promised: node2 takes over. Real: the VIP moves, but the seed's notify script ignores STOP, so
    node1 stays DRBD primary with /mnt/drbd mounted and node2's promotion is refused."""
    fault("stop-keepalived", "node1")
    _o, _ = wait_until("VIP on node2", outcome, lambda o: o.vip == ("node2",) and o.web == "node2", timeout_s=10)
    stays("DRBD primary and mount stay on node1", outcome,
          lambda o: o.drbd_primary == ("node1",) and o.mounted == ("node1",) and o.vip == ("node2",), 12)
    heal("node1")
    # node1 (100) preempts node2 (90 - 20: its chk_drbd fails while Secondary)
    wait_until("everything back on node1", outcome,
               lambda o: o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.web == "node1", timeout_s=20)


@pytest.mark.parametrize("kind", ["cut-link", "power-off"])
def test_node1_lost_node2_takes_over_without_galera_quorum(fresh_lab, kind):
    fault(kind, "node1")
    o, _ = wait_until("failover to node2", outcome, moved_to_node2, timeout_s=15)
    assert o.galera_of("node1") == "unreachable"
    o, _ = wait_until("node2 Galera non-Primary", outcome,
                      lambda o: o.galera_of("node2").startswith("non-Primary"), timeout_s=20)
    assert o.cstate_of("node2") == "WFConnection"
    # the survivor is Primary without its peer (cs:WFConnection): the seed's chk_drbd fails there too
    checks_settle("node2 at 70: chk_drbd BAD, chk_galera GOOD on non-Primary",
                  {"node2": (70, {"chk_drbd": "BAD", "chk_galera": "GOOD"})})
    heal("node1")
    wait_until("node1 back as backup, DRBD and Galera whole", outcome, healed_as_backup, timeout_s=90)


def test_drbd_disconnect_on_node1_fails_its_chk_drbd_but_moves_nothing(fresh_lab):
    """No promise in the seed; real: replication stops, and the seed's chk_drbd (`cs:Connected` wanted)
    fails on the disconnected primary: node1 drops to 80, still above node2's 70 (its chk_drbd fails as
    Secondary), so the VIP stays (on node2, at 90, the same fault moves it: docs/faults.md)."""
    fault("drbd-disconnect", "node1")
    _o, _ = wait_until("node1 StandAlone", outcome, lambda o: o.cstate_of("node1") == "StandAlone", timeout_s=5)
    checks_settle("node1 at 80 (chk_drbd BAD), node2 at 70", {"node1": (80, {"chk_drbd": "BAD"}),
                                                             "node2": (70, {"chk_drbd": "BAD"})})
    stays("VIP and DRBD primary stay on node1", outcome,
          lambda o: o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.web == "node1"
          and o.cstate_of("node2") == "WFConnection", 8)
    heal("node1")
    wait_until("DRBD connected again", outcome,
               lambda o: o.cstate_of("node1") == "Connected" and o.cstate_of("node2") == "Connected", timeout_s=20)


def test_split_brain_is_detected_and_healed(fresh_lab):
    fault("split-brain", "node2")
    o, _ = wait_until("both StandAlone", outcome,
                      lambda o: o.cstate_of("node1") == "StandAlone" and o.cstate_of("node2") == "StandAlone",
                      timeout_s=10)
    assert o.vip == ("node1",) and o.drbd_primary == ("node1",)
    heal("node2")  # node2 is the victim: its split-brain write is discarded
    wait_until("resynced", outcome,
               lambda o: o.cstate_of("node1") == "Connected" and o.cstate_of("node2") == "Connected"
               and o.drbd_primary == ("node1",), timeout_s=60)
    listing = helpers.ssh("node1", "ls /mnt/drbd").stdout.split()
    assert "split-brain-node1.txt" in listing and "split-brain-node2.txt" not in listing
    # the victim's disk (the emulator's backing directory) now holds the survivor's data
    wait_until("node2's disk replaced by node1's data",
               lambda: sorted(p.name for p in (helpers.LAB_DIR / "drbd" / "disk-node2").iterdir()),
               lambda names: "split-brain-node1.txt" in names and "split-brain-node2.txt" not in names, 10)


@pytest.mark.parametrize("fresh_lab", [("--checks", "recommended")], indirect=True)
def test_recommended_checks_standby_at_full_priority_and_node1_preempts_after_heal(fresh_lab):
    """`--checks recommended` (docs/faults.md, second table): the healthy standby is not penalised, stop-mariadb
    fails over, and after heal node1 (100) takes the VIP back from node2 (90): keepalived preempts."""
    import json

    def status() -> dict:
        res = helpers.hatui_cli("status", "--json", timeout_s=60)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    doc, _ = wait_until("priorities 100/90", status, lambda d: helpers.effective_priorities(d) == [100, 90],
                        timeout_s=15, interval_s=1)
    assert "standby-penalised" not in {f["code"] for f in doc["findings"]}
    fault("stop-mariadb", "node1")
    o, _ = wait_until("VIP, DRBD primary, mount and web on node2", outcome, moved_to_node2, timeout_s=10)
    assert o.galera_of("node2") == GALERA_OK
    heal("node1")

    def back_on_node1(o: Outcome) -> bool:
        return (o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.mounted == ("node1",) and o.web == "node1"
                and o.cstate_of("node1") == "Connected" and o.galera_of("node1") == GALERA_OK
                and o.galera_of("node2") == GALERA_OK)

    wait_until("node1 preempts: everything back on node1", outcome, back_on_node1, timeout_s=60)


@pytest.mark.parametrize("fresh_lab", [("--checks", "recommended")], indirect=True)
def test_recommended_chk_galera_fails_on_the_survivor_without_quorum(fresh_lab):
    """`--checks recommended`, kill-mariadb: node2 takes over and goes non-Primary; its chk_galera wants
    the whole value Primary, so it fails there (90 - 20 = 70), where the seed's passes.  node1 (every
    check down but chk_drbd, which accepts its UpToDate Secondary disk: 60) cannot take the VIP back."""
    fault("kill-mariadb", "node1")
    wait_until("failover to node2", outcome, moved_to_node2, timeout_s=15)
    wait_until("node2 Galera non-Primary", outcome, lambda o: o.galera_of("node2").startswith("non-Primary"),
               timeout_s=20)
    checks_settle("node2 at 70 (chk_galera BAD), node1 at 60",
                  {"node2": (70, {"chk_galera": "BAD", "chk_mysql": "GOOD", "chk_drbd": "GOOD"}),
                   "node1": (60, {"chk_mysql": "BAD", "chk_galera": "BAD", "chk_drbd": "GOOD"})})
    assert outcome().vip == ("node2",)
