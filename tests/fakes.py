"""Scripted fake nodes and a fake collector for the executor, the lock and the TUI's lock commands.

Each fake node is a directory: the lock and audit paths in the commands are rewritten into it and the
commands run in a local bash, so the lock's shell (mkdir, compare-and-remove, heartbeat) really runs.
Plan commands that would need the cluster (drbdadm, mysql) are answered by a per-test hook.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from hatui.actions import executor as ex
from hatui.transport import CommandResult, TransportError
from tests.recordings import recording

MAINT = "/etc/keepalived/maintenance"


class FakeNode:
    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.down = False
        self.hook = None  # (node, command) -> CommandResult | None (None: run it)
        self.commands: list[str] = []

    def local(self, command: str) -> str:
        return (command.replace(ex.LOCK_DIR, str(self.root / "lock"))
                .replace(ex.NODE_AUDIT, str(self.root / "audit.log")).replace(MAINT, str(self.root / "maintenance")))

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    def audit(self) -> list[dict]:
        p = self.root / "audit.log"
        return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []

    async def connect(self) -> None:
        if self.down:
            raise TransportError(f"{self.name} (198.18.0.1x:22): cannot connect: timed out")

    async def exec(self, command: str, timeout_s: float | None = None) -> CommandResult:
        self.commands.append(command)
        await self.connect()
        if self.hook is not None and (res := self.hook(self, command)) is not None:
            if isinstance(res, BaseException):
                raise res
            return res
        proc = await asyncio.create_subprocess_exec("bash", "-c", self.local(command), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout_s or 5)
        except TimeoutError:
            # like SSH: the client gives up, the command goes on running on the node
            raise TransportError(f"{self.name}: `{command}` did not finish within {timeout_s:.0f} s") from None
        return CommandResult(proc.returncode, out.decode())

    async def run(self, command: str, timeout_s: float | None = None) -> CommandResult:
        return await self.exec(command, timeout_s)

    def spawn(self, command: str) -> None:
        """Start `command` on the node and lose the session (the answer never comes)."""
        import subprocess
        subprocess.Popen(["bash", "-c", self.local(command)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class FakeCollector:
    def __init__(self, root: Path, snap=None) -> None:
        self.transports = {n: FakeNode(n, root) for n in ("node1", "node2")}
        self.snap = snap or (lambda: recording("healthy"))
        self.snapshots = 0
        self.log: list[str] = []  # snapshot / exec order, for "read before undo"

    async def fresh(self):
        self.snapshots += 1
        self.log.append("snapshot")
        return self.snap()

    async def close(self) -> None:
        pass


def records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def take_lock(node: FakeNode, owner: str, age_s: float = 0) -> None:
    node.lock.mkdir()
    (node.lock / "owner").write_text(owner + "\n")
    (node.lock / "heartbeat").touch()
    t = time.time() - age_s
    os.utime(node.lock / "heartbeat", (t, t))
    os.utime(node.lock, (t, t))
