"""Issue 14 end to end: `hatui init` against the lab with its prompts answered by the test, and the monitor
and a switchover through an ordinary SSH user with `become: sudo` (`hatui lab up --ssh-user hatui`)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import outcome, wait_until

pytestmark = pytest.mark.lab


def node_sudoers(node: str) -> Path:
    """The sudoers.d file the lab installed on `node` (bind-mounted over /etc/sudoers.d inside it)."""
    return helpers.LAB_DIR / "nodes" / node / "etc-own" / "sudoers.d" / "hatui"


def init(tmp_path: Path, answers: str, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [*helpers.HATUI, "init", "--node1", helpers.NODE_IP["node2"], "--node2", helpers.NODE_IP["node1"],
            "--user", "hatui", "--identity", str(helpers.LAB_DIR / "ssh" / "id_ed25519"), *extra]
    return subprocess.run(argv, input=answers, capture_output=True, text=True, timeout=120)


def test_init_against_the_lab_writes_a_config_that_gives_a_healthy_status(sudo_lab, tmp_path):
    known, out = tmp_path / "known_hosts", tmp_path / "hatui.yaml"
    # no: nothing trusted, nothing written
    res = init(tmp_path, "no\n", "--output", str(out), "--known-hosts", str(known))
    assert res.returncode == 1 and not out.exists() and not known.exists(), res.stdout
    assert "key fingerprint is SHA256:" in res.stdout
    res = init(tmp_path, "yes\nyes\n", "--output", str(out), "--known-hosts", str(known))
    assert res.returncode == 0, res.stdout + res.stderr
    # both fingerprints were shown, and are the lab's host keys
    shown = re.findall(r"key fingerprint is (SHA256:\S+)\.", res.stdout)
    lab_keys = [subprocess.run(["ssh-keygen", "-lf", str(helpers.LAB_DIR / "ssh" / n / "ssh_host_ed25519_key.pub")],
                               capture_output=True, text=True).stdout.split()[1] for n in ("node2", "node1")]
    assert shown == lab_keys
    assert len(known.read_text().splitlines()) == 2
    text = out.read_text()
    assert "# ?" not in text.split("\n", 2)[2], text  # every value found on the nodes
    assert "- name: node1" in text.split("- name: node2")[0]  # the active node first, whatever order given
    check = helpers.hatui_cli("check", config=out)
    assert check.returncode == 0 and check.stdout.startswith("HATUI OK"), check.stdout + check.stderr
    doc = json.loads(helpers.hatui_cli("status", "--json", config=out).stdout)
    assert [n["vrrp"][0]["state"] for n in doc["nodes"]] == ["MASTER", "BACKUP"]
    assert doc["web"]["ok"] and all(n["galera"]["cluster_size"] == 2 for n in doc["nodes"])
    # the same verdict as the lab's own config
    assert helpers.hatui_cli("check").stdout.split(" - ")[0] == check.stdout.split(" - ")[0]
    again = init(tmp_path, "", "--output", str(out), "--known-hosts", str(known))
    assert again.returncode == 2 and "not overwritten" in again.stdout and out.read_text() == text


def test_sudoers_has_one_exact_command_a_line_and_is_what_the_lab_installed(sudo_lab):
    res = helpers.hatui_cli("sudoers")
    assert res.returncode == 0, res.stderr
    rules = [ln for ln in res.stdout.splitlines() if ln and not ln.startswith("#")]
    assert rules and all(re.fullmatch(r"hatui ALL=\(root\) NOPASSWD: /\S+ \S.*", r) for r in rules)
    assert not [r for r in rules if re.search(r"NOPASSWD: \S*/(?:ba)?sh |NOPASSWD: ALL|[*?]", r)]
    assert "hatui ALL=(root) NOPASSWD: /usr/local/sbin/drbdadm primary r0" in rules  # asked of the node: the emulator
    for node in ("node1", "node2"):
        installed = [ln for ln in node_sudoers(node).read_text().splitlines() if ln and not ln.startswith("#")]
        assert installed == rules


def test_the_monitor_and_a_switchover_run_through_sudo(sudo_lab, tmp_path):
    doc = json.loads(helpers.hatui_cli("status", "--json").stdout)
    assert all(n["vrrp"] and n["vrrp"][0]["state"] in ("MASTER", "BACKUP") for n in doc["nodes"])
    assert not [f for f in doc["findings"] if f["code"] == "sudo-refused"]
    env = {"XDG_STATE_HOME": str(tmp_path)}
    res = helpers.hatui_cli("switchover", "--to", "node2", "--yes", env_extra=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "sudo -n tee /etc/keepalived/maintenance" in res.stdout and "AUDIT" not in res.stdout
    wait_until("VIP, DRBD and mount on node2", outcome,
               lambda o: o.vip == ("node2",) and o.drbd_primary == ("node2",) and o.mounted == ("node2",), 10)
    for node in ("node1", "node2"):  # the lock and the audit went through sudo too
        lines = [json.loads(x) for x in helpers.ssh(node, "cat /var/log/hatui-audit.log").stdout.splitlines()]
        assert lines[0]["event"] == "start" and lines[-1]["event"] == "end" and lines[-1]["ok"] is True
        assert helpers.ssh(node, "test -e /run/hatui-action.lock; echo $?").stdout.strip() == "1"
    res = helpers.hatui_cli("switchover", "--to", "node1", "--yes", env_extra=env)
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until("VIP back on node1", outcome, lambda o: o.vip == ("node1",) and o.mounted == ("node1",), 10)


def test_a_removed_sudoers_line_is_a_finding_and_a_refused_step_names_it(sudo_lab, tmp_path):
    path = node_sudoers("node1")
    saved = path.read_text()
    try:
        path.write_text("".join(ln for ln in saved.splitlines(keepends=True)
                                if "pkill --signal 36" not in ln and "tee /etc/keepalived/maintenance" not in ln))
        res = helpers.hatui_cli("status", "--json")
        assert res.returncode == 0, res.stderr
        found = [f for f in json.loads(res.stdout)["findings"] if f["code"] == "sudo-refused"]
        assert len(found) == 1 and found[0]["nodes"] == ["node1"], found
        line = "hatui ALL=(root) NOPASSWD: /usr/bin/pkill --signal 36 --pidfile /run/keepalived.pid --exact keepalived"
        assert "/usr/bin/pkill --signal 36" in found[0]["title"] and line in found[0]["action"]
        check = helpers.hatui_cli("check")
        assert check.returncode == 1 and "sudo" in check.stdout, check.stdout  # a warning, not UNKNOWN (3)
        env = {"XDG_STATE_HOME": str(tmp_path)}
        res = helpers.hatui_cli("switchover", "--to", "node2", "--yes", env_extra=env)
        assert res.returncode != 0 and "Traceback" not in res.stderr, res.stdout + res.stderr
        assert "sudo on node1 refused `/usr/bin/tee /etc/keepalived/maintenance`" in res.stdout, res.stdout
        assert "hatui ALL=(root) NOPASSWD: /usr/bin/tee /etc/keepalived/maintenance" in res.stdout
        wait_until("the VIP stays on node1", outcome, lambda o: o.vip == ("node1",) and o.mounted == ("node1",), 10)
    finally:
        path.write_text(saved)
