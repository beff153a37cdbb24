"""The executor's lock, audit, timeouts and undo, against scripted fake nodes.

Each fake node is a directory: the lock and audit paths in the commands are rewritten into it and the
commands run in a local bash, so the lock's shell (mkdir, compare-and-remove, heartbeat) really runs.
Plan commands that would need the cluster (drbdadm, mysql) are answered by a per-test hook.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hatui.actions import executor as ex
from hatui.actions.plan import Check, Plan, Step, Verify
from hatui.transport import CommandResult, TransportError
from tests.fakes import MAINT, FakeCollector, records, take_lock
from tests.recordings import CONFIG, recording, with_node


@pytest.fixture(autouse=True)
def quick_settle(monkeypatch) -> None:
    monkeypatch.setattr(ex, "SETTLE_S", 0.6, raising=False)


@pytest.fixture(autouse=True)
def local_audit(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "local" / "audit.log"
    monkeypatch.setattr(ex, "LOCAL_AUDIT", path, raising=False)
    try:
        monkeypatch.setattr(importlib.import_module("hatui.actions.audit"), "LOCAL_AUDIT", path)
    except ImportError:
        pass
    return path


def two_step_plan(second: str = "false", must_reach=None, timeout_s: float = 30.0) -> Plan:
    steps = (Step("node1", f"printf '%s\\n' -40 > {MAINT}", "node1 demoted", undo=f"printf '%s\\n' 0 > {MAINT}"),
             Step("node2", second, "node2 does its part", timeout_s=timeout_s))
    extra = {} if must_reach is None else {"must_reach": must_reach}
    return Plan("test", "a test plan", "node2", (Check("ok", True, "yes"),), steps, **extra)


def is_step(command: str) -> bool:
    """A plan's command, not the executor's own lock or audit command (whose records quote the plan)."""
    return ex.NODE_AUDIT not in command and ex.LOCK_DIR not in command


def lines() -> tuple[list[str], callable]:
    out: list[str] = []
    return out, out.append


# ---- S3: lock break ---------------------------------------------------------------------------------

def run_cli(monkeypatch, fake: FakeCollector, argv: dict, config=CONFIG, read_only=False) -> int:
    import hatui.collector
    from hatui.actions import cli
    monkeypatch.setattr(hatui.collector, "Collector", lambda cfg, **kw: fake)
    args = argparse.Namespace(cmd="lock", yes=True, **argv)
    return asyncio.run(cli._run(args, config, read_only))


@pytest.mark.parametrize("how", ["flag", "config"])
def test_lock_break_is_refused_in_read_only_mode_and_audited(tmp_path, monkeypatch, local_audit, how):
    fake = FakeCollector(tmp_path)
    take_lock(fake.transports["node1"], "alice@ws1 pid 7 switchover")
    cfg = replace(CONFIG, actions=replace(CONFIG.actions, read_only=True)) if how == "config" else CONFIG
    rc = run_cli(monkeypatch, fake, {"what": "break"}, cfg, read_only=how == "flag")
    assert rc == 2 and fake.transports["node1"].lock.exists()
    assert [r["event"] for r in records(local_audit)] == ["refused"]
    assert not fake.transports["node1"].audit()  # read-only writes nothing on the nodes


def test_lock_break_removes_only_the_owner_that_was_shown(tmp_path, monkeypatch, capsys):
    fake = FakeCollector(tmp_path)
    n1 = fake.transports["node1"]
    take_lock(n1, "alice@ws1 pid 7 switchover")

    def new_owner_before_the_break(node, command):  # alice's action ended, bob's began, after `show`
        if "rm -rf" in command:
            (node.lock / "owner").write_text("bob@ws2 pid 9 drbd-resync\n")
    n1.hook = new_owner_before_the_break
    rc = run_cli(monkeypatch, fake, {"what": "break"})
    assert (n1.lock / "owner").exists(), "bob's live lock was removed"
    assert (n1.lock / "owner").read_text() == "bob@ws2 pid 9 drbd-resync\n", "bob's live lock was removed"
    assert rc == 1 and "owner changed" in capsys.readouterr().out


def test_lock_break_with_a_node_down_says_which_kept_its_lock_and_is_audited(tmp_path, monkeypatch, capsys,
                                                                              local_audit):
    fake = FakeCollector(tmp_path)
    n1, n2 = fake.transports["node1"], fake.transports["node2"]
    take_lock(n1, "alice@ws1 pid 7 switchover")
    take_lock(n2, "alice@ws1 pid 7 switchover")
    n2.down = True
    rc = run_cli(monkeypatch, fake, {"what": "break"})
    out = capsys.readouterr().out
    assert rc == 1 and not n1.lock.exists() and n2.lock.exists()
    assert "node2" in out and "kept" in out
    assert [r["event"] for r in records(local_audit)] == ["start", "end"]
    assert [r["event"] for r in n1.audit()] == ["start", "end"]


# ---- S4: the lock is never left behind; a plan says which nodes it needs -------------------------

def test_lock_is_released_when_a_required_node_does_not_answer(tmp_path, local_audit):
    fake = FakeCollector(tmp_path)
    fake.transports["node2"].down = True
    _out, progress = lines()
    with pytest.raises(ex.ActionRefused, match="node2"):
        asyncio.run(ex.Executor(CONFIG, fake, progress).run(two_step_plan()))
    assert not fake.transports["node1"].lock.exists(), "node1 kept the lock: every later action is refused"
    assert [r["event"] for r in records(local_audit)] == ["refused"]


def test_galera_bootstrap_runs_with_its_peer_unreachable(tmp_path, local_audit):
    from hatui.actions.galera import plan_galera_bootstrap

    healthy = recording("healthy")
    g1 = healthy.node("node1").galera
    lost = with_node(with_node(healthy, "node2", reachable=False, error="timed out"),
                     "node1", galera=replace(g1, cluster_status="non-Primary"))
    plan = plan_galera_bootstrap(lost, CONFIG, "node1")
    assert plan.runnable, plan.render()
    state = {"snap": lost}
    fake = FakeCollector(tmp_path, snap=lambda: state["snap"])
    fake.transports["node2"].down = True

    def mysql(node, command):
        if "pc.bootstrap" in command and is_step(command):
            state["snap"] = with_node(lost, "node1", galera=g1)
            return CommandResult(0, "")
    fake.transports["node1"].hook = mysql
    out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(plan))
    assert outcome.ok, out
    assert any("node2 does not answer" in x for x in out)
    assert [r["event"] for r in fake.transports["node1"].audit()] == ["start", "step", "end"]
    assert not fake.transports["node1"].lock.exists()
    peer = next(c for c in plan.prechecks if "node2" in c.name)  # the pre-check says why it does not block
    assert "does not block this plan" in peer.why and plan.lock_nodes == ("node1",)


# ---- S5: audit failures never stop the run or its undo ---------------------------------------------

def test_a_failed_local_audit_write_does_not_stop_the_undo(tmp_path, local_audit):
    fake = FakeCollector(tmp_path)
    n1 = fake.transports["node1"]

    def break_local_audit(node, command):  # the disk fills up (here: the path becomes a directory)
        if is_step(command) and f"-40 > {MAINT}" in command:
            local_audit.rename(local_audit.with_suffix(".old"))
            local_audit.mkdir()
    n1.hook = break_local_audit
    out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(two_step_plan()))
    assert not outcome.ok
    assert (n1.root / "maintenance").read_text().strip() == "0", "step 1 was not undone"
    assert any(x.startswith("AUDIT:") and "local copy" in x for x in out), out
    assert [r["event"] for r in n1.audit()][-2:] == ["undo", "end"]
    assert not n1.lock.exists()


def test_a_remote_audit_write_that_fails_is_reported(tmp_path):
    fake = FakeCollector(tmp_path)
    fake.transports["node2"].hook = lambda node, c: CommandResult(1, "Permission denied") if ex.NODE_AUDIT in c \
        else None
    out, progress = lines()
    asyncio.run(ex.Executor(CONFIG, fake, progress).run(two_step_plan("true")))
    assert any("AUDIT:" in x and "node2" in x and "Permission denied" in x for x in out), out


def test_a_refusal_is_audited(tmp_path, local_audit):
    fake = FakeCollector(tmp_path)
    take_lock(fake.transports["node2"], "bob@ws2 pid 9 drbd-resync")
    with pytest.raises(ex.ActionRefused, match="another action is running: bob@ws2"):
        asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(two_step_plan()))
    rec = records(local_audit)
    assert [r["event"] for r in rec] == ["refused"] and "bob@ws2" in rec[0]["reason"]
    assert [r["event"] for r in fake.transports["node1"].audit()] == ["refused"]
    assert not fake.transports["node1"].lock.exists()
    with pytest.raises(ex.ActionRefused, match="read-only"):
        asyncio.run(ex.Executor(CONFIG, fake, lambda m: None, read_only=True).run(two_step_plan()))
    assert [r["event"] for r in records(local_audit)] == ["refused", "refused"]
    assert len(fake.transports["node1"].audit()) == 1  # read-only: nothing written on the nodes


# ---- S8: a step cannot outlive its timeout; unknown, read the cluster, then undo -------------------

def test_a_timed_out_step_is_killed_on_the_node_and_is_unknown(tmp_path):
    fake = FakeCollector(tmp_path)
    late = fake.transports["node2"].root / "late-mount"
    _out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(
        two_step_plan(f"sleep 1.5; touch {late}", timeout_s=0.5)))
    assert outcome.results[1].status == "unknown", outcome.results[1]
    assert (fake.transports["node1"].root / "maintenance").read_text().strip() == "0"
    time.sleep(2.0)
    assert not late.exists(), "the step went on running on the node after undo"


def test_a_lost_answer_waits_for_the_nodes_timeout_and_reads_the_cluster_before_undoing(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "KILL_AFTER_S", 1, raising=False)
    fake = FakeCollector(tmp_path)
    n1, n2 = fake.transports["node1"], fake.transports["node2"]
    late = n2.root / "late-mount"
    started = {}

    def lose_the_session(node, command):
        if "late-mount" in command and is_step(command):
            started["at"] = time.monotonic()
            node.spawn(command)
            return TransportError("node2: connection lost running the step: Connection reset")

    def undo(node, command):
        if is_step(command) and f"' 0 > {MAINT}" in command:
            fake.log.append(f"undo at {time.monotonic() - started['at']:.1f}")
    n2.hook, n1.hook = lose_the_session, undo
    out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(
        two_step_plan(f"sleep 3; touch {late}", timeout_s=1)))
    assert outcome.results[1].status == "unknown"
    undo_at = next(x for x in fake.log if x.startswith("undo"))
    assert fake.log[fake.log.index(undo_at) - 1] == "snapshot", fake.log  # read the cluster, then undo
    assert float(undo_at.split()[-1]) >= 2.0  # timeout 1 s + kill after 1 s: the command is gone
    assert any("before undoing, the cluster is" in x for x in out), out
    time.sleep(1.5)
    assert not late.exists()


# ---- S9: the owner refreshes its lock; stale means not refreshed -----------------------------------

def test_an_old_but_refreshed_lock_is_not_called_stale(tmp_path):
    fake = FakeCollector(tmp_path)
    # a resync started 40 min ago whose owner is alive (heartbeat 3 s ago)
    take_lock(fake.transports["node1"], f"alice@ws1 pid 7 drbd-resync since then [{time.time() - 2400:.0f}]", 3)
    with pytest.raises(ex.ActionRefused) as refused:
        asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(two_step_plan()))
    assert "another action is running" in str(refused.value) and "STALE" not in str(refused.value)


def test_a_lock_not_refreshed_is_stale_and_says_so(tmp_path):
    fake = FakeCollector(tmp_path)
    # taken a minute and a half ago (under the old 30-minute rule: fresh), never refreshed since
    take_lock(fake.transports["node1"], f"alice@ws1 pid 7 switchover since then [{time.time() - 90:.0f}]", 90)
    with pytest.raises(ex.ActionRefused) as refused:
        asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(two_step_plan()))
    assert "STALE: not refreshed for 90 s" in str(refused.value), refused.value


def test_the_owner_refreshes_its_lock_while_the_plan_runs(tmp_path, monkeypatch):
    try:
        lock_mod = importlib.import_module("hatui.actions.lock")
    except ImportError:
        lock_mod = ex
    monkeypatch.setattr(lock_mod, "REFRESH_S", 0.2, raising=False)
    fake = FakeCollector(tmp_path)
    beat = fake.transports["node1"].lock / "heartbeat"

    def age_it(node, command):  # as if the step had run for 20 minutes
        if is_step(command) and "-40" in command:
            os.utime(beat, (time.time() - 1200, time.time() - 1200))
    fake.transports["node1"].hook = age_it
    refreshed = Verify("the heartbeat was refreshed", lambda s: time.time() - beat.stat().st_mtime < 60, 3)
    plan = replace(two_step_plan(), steps=(replace(two_step_plan().steps[0], verify=refreshed),))
    outcome = asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(plan))
    assert outcome.ok, outcome.results


# ---- S7: no undo after a verified move; after an undo, wait before naming the end state ------------

def test_a_failed_final_check_does_not_undo_the_verified_steps(tmp_path):
    fake = FakeCollector(tmp_path)
    never = Verify("Galera Primary and Synced on both nodes", lambda s: False, 0.5)
    plan = replace(two_step_plan("true"), final=(never,))
    out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(plan))
    assert not outcome.ok and "final check failed" in " ".join(out)
    # undoing the demotion would move the VIP back: an unplanned second switchover
    assert (fake.transports["node1"].root / "maintenance").read_text().strip() == "-40", out
    assert not any(x.startswith("undo on") for x in out), out


def test_after_an_undo_the_end_state_is_read_once_the_cluster_has_settled(tmp_path, monkeypatch):
    # settled means unchanged for SETTLE_S: longer than keepalived's 1 s below, so that no timing of the
    # reads (a loaded machine's sleeps overshoot) can see the old state as settled before it moves
    monkeypatch.setattr(ex, "SETTLE_S", 2.0)
    moved_back = {}
    fake = FakeCollector(tmp_path, snap=lambda: recording(
        "healthy" if time.monotonic() > moved_back.get("at", float("inf")) else "failover"))

    def undo(node, command):  # keepalived takes the VIP back a second after the maintenance value is reset
        if is_step(command) and f"' 0 > {MAINT}" in command:
            moved_back["at"] = time.monotonic() + 1.0
    fake.transports["node1"].hook = undo
    outcome = asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(two_step_plan("false")))
    assert outcome.state == "VIP on node1, DRBD primary node1, /mnt/drbd mounted on node1", outcome.state


def test_the_switchover_demotion_says_what_its_undo_brings():
    from hatui.actions.switchover import plan_switchover
    demote = next(s for s in plan_switchover(recording("healthy"), CONFIG, "node2").steps if "-40" in s.command)
    assert demote.undo_verify is not None and demote.undo_verify.description == "the VIP 198.18.0.100 on node1 only"


def test_a_failed_drbd_step_is_explained_by_drbds_own_refusal():
    from hatui.actions.executor import failure_detail

    out = ("r0: State change failed: (-1) Multiple primaries not allowed by config\n"
           "Command 'drbdsetup primary r0' terminated with exit code 11\n")
    detail = failure_detail("drbdadm primary r0", 11, out)
    assert "DRBD: Multiple primaries not allowed by config" in detail and "demote it first" in detail
    assert "DRBD:" not in failure_detail("umount /mnt/drbd", 32, "umount: /mnt/drbd: target is busy.")


# ---- S2: the plan is re-checked on a fresh snapshot once the lock is taken -----------------------

def _split_brain(snap):
    """`snap` with both DRBD sides StandAlone (a split brain)."""
    for name in ("node1", "node2"):
        snap = with_node(snap, name, drbd=tuple(replace(r, connection_state="StandAlone", peer_disk_state="DUnknown")
                                                for r in snap.node(name).drbd))
    return snap


def test_a_plan_confirmed_before_the_vip_moved_is_refused_after_the_lock(tmp_path, local_audit):
    from hatui.actions import registry

    spec = registry.by_key("drbd:split-brain")
    confirmed = spec.build(_split_brain(recording("healthy")), CONFIG, "node2", None)  # node1 holds the VIP
    assert confirmed.runnable, confirmed.render()
    # while the wizard stood open the VIP moved to node2: it now serves clients, and the plan discards its data
    fake = FakeCollector(tmp_path, snap=lambda: _split_brain(recording("failover")))
    _out, progress = lines()
    with pytest.raises(ex.ActionRefused, match="no longer passes its pre-checks") as exc:
        asyncio.run(ex.Executor(CONFIG, fake, progress).run(
            confirmed, rebuild=lambda s: spec.build(s, CONFIG, "node2", None)))
    assert "the victim node2 does not hold the VIP" in str(exc.value)
    assert not any(is_step(c) for n in fake.transports.values() for c in n.commands), "a step ran"
    assert [r["event"] for r in records(local_audit)] == ["refused"]
    assert "node2 serves clients" in records(local_audit)[0]["reason"]
    assert not fake.transports["node1"].lock.exists() and not fake.transports["node2"].lock.exists()


def test_a_plan_whose_steps_changed_is_refused_and_says_what_changed(tmp_path, local_audit):
    from hatui.actions import registry

    spec = registry.by_key("switchover")
    healthy = recording("healthy")
    confirmed = spec.build(healthy, CONFIG, "node2", None)
    n2 = healthy.node("node2")  # meanwhile someone put node2 into maintenance: the plan needs a step more
    pinned = with_node(healthy, "node2", vrrp=tuple(replace(v, track_files=(replace(v.track_files[0], value=-5),))
                                                    for v in n2.vrrp))
    assert spec.build(pinned, CONFIG, "node2", None).runnable
    fake = FakeCollector(tmp_path, snap=lambda: pinned)
    with pytest.raises(ex.ActionRefused, match="steps are now different") as exc:
        asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(
            confirmed, rebuild=lambda s: spec.build(s, CONFIG, "node2", None)))
    assert "step 1 was on node1" in str(exc.value) and "now on node2: printf '%s\\n' 0 >" in str(exc.value)
    assert not any(is_step(c) for n in fake.transports.values() for c in n.commands), "a step ran"
    assert [r["event"] for r in records(local_audit)] == ["refused"]
    # the same cluster: the re-checked plan runs
    fake = FakeCollector(tmp_path / "again")
    outcome = asyncio.run(ex.Executor(CONFIG, fake, lambda m: None).run(
        two_step_plan("true"), rebuild=lambda s: two_step_plan("true")))
    assert outcome.ok, outcome


def test_the_cli_re_checks_the_plan_it_confirmed(tmp_path, monkeypatch, capsys, local_audit):
    import hatui.collector
    from hatui.actions import cli

    calls = []

    def snap():  # the plan is built on the first snapshot; by the time the lock is taken the VIP has moved
        calls.append(1)
        return _split_brain(recording("healthy" if len(calls) == 1 else "failover"))
    fake = FakeCollector(tmp_path, snap=snap)
    monkeypatch.setattr(hatui.collector, "Collector", lambda cfg, **kw: fake)
    args = argparse.Namespace(cmd="drbd", what="split-brain", victim="node2", yes=True, dry_run=False)
    assert asyncio.run(cli._run(args, CONFIG, False)) == 1
    assert "refused:" in capsys.readouterr().err
    assert not any(is_step(c) for n in fake.transports.values() for c in n.commands), "a step ran"


def test_a_long_check_gives_up_when_a_node_the_plan_needs_stops_answering(tmp_path, local_audit, monkeypatch):
    """Found by the fault matrix: a DRBD resync whose peer was powered off kept hatui waiting for the
    resync's 30-minute check.  A check that needs an unreachable node ends (after GIVE_UP_UNREACHABLE_S)."""
    import time

    from hatui.actions.plan import Verify

    monkeypatch.setattr(ex, "GIVE_UP_UNREACHABLE_S", 0.5)
    down = with_node(recording("healthy"), "node2", reachable=False, error="no answer within 1.5 s")
    fake = FakeCollector(tmp_path, snap=lambda: down)
    executor = ex.Executor(CONFIG, fake, lambda m: None)
    executor.required = ("node1", "node2")
    t0 = time.monotonic()
    ok, _ = asyncio.run(executor.wait(Verify("both UpToDate", lambda s: False, 1800)))
    assert not ok and time.monotonic() - t0 < 10
    executor.required = ("node1",)  # a node the plan does not need may be gone: the check runs its course
    ok, _ = asyncio.run(executor.wait(Verify("node1 fine", lambda s: False, 1.0)))
    assert not ok


def test_a_step_is_not_run_once_a_node_the_plan_needs_stops_answering(tmp_path, local_audit, monkeypatch):
    """Found by the fault matrix: the switchover's target powered off after the VIP moved, and the source
    still released DRBD (unmount, Secondary) for a take-over that could no longer happen.  Before each
    command the plan's required nodes must answer; a step that is not run is not undone, the earlier ones are."""
    monkeypatch.setattr(ex, "REQUIRED_GRACE_S", 0.5, raising=False)
    healthy = recording("healthy")
    state = {"snap": healthy}
    fake = FakeCollector(tmp_path, snap=lambda: state["snap"])

    def demoted(node, command):
        if is_step(command) and MAINT in command and "-40" in command:
            state["snap"] = with_node(healthy, "node2", reachable=False, error="no answer within 1.5 s")
    fake.transports["node1"].hook = demoted
    out, progress = lines()
    outcome = asyncio.run(ex.Executor(CONFIG, fake, progress).run(two_step_plan(second="echo step-two-ran")))
    assert not outcome.ok
    assert not any(is_step(c) and "step-two-ran" in c for c in fake.transports["node2"].commands), out
    assert [r.status for r in outcome.results] == ["undone", "not run"], out
    assert any("node2 does not answer" in x for x in out), out
    assert (fake.transports["node1"].root / "maintenance").read_text().strip() == "0"
