"""The cluster-wide action lock: a directory on every node, its owner inside, a heartbeat its owner refreshes.

`mkdir` is atomic, so two operators cannot both take it on a node.  While the plan runs the owner touches
`heartbeat` every REFRESH_S; a lock whose heartbeat is older than STALE_AFTER_S (by the node's own clock)
has lost its owner — whatever the plan waits for (a 30-minute resync keeps refreshing it).
Every command here is one shell command per node, so a check and its change cannot be split by a
second operator's command (`lock break` removes the lock only while its owner is still the one shown).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hatui.actions import commands
from hatui.actions.commands import LOCK_DIR
from hatui.actions.audit import Audit, os_user
from hatui.collector import Collector
from hatui.privilege import AS_ROOT, Root, root_of
from hatui.transport import TransportError


def _root(transport: object) -> Root:
    """The privilege of the node a transport reaches (a test's fake transport: root)."""
    return root_of(getattr(transport, "node", None))


REFRESH_S = 10.0  # how often a running owner touches its heartbeat
STALE_AFTER_REFRESHES = 6
LOCK_COMMAND_TIMEOUT_S = 5.0


class ActionRefused(RuntimeError):
    pass


def stale_after_s() -> float:
    return REFRESH_S * STALE_AFTER_REFRESHES


@dataclass(frozen=True)
class LockInfo:
    owner: str  # "" for a lock directory without an owner file (its owner died between mkdir and write)
    age_s: int | None  # seconds since the heartbeat was refreshed, by the node's clock; None: unknown

    @property
    def stale(self) -> bool:
        return self.age_s is not None and self.age_s > stale_after_s()

    def describe(self) -> str:
        who = self.owner or "a lock without owner"
        if self.age_s is None:
            return f"{who} (heartbeat age unknown)"
        if self.stale:
            return (f"{who} — STALE: not refreshed for {self.age_s} s (a running owner refreshes it every "
                    f"{REFRESH_S:g} s; {stale_after_s():g} s without a refresh means it is gone): "
                    "`hatui lock break` after checking that no hatui runs there")
        return f"{who}, refreshed {self.age_s} s ago"


def parse_lock(output: str) -> LockInfo | None:
    """The answer of READ (below): None when there is no lock.  Never raises."""
    lines = output.splitlines()
    if "@@held" not in lines:
        return None
    owner, age = "", None
    for line in lines:
        if line.startswith("@@owner "):
            owner = line[len("@@owner "):].strip()
        elif line.startswith("@@age ") and line[len("@@age "):].strip().lstrip("-").isdigit():
            age = int(line[len("@@age "):].strip())
    return LockInfo(owner, age)


def _d() -> str:
    return shlex.quote(LOCK_DIR)


def read_command() -> str:
    d = _d()
    # the heartbeat's mtime; the directory's for a lock taken by an older hatui (no heartbeat file)
    return (f"if [ -d {d} ]; then echo @@held; printf '@@owner %s\\n' \"$(cat {d}/owner 2>/dev/null)\"; "
            f"a=$(stat -c %Y {d}/heartbeat 2>/dev/null || stat -c %Y {d} 2>/dev/null) && "
            f"echo \"@@age $(( $(date +%s) - a ))\"; fi")


def acquire_command(token: str, root: Root = AS_ROOT) -> str:
    d = _d()
    return (f"if {commands.lock_mkdir(root)} 2>/dev/null; then "
            f"if {commands.lock_owner_write(root, token)} && {commands.lock_touch(root)}; then echo @@acquired; "
            f"else {commands.lock_remove(root)}; echo '@@error cannot write the owner file'; exit 4; fi; "
            f"elif [ -d {d} ]; then {read_command()}; exit 3; "
            f"else echo '@@error cannot create {LOCK_DIR}'; exit 4; fi")


def heartbeat_command(token: str, root: Root = AS_ROOT) -> str:
    d = _d()
    return f"grep -qxF {shlex.quote(token)} {d}/owner 2>/dev/null && {commands.lock_touch(root)}"


def release_command(token: str, root: Root = AS_ROOT) -> str:
    d = _d()
    return (f"if grep -qxF {shlex.quote(token)} {d}/owner 2>/dev/null; then {commands.lock_remove(root)} && "
            "echo @@released; fi")


def break_command(owner: str, root: Root = AS_ROOT) -> str:
    """Compare-and-remove: remove the lock only if its owner is still `owner` (the one shown)."""
    d = _d()
    return (f"if [ ! -d {d} ]; then echo @@gone; "
            f"elif [ \"$(cat {d}/owner 2>/dev/null)\" = {shlex.quote(owner)} ]; then {commands.lock_remove(root)} && "
            "echo @@broken; "
            f"else {read_command()}; exit 3; fi")


class ClusterLock:
    """The lock on every node; released only by its owner (the token)."""

    def __init__(self, collector: Collector, action: str, progress: Callable[[str], None] = lambda m: None) -> None:
        self.collector = collector
        self.progress = progress
        self.token = f"{os_user()}@{socket.gethostname()} pid {os.getpid()} {action} " \
                     f"since {time.strftime('%Y-%m-%d %H:%M:%S')} [{time.time():.0f}]"
        self.held: list[str] = []
        self.skipped: dict[str, str] = {}  # node -> why it has no lock (it did not answer)
        self._beat: asyncio.Task[None] | None = None
        self._beat_reported: set[str] = set()

    async def read(self) -> dict[str, LockInfo | str | None]:
        """Per node: its lock, None when free, or why it could not be read."""
        out: dict[str, LockInfo | str | None] = {}
        for name, t in sorted(self.collector.transports.items()):
            try:
                res = await t.exec(read_command(), timeout_s=LOCK_COMMAND_TIMEOUT_S)
            except TransportError as exc:
                out[name] = str(exc)
                continue
            out[name] = parse_lock(res.output)
        return out

    async def holder(self) -> str | None:
        for name, info in (await self.read()).items():
            if isinstance(info, LockInfo):
                return f"{info.describe()} (on {name})"
        return None

    async def acquire(self, required: Iterable[str]) -> None:
        """Take the lock on every node; refuse (having released what it took) when another owner holds
        it anywhere or a `required` node does not answer.  A node that is not required and does not answer
        is skipped and named in `skipped`."""
        need = set(required)
        for name, t in sorted(self.collector.transports.items()):
            try:
                res = await t.exec(acquire_command(self.token, _root(t)), timeout_s=LOCK_COMMAND_TIMEOUT_S)
            except TransportError as exc:
                # an answer lost after mkdir ran would leave our lock there: release() tries skipped nodes too
                self.skipped[name] = str(exc)
                if name in need:
                    await self.release()
                    raise ActionRefused(f"cannot take the lock on {name}, which this plan needs: {exc}") from None
                self.progress(f"lock: {name} does not answer ({exc}): no lock there — this plan does not need it")
                continue
            if res.ok:
                self.held.append(name)
                continue
            info = parse_lock(res.output) if res.exit_status == 3 else None
            await self.release()
            if info is not None:
                raise ActionRefused(f"another action is running: {info.describe()} on {name}")
            raise ActionRefused(f"cannot take the lock on {name}: exit status {res.exit_status}: "
                                f"{res.output.strip()[-200:]}")
        self._beat = asyncio.create_task(self._heartbeat(), name="hatui-lock-heartbeat")

    async def _beat_one(self, name: str) -> None:
        try:
            t = self.collector.transports[name]
            res = await t.exec(heartbeat_command(self.token, _root(t)), timeout_s=LOCK_COMMAND_TIMEOUT_S)
        except TransportError as exc:
            if name not in self._beat_reported:
                self.progress(f"lock: cannot refresh the heartbeat on {name}: {exc}")
                self._beat_reported.add(name)
            return
        if not res.ok and name not in self._beat_reported:
            self.progress(f"lock: the lock on {name} is no longer ours (broken by someone?): not refreshed")
            self._beat_reported.add(name)
        elif res.ok:
            self._beat_reported.discard(name)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            await asyncio.gather(*(self._beat_one(n) for n in list(self.held)))

    async def release(self) -> list[str]:
        """Remove our lock wherever we may hold it; never raises.  Returns one line per node that kept it."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._beat
            self._beat = None
        left = []
        for name in dict.fromkeys([*self.held, *self.skipped]):
            try:
                t = self.collector.transports[name]
                await t.exec(release_command(self.token, _root(t)), timeout_s=LOCK_COMMAND_TIMEOUT_S)
            except TransportError as exc:
                if name in self.held:
                    left.append(f"{name} kept the lock ({self.token}): {exc} — `hatui lock break` once it answers")
        self.held.clear()
        for line in left:
            self.progress(f"lock: {line}")
        return left


@dataclass(frozen=True)
class BreakResult:
    node: str
    broken: bool
    message: str


async def break_lock(collector: Collector, shown: dict[str, LockInfo | str | None]) -> list[BreakResult]:
    """Remove, on each node, the lock shown to the operator — only if its owner is still that one."""
    results = []
    for name, info in sorted(shown.items()):
        if isinstance(info, str):
            results.append(BreakResult(name, False, f"{name} did not answer when read ({info}): "
                                                    "its lock, if any, is kept"))
            continue
        if info is None:
            continue
        try:
            res = await collector.transports[name].exec(break_command(info.owner, _root(collector.transports[name])),
                                                        timeout_s=LOCK_COMMAND_TIMEOUT_S)
        except TransportError as exc:
            results.append(BreakResult(name, False, f"{name} kept its lock ({info.owner or 'no owner'}): {exc}"))
            continue
        if "@@broken" in res.output.splitlines():
            results.append(BreakResult(name, True, f"{name}: broken: {info.owner or 'lock without owner'}"))
        elif "@@gone" in res.output.splitlines():
            results.append(BreakResult(name, True, f"{name}: already gone (its owner released it)"))
        else:
            now = parse_lock(res.output)
            results.append(BreakResult(name, False, f"{name} kept its lock: the owner changed since it was shown, "
                                                    f"now {now.describe() if now else res.output.strip()[-200:]}"))
    return results


Shown = dict[str, "LockInfo | str | None"]  # ClusterLock.read(): per node its lock, None (free), or why unread


def shown_lines(shown: Shown) -> list[str]:
    """One line per node, as `hatui lock show` and the TUI's palette show them; a stale lock says STALE."""
    return [f"{name}: {info.describe()}" if isinstance(info, LockInfo) else
            f"{name}: does not answer ({info})" if isinstance(info, str) else f"{name}: no lock"
            for name, info in shown.items()]


def held(shown: Shown) -> dict[str, LockInfo]:
    return {n: i for n, i in shown.items() if isinstance(i, LockInfo)}


def nothing_to_break(shown: Shown) -> str:
    return "no lock to break" + ("; a node that does not answer may still hold one"
                                 if any(isinstance(i, str) for i in shown.values()) else "")


async def break_shown(collector: Collector, shown: Shown,
                      progress: Callable[[str], None] = lambda m: None) -> tuple[bool, list[str]]:
    """`lock break` once confirmed, for the CLI and the TUI: audited (start, end) on the workstation and on
    every node that answers; removes on each node only the lock shown.  True when every one is gone."""
    audit = Audit(collector, "lock-break", None, progress=progress)
    await audit.write("start", shown={n: i.owner for n, i in held(shown).items()},
                      unreachable=[n for n, i in shown.items() if isinstance(i, str)])
    results = await break_lock(collector, shown)
    ok = all(r.broken for r in results)
    await audit.write("end", ok=ok, results=[r.message for r in results])
    return ok, [r.message for r in results]
