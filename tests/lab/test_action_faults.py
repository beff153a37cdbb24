"""A fault during a guided action never leaves the pair worse: a representative subset of the matrix that
benchmarks/action_faults.py runs whole (every fault once, every plan at least once).

Each case starts from the lab's baseline (kept when the previous case left it healthy, else the lab is
taken down and up again: ~10 s), runs the real CLI, injects the fault when the step is over, and judges
the result from inside the nodes (hatui_lab/actionfaults.py): the end state named is the real one, never
two VIP holders or DRBD primaries, the VIP holder has its mount, no lock left unreported, the audit has
the run's start and end on every reachable node.
"""

from __future__ import annotations

import pytest

from hatui_lab import actionfaults as af

pytestmark = pytest.mark.lab

CASES = [  # (plan, after step, fault)
    ("switchover", 1, "ssh-drop"),
    ("switchover", 2, "power-off"),
    ("switch back", 1, "abort"),
    ("DRBD resync", 1, "quit"),
    ("split-brain recovery", 1, "audit-fail"),
    ("Galera bootstrap", 1, "sshd-hang"),
]


def test_the_subset_covers_every_plan_and_every_fault():
    assert {c[0] for c in CASES} == {p.name for p in af.PLANS}
    assert {c[2] for c in CASES} == set(af.FAULTS)


@pytest.mark.parametrize(("plan", "step", "fault"), CASES, ids=[f"{p}-{s}-{f}".replace(" ", "_") for p, s, f in CASES])
def test_a_fault_after_a_step_leaves_a_named_safe_state(healthy_lab, plan, step, fault):
    res = af.run_case(af.plan_case(plan), step, fault)
    assert res.safe, f"{res.problems}\ninjected: {res.injected}\n{res.output[-4000:]}"
    assert res.injected.startswith(f"after step {step}"), f"the fault was never injected\n{res.output[-3000:]}"


def test_switch_back_at_once_succeeds(healthy_lab):
    """S1: `switchover --to node2` then at once `switchover --to node1`: both OK (no wait in between)."""
    state = af.lab()
    af.fresh_lab(state)
    first = af.hatui("switchover", "--to", "node2", "--yes")
    assert first.returncode == 0, first.stdout[-3000:]
    back = af.hatui("switchover", "--to", "node1", "--yes")
    assert back.returncode == 0, back.stdout[-3000:]
    assert "OK after" in back.stdout and "VIP on node1, DRBD primary node1, /mnt/drbd mounted on node1" in back.stdout
    f = af.read_all(state)
    assert f["node1"].vip and f["node1"].mounted and not f["node2"].vip and f["node2"].role == "Secondary"
