"""One lab's state directory and what it records: its settings, its address plan, its nodes.

Below the modules that build and run the lab (setupfiles, services, faults, status, lab), which all
take a LabState; it knows nothing of them.  Everything of a lab on the host lives in its directory
or is named after the lab (netplan.plan), so a LabState speaks for one lab only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hatui_lab.netplan import NetPlan, plan
from hatui_lab.node import Node
from hatui_lab.settings import DEFAULT_NAME, DEFAULT_SUBNET, LabError, LabSettings


class LabState:
    def __init__(self, root: Path, out: Callable[[str], None] = print, name: str = DEFAULT_NAME) -> None:
        self.root = root
        self.out = out
        self.state_file = root / "lab.json"
        self._name = name  # until `up` has recorded one in lab.json

    # ---- persisted settings ----------------------------------------------------------------
    def settings(self) -> LabSettings | None:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return LabSettings(**data["settings"])

    @property
    def name(self) -> str:
        settings = self.settings()
        return settings.name if settings else self._name

    def netplan(self) -> NetPlan:
        settings = self.settings()
        return plan(settings.subnet, settings.name) if settings else plan(DEFAULT_SUBNET, self._name)

    def nodes(self, netplan: NetPlan | None = None) -> list[Node]:
        netplan = netplan or self.netplan()
        return [Node(addr=a, root=self.root / "nodes" / a.name, pid_dir=self.pid_dir) for a in netplan.nodes]

    def node(self, name: str) -> Node:
        for node in self.nodes():
            if node.name == name:
                return node
        raise LabError(f"unknown node {name!r}: the lab has node1 and node2")

    def auth_pass(self) -> str:
        return json.loads(self.state_file.read_text())["auth_pass"]

    # ---- the directory's layout -------------------------------------------------------------
    @property
    def pid_dir(self) -> Path:
        return self.root / "pids"

    @property
    def cache_dir(self) -> Path:
        """Kept by `down`: only speeds up the next `up` (the initialised MariaDB datadir)."""
        return self.root / "cache"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    def drbdemu_path(self) -> Path:
        """The emulator as the nodes see it: a copy in the lab directory, because the checkout may sit
        below a path the nodes do not share (their /tmp, /run and /var/log are their own)."""
        return self.root / "bin" / "drbdemu.pyz"

    def config_path(self) -> Path:
        return self.root / "hatui-lab.yaml"

    def any_running(self) -> bool:
        if not self.state_file.exists():
            return False
        return any(n.holder_pid() is not None for n in self.nodes())
