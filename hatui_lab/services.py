"""Starting each node's services in the order a real pair comes up, and waiting until each is ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hatui_lab.netplan import NetPlan
from hatui_lab.node import Node, NodeError, node_python
from hatui_lab.state import LabState


class WaitTimeout(NodeError):
    pass


def wait_for(what: str, test: Callable[[], bool], timeout_s: float, interval_s: float = 0.2) -> float:
    t0 = time.monotonic()
    while True:
        try:
            if test():
                return time.monotonic() - t0
        except NodeError:
            pass
        if time.monotonic() - t0 > timeout_s:
            raise WaitTimeout(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def galera_status(node: Node) -> dict[str, str]:
    res = node.run(["mysql", "--connect-timeout=2", "-N", "-B", "-e",
                    "SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('wsrep_local_state_comment','wsrep_cluster_status','wsrep_cluster_size','wsrep_ready',"
                    "'wsrep_last_committed')"], timeout_s=10)
    if res.returncode != 0:
        return {}
    return dict(line.split("\t", 1) for line in res.stdout.splitlines() if "\t" in line)


def galera_synced(node: Node, size: int | None = None) -> bool:
    st = galera_status(node)
    ok = st.get("wsrep_local_state_comment") == "Synced" and st.get("wsrep_cluster_status") == "Primary"
    return ok and (size is None or st.get("wsrep_cluster_size") == str(size))


def holds_vip(node: Node, vip: str) -> bool:
    res = node.run(["ip", "-o", "-4", "addr", "show", "dev", "eth0"], timeout_s=5)
    return f" {vip}/" in res.stdout


def start_base(node: Node, drbdemu: Path, out: Callable[[str], None]) -> None:
    """Boot the node and start what runs before the database: DRBD (the emulator at `drbdemu`), sshd, web."""
    if node.boot():
        out(f"{node.name}: booted (netns {node.addr.netns}, private mounts, hostname {node.name})")
    py = node_python()
    for service, argv in (
        ("drbd", [py, str(drbdemu), "kernel"]),
        ("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", str(node.root / "sshd_config")]),
        ("web", [py, "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", "/var/www/html"]),
    ):
        env_argv = argv if service != "drbd" else ["env", f"DRBDEMU_CONF={node.root / 'drbdemu.json'}", *argv]
        pid, started = node.start_service(service, env_argv)
        if started:
            out(f"{node.name}: started {service} (pid {pid})")


def start_mariadb(node: Node, bootstrap: bool, out: Callable[[str], None]) -> bool:
    argv = ["/usr/sbin/mariadbd", "--user=mysql"]
    if bootstrap:
        argv.append("--wsrep-new-cluster")
    pid, started = node.start_service("mariadb", argv)
    if started:
        out(f"{node.name}: started mariadbd{' (bootstrapping the cluster)' if bootstrap else ''} (pid {pid})")
    return started


def start_keepalived(node: Node, out: Callable[[str], None]) -> None:
    pid, started = node.start_service(
        "keepalived", ["/usr/sbin/keepalived", "--dont-fork", "--log-console", "--log-detail",
                       "--use-file=/etc/keepalived/keepalived.conf"]
    )
    if started:
        out(f"{node.name}: started keepalived (pid {pid})")


def start_all(lab: LabState, netplan: NetPlan) -> None:
    out = lab.out
    node1, node2 = lab.nodes(netplan)
    for node in (node1, node2):
        start_base(node, lab.drbdemu_path(), out)
    # Galera: node1 bootstraps unless a Primary component already runs somewhere.
    running = [n for n in (node1, node2) if n.service_pid("mariadb") is not None]
    if not running:
        start_mariadb(node1, bootstrap=True, out=out)
        t = wait_for("node1 MariaDB to bootstrap (Synced)", lambda: galera_synced(node1), 60)
        out(f"node1: Galera Primary, Synced after {t:.1f} s")
    # keepalived on node1 as soon as its database is up, while node2 joins (its SST takes seconds):
    # node1 takes the VIP (and with it DRBD primary) before node2's keepalived listens
    fresh_pair = node1.service_pid("keepalived") is None and node2.service_pid("keepalived") is None
    if fresh_pair and galera_synced(node1):
        start_keepalived(node1, out)
    for node in (node1, node2):
        if node.service_pid("mariadb") is None:
            start_mariadb(node, bootstrap=False, out=out)
    t = wait_for("both MariaDB nodes Synced in a cluster of 2",
                 lambda: galera_synced(node1, 2) and galera_synced(node2, 2), 90)
    out(f"Galera: size 2, both Synced (waited {t:.1f} s)")
    start_keepalived(node1, out)
    if fresh_pair:
        t = wait_for(f"the VIP {netplan.vip} on node1", lambda: holds_vip(node1, netplan.vip), 20, 0.1)
        out(f"node1: holds the VIP {netplan.vip} ({t:.1f} s more)")
        settings = lab.settings()
        if settings is not None and settings.notify == "seed":
            # the seed's notify script promotes nothing: its set-up (section 2) does it once by hand
            node1.run(["drbdadm", "primary", "r0"], check=True)
            node1.run(["mount", "/dev/drbd0", "/mnt/drbd"], check=True)
            out("node1: DRBD primary and /mnt/drbd mounted by hand, as the seed's set-up does (`drbdadm primary "
                "r0`, `mount /dev/drbd0 /mnt/drbd`): its notify script never will")
    start_keepalived(node2, out)
