"""Addresses of the rehearsal lab and the safety checks made before any of them is created.

The lab lives in one subnet (default 198.18.0.0/24, RFC 2544 benchmarking space): the workstation side
(the root namespace, where hatui runs) is .1 on a bridge, node1 .11, node2 .12, the VIP .100.  Every
host-side name is made from the lab's name (settings.py): namespaces NAME-node1/2, bridge NAME-br0,
veths NAME-n1/2, so labs with different names and subnets share nothing.  Before
creating anything the lab reads `ip route` and refuses a subnet that overlaps any route it did not
create itself, and always refuses the machine's own uplink (192.0.2.0/24 here).
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from dataclasses import dataclass

from hatui_lab.settings import DEFAULT_NAME, DEFAULT_SUBNET, IFNAME_MAX, LabError, check_name

# The uplink of these machines: the lab must never assign or route an address in it.
FORBIDDEN_NETS = (ipaddress.ip_network("192.0.2.0/24"),)


class LabNetError(LabError):
    """The lab's network plan is unsafe or invalid; the message says why and what to do."""


@dataclass(frozen=True)
class NodeAddr:
    name: str
    netns: str
    veth_host: str
    ip: str


@dataclass(frozen=True)
class NetPlan:
    name: str  # the lab's name, the prefix of everything below
    bridge: str
    subnet: ipaddress.IPv4Network
    workstation_ip: str
    vip: str
    nodes: tuple[NodeAddr, ...]

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen

    def node(self, name: str) -> NodeAddr:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def host_names(self) -> set[str]:
        """Every name this plan makes on the host: namespaces and interfaces."""
        return {self.bridge} | {n.netns for n in self.nodes} | {n.veth_host for n in self.nodes}


def plan(subnet: str = DEFAULT_SUBNET, name: str = DEFAULT_NAME) -> NetPlan:
    try:
        net = ipaddress.ip_network(subnet, strict=True)
    except ValueError as exc:
        raise LabNetError(f"--subnet {subnet!r} is not a network address like 198.18.0.0/24: {exc}") from exc
    if not isinstance(net, ipaddress.IPv4Network):
        raise LabNetError(f"--subnet {subnet}: the lab needs an IPv4 subnet")
    if net.prefixlen > 25:
        raise LabNetError(f"--subnet {subnet}: too small, the lab needs host numbers up to .100 (use /25 or larger)")
    for bad in FORBIDDEN_NETS:
        if net.overlaps(bad):
            raise LabNetError(
                f"--subnet {subnet} overlaps {bad}, this machine's own uplink: using it would cut the machine off"
            )
    check_name(name)
    base = net.network_address
    nodes = tuple(
        NodeAddr(name=f"node{i}", netns=f"{name}-node{i}", veth_host=f"{name}-n{i}", ip=str(base + 10 + i))
        for i in (1, 2)
    )
    bridge = f"{name}-br0"
    assert all(len(n) <= IFNAME_MAX for n in (bridge, *(n.veth_host for n in nodes))), "check_name() bounds it"
    return NetPlan(name=name, bridge=bridge, subnet=net, workstation_ip=str(base + 1), vip=str(base + 100),
                   nodes=nodes)


_ROUTE_PREFIX = re.compile(r"^(?:(?:unicast|local|broadcast|blackhole|unreachable|prohibit|throw)\s+)?(\S+)")


def routes_overlapping(net: ipaddress.IPv4Network, route_text: str, own_dev: str) -> list[str]:
    """Lines of `ip route` output whose destination overlaps `net`, ignoring the lab's own bridge."""
    hits = []
    for line in route_text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _ROUTE_PREFIX.match(line)
        if not m:
            continue
        dest = m.group(1)
        if dest == "default":
            continue  # the default route overlaps everything; it is not a conflict
        try:
            dest_net = ipaddress.ip_network(dest, strict=False)
        except ValueError:
            continue
        if f" dev {own_dev}" in f" {line} " or line.endswith(f"dev {own_dev}"):
            continue
        if dest_net.version == 4 and dest_net.overlaps(net):
            hits.append(line)
    return hits


def check_no_overlap(netplan: NetPlan) -> None:
    out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise LabNetError(f"cannot read the routing table (`ip route`): {out.stderr.strip()}")
    clashes = routes_overlapping(netplan.subnet, out.stdout, own_dev=netplan.bridge)
    if clashes:
        raise LabNetError(
            f"subnet {netplan.subnet} overlaps routes already on this machine:\n  "
            + "\n  ".join(clashes)
            + "\nchoose another with --subnet (e.g. 198.18.1.0/24); another lab's subnet is taken too"
        )
