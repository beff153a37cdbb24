"""A switchover is refused by each failing pre-check, on the real lab, and changes nothing.

One lab; each case breaks one thing the pre-checks look at, runs `hatui switchover --to node2 --yes`,
asserts the refusal names that check, asserts the cluster did not move, and repairs what it broke."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import outcome, wait_until

pytestmark = pytest.mark.lab


def switchover(to: str = "node2") -> subprocess.CompletedProcess[str]:
    return helpers.hatui_cli("switchover", "--to", to, "--yes", timeout_s=120)


def ssh_ok(node: str, command: str) -> str:
    res = helpers.ssh(node, command)
    assert res.returncode == 0, f"{node}: {command}: {res.stderr}"
    return res.stdout


def healthy(o: helpers.Outcome) -> bool:
    return (o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.mounted == ("node1",)
            and o.drbd_cstate == (("node1", "Connected"), ("node2", "Connected"))
            and o.galera_of("node1") == "Primary/Synced" and o.galera_of("node2") == "Primary/Synced")


def assert_refused(res: subprocess.CompletedProcess[str], *fails: str) -> None:
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    for name in fails:
        assert f"[FAIL] {name}" in out, out
    assert "step 1" not in out  # nothing was run


def refused_and_unchanged(res: subprocess.CompletedProcess[str], *fails: str) -> None:
    assert_refused(res, *fails)
    assert_unchanged()


def assert_unchanged() -> None:
    o = outcome()
    assert o.vip == ("node1",) and o.drbd_primary == ("node1",) and o.mounted == ("node1",), o
    assert helpers.maintenance_values() == {"node1": "0", "node2": "0"}


@contextmanager
def repaired(what: str, repair_cmds: list[tuple[str, str]]) -> Iterator[None]:
    try:
        yield
    finally:
        for node, cmd in repair_cmds:
            helpers.ssh(node, cmd)
        wait_until(f"the pair healthy again after {what}", outcome, healthy, 90)


def test_each_failing_precheck_refuses(fresh_lab):
    wait_until("a healthy pair", outcome, healthy, 30)

    # the VIP is not on the active node: node1 already holds it
    refused_and_unchanged(switchover("node1"), "node2 holds the VIP")

    # Galera on the target not Synced.  The seed's own check_galera.sh only greps for "Primary" (the lab
    # runs it verbatim), so keepalived's check still passes: hatui's own Galera pre-check refuses
    with repaired("desync", [("node2", "mysql -e 'SET GLOBAL wsrep_desync=OFF'")]):
        ssh_ok("node2", "mysql -e 'SET GLOBAL wsrep_desync=ON'")
        wait_until("node2 desynced", outcome, lambda o: o.galera_of("node2") == "Primary/Donor/Desynced", 10)
        refused_and_unchanged(switchover(), "Galera on node2")

    # DRBD not Connected
    with repaired("disconnect", [("node2", "drbdadm connect r0")]):
        ssh_ok("node2", "drbdadm disconnect r0")
        refused_and_unchanged(switchover(), "DRBD on node1", "DRBD on node2")

    # a resync running (the target's disk is being overwritten from node1)
    with repaired("resync", []):
        ssh_ok("node2", "drbdadm invalidate r0")
        res = switchover()
        assert "SyncTarget" in res.stdout or "Inconsistent" in res.stdout, res.stdout
        refused_and_unchanged(res, "DRBD on node2")

    # another action holds the cluster lock
    with repaired("lock", [(n, "rm -rf /run/hatui-action.lock") for n in ("node1", "node2")]):
        for n in ("node1", "node2"):
            ssh_ok(n, "mkdir /run/hatui-action.lock && echo 'alice@ws1 pid 4242 switchover [1700000000]' "
                      "> /run/hatui-action.lock/owner")
        res = switchover()
        assert "alice@ws1" in res.stdout, res.stdout
        refused_and_unchanged(res, "no other action running")

    # the active node has no maintenance hook: refused, and the snippet is shown
    conf = "/etc/keepalived/keepalived.conf"
    ka = helpers.LAB_DIR / "pids" / "node1.keepalived"
    reload = f"kill -HUP {int(ka.read_text().split()[0])}"
    with repaired("hook removed", [("node1", f"cp /etc/keepalived/keepalived.conf.hatui-test {conf} && {reload}")]):
        ssh_ok("node1", f"cp {conf} {conf}.hatui-test && sed -i '/^    track_file {{$/,/^    }}$/d' {conf} "
                        f"&& ! grep -q '^    track_file' {conf} && {reload}")
        res, _ = wait_until("keepalived reloaded without the hook", switchover,
                         lambda r: "has no maintenance hook" in r.stdout + r.stderr, 20)
        assert "track_file maintenance {" in res.stdout + res.stderr  # the snippet to add
        refused_and_unchanged(res)

    # the target unreachable (its sshd hangs): refused, nothing done on node1
    stopped = helpers.sshd_pids("node2")
    assert stopped
    try:
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        res = switchover()
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    assert_refused(res, "target reachable")
    assert_unchanged()
