"""`hatui lab status`: what runs where, read from the lab's own PID files and from inside each node."""

from __future__ import annotations

from hatui_lab import services
from hatui_lab.node import SERVICES, Node, NodeError
from hatui_lab.state import LabState


def node_facts(node: Node, vip: str) -> dict[str, object]:
    facts: dict[str, object] = {"node": node.name, "ip": node.addr.ip}
    holder = node.holder_pid()
    facts["powered"] = holder is not None
    facts["services"] = {s: node.service_pid(s) for s in SERVICES}
    if holder is None:
        return facts
    try:
        link = node.run(["ip", "-o", "link", "show", "dev", "eth0"], timeout_s=5).stdout
        facts["link"] = "up" if "LOWER_UP" in link else "down"
        facts["vip"] = services.holds_vip(node, vip)
        facts["drbd_role"] = node.run(["drbdadm", "role", "r0"], timeout_s=5).stdout.strip() or None
        facts["drbd_cstate"] = node.run(["drbdadm", "cstate", "r0"], timeout_s=5).stdout.strip() or None
        facts["drbd_dstate"] = node.run(["drbdadm", "dstate", "r0"], timeout_s=5).stdout.strip() or None
        facts["mounted"] = node.run(["mountpoint", "-q", "/mnt/drbd"], timeout_s=5).returncode == 0
        facts["galera"] = services.galera_status(node) if facts["services"]["mariadb"] else {}
    except (NodeError, OSError) as exc:
        facts["error"] = str(exc)
    return facts


def lab_status(lab: LabState) -> list[dict[str, object]]:
    netplan = lab.netplan()
    return [node_facts(n, netplan.vip) for n in lab.nodes(netplan)]


def render(lab: LabState, facts: list[dict[str, object]]) -> str:
    settings = lab.settings()
    netplan = lab.netplan()
    lines = [f"lab {netplan.name}: dir {lab.root}; bridge {netplan.bridge}; subnet {netplan.subnet}; "
             f"VIP {netplan.vip}; "
             f"DRBD {settings.drbd if settings else '?'}; checks {settings.checks if settings else '?'}; "
             f"notify {settings.notify if settings else '?'}"]
    for f in facts:
        if not f["powered"]:
            lines.append(f"{f['node']} ({f['ip']}): POWERED OFF")
            continue
        svc = f["services"]
        assert isinstance(svc, dict)
        running = " ".join(f"{s}:{pid}" if pid else f"{s}:DOWN" for s, pid in svc.items())
        lines.append(f"{f['node']} ({f['ip']}): link {f.get('link', '?')}  {running}")
        galera = f.get("galera") or {}
        assert isinstance(galera, dict)
        lines.append(
            f"    VIP {'HELD' if f.get('vip') else 'no'}; DRBD role {f.get('drbd_role')} cstate {f.get('drbd_cstate')} "
            f"dstate {f.get('drbd_dstate')} {'mounted' if f.get('mounted') else 'not mounted'}; "
            f"Galera {galera.get('wsrep_cluster_status', '-')} size {galera.get('wsrep_cluster_size', '-')} "
            f"{galera.get('wsrep_local_state_comment', '-')}"
        )
        if "error" in f:
            lines.append(f"    error: {f['error']}")
    return "\n".join(lines)
