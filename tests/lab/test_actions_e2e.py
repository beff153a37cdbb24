"""Guided actions against the real lab: dry run, switchover and back, the lock, read-only."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import outcome, wait_until

pytestmark = pytest.mark.lab


hatui = helpers.hatui_cli


def on(node: str):
    return lambda o: (o.vip == (node,) and o.drbd_primary == (node,) and o.mounted == (node,) and o.web == node
                      and o.galera_of("node1") == "Primary/Synced" and o.galera_of("node2") == "Primary/Synced")




def test_switchover_and_back(fresh_lab, tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path)}
    t0 = time.monotonic()
    res = hatui("switchover", "--to", "node2", "--yes", env_extra=env)
    took = time.monotonic() - t0
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK after" in res.stdout and "VIP on node2, DRBD primary node2, /mnt/drbd mounted on node2" in res.stdout
    wait_until("everything on node2", outcome, on("node2"), 5)
    assert helpers.maintenance_values()["node1"] == "-40"
    for node in ("node1", "node2"):
        lines = [json.loads(x) for x in helpers.ssh(node, "cat /var/log/hatui-audit.log").stdout.splitlines()]
        events = [x["event"] for x in lines]
        assert events[0] == "start" and events[-1] == "end" and lines[-1]["ok"] is True, events
        assert all(x["action"] == "switchover" and x["target"] == "node2" for x in lines)
    local = [json.loads(x) for x in (tmp_path / "hatui" / "audit.log").read_text().splitlines()]
    assert local[-1]["event"] == "end" and local[-1]["ok"] is True
    assert any(x["event"] == "step" and "maintenance" in x["command"] for x in local)
    # and back: node1 leaves maintenance first, node2 goes into it
    res = hatui("switchover", "--to", "node1", "--yes", env_extra=env)
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until("everything on node1", outcome, on("node1"), 5)
    values = helpers.maintenance_values()
    assert values["node1"] == "0" and int(values["node2"]) < 0, values
    assert took < 60


def test_concurrent_switchovers_one_is_refused(fresh_lab):
    cmd = helpers.hatui_argv("switchover", "--to", "node2", "--yes")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
             for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    # the whole output of both (a repr of `outs` is cut short by pytest): the winner's steps say why it failed
    assert codes == [0, 1], "\n\n".join(f"exit {p.returncode}:\n{o[0][-4000:]}\n{o[1][-2000:]}"
                                          for p, o in zip(procs, outs, strict=True))
    loser = outs[[p.returncode for p in procs].index(1)]
    text = loser[0] + loser[1]
    assert "another action is running" in text or "no other action running: held by" in text or \
        "node1 holds the VIP" in text, text
    wait_until("everything on node2", outcome, on("node2"), 10)
    assert helpers.ssh("node1", "ls /run/hatui-action.lock 2>&1").returncode != 0  # the lock was released


async def test_tui_wizard_switches_over(fresh_lab, tmp_path, monkeypatch):
    from hatui.collector import Collector
    from hatui.config import load
    from hatui.tui.app import HatuiApp
    from hatui.tui.wizard import ActionWizard

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    cfg = load(str(helpers.LAB_DIR / "hatui-lab.yaml"))
    app = HatuiApp(cfg, Collector(cfg))
    async with app.run_test(size=(120, 48)) as pilot:
        t0 = time.monotonic()
        while app.snapshot is None or not all(n.reachable and n.vrrp for n in app.snapshot.nodes):
            assert time.monotonic() - t0 < 15
            await pilot.pause(0.2)
        await pilot.press("s")  # the plan is built on a fresh cycle, with the lock's owner: wait for it
        t0 = time.monotonic()
        while not isinstance(app.screen, ActionWizard):
            assert time.monotonic() - t0 < 15, "no wizard after s"
            await pilot.pause(0.1)
        wizard = app.screen
        assert isinstance(wizard, ActionWizard) and wizard.plan.target == "node2" and wizard.plan.runnable
        await pilot.click("#confirm")
        await pilot.press(*"node2", "enter")
        t0 = time.monotonic()
        while not wizard.finished:
            assert time.monotonic() - t0 < 90, "wizard did not finish"
            await pilot.pause(0.2)
        state = str(wizard.query_one("#state").render())
        assert "DONE" in state and "VIP on node2, DRBD primary node2" in state, state
    wait_until("everything on node2", outcome, on("node2"), 5)


def test_drbd_resync_followed_to_100_and_refusals(fresh_lab):
    refused = hatui("drbd", "resync", "--node", "node1", "--yes")
    assert refused.returncode == 1 and "[FAIL] node1 is not the Primary with a mounted filesystem" in refused.stdout
    res = hatui("drbd", "resync", "--node", "node2", "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    progress = [line for line in res.stdout.splitlines() if "… node2: SyncTarget" in line]
    assert len(progress) >= 2, res.stdout  # followed live
    assert "final check: DRBD r0 Connected, UpToDate on node2 and node1 (resync at 100 %): OK" in res.stdout
    n2 = helpers.facts("node2")
    assert n2.dstate == "UpToDate/UpToDate" and n2.cstate == "Connected"


def test_split_brain_recovered_by_the_guided_action(fresh_lab):
    res = helpers.hatui_lab("fault", "split-brain", "node2")
    assert res.returncode == 0, res.stderr
    wait_until("split brain", outcome, lambda o: o.cstate_of("node1") == "StandAlone"
               and o.cstate_of("node2") == "StandAlone", 10)
    wrong = hatui("drbd", "split-brain", "--victim", "node1", "--yes")
    assert wrong.returncode == 1 and "[FAIL] the victim node1 does not hold the VIP" in wrong.stdout
    res = hatui("drbd", "split-brain", "--victim", "node2", "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "connect --discard-my-data r0" in res.stdout
    o = outcome()
    assert o.cstate_of("node1") == "Connected" and o.cstate_of("node2") == "Connected"
    assert o.drbd_primary == ("node1",) and o.vip == ("node1",)
    listing = sorted(p.name for p in (helpers.LAB_DIR / "drbd" / "disk-node2").iterdir())
    assert "split-brain-node1.txt" in listing and "split-brain-node2.txt" not in listing


def test_galera_survivor_rebootstrapped_after_a_crash(fresh_lab):
    res = helpers.hatui_lab("fault", "kill-mariadb", "node1")
    assert res.returncode == 0, res.stderr
    wait_until("node2 non-Primary", outcome, lambda o: o.galera_of("node2").startswith("non-Primary"), 30)
    dry = hatui("galera", "bootstrap", "--node", "node2", "--dry-run")
    assert dry.returncode == 0, dry.stdout
    assert "[PASS] node1 is really down or non-Primary too" in dry.stdout and "most recent data" in dry.stdout
    res = hatui("galera", "bootstrap", "--node", "node2", "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until("node2 Primary again", outcome, lambda o: o.galera_of("node2") == "Primary/Synced", 10)
    heal = helpers.hatui_lab("heal", "node1")  # the rejoin of the other node
    assert heal.returncode == 0, heal.stderr
    wait_until("node1 rejoined", outcome, lambda o: o.galera_of("node1") == "Primary/Synced", 60)
    g = helpers.facts("node1").galera
    assert g["wsrep_cluster_size"] == "2"


def test_fault_during_switchover_ends_in_a_named_safe_state(fresh_lab):
    proc, lines = _run_until(["switchover", "--to", "node2", "--yes"], "step 1 on node1")
    cut = helpers.hatui_lab("fault", "cut-link", "node2")  # the target drops off mid-plan
    assert cut.returncode == 0, cut.stderr
    rest, _ = proc.communicate(timeout=180)
    out = "".join(lines) + rest
    assert proc.returncode == 1, out
    assert "STOPPED" in out and "undo on node1" in out and "ENDED IN: " in out
    assert "unreachable: node2" in out
    o = outcome()
    assert o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.mounted == ("node1",)
    assert helpers.maintenance_values()["node1"] == "0"


def _run_until(args: list[str], marker: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(helpers.hatui_argv(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if marker in line:
            break
    return proc, lines


def test_operator_abort_undoes_and_names_the_state(fresh_lab):
    import signal

    proc, lines = _run_until(["switchover", "--to", "node2", "--yes"], "step 1 on node1")
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    out = "".join(lines) + rest
    assert proc.returncode == 1, out
    assert "ABORT requested" in out and "aborted by the operator" in out and "ENDED IN: " in out
    assert "undo on node1: printf '%s\\n' 0 > /etc/keepalived/maintenance" in out
    _o, _ = wait_until("a consistent cluster", outcome,
                      lambda o: len(o.vip) == 1 and o.drbd_primary == o.vip and o.mounted == o.vip, 30)
    assert helpers.maintenance_values()["node1"] == "0"


def test_ssh_dropped_mid_plan_ends_consistent(fresh_lab):
    """The SSH session serving hatui on node1 is killed mid-plan (its sshd listener stays): the executor
    reconnects or stops; either way the cluster ends consistent and the output says where it is."""
    proc, lines = _run_until(["switchover", "--to", "node2", "--yes"], "step 1 on node1")
    listener = int((helpers.LAB_DIR / "pids" / "node1.sshd").read_text().split()[0])
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        if f"\nPPid:\t{listener}\n" in status:
            os.kill(int(pid), 9)  # a session of the lab's node1 sshd: the connection drops
            killed += 1
    assert killed
    rest, _ = proc.communicate(timeout=180)
    out = "".join(lines) + rest
    assert proc.returncode in (0, 1), out
    assert ("OK after" in out) or ("ENDED IN: " in out), out
    _o, _ = wait_until("a consistent cluster", outcome,
                      lambda o: len(o.vip) == 1 and o.drbd_primary == o.vip and o.mounted == o.vip, 30)
