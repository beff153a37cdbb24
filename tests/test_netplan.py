"""The lab's network plan and its safety checks (pure: no namespace is created here)."""

from __future__ import annotations

import ipaddress

import pytest

from hatui_lab.netplan import LabNetError, plan, routes_overlapping

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
    assert routes_overlapping(ipaddress.ip_network("198.18.0.0/24"), ROUTES) == []
    hits = routes_overlapping(ipaddress.ip_network("10.20.5.0/24"), ROUTES)
    assert hits == ["10.20.0.0/16 via 192.0.2.1 dev eth0"]
    assert routes_overlapping(ipaddress.ip_network("198.18.0.0/24"),
                              "198.18.0.0/23 dev other0 scope link\n") == ["198.18.0.0/23 dev other0 scope link"]
