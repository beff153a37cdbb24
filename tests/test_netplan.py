"""The lab's network plan and its safety checks (pure: no namespace is created here)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from hatui_lab.netplan import LabNetError, plan, routes_overlapping
from hatui_lab.settings import IFNAME_MAX, LabError, check_name, default_dir
from hatui_lab.state import LabState

ROUTES = """\
default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2
10.20.0.0/16 via 192.0.2.1 dev eth0
198.18.0.0/24 dev hatui-br0 proto kernel scope link src 198.18.0.1
local 192.0.2.2 dev eth0 table local proto kernel scope host src 192.0.2.2
"""


def test_default_plan():
    p = plan()
    assert str(p.subnet) == "198.18.0.0/24" and p.workstation_ip == "198.18.0.1" and p.vip == "198.18.0.100"
    assert [(n.name, n.ip, n.netns) for n in p.nodes] == [("node1", "198.18.0.11", "hatui-node1"),
                                                          ("node2", "198.18.0.12", "hatui-node2")]


@pytest.mark.parametrize("subnet, words", [
    ("192.0.2.0/24", "uplink"),
    ("192.0.0.0/16", "uplink"),
    ("198.18.0.0/28", "too small"),
    ("10.0.0.1/24", "not a network address"),
    ("fd00::/64", "IPv4"),
])
def test_refused_subnets(subnet, words):
    with pytest.raises(LabNetError, match=words):
        plan(subnet)


def test_overlap_ignores_default_route_and_the_labs_own_bridge():
    assert routes_overlapping(ipaddress.ip_network("198.18.0.0/24"), ROUTES, "hatui-br0") == []
    hits = routes_overlapping(ipaddress.ip_network("10.20.5.0/24"), ROUTES, "hatui-br0")
    assert hits == ["10.20.0.0/16 via 192.0.2.1 dev eth0"]
    other = "198.18.0.0/23 dev other0 scope link"
    assert routes_overlapping(ipaddress.ip_network("198.18.0.0/24"), other + "\n", "hatui-br0") == [other]


def test_another_labs_subnet_is_an_overlap():
    # the demo lab runs on hatui-br0: a test lab (own bridge hatuitest-br0) must not take its subnet
    assert routes_overlapping(ipaddress.ip_network("198.18.0.0/24"), ROUTES, "hatuitest-br0") == [
        "198.18.0.0/24 dev hatui-br0 proto kernel scope link src 198.18.0.1"]


def test_the_default_lab_keeps_the_names_make_demo_uses():
    p = plan()
    assert p.name == "hatui" and p.bridge == "hatui-br0"
    assert [n.veth_host for n in p.nodes] == ["hatui-n1", "hatui-n2"]
    assert default_dir() == Path("/var/lib/hatui-lab") or "HATUI_LAB_DIR" in os.environ


def _lab_plan(name: str, subnet: str) -> dict[str, set]:
    """Everything of a lab on the host that another lab could collide with."""
    net = plan(subnet, name)
    state = LabState(default_dir(name), name=name)
    return {"host names": net.host_names(),
            "dirs": {state.root, state.pid_dir, state.cache_dir, state.ssh_dir},
            "addresses": {ipaddress.ip_address(net.workstation_ip), ipaddress.ip_address(net.vip),
                          *(ipaddress.ip_address(n.ip) for n in net.nodes)},
            "subnet": {net.subnet}}


@pytest.mark.parametrize("other", [("hatuitest", "198.18.1.0/24"), ("a", "198.18.2.0/24"),
                                   ("hatui2", "198.18.3.0/25"), ("hatuinode1", "198.18.4.0/24")])
def test_two_labs_share_nothing(other):
    demo, test = _lab_plan("hatui", "198.18.0.0/24"), _lab_plan(*other)
    for what in ("host names", "dirs", "addresses"):
        assert not demo[what] & test[what], what
    (a,), (b,) = demo["subnet"], test["subnet"]
    assert not a.overlaps(b)
    for d in test["dirs"]:  # no directory of one lab inside the other's
        assert not any(d.is_relative_to(e) or e.is_relative_to(d) for e in demo["dirs"])


def test_every_interface_name_fits_linux_limit():
    longest = "a" * 11
    p = plan("198.18.1.0/24", longest)
    assert max(len(n) for n in p.host_names() if not n.endswith(("-node1", "-node2"))) == IFNAME_MAX


@pytest.mark.parametrize("name", ["", "a" * 12, "Hatui", "hatui-test", "1lab", "lab_1", "a b"])
def test_bad_lab_names_are_refused(name):
    with pytest.raises(LabError, match="lab name"):
        check_name(name)
    with pytest.raises(LabError, match="lab name"):
        plan("198.18.1.0/24", name)
