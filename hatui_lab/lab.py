"""The rehearsal lab: a real keepalived + MariaDB/Galera + (emulated) DRBD pair on one machine.

`up` is idempotent and prints what it started; `down` stops only what this lab started and removes
what it created, also after a crash, and nothing of another lab (other name, other namespaces, bridge,
veths, directory); `status` says what runs where.  Faults and heals live in faults.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from hatui_lab import procs, services, setupfiles
from hatui_lab.netplan import LabNetError, NetPlan, check_no_overlap, plan
from hatui_lab.node import BIND_MOUNTS, CREATED_DIRS, NodeError
from hatui_lab.settings import LabError, LabSettings, require_root, sh
from hatui_lab.state import LabState


def _links() -> set[str]:
    """Names of the host's interfaces (`ip -o link show`: "3: NAME@PEER: <...")."""
    names = set()
    for line in sh(["ip", "-o", "link", "show"], check=False).stdout.splitlines():
        parts = line.split(": ")
        if len(parts) > 1:
            names.add(parts[1].split("@")[0])
    return names


def _netns() -> set[str]:
    return {line.split(" ")[0] for line in sh(["ip", "netns", "list"], check=False).stdout.splitlines() if line}


class Lab(LabState):
    # ---- network ----------------------------------------------------------------------------
    def _net_up(self, netplan: NetPlan) -> list[str]:
        made = []
        bridge = netplan.bridge
        links = _links()
        if bridge not in links:
            sh(["ip", "link", "add", bridge, "type", "bridge"])
            made.append(f"bridge {bridge}")
        sh(["ip", "link", "set", bridge, "up"])
        addrs = sh(["ip", "-o", "-4", "addr", "show", "dev", bridge]).stdout
        cidr = f"{netplan.workstation_ip}/{netplan.prefixlen}"
        if cidr not in addrs:
            sh(["ip", "addr", "add", cidr, "dev", bridge])
            made.append(f"workstation address {cidr} on {bridge}")
        existing_ns = _netns()
        for node in netplan.nodes:
            if node.netns not in existing_ns:
                sh(["ip", "netns", "add", node.netns])
                made.append(f"netns {node.netns}")
            if node.veth_host not in links:
                sh(["ip", "link", "add", node.veth_host, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
                sh(["ip", "link", "set", node.veth_host, "master", bridge])
                made.append(f"veth {node.veth_host} <-> {node.netns}:eth0")
            sh(["ip", "link", "set", node.veth_host, "up"])
            ns = ["ip", "netns", "exec", node.netns]
            sh([*ns, "ip", "link", "set", "lo", "up"])
            ns_addrs = sh([*ns, "ip", "-o", "-4", "addr", "show", "dev", "eth0"]).stdout
            if f"{node.ip}/" not in ns_addrs:
                sh([*ns, "ip", "addr", "add", f"{node.ip}/{netplan.prefixlen}", "dev", "eth0"])
            sh([*ns, "ip", "link", "set", "eth0", "up"])
        return made

    def _net_down(self, netplan: NetPlan) -> list[str]:
        """Remove exactly this lab's namespaces, veths and bridge (never another lab's: names differ)."""
        removed = []
        for ns in sorted(_netns() & {n.netns for n in netplan.nodes}):
            sh(["ip", "netns", "delete", ns], check=False)
            removed.append(f"netns {ns}")
        links = _links()
        for veth in sorted(links & {n.veth_host for n in netplan.nodes}):
            sh(["ip", "link", "delete", veth], check=False)
            removed.append(f"veth {veth}")
        if netplan.bridge in links:
            sh(["ip", "link", "delete", netplan.bridge], check=False)
            removed.append(f"bridge {netplan.bridge}")
        return removed

    # ---- lifecycle ----------------------------------------------------------------------------
    def up(self, settings: LabSettings) -> float:
        require_root()
        t0 = time.monotonic()
        for _key, private in BIND_MOUNTS:
            if self.root.resolve().is_relative_to(private):
                raise LabError(f"--dir {self.root} is below {private}, which each node replaces with its own: "
                               "choose a directory the nodes share (default /var/lib/hatui-lab)")
        existing = self.settings()
        if existing is not None and existing.name != settings.name:
            raise LabError(f"{self.root} holds the lab {existing.name!r}, not {settings.name!r}: "
                           f"give each lab its own --dir (or leave --dir out: it follows --name)")
        if existing is not None and existing != settings and self.any_running():
            raise LabError(
                f"the lab already runs with {existing}; run `hatui lab down` first to change its settings"
            )
        netplan = plan(settings.subnet, settings.name)
        check_no_overlap(netplan)
        self.root.mkdir(parents=True, exist_ok=True)
        if existing is None or not (self.root / "nodes").exists():
            self.state_file.write_text(json.dumps({"settings": settings.__dict__, "auth_pass": secrets.token_hex(4)}))
        else:
            data = json.loads(self.state_file.read_text())
            data["settings"] = settings.__dict__
            self.state_file.write_text(json.dumps(data))
        for item in self._net_up(netplan):
            self.out(f"created {item}")
        setupfiles.prepare(self, netplan, settings)
        services.start_all(self, netplan)
        if settings.ssh_user:
            self._mysql_login(settings.ssh_user)
        elapsed = time.monotonic() - t0
        self.out(f"lab up in {elapsed:.1f} s ({settings.name}); VIP {netplan.vip}; config: {self.config_path()}")
        return elapsed

    def _mysql_login(self, user: str) -> None:
        """The SSH user logs in to MariaDB by unix_socket (no password), as `hatui init` says to do."""
        sql = f"CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED VIA unix_socket"
        for node in self.nodes():
            res = node.run(["mysql", "-e", sql], timeout_s=20)
            if res.returncode != 0:
                raise LabError(f"{node.name}: cannot create the MariaDB login {user}: {res.stderr.strip()}")
        self.out(f"MariaDB login {user}@localhost by unix_socket on both nodes; sudoers: /etc/sudoers.d/hatui")

    def down(self) -> None:
        require_root()
        stopped = 0
        netplan = self.netplan()  # from lab.json; without it, the plan of the name this LabState was given
        for node in self.nodes(netplan):
            # graceful first so MariaDB and keepalived shut down cleanly, then everything in the node
            for service in ("keepalived", "mariadb", "web", "sshd", "drbd"):
                if node.stop_service(service, graceful=True, timeout_s=15):
                    stopped += 1
            stopped += node.kill_all()
        pid_dir = self.pid_dir
        if pid_dir.exists():
            leftovers = [p for f in pid_dir.iterdir() if (p := procs.tracked_pid(f)) is not None]
            procs.terminate(leftovers, sig=9)
            stopped += len(leftovers)
        for item in self._net_down(netplan):
            self.out(f"removed {item}")
        others = _other_labs_netns(netplan)
        if others:
            self.out(f"kept the host's mount points: another lab runs ({', '.join(sorted(others))})")
        elif CREATED_DIRS.exists():
            for target in sorted(set(CREATED_DIRS.read_text().split()), reverse=True):
                try:
                    os.rmdir(target)  # only if still empty
                    self.out(f"removed empty mount point {target}")
                except OSError:
                    pass
            CREATED_DIRS.unlink(missing_ok=True)
        if self.root.exists():
            # keep the initialised MariaDB datadir template: it only speeds up the next `up`
            for child in self.root.iterdir():
                if child != self.cache_dir:
                    if child.is_dir():
                        _umount_below(child)
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
        self.out(f"lab {netplan.name} down: stopped {stopped} processes")


def _other_labs_netns(netplan: NetPlan) -> set[str]:
    """Namespaces of other labs still on this machine (NAME-node1/2 of another NAME)."""
    ours = {n.netns for n in netplan.nodes}
    return {ns for ns in _netns() - ours if ns.endswith(("-node1", "-node2"))}


def _umount_below(path: Path) -> None:
    """Unmount anything still mounted below `path` in this namespace (none expected: mounts are private)."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    for line in reversed(mounts):
        target = line.split()[1]
        if target.startswith(str(path) + "/"):
            subprocess.run(["umount", "-l", target], capture_output=True)


__all__ = ["Lab", "LabError", "LabNetError", "LabSettings", "NodeError", "require_root"]
