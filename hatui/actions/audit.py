"""The audit: every event of an action as one JSON line, locally and on each node.

A failed write never stops the action or its undo: it is said through the progress output (once per
copy until that copy works again).  A node that does not answer keeps its missing records in memory; they
are sent with the next record it accepts.  While it is down it is retried at most every RETRY_DOWN_S,
and always for the `end` record.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import socket
import time
from collections.abc import Callable
from pathlib import Path

from hatui.actions.commands import NODE_AUDIT, audit_append
from hatui.collector import Collector
from hatui.privilege import root_of
from hatui.transport import TransportError

LOCAL_AUDIT = Path(os.environ.get("XDG_STATE_HOME", "~/.local/state")).expanduser() / "hatui" / "audit.log"
RETRY_DOWN_S = 30.0
AUDIT_TIMEOUT_S = 5.0


def os_user() -> str:
    """Who runs hatui, from the OS (the real uid), not from $USER/$LOGNAME as getpass.getuser() reads them:
    the audit record and the lock owner must not be whatever the environment claims."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def append_private(path: Path, line: str) -> None:
    """Append to a file that only this user can read (0600) in a directory only this user can enter (0700):
    the audit log names commands, nodes and outputs."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)  # an older hatui (or mkdir -p) made it 0755
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


class Audit:
    def __init__(self, collector: Collector, action: str, target: str | None,
                 progress: Callable[[str], None] = lambda m: None, on_nodes: bool = True) -> None:
        """on_nodes=False: the local copy only (read-only mode writes nothing on the nodes)."""
        self.collector = collector
        self.progress = progress
        self.base = {"user": os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                     "action": action, "target": target, "id": f"{int(time.time())}-{os.getpid()}"}
        self.pending: dict[str, list[str]] = {n: [] for n in collector.transports} if on_nodes else {}
        self._down_at: dict[str, float] = {}
        self._reported: set[str] = set()
        self.failures: list[str] = []  # every failed write, in order

    def _fail(self, key: str, message: str) -> None:
        self.failures.append(message)
        if key not in self._reported:
            self._reported.add(key)
            self.progress(f"AUDIT: {message}")

    async def write(self, event: str, **fields: object) -> bool:
        """Record `event` everywhere; True when every copy was written.  Never raises."""
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **self.base, "event": event, **fields}
        line = json.dumps(record, default=str)
        ok = self._local(line)
        for lines in self.pending.values():
            lines.append(line)
        remote = await asyncio.gather(*(self._remote(n, force=event == "end") for n in self.pending))
        return ok and all(remote)

    def _local(self, line: str) -> bool:
        path = LOCAL_AUDIT
        try:
            append_private(path, line)
        except OSError as exc:
            self._fail("local", f"the local copy {path} was not written: {exc}")
            return False
        self._reported.discard("local")
        return True

    async def _remote(self, name: str, force: bool) -> bool:
        down_at = self._down_at.get(name)
        if not force and down_at is not None and time.monotonic() - down_at < RETRY_DOWN_S:
            return False
        lines = self.pending[name]
        transport = self.collector.transports[name]
        cmd = audit_append(root_of(getattr(transport, "node", None)), lines)
        try:
            res = await transport.exec(cmd, timeout_s=AUDIT_TIMEOUT_S)
        except TransportError as exc:
            self._down_at[name] = time.monotonic()
            self._fail(f"{name}-down", f"{name} does not answer ({exc}): its {NODE_AUDIT} misses records "
                                       "from here on (sent when it answers again)")
            return False
        if not res.ok:
            # kept pending: a duplicate record is better than a lost one
            self._fail(f"{name}-exit", f"{name} did not write {NODE_AUDIT}: exit status {res.exit_status}: "
                                       f"{res.output.strip()[-200:]}")
            return False
        self.pending[name] = []
        self._down_at.pop(name, None)
        self._reported.discard(f"{name}-down")
        self._reported.discard(f"{name}-exit")
        return True
