"""The healthy pair, checked from the workstation side over real SSH and HTTP."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import outcome

pytestmark = pytest.mark.lab


def test_up_is_fast_and_idempotent(healthy_lab):
    assert "lab up in" in healthy_lab.stdout
    again = helpers.hatui_lab("up")
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

    res = subprocess.run(
        ["ssh", "-i", str(helpers.LAB_DIR / "ssh" / "id_ed25519"), "-o", f"UserKnownHostsFile={empty}",
         "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
         f"root@{helpers.NODE_IP['node1']}", "true"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 255 and "Host key verification failed" in res.stderr


def test_password_login_is_refused(healthy_lab):

    res = subprocess.run(
        ["ssh", "-o", "PubkeyAuthentication=no", "-o", f"UserKnownHostsFile={helpers.LAB_DIR / 'ssh/known_hosts'}",
         "-o", "BatchMode=yes", f"root@{helpers.NODE_IP['node1']}", "true"],
        capture_output=True, text=True, timeout=10)
    assert res.returncode == 255 and "Permission denied" in res.stderr


def test_lab_status_reports_both_nodes(healthy_lab):
    res = helpers.hatui_lab("status")
    assert res.returncode == 0, res.stderr
    assert f"node1 ({helpers.NODE_IP['node1']})" in res.stdout and f"node2 ({helpers.NODE_IP['node2']})" in res.stdout
    assert "VIP HELD" in res.stdout
    time.sleep(0)


# ---- read-only checks of the monitor and the actions, on the same healthy lab ----
def test_status_json_and_check_on_the_healthy_pair(healthy_lab):
    # right after `lab up` node1's chk_drbd may not have run since its promotion (interval 3 s): wait for
    # the steady state rather than catch the 80 of that moment
    deadline = time.monotonic() + 12
    while True:
        res = helpers.hatui_cli("status", "--json")
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        if helpers.effective_priorities(doc) == [100, 70] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert doc["schema"] == 2
    import jsonschema  # the live output too keeps to docs/status.schema.json (tests/test_status_schema.py)

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "status.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["summary"]["vip_holders"] == ["node1"] and doc["summary"]["drbd_primaries"] == ["node1"]
    assert doc["summary"]["web_node"] == "node1"
    nodes = {n["node"]: n for n in doc["nodes"]}
    for name in ("node1", "node2"):
        assert nodes[name]["reachable"] and nodes[name]["galera"]["cluster_size"] == 2
        assert nodes[name]["galera"]["local_state_comment"] == "Synced"
    vrrp1 = nodes["node1"]["vrrp"][0]
    assert vrrp1["state"] == "MASTER" and vrrp1["base_priority"] == 100 and vrrp1["effective_priority"] == 100
    vrrp2 = nodes["node2"]["vrrp"][0]
    assert vrrp2["effective_priority"] == 70  # the seed's chk_drbd fails on the healthy standby
    assert "auth_pass" not in res.stdout and "auth_data" not in res.stdout
    lab_pass = json.loads((helpers.LAB_DIR / "lab.json").read_text())["auth_pass"]
    assert lab_pass not in res.stdout
    found = {f["code"] for f in doc["findings"]}
    assert "standby-penalised" in found and not any(f["severity"] == "critical" for f in doc["findings"])
    check = helpers.hatui_cli("check")
    assert check.returncode == 1 and check.stdout.startswith("HATUI WARNING"), check.stdout  # the penalty
    text = helpers.hatui_cli("status")
    assert f"VIP {helpers.VIP} on node1" in text.stdout


def test_unknown_or_changed_host_key_is_refused(healthy_lab, tmp_path):
    # node1's entry carries node2's key (a "changed" key); node2 has no entry at all (unknown)
    known = (helpers.LAB_DIR / "ssh" / "known_hosts").read_text().splitlines()
    key2 = known[1].split(" ", 1)[1]
    bad = tmp_path / "known_hosts"
    bad.write_text(f"{helpers.NODE_IP['node1']} {key2}\n")
    cfg_text = (helpers.LAB_DIR / "hatui-lab.yaml").read_text().replace(str(helpers.LAB_DIR / "ssh" / "known_hosts"),
                                                                         str(bad))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(cfg_text)
    res = helpers.hatui_cli("status", "--json", config=cfg, timeout_s=60)
    doc = json.loads(res.stdout)
    for node in doc["nodes"]:
        assert not node["reachable"]
        assert "host key not verified" in node["error"], node["error"]


def test_node_reached_through_a_jump_host(healthy_lab, tmp_path):
    """node2 polled through node1 (asyncssh tunnel), host keys checked on both hops."""
    text = (helpers.LAB_DIR / "hatui-lab.yaml").read_text()
    n1, n2 = helpers.NODE_IP["node1"], helpers.NODE_IP["node2"]
    text = text.replace(f"    host: {n2}\n", f"    host: {n2}\n    jump_host: root@{n1}:22\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    res = helpers.hatui_cli("status", "--json", config=cfg, timeout_s=60)
    doc = json.loads(res.stdout)
    node2 = next(n for n in doc["nodes"] if n["node"] == "node2")
    assert node2["reachable"], node2["error"]
    assert node2["galera"]["cluster_size"] == 2



def test_dry_run_changes_nothing(healthy_lab):
    before, maint = outcome(), helpers.maintenance_values()
    res = helpers.hatui_cli("switchover", "--to", "node2", "--dry-run")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[PASS] node1 holds the VIP" in res.stdout
    assert "printf '%s\\n' -40 > /etc/keepalived/maintenance" in res.stdout
    time.sleep(4)  # more than a check interval: anything that changed would show
    assert outcome() == before and helpers.maintenance_values() == maint
    audit = helpers.ssh("node1", "cat /var/log/hatui-audit.log 2>/dev/null").stdout
    assert audit == ""


def test_read_only_refuses(healthy_lab):
    res = helpers.hatui_cli("--read-only", "switchover", "--to", "node2", "--yes")
    assert res.returncode == 2 and "read-only" in res.stderr
    assert outcome().vip == ("node1",)
