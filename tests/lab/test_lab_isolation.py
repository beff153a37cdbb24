"""Two labs side by side share nothing: the test lab comes up and goes down beside another lab (as it
would beside the operator's `make demo` lab) and the other lab's namespaces, bridge, processes,
mounts, VIP and Galera are untouched afterwards (issue 8 item 7: the suite used to reuse the demo
lab's namespaces and its teardown destroyed the demo lab)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hatui_lab import observe as helpers
from hatui_lab import procs, services
from hatui_lab.state import LabState

pytestmark = pytest.mark.lab


def footprint(lab: LabState) -> dict[str, object]:
    """What of `lab` exists on the host: namespaces, interfaces, tracked processes (pid → alive)."""
    net = lab.netplan()
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    pids = {f.name: procs.tracked_pid(f) for f in sorted(lab.pid_dir.glob("*"))}
    return {"netns": sorted(n.netns for n in net.nodes if n.netns in netns.split()),
            "links": sorted(x for x in net.host_names() - {n.netns for n in net.nodes} if f" {x}:" in links
                            or f" {x}@" in links),
            "pids": pids}


def test_the_test_lab_leaves_another_lab_untouched(lab_beside: Path):
    other = LabState(lab_beside)
    before = footprint(other)
    assert len(before["netns"]) == 2 and len(before["links"]) == 3, before
    assert all(before["pids"].values()) and len(before["pids"]) == 12, before  # 2 holders + 2 x 5 services
    # the test lab: its own everything, up while the other runs, then down
    up = helpers.hatui_lab("up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        mine = LabState(helpers.LAB_DIR)
        assert set(mine.netplan().host_names()).isdisjoint(other.netplan().host_names())
        n1 = mine.node("node1")
        assert services.galera_synced(n1, 2) and services.holds_vip(n1, mine.netplan().vip)
    finally:
        down = helpers.hatui_lab("down")
    assert down.returncode == 0, down.stderr
    assert "kept the host's mount points: another lab runs" in down.stdout
    assert footprint(other) == before  # same namespaces, interfaces and the very same processes
    o1, o2 = other.nodes()
    assert services.holds_vip(o1, other.netplan().vip) and not services.holds_vip(o2, other.netplan().vip)
    assert services.galera_synced(o1, 2) and services.galera_synced(o2, 2)
    assert o1.run(["mountpoint", "-q", "/mnt/drbd"]).returncode == 0  # its mount points were not pulled away
    assert "node1" in o1.run(["cat", "/var/www/html/index.html"]).stdout
