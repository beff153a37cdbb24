"""The rehearsal lab: a real keepalived + MariaDB/Galera + (emulated) DRBD pair on one machine.

`up` is idempotent and prints what it started; `down` stops only what the lab started and removes
what it created, also after a crash; `status` says what runs where.  Faults and heals live in
faults.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hatui_lab import procs
from hatui_lab.netplan import BRIDGE, DEFAULT_SUBNET, LabNetError, NetPlan, check_no_overlap, plan
from hatui_lab.node import Node, NodeError

DEFAULT_DIR = Path(os.environ.get("HATUI_LAB_DIR", "/var/lib/hatui-lab"))
DRBDEMU = Path(__file__).with_name("drbdemu.py")
DRBD_PORT = 7789


class LabError(RuntimeError):
    pass


@dataclass(frozen=True)
class LabSettings:
    subnet: str = DEFAULT_SUBNET
    drbd: str = "84"  # "84" | "9" | "real"
    checks: str = "seed"  # "seed" | "recommended"
    resync_rate_kib_s: int = 40960
    drbd_size_kib: int = 1048576


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("hatui lab needs root (it creates network namespaces and starts daemons): run it with sudo")


def sh(argv: list[str], check: bool = True, timeout_s: float = 30.0) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if check and res.returncode != 0:
        raise LabError(f"`{' '.join(argv)}` failed ({res.returncode}): {res.stderr.strip()}")
    return res


class Lab:
    def __init__(self, root: Path = DEFAULT_DIR, out: Callable[[str], None] = print) -> None:
        self.root = root
        self.out = out
        self.state_file = root / "lab.json"

    # ---- persisted settings ----------------------------------------------------------------
    def settings(self) -> LabSettings | None:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return LabSettings(**data["settings"])

    def netplan(self) -> NetPlan:
        settings = self.settings()
        return plan(settings.subnet if settings else DEFAULT_SUBNET)

    def nodes(self, netplan: NetPlan | None = None) -> list[Node]:
        netplan = netplan or self.netplan()
        return [Node(addr=a, root=self.root / "nodes" / a.name, pid_dir=self.root / "pids") for a in netplan.nodes]

    def node(self, name: str) -> Node:
        for node in self.nodes():
            if node.name == name:
                return node
        raise LabError(f"unknown node {name!r}: the lab has node1 and node2")

    def auth_pass(self) -> str:
        return json.loads(self.state_file.read_text())["auth_pass"]

    # ---- network ----------------------------------------------------------------------------
    def _net_up(self, netplan: NetPlan) -> list[str]:
        made = []
        links = sh(["ip", "-o", "link", "show"]).stdout
        if f": {BRIDGE}:" not in links:
            sh(["ip", "link", "add", BRIDGE, "type", "bridge"])
            made.append(f"bridge {BRIDGE}")
        sh(["ip", "link", "set", BRIDGE, "up"])
        addrs = sh(["ip", "-o", "-4", "addr", "show", "dev", BRIDGE]).stdout
        cidr = f"{netplan.workstation_ip}/{netplan.prefixlen}"
        if cidr not in addrs:
            sh(["ip", "addr", "add", cidr, "dev", BRIDGE])
            made.append(f"workstation address {cidr} on {BRIDGE}")
        existing_ns = sh(["ip", "netns", "list"]).stdout.split()
        for node in netplan.nodes:
            if node.netns not in existing_ns:
                sh(["ip", "netns", "add", node.netns])
                made.append(f"netns {node.netns}")
            if f": {node.veth_host}@" not in links:
                sh(["ip", "link", "add", node.veth_host, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
                sh(["ip", "link", "set", node.veth_host, "master", BRIDGE])
                made.append(f"veth {node.veth_host} <-> {node.netns}:eth0")
            sh(["ip", "link", "set", node.veth_host, "up"])
            ns = ["ip", "netns", "exec", node.netns]
            sh([*ns, "ip", "link", "set", "lo", "up"])
            ns_addrs = sh([*ns, "ip", "-o", "-4", "addr", "show", "dev", "eth0"]).stdout
            if f"{node.ip}/" not in ns_addrs:
                sh([*ns, "ip", "addr", "add", f"{node.ip}/{netplan.prefixlen}", "dev", "eth0"])
            sh([*ns, "ip", "link", "set", "eth0", "up"])
        return made

    def _net_down(self) -> list[str]:
        removed = []
        links = sh(["ip", "-o", "link", "show"], check=False).stdout
        for ns in sh(["ip", "netns", "list"], check=False).stdout.split("\n"):
            name = ns.split(" ")[0]
            if name.startswith("hatui-node"):
                sh(["ip", "netns", "delete", name], check=False)
                removed.append(f"netns {name}")
        for line in links.splitlines():
            parts = line.split(": ")
            if len(parts) > 1:
                ifname = parts[1].split("@")[0]
                if ifname.startswith("hatui-n"):
                    sh(["ip", "link", "delete", ifname], check=False)
                    removed.append(f"veth {ifname}")
        if f": {BRIDGE}:" in links:
            sh(["ip", "link", "delete", BRIDGE], check=False)
            removed.append(f"bridge {BRIDGE}")
        return removed

    # ---- files --------------------------------------------------------------------------------
    def _prepare_files(self, netplan: NetPlan, settings: LabSettings) -> None:
        from hatui_lab import setupfiles

        setupfiles.prepare(self, netplan, settings)

    # ---- lifecycle ----------------------------------------------------------------------------
    def up(self, settings: LabSettings) -> float:
        require_root()
        t0 = time.monotonic()
        from hatui_lab.node import BIND_MOUNTS

        for _key, private in BIND_MOUNTS:
            if self.root.resolve().is_relative_to(private):
                raise LabError(f"--dir {self.root} is below {private}, which each node replaces with its own: "
                               "choose a directory the nodes share (default /var/lib/hatui-lab)")
        existing = self.settings()
        if existing is not None and existing != settings and self.any_running():
            raise LabError(
                f"the lab already runs with {existing}; run `hatui lab down` first to change its settings"
            )
        netplan = plan(settings.subnet)
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
        self._prepare_files(netplan, settings)
        from hatui_lab import services

        services.start_all(self, netplan, settings)
        elapsed = time.monotonic() - t0
        self.out(f"lab up in {elapsed:.1f} s; VIP {netplan.vip}; config: {self.root / 'hatui-lab.yaml'}")
        return elapsed

    def any_running(self) -> bool:
        if not self.state_file.exists():
            return False
        return any(n.holder_pid() is not None for n in self.nodes())

    def down(self) -> None:
        require_root()
        stopped = 0
        nodes = self.nodes() if self.state_file.exists() else self.nodes(plan(DEFAULT_SUBNET))
        for node in nodes:
            # graceful first so MariaDB and keepalived shut down cleanly, then everything in the node
            for service in ("keepalived", "mariadb", "web", "sshd", "drbd"):
                if node.stop_service(service, graceful=True, timeout_s=15):
                    stopped += 1
            stopped += node.kill_all()
        pid_dir = self.root / "pids"
        if pid_dir.exists():
            leftovers = [p for f in pid_dir.iterdir() if (p := procs.tracked_pid(f)) is not None]
            procs.terminate(leftovers, sig=9)
            stopped += len(leftovers)
        for item in self._net_down():
            self.out(f"removed {item}")
        made = self.root / "created-dirs"
        if made.exists():
            for target in sorted(set(made.read_text().split()), reverse=True):
                try:
                    os.rmdir(target)  # only if still empty
                    self.out(f"removed empty mount point {target}")
                except OSError:
                    pass
        if self.root.exists():
            # keep the initialised MariaDB datadir template: it only speeds up the next `up`
            for child in self.root.iterdir():
                if child.name != "cache":
                    if child.is_dir():
                        _umount_below(child)
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
        self.out(f"lab down: stopped {stopped} processes")

    def config_path(self) -> Path:
        return self.root / "hatui-lab.yaml"


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
