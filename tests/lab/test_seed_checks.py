"""The lab runs the seed's own check scripts (docs/lab.md: every difference from the seed), its
`systemctl` answers for the lab's mariadbd, and what each check set does on DRBD 9."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hatui_lab import nodefiles
from hatui_lab import observe as helpers
from hatui_lab.observe import check_statuses, effective_priorities, status_json, wait_until

pytestmark = pytest.mark.lab

SEED = Path(__file__).parents[1] / "fixtures" / "seed" / "node1"


def test_the_nodes_run_the_seeds_checks_and_systemctl_answers_for_mariadb(fresh_lab):
    for node in ("node1", "node2"):
        for name in ("check_mysql.sh", "check_galera.sh", "check_drbd.sh"):
            text = helpers.ssh(node, f"cat /etc/keepalived/{name}").stdout
            assert text == (SEED / name).read_text().replace("/proc/drbd", nodefiles.DRBD_PROC_FILE), (node, name)
    # keepalived runs chk_mysql (`systemctl is-active --quiet mariadb`) with the lab's systemctl: GOOD on both
    doc, _ = wait_until("priorities 100/70", status_json, lambda d: effective_priorities(d) == [100, 70],
                        timeout_s=20, interval_s=1)
    assert check_statuses(doc) == {"node1": {"chk_mysql": "GOOD", "chk_galera": "GOOD", "chk_drbd": "GOOD"},
                                   "node2": {"chk_mysql": "GOOD", "chk_galera": "GOOD", "chk_drbd": "BAD"}}
    res = helpers.ssh("node2", "systemctl is-active mariadb; echo rc=$?")
    assert res.stdout.split() == ["active", "rc=0"], res.stdout + res.stderr
    res = helpers.hatui_lab("fault", "stop-mariadb", "node2")
    assert res.returncode == 0, res.stderr
    res = helpers.ssh("node2", "systemctl is-active mariadb; echo rc=$?")
    assert res.stdout.split() == ["inactive", "rc=3"], res.stdout + res.stderr
    doc, _ = wait_until("node2's chk_mysql BAD", status_json,
                        lambda d: check_statuses(d).get("node2", {}).get("chk_mysql") == "BAD", timeout_s=15,
                        interval_s=1)
    assert effective_priorities(doc)[1] == 30  # every check down: 90 - 3 × 20
    refused = helpers.ssh("node2", "systemctl start mariadb")
    assert refused.returncode == 1 and "only 'systemctl is-active UNIT' is emulated" in refused.stderr


@pytest.mark.parametrize("fresh_lab", [("--drbd", "9"), ("--drbd", "9", "--checks", "recommended")], indirect=True)
def test_on_drbd_9(fresh_lab, request):
    """DRBD 9's /proc/drbd has its header only: the seed's chk_drbd (grep -A 2 cs:Connected) fails on both
    nodes whatever DRBD does; the recommended one (drbdadm dstate) works as on 8.4."""
    seed = "recommended" not in request.node.callspec.params["fresh_lab"]
    want = [80, 70] if seed else [100, 90]
    doc, _ = wait_until(f"priorities {want}", status_json, lambda d: effective_priorities(d) == want, timeout_s=30,
                        interval_s=1)
    drbd = {n: c["chk_drbd"] for n, c in check_statuses(doc).items()}
    assert drbd == ({"node1": "BAD", "node2": "BAD"} if seed else {"node1": "GOOD", "node2": "GOOD"})
    assert "cs:" not in helpers.ssh("node1", f"cat {nodefiles.DRBD_PROC_FILE}").stdout
    # the doctor names it where the check only greps /proc/drbd
    doctor = json.loads(helpers.hatui_cli("doctor", "--json").stdout)
    flagged = [h for h in doctor["hazards"] if h["code"] == "drbd-check-proc-drbd9"]
    assert len(flagged) == (1 if seed else 0), doctor["hazards"]
    if seed:
        assert flagged[0]["nodes"] == ["node1", "node2"]
