"""Diagnosis, table by table: for each cluster state (tests/diagnosis_scenarios.py: the recorded lab polls and
one-fault variants of them) the exact findings an operator gets — severity, code and nodes of each, and the
severities of the failover predictions — and, in tests/fixtures/findings.json, the exact text they read (title,
why, what to do).  A change to that text shows here as a diff: review it, then rewrite the file with
`HATUI_UPDATE_FINDINGS=1 python3 -m pytest tests/test_diagnosis_table.py`."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from hatui.diagnosis import (
    DISCONNECTED,
    SEVERITY_ORDER,
    diagnose,
    login_refused,
    penalties,
    predictions,
    role_dependent,
)
from hatui.model import TrackFile
from tests.diagnosis_scenarios import CLEAN, CONFIGS, SCENARIOS, drbd, vrrp
from tests.recordings import CONFIG

FINDINGS_FILE = Path(__file__).parent / "fixtures" / "findings.json"


# the findings name local times ("Checked at", "since"): read in UTC (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("utc")



def findings(name: str):
    return diagnose(SCENARIOS[name], CONFIGS.get(name, CONFIG))


def summary(name: str) -> tuple[str, list[str]]:
    fs = findings(name)
    return ("".join({"info": "i", "warning": "w"}[f.severity] for f in fs if f.code == "failover-prediction"),
            [f"{f.severity} {f.code} {' '.join(f.nodes)}".strip() for f in fs if f.code != "failover-prediction"])


EXPECTED = {
    "healthy": ("wwi", ["warning standby-penalised node2"]),
    "failover": ("www", [
        "critical mariadb-down node1",
        "warning galera-size node2",
        "warning standby-penalised node1",
    ]),
    "resync": ("www", ["warning drbd-resync node1", "warning drbd-resync node2", "warning standby-penalised node1"]),
    "node-down": ("", [
        "critical node-unreachable node1",
        "critical galera-non-primary node2",
        "warning drbd-disconnected node2",
    ]),
    "clean": ("wii", ["ok healthy"]),
    "host key": ("", ["critical host-key-mismatch node2"]),
    "host key, no error text": ("", ["critical host-key-mismatch node2"]),
    "hatui's own error": ("", ["critical poll-error node2"]),
    "unreachable 42 s": ("", ["critical node-unreachable node2"]),
    "unreachable 125 s": ("", ["critical node-unreachable node2"]),
    "unreachable 60 s, since in the future": ("", [
        "critical node-unreachable node1",
        "critical node-unreachable node2",
        "warning vip-unknown",
    ]),
    "stream restarting": ("wii", ["info stream-restarting node2", "ok healthy"]),
    "stream starting": ("wii", ["ok healthy"]),
    "keepalived down": ("wii", ["critical keepalived-down node2"]),
    "vip on both": ("wii", [
        "critical vip-both node1 node2",
        "critical vip-not-drbd-primary node2",
        "critical vip-unmounted node2",
    ]),
    "vip nowhere": ("wii", ["critical vip-none", "warning mounted-on-standby node1"]),
    "vip nowhere, node2 unreachable": ("", [
        "critical node-unreachable node2",
        "warning vip-unknown",
        "warning mounted-on-standby node1",
    ]),
    "holder role unknown": ("wii", ["warning drbd-role-unknown node1"]),
    "holder secondary, unmounted": ("wii", ["critical vip-not-drbd-primary node1", "critical vip-unmounted node1"]),
    "holder mount unknown": ("wii", ["ok healthy"]),
    "holder without drbd": ("wii", ["warning drbd-unknown node1"]),
    "mounted on standby": ("wii", ["warning mounted-on-standby node2"]),
    "dual primary, standalone": ("wii", ["critical drbd-dual-primary node1 node2", "critical drbd-standalone node2"]),
    "split brain helper": ("wii", ["critical drbd-standalone node2"]),
    "unconfigured": ("www", ["critical drbd-unconfigured node2", "critical drbd-disk node2"]),
    "disk Diskless": ("www", ["critical drbd-disk node2"]),
    "disk Failed": ("www", ["critical drbd-disk node2"]),
    "disk Outdated": ("www", ["warning drbd-disk node2"]),
    "disk unknown (None)": ("wii", ["ok healthy"]),
    "syncing, full detail": ("www", ["warning drbd-resync node2"]),
    "syncing, no detail": ("wii", ["warning drbd-resync node2"]),
    "starting sync on the cstate (8.4)": ("wii", ["warning drbd-resync node2"]),
    "no drbd on standby": ("wii", ["warning drbd-unknown node2"]),
    "login refused": ("wii", ["warning mariadb-login-refused node2"]),
    "login refused, 1698": ("wii", ["warning mariadb-login-refused node2"]),
    "mariadb down": ("wii", ["critical mariadb-down node2"]),
    "mariadb silent": ("wii", ["critical mariadb-down node2"]),
    "galera non-primary": ("wii", ["critical galera-non-primary node2"]),
    "galera size 1": ("wii", ["warning galera-size node2"]),
    "galera size unknown": ("wii", ["ok healthy"]),
    "galera joining": ("wii", ["warning galera-not-synced node2"]),
    "galera state unknown": ("wii", ["ok healthy"]),
    "galera uuid mismatch": ("wii", ["critical galera-uuid-mismatch node1 node2"]),
    "galera uuid unknown": ("wii", ["ok healthy"]),
    "web down": ("wii", ["critical web-down"]),
    "web from the standby": ("wii", ["warning web-wrong-node node2"]),
    "web names nobody": ("wii", ["ok healthy"]),
    "web, vip nowhere": ("wii", ["critical vip-none", "warning mounted-on-standby node1"]),
    "no web check": ("wii", ["ok healthy"]),
    "pin, would preempt": ("www", ["warning maintenance-pin node2", "warning standby-penalised node2"]),
    "pin, stays below": ("wii", ["warning maintenance-pin node2", "warning standby-penalised node2"]),
    "pin, equal": ("wwi", ["warning maintenance-pin node2", "warning standby-penalised node2"]),
    "pin, weight 2": ("wii", ["warning maintenance-pin node2"]),
    "pin, other unknown": ("", [
        "critical node-unreachable node1",
        "warning vip-unknown",
        "warning maintenance-pin node2",
    ]),
    "pin, no weight": ("wii", ["ok healthy"]),
    "sudo refused one": ("wii", ["warning sudo-refused node2"]),
    "sudo refused two": ("wii", ["warning sudo-refused node2"]),
    "sudo refused, unreachable": ("", ["critical node-unreachable node2"]),
    "sudo refused, unknown node": ("wii", ["warning sudo-refused node3"]),
    "standby mysql check fails": ("wwi", ["warning standby-penalised node2"]),
    "standby galera check fails, galera down": ("wwi", [
        "critical mariadb-down node2",
        "warning standby-penalised node2",
    ]),
    "standby drbd check fails, drbd outdated": ("www", [
        "warning drbd-disk node2",
        "warning standby-penalised node2",
    ]),
    "standby drbd check fails, no drbd": ("wwi", ["warning drbd-unknown node2", "warning standby-penalised node2"]),
    "standby other check fails": ("wwi", ["warning standby-penalised node2"]),
    "standby pinned and penalised": ("wwi", ["warning maintenance-pin node2", "warning standby-penalised node2"]),
    "standby effective unknown": ("wwi", ["warning standby-penalised node2"]),
    "standby base unknown": ("", ["ok healthy"]),
    "standby weights positive": ("wwi", ["ok healthy"]),
    "no master": ("", ["ok healthy"]),
    "three-node galera": ("iii", ["warning galera-size node1", "warning galera-size node2"]),
    "priorities clamped": ("www", ["warning standby-penalised node2"]),
    "stream up": ("wii", ["ok healthy"]),
    "galera non-primary, other uuid": ("wii", ["critical galera-non-primary node2"]),
    "standby weight unknown first": ("wii", ["ok healthy"]),
    "track file value unknown": ("wii", ["ok healthy"]),
    "standby drbd check fails, disconnected": ("wwi", ["warning drbd-disconnected node2",
                                                       "warning standby-penalised node2"]),
    "standby drbd check fails, primary": ("wwi", ["critical drbd-dual-primary node1 node2",
                                                  "warning standby-penalised node2"]),
    "standby mysql check fails, galera donor": ("wwi", ["warning galera-not-synced node2",
                                                        "warning standby-penalised node2"]),
    "standby mysql check fails, galera non-primary": ("wwi", ["critical galera-non-primary node2",
                                                              "warning standby-penalised node2"]),
    "unreachable, since unknown": ("", ["critical node-unreachable node2"]),
    "standby galera check fails, galera fine": ("wwi", ["warning standby-penalised node2"]),
    "standby two by design, two files": ("www", ["warning maintenance-pin node2", "warning standby-penalised node2"]),
    "no drbd on the active, standby outdated": ("www", ["warning drbd-unknown node1", "warning drbd-disk node2"]),
    "standalone, not flagged": ("wii", ["critical drbd-standalone node2"]),
    "standby zero-weight file": ("wwi", ["warning standby-penalised node2"]),
    "active weight-1 check": ("www", ["ok healthy"]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_findings_of_each_state(name):
    """The predictions' severities (w: warning, i: info; sorted), then every other finding, most severe first."""
    assert summary(name) == EXPECTED[name]


def test_the_text_of_each_finding():
    got = {name: [asdict(f) for f in findings(name)] for name in SCENARIOS}
    for fs in got.values():
        for f in fs:
            f["nodes"] = list(f["nodes"])
    if os.environ.get("HATUI_UPDATE_FINDINGS"):
        FINDINGS_FILE.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    want = json.loads(FINDINGS_FILE.read_text())
    assert sorted(want) == sorted(got)
    for name in SCENARIOS:
        assert got[name] == want[name], name


def test_problems_expand_and_count_predictions_do_not_count():
    for name in SCENARIOS:
        for f in findings(name):
            if f.code == "failover-prediction":
                assert f.counts is False
                # a prediction shows its why only when the outcome is harmful: a crash that takes the VIP
                # to a node whose two-node Galera then loses quorum
                two_node = CONFIGS.get(name, CONFIG).mariadb.expected_cluster_size == 2
                assert f.expand is (f.title.endswith("takes over") and "crashes" in f.title and two_node)
            else:
                assert f.counts is True
                assert f.expand is (f.severity in ("critical", "warning")), (name, f.code)


def test_findings_are_sorted_most_severe_first():
    assert SEVERITY_ORDER == {"critical": 0, "warning": 1, "info": 2, "ok": 3}
    for name in SCENARIOS:
        ranks = [SEVERITY_ORDER[f.severity] for f in findings(name)]
        assert ranks == sorted(ranks), name


def test_healthy_is_named_only_when_no_problem_counts():
    assert [f.code for f in findings("clean")][-1] == "healthy"  # "ok": after the predictions
    (ok,) = [f for f in findings("clean") if f.code == "healthy"]
    assert ok.severity == "ok" and ok.title == "all checks pass" and ok.nodes == ()
    assert ok.explanation == time.strftime("Checked at %H:%M:%S.", time.gmtime(CLEAN.taken_at_epoch_s))
    assert ok.expand is False
    # an info finding (a stream restarting) or a warning prediction does not hide it
    assert "healthy" in [f.code for f in findings("stream restarting")]


@pytest.mark.parametrize("state", sorted(DISCONNECTED))
def test_each_disconnected_state_is_a_warning(state):
    assert state in {"Connecting", "WFConnection", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure",
                     "ProtocolError", "Disconnecting", "TearDown"}
    fs = [f for f in diagnose(drbd(CLEAN, "node2", connection_state=state), CONFIG) if f.code.startswith("drbd")]
    assert [(f.severity, f.code, f.title) for f in fs] == [
        ("warning", "drbd-disconnected", f"DRBD r0 on node2 waits for its peer ({state})")]


def test_the_disconnected_states_are_drbds_words():
    assert DISCONNECTED == {"Connecting", "WFConnection", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure",
                            "ProtocolError", "Disconnecting", "TearDown"}
    for state in ("Connected", "StandAlone", "Unknown", "SyncSource", ""):
        assert not [f for f in diagnose(drbd(CLEAN, "node2", connection_state=state), CONFIG)
                    if f.code == "drbd-disconnected"], state


@pytest.mark.parametrize("error,refused", [
    ("(1045, \"Access denied for user 'hatui'@'localhost' (using password: NO)\")", True),
    ("(1698, \"Access denied for user 'root'@'localhost'\")", True),
    ("Access denied", True), ("(1045", True), ("(1698", True),
    ("(2002, \"Can't connect to local server through socket\")", False), ("", False), ("(1044, 'x')", False),
])
def test_login_refused(error, refused):
    assert login_refused(error) is refused


@pytest.mark.parametrize("name,kind", [("chk_drbd", True), ("CHECK_DRBD_ROLE", True), ("chk_mysql", False),
                                       ("chk_galera", False), ("chk_wsrep_drbd", False), ("chk_web", False)])
def test_role_dependent(name, kind):
    # a check is classed by its first matching word: galera/wsrep, then mysql/maria, then drbd
    assert role_dependent(name) is kind


def test_predictions_on_the_healthy_pair():
    preds, active, standby = predictions(SCENARIOS["healthy"], CONFIG)
    assert (active, standby) == ("node1", "node2")
    assert [(p.scenario, p.active_priority, p.standby_priority, p.takes_over) for p in preds] == [
        ("MariaDB on the active node stops cleanly", 60, 70, True),
        ("MariaDB on the active node crashes", 60, 70, True),
        ("DRBD on the active node degrades", 80, 70, False),
    ]


def test_predictions_clamp_to_keepalived_range_and_need_both_nodes():
    preds, _, _ = predictions(SCENARIOS["priorities clamped"], CONFIG)
    # node1 250 + 20 → 254 at most; node2 5 - 20 → 1 at least
    assert {(p.active_priority, p.standby_priority) for p in preds} == {(254, 1)}
    assert predictions(SCENARIOS["no master"], CONFIG) == ([], None, "node1")
    assert predictions(SCENARIOS["node-down"], CONFIG) == ([], "node2", None)
    assert predictions(SCENARIOS["standby base unknown"], CONFIG)[0] == []
    # equal priorities: the standby does not take over (keepalived keeps its MASTER)
    from tests.diagnosis_scenarios import vrrp
    preds, _, _ = predictions(vrrp(CLEAN, "node2", base_priority=80), CONFIG)
    assert [(p.active_priority, p.standby_priority, p.takes_over) for p in preds] == [
        (60, 80, True), (60, 80, True), (80, 80, False)]


def test_penalties_are_attributed_to_their_source():
    snap = SCENARIOS["standby other check fails"]
    n2 = snap.node("node2")
    pens = penalties(n2, n2.vrrp[0], CONFIG)
    # only failing negative-weight checks take points off
    assert [(p.source, p.points, p.why, p.by_design) for p in pens] == [("chk_web", -20, "fails", False)]
    snap = SCENARIOS["standby pinned and penalised"]
    n2 = snap.node("node2")
    assert [(p.source, p.points, p.by_design) for p in penalties(n2, n2.vrrp[0], CONFIG)] == [
        ("chk_drbd", -20, True), ("maintenance", -5, False)]
    # a track file raising the priority is no penalty
    up = vrrp(CLEAN, "node2", track_files=(TrackFile("boost", 2, 3),))
    assert penalties(up.node("node2"), up.node("node2").vrrp[0], CONFIG) == []
