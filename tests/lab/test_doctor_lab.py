"""`hatui doctor` on the running lab: the seed variant's hazards, what `--checks recommended` fixes,
and what the seed's own notify script (`--notify seed`) adds.  Real SSH, real drbdadm (the emulator's
dump-xml), real my_print_defaults and mysql on the nodes."""

from __future__ import annotations

import json

import pytest

from hatui_lab import observe as helpers
from hatui_lab.observe import outcome, wait_until

pytestmark = pytest.mark.lab

# what the lab's seed variant has in common with the seed (tests/test_doctor.py: SEED_HAZARDS), with
# the lab's promoting notify script: it handles MASTER, BACKUP and FAULT and holds no token; the lab
# adds the maintenance hook (so preempt-after-heal mentions it)
LAB_SEED = {"role-dependent-check", "notify-no-stop", "galera-two-node", "vrrp-auth-pass", "drbd-policies",
            "preempt-after-heal", "galera-check-non-primary"}


def doctor() -> dict:
    res = helpers.hatui_cli("doctor", "--json")
    doc = json.loads(res.stdout)
    assert res.returncode == doc["exit"], res.stderr
    assert all(n["read"] for n in doc["nodes"]), doc["nodes"]
    return doc


def healthy(o) -> bool:
    return o.vip == ("node1",) and o.galera_of("node2") == "Primary/Synced"


@pytest.mark.parametrize("fresh_lab", [("--checks", "seed"), ("--checks", "recommended"),
                                       ("--notify", "seed")], indirect=True)
def test_doctor_on_the_lab(fresh_lab, request):
    wait_until("a healthy pair", outcome, healthy, 60)
    doc = doctor()
    found = {h["code"] for h in doc["hazards"]}
    variant = request.node.callspec.params["fresh_lab"]
    if variant == ("--checks", "seed"):
        assert found == LAB_SEED, doc["hazards"]
        assert doc["exit"] == 1
    elif variant == ("--checks", "recommended"):
        assert found == LAB_SEED - {"role-dependent-check", "galera-check-non-primary"}, doc["hazards"]
        pre = next(h for h in doc["hazards"] if h["code"] == "preempt-after-heal")
        assert "node1 takes the VIP back" in pre["title"]
    else:
        assert found == LAB_SEED | {"notify-no-promote", "notify-no-fault", "script-secret"}, doc["hazards"]
        assert doc["exit"] == 2
        secret = next(h for h in doc["hazards"] if h["code"] == "script-secret")
        assert secret["where"][0].endswith("/etc/keepalived/notify.sh:7")
        assert "LAB-made-up-token" not in json.dumps(doc)
    assert helpers.LAB_DIR.exists()
    assert not any("secret" in h["title"] and "auth_pass" in h["why"] for h in doc["hazards"])
