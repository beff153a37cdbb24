"""Runs a Plan: lock, each step with its check, a safe stop on surprise, an audit record of everything.

The TUI wizard and the CLI drive this same executor.  On a failed step or check it undoes what is safe
to undo (in reverse order), then reads the cluster once more and names the state it leaves — never a
silent half-switch.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hatui.actions.plan import Plan, Step, Verify
from hatui.collector import Collector
from hatui.config import Config
from hatui.diagnosis import drbd_resource, holds_vip
from hatui.model import ClusterSnapshot
from hatui.transport import TransportError

LOCK_DIR = "/run/hatui-action.lock"
NODE_AUDIT = "/var/log/hatui-audit.log"
LOCAL_AUDIT = Path(os.environ.get("XDG_STATE_HOME", "~/.local/state")).expanduser() / "hatui" / "audit.log"
STALE_AFTER_S = 30 * 60


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


class ActionRefused(RuntimeError):
    pass


@dataclass
class StepResult:
    step: Step
    status: str  # done, skipped, failed, undone
    output: str = ""
    detail: str = ""


@dataclass
class Outcome:
    ok: bool
    state: str  # the cluster state it ends in, in words
    results: list[StepResult] = field(default_factory=list)
    duration_s: float = 0.0


def describe(snap: ClusterSnapshot, cfg: Config) -> str:
    """The cluster in one line: who holds the VIP, the DRBD primary, the mount; whether that is whole."""
    up = [n for n in snap.nodes if n.reachable]
    vip = [n.node for n in up if holds_vip(n, cfg.vip)]
    prim = [n.node for n in up if (r := drbd_resource(n, cfg.drbd.resource)) and r.role == "Primary"]
    mnt = [n.node for n in up if n.drbd_mounted]
    unreachable = [n.node for n in snap.nodes if not n.reachable]
    whole = len(vip) == 1 and prim == vip and mnt == vip
    words = (f"VIP on {'+'.join(vip) or 'nobody'}, DRBD primary {'+'.join(prim) or 'nobody'}, "
             f"{cfg.drbd.mount_point} mounted on {'+'.join(mnt) or 'nobody'}")
    if unreachable:
        words += f"; unreachable: {', '.join(unreachable)}"
    return words + ("" if whole else " — NOT CONSISTENT: VIP, DRBD primary and mount are not on one node")


class Audit:
    def __init__(self, collector: Collector, action: str, target: str | None) -> None:
        self.collector = collector
        self.base = {"user": os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                     "action": action, "target": target, "id": f"{int(time.time())}-{os.getpid()}"}

    async def write(self, event: str, **fields: object) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **self.base, "event": event, **fields}
        line = json.dumps(record, default=str)
        append_private(LOCAL_AUDIT, line)
        for t in self.collector.transports.values():
            try:
                await t.exec(f"printf '%s\\n' {shlex.quote(line)} >> {NODE_AUDIT}", timeout_s=5)
            except TransportError:
                pass  # an unreachable node cannot keep its copy; the local record has it


class ClusterLock:
    """`mkdir` on every node (atomic), with who/where/when inside; released only by its owner."""

    def __init__(self, collector: Collector, action: str) -> None:
        self.collector = collector
        self.token = f"{os_user()}@{socket.gethostname()} pid {os.getpid()} {action} " \
                     f"since {time.strftime('%Y-%m-%d %H:%M:%S')} [{time.time():.0f}]"
        self.held: list[str] = []

    async def holder(self) -> str | None:
        for name, t in self.collector.transports.items():
            try:
                res = await t.run(f"cat {LOCK_DIR}/owner 2>/dev/null")
            except TransportError:
                continue
            if res.output.strip():
                return f"{res.output.strip()} (on {name})"
        return None

    async def acquire(self) -> None:
        for name, t in sorted(self.collector.transports.items()):
            res = await t.exec(f"mkdir {LOCK_DIR} 2>/dev/null && printf '%s\\n' {shlex.quote(self.token)} "
                               f"> {LOCK_DIR}/owner", timeout_s=5)
            if not res.ok:
                owner = (await t.exec(f"cat {LOCK_DIR}/owner 2>/dev/null", timeout_s=5)).output.strip()
                await self.release()
                stale = ""
                if owner.rsplit("[", 1)[-1].rstrip("]").isdigit() and \
                        time.time() - int(owner.rsplit("[", 1)[-1].rstrip("]")) > STALE_AFTER_S:
                    stale = " — it looks STALE (older than 30 min): `hatui lock break` after checking"
                raise ActionRefused(f"another action is running: {owner or 'lock without owner'} on {name}{stale}")
            self.held.append(name)

    async def release(self) -> None:
        for name in list(self.held):
            t = self.collector.transports[name]
            try:
                await t.exec(f"grep -qxF {shlex.quote(self.token)} {LOCK_DIR}/owner && rm -rf {LOCK_DIR}", timeout_s=5)
            except TransportError:
                pass
            self.held.remove(name)


async def break_lock(collector: Collector) -> list[str]:
    broken = []
    for name, t in collector.transports.items():
        res = await t.exec(f"cat {LOCK_DIR}/owner 2>/dev/null && rm -rf {LOCK_DIR}", timeout_s=5)
        if res.output.strip():
            broken.append(f"{name}: {res.output.strip()}")
    return broken


class Executor:
    def __init__(self, config: Config, collector: Collector, progress: Callable[[str], None] = print,
                 read_only: bool = False) -> None:
        # set by the operator (ctrl+c on the CLI, `a` in the wizard): stop before the next step or
        # at the next check, undo, and say where the cluster is
        self.abort = asyncio.Event()
        self.config = config
        self.collector = collector
        self.progress = progress
        self.read_only = read_only or config.actions.read_only

    async def snapshot(self) -> ClusterSnapshot:
        return await self.collector.snapshot_once()

    async def wait(self, verify: Verify) -> tuple[bool, ClusterSnapshot]:
        deadline = time.monotonic() + verify.timeout_s
        last_report, last_at = "", 0.0
        while True:
            snap = await self.snapshot()
            if verify.holds(snap):
                return True, snap
            if self.abort.is_set():
                return False, snap
            if verify.report is not None:
                line = verify.report(snap)
                if line != last_report and time.monotonic() - last_at >= 1.0:
                    self.progress(f"  … {line}")
                    last_report, last_at = line, time.monotonic()
            if time.monotonic() > deadline:
                return False, snap
            await asyncio.sleep(0.3)

    async def run(self, plan: Plan) -> Outcome:
        if self.read_only:
            raise ActionRefused("read-only mode: actions are disabled (--read-only or actions.read_only)")
        if not plan.runnable:
            failed = [f"{c.name}: {c.why}" for c in plan.prechecks if not c.ok]
            raise ActionRefused(plan.refusal or "pre-checks failed: " + "; ".join(failed))
        t0 = time.monotonic()
        audit = Audit(self.collector, plan.action, plan.target)
        lock = ClusterLock(self.collector, plan.action)
        await lock.acquire()
        results: list[StepResult] = []
        try:
            await audit.write("start", plan=plan.render())
            failure = None
            for i, step in enumerate(plan.steps, 1):
                if self.abort.is_set():
                    failure = f"aborted by the operator before step {i}"
                    break
                res = await self._step(i, step)
                results.append(res)
                await audit.write("step", n=i, node=step.node, command=step.command, status=res.status,
                                  output=res.output[-2000:], detail=res.detail)
                if res.status == "failed":
                    failure = (f"aborted by the operator during step {i}" if self.abort.is_set()
                               else f"step {i} on {step.node} failed: {res.detail}")
                    break
            if failure is None and not self.abort.is_set():
                for v in plan.final:
                    self.progress(f"final check: {v.description} …")
                    ok, _ = await self.wait(v)
                    self.progress(f"final check: {v.description}: {'OK' if ok else 'FAILED'}")
                    if not ok:
                        failure = ("aborted by the operator during the final checks" if self.abort.is_set()
                                   else f"final check failed: {v.description}")
                        break
            if failure is not None:
                self.progress(f"STOPPED: {failure}")
                await self._undo(results, audit)
            state = describe(await self.snapshot(), self.config)
            ok = failure is None
            self.progress(("DONE: " if ok else "ENDED IN: ") + state)
            await audit.write("end", ok=ok, failure=failure, state=state)
            return Outcome(ok, state, results, time.monotonic() - t0)
        finally:
            await lock.release()

    async def _step(self, i: int, step: Step) -> StepResult:
        if step.skip_if is not None:
            self.progress(f"step {i}: waiting up to {step.skip_if.timeout_s:.0f} s for: {step.skip_if.description}")
            done, _ = await self.wait(step.skip_if)
            if self.abort.is_set():
                return StepResult(step, "failed", detail="aborted")
            if done:
                self.progress(f"step {i}: skipped, already {step.skip_if.description}")
                return StepResult(step, "skipped", detail="already done")
        self.progress(f"step {i} on {step.node}: {step.command}")
        try:
            res = await self.collector.transports[step.node].exec(step.command, timeout_s=step.timeout_s)
        except TransportError as exc:
            return StepResult(step, "failed", detail=str(exc))
        if not res.ok and not step.may_fail:
            return StepResult(step, "failed", res.output, f"exit status {res.exit_status}: {res.output.strip()[-300:]}")
        if step.verify is not None:
            self.progress(f"step {i}: checking {step.verify.description} …")
            ok, _ = await self.wait(step.verify)
            if not ok:
                return StepResult(step, "failed", res.output,
                                  f"{step.verify.description} did not hold within {step.verify.timeout_s:.0f} s")
            self.progress(f"step {i}: {step.verify.description}: OK")
        return StepResult(step, "done", res.output)

    async def _undo(self, results: list[StepResult], audit: Audit) -> None:
        for r in reversed(results):
            if r.status not in ("done", "failed") or not r.step.undo:
                continue
            self.progress(f"undo on {r.step.node}: {r.step.undo}")
            try:
                res = await self.collector.transports[r.step.node].exec(r.step.undo, timeout_s=r.step.timeout_s)
                r.status = "undone" if res.ok else r.status
                await audit.write("undo", node=r.step.node, command=r.step.undo, ok=res.ok, output=res.output[-500:])
            except TransportError as exc:
                self.progress(f"undo on {r.step.node} FAILED: {exc}")
                await audit.write("undo", node=r.step.node, command=r.step.undo, ok=False, output=str(exc))
