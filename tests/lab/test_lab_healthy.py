"""The healthy pair, checked from the workstation side over real SSH and HTTP."""

from __future__ import annotations

import time
import uuid

import pytest

from hatui.lab import observe as helpers

pytestmark = pytest.mark.lab


def test_up_is_fast_and_idempotent(healthy_lab):
    assert "lab up in" in healthy_lab.stdout
    again = helpers.hatui_lab("up", "--subnet", helpers.SUBNET)
    assert again.returncode == 0, again.stderr
    assert "started" not in again.stdout, f"second `up` started something again:\n{again.stdout}"


def test_vip_and_roles(healthy_lab):
    n1, n2 = helpers.facts("node1"), helpers.facts("node2")
    assert n1.reachable and n2.reachable
    assert n1.vip and not n2.vip
    assert n1.drbd_local_role == "Primary" and n2.drbd_local_role == "Secondary"
    assert n1.drbd_local_disk == "UpToDate" and n2.drbd_local_disk == "UpToDate"
    assert n1.mounted and not n2.mounted


def test_galera_two_synced_primaries(healthy_lab):
    for node in ("node1", "node2"):
        g = helpers.facts(node).galera
        assert g["wsrep_cluster_size"] == "2", g
        assert g["wsrep_cluster_status"] == "Primary", g
        assert g["wsrep_local_state_comment"] == "Synced", g
        assert g["wsrep_ready"] == "ON", g


def test_row_written_on_node1_is_read_on_node2(healthy_lab):
    token = uuid.uuid4().hex
    sql = ("CREATE DATABASE IF NOT EXISTS hatui_test; "
           "CREATE TABLE IF NOT EXISTS hatui_test.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64)); "
           f"INSERT INTO hatui_test.t (v) VALUES ('{token}');")
    res = helpers.ssh("node1", f'mysql -e "{sql}"')
    assert res.returncode == 0, res.stderr
    res = helpers.ssh("node2", f"mysql -N -B -e \"SELECT v FROM hatui_test.t WHERE v='{token}'\"")
    assert res.stdout.strip() == token


def test_web_page_through_vip_names_node1(healthy_lab):
    assert helpers.web() == "HA Web Service is running on node node1"


def test_each_node_sees_its_own_files(healthy_lab):
    one = helpers.ssh("node1", "hostname; cat /var/www/html/index.html; ls /var/lib/mysql/grastate.dat")
    two = helpers.ssh("node2", "hostname; cat /var/www/html/index.html; ls /var/lib/mysql/grastate.dat")
    assert one.stdout.splitlines()[:2] == ["node1", "HA Web Service is running on node node1"]
    assert two.stdout.splitlines()[:2] == ["node2", "HA Web Service is running on node node2"]
    log1, log2 = helpers.failover_log("node1"), helpers.failover_log("node2")
    assert any("State changed to MASTER" in line for line in log1)
    assert not any("State changed to MASTER" in line for line in log2)
    assert any("State changed to BACKUP" in line for line in log2)


def test_unknown_host_key_is_refused(healthy_lab, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    import subprocess

    res = subprocess.run(
        ["ssh", "-i", str(helpers.LAB_DIR / "ssh" / "id_ed25519"), "-o", f"UserKnownHostsFile={empty}",
         "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
         f"root@{helpers.NODE_IP['node1']}", "true"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 255 and "Host key verification failed" in res.stderr


def test_password_login_is_refused(healthy_lab):
    import subprocess

    res = subprocess.run(
        ["ssh", "-o", "PubkeyAuthentication=no", "-o", f"UserKnownHostsFile={helpers.LAB_DIR / 'ssh/known_hosts'}",
         "-o", "BatchMode=yes", f"root@{helpers.NODE_IP['node1']}", "true"],
        capture_output=True, text=True, timeout=10)
    assert res.returncode == 255 and "Permission denied" in res.stderr


def test_lab_status_reports_both_nodes(healthy_lab):
    res = helpers.hatui_lab("status")
    assert res.returncode == 0, res.stderr
    assert "node1 (198.18.0.11)" in res.stdout and "node2 (198.18.0.12)" in res.stdout
    assert "VIP HELD" in res.stdout
    time.sleep(0)
