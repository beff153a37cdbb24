"""Fault injection (`hatui lab fault KIND NODE`) and repair (`hatui lab heal NODE`).

Each fault does what happens in production, nothing more: the lab does not "help" keepalived or
Galera react.  `heal` brings the node back the way an operator would.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from hatui_lab import procs, services
from hatui_lab.node import Node
from hatui_lab.settings import sh
from hatui_lab.state import LabState

# A fault: what it does to the node (and its peer).  Returns what to print, or None for the default
# "NODE: KIND — WHAT".  A new fault is one function below with @fault(name, what): nothing else to add
# (the CLI's choices and help, `inject` and the docs' list all read FAULTS).
FaultFn = Callable[[LabState, Node], "str | None"]
FAULTS: dict[str, str] = {}  # name -> what it does, in the order defined below
_INJECT: dict[str, FaultFn] = {}


class FaultError(RuntimeError):
    pass


def fault(name: str, what: str) -> Callable[[FaultFn], FaultFn]:
    def register(fn: FaultFn) -> FaultFn:
        FAULTS[name] = what
        _INJECT[name] = fn
        return fn

    return register


def inject(lab: LabState, kind: str, node_name: str) -> str:
    if kind not in FAULTS:
        raise FaultError(f"unknown fault {kind!r}; one of: {', '.join(FAULTS)}")
    node = lab.node(node_name)
    said = _INJECT[kind](lab, node)
    return said if said is not None else f"{node.name}: {kind} — {FAULTS[kind]}"


def _other(lab: LabState, node: Node) -> Node:
    return next(n for n in lab.nodes() if n.name != node.name)


def _link(lab: LabState, node: Node, up: bool) -> None:
    sh(["ip", "link", "set", node.addr.veth_host, "up" if up else "down"])
    if up:
        sh(["ip", "link", "set", node.addr.veth_host, "master", lab.netplan().bridge])


@fault("kill-mariadb", "SIGKILL mariadbd (a crash: the node leaves Galera without saying goodbye)")
def _kill_mariadb(lab: LabState, node: Node) -> None:
    if not node.stop_service("mariadb", graceful=False, timeout_s=30):
        raise FaultError(f"{node.name}: mariadbd is not running")


@fault("stop-mariadb", "stop mariadbd gracefully (SIGTERM; the node leaves Galera cleanly)")
def _stop_mariadb(lab: LabState, node: Node) -> None:
    if not node.stop_service("mariadb", graceful=True, timeout_s=30):
        raise FaultError(f"{node.name}: mariadbd is not running")


@fault("stop-keepalived", "stop keepalived (SIGTERM; it releases the VIP, its notify script gets STOP)")
def _stop_keepalived(lab: LabState, node: Node) -> None:
    if not node.stop_service("keepalived", graceful=True, timeout_s=10):
        raise FaultError(f"{node.name}: keepalived is not running")


@fault("cut-link", "take the node's network link down (it is cut off from its peer and the workstation)")
def _cut_link(lab: LabState, node: Node) -> None:
    _link(lab, node, up=False)


@fault("power-off", "every process of the node stops at once and its link goes down")
def _power_off(lab: LabState, node: Node) -> str:
    _link(lab, node, up=False)
    count = node.kill_all()
    return f"{node.name}: powered off ({count} processes killed, link down)"


@fault("drbd-disconnect", "drbdadm disconnect r0 on the node (replication stops, StandAlone)")
def _drbd_disconnect(lab: LabState, node: Node) -> None:
    res = node.run(["drbdadm", "disconnect", "r0"])
    if res.returncode != 0:
        raise FaultError(f"{node.name}: drbdadm disconnect failed: {res.stderr.strip()}")


@fault("split-brain", "both sides primary while disconnected, then reconnected: DRBD split brain")
def _split_brain(lab: LabState, node: Node) -> str:
    """Make `node` (normally the standby) primary while disconnected, write on both sides, reconnect."""
    other = _other(lab, node)
    for n in (node, other):
        n.run(["drbdadm", "disconnect", "r0"])
    res = node.run(["drbdadm", "primary", "r0"])
    if res.returncode != 0:
        raise FaultError(f"{node.name}: could not promote while disconnected: {res.stderr.strip()}")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    node.sh(f"mount /dev/drbd0 /mnt/drbd && echo 'written on {node.name} during split brain {stamp}' "
            f"> /mnt/drbd/split-brain-{node.name}.txt && umount /mnt/drbd")
    node.run(["drbdadm", "secondary", "r0"])
    other.sh(f"mountpoint -q /mnt/drbd && echo 'written on {other.name} during split brain {stamp}' "
             f"> /mnt/drbd/split-brain-{other.name}.txt")
    for n in (node, other):
        n.run(["drbdadm", "connect", "r0"])
    return (f"split brain: {node.name} was primary while disconnected from {other.name} (primary too); "
            "both wrote, then reconnected")


@fault("hang-sshd", "SIGSTOP the node's sshd (new SSH logins hang; the pair itself is untouched)")
def _hang_sshd(lab: LabState, node: Node) -> None:
    pid = node.service_pid("sshd")
    if pid is None:
        raise FaultError(f"{node.name}: sshd is not running")
    os.kill(pid, signal.SIGSTOP)


def _resume_sshd(node: Node, out) -> None:
    pid = node.service_pid("sshd")
    if pid is not None and procs.state(pid) == "T":
        os.kill(pid, signal.SIGCONT)
        out(f"{node.name}: sshd resumed")


def heal(lab: LabState, node_name: str) -> list[str]:
    node = lab.node(node_name)
    other = _other(lab, node)
    done: list[str] = []
    out = done.append
    _resume_sshd(node, out)
    _link(lab, node, up=True)
    services.start_base(node, lab.drbdemu_path(), out)
    _heal_drbd(node, other, out)
    if node.service_pid("mariadb") is None:
        peer_primary = other.service_pid("mariadb") is not None and services.galera_status(other).get(
            "wsrep_cluster_status") in ("Primary", "non-Primary")
        services.start_mariadb(node, bootstrap=not peer_primary, out=out)
        services.wait_for(f"{node.name} MariaDB Synced", lambda: services.galera_synced(node), 90)
        out(f"{node.name}: MariaDB back, Galera Synced")
    services.start_keepalived(node, out)
    return done


def _heal_drbd(node: Node, other: Node, out) -> None:
    """Reconnect DRBD; a split brain is resolved by discarding the healed node's changes."""
    cstate = node.run(["drbdadm", "cstate", "r0"]).stdout.strip()
    other_cstate = other.run(["drbdadm", "cstate", "r0"]).stdout.strip() if other.holder_pid() else ""
    if cstate == "StandAlone" and other_cstate == "StandAlone" and _was_split_brain(node):
        node.sh("mountpoint -q /mnt/drbd && umount /mnt/drbd; drbdadm secondary r0")
        node.run(["drbdadm", "connect", "--discard-my-data", "r0"])
        other.run(["drbdadm", "connect", "r0"])
        out(f"{node.name}: DRBD split brain resolved: {node.name} discarded its changes, resync from {other.name}")
    elif cstate == "StandAlone":
        node.run(["drbdadm", "connect", "r0"])
        out(f"{node.name}: DRBD reconnected")


def _was_split_brain(node: Node) -> bool:
    res = node.run(["drbdadm", "status", "r0"])
    return "StandAlone" in res.stdout
