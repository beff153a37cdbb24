"""Runs a Plan: lock, each step with its check, a safe stop on surprise, an audit record of everything.

The TUI wizard and the CLI drive this same executor.  On a failed step or check it undoes what is safe
to undo (in reverse order), then reads the cluster once more and names the state it leaves — never a
silent half-switch.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hatui.actions.audit import LOCAL_AUDIT, NODE_AUDIT, Audit
from hatui.actions.lock import LOCK_DIR, ActionRefused, ClusterLock, LockInfo, break_lock
from hatui.actions.plan import Plan, Step, Verify
from hatui.collector import Collector
from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.privilege import missing_line, refusals
from hatui.transport import TransportError

# the lock and the audit live in lock.py and audit.py; these names were always imported from here
__all__ = ["LOCAL_AUDIT", "LOCK_DIR", "NODE_AUDIT", "ActionRefused", "Audit", "ClusterLock", "Executor", "LockInfo",
           "Outcome", "StepResult", "break_lock", "describe", "on_node"]

KILL_AFTER_S = 5  # `timeout -k`: SIGKILL this long after the SIGTERM at the step's timeout
TRANSPORT_GRACE_S = 5.0  # the SSH call waits this much longer than the node's own timeout
TIMED_OUT = (124, 137)
# a check waits at most this long for a node the plan needs that has stopped answering (only checks
# allowed longer than this: a short one runs into its own timeout first)
GIVE_UP_UNREACHABLE_S = 30.0  # timeout(1)'s exit status after SIGTERM, after SIGKILL
# after an undo the cluster moves (keepalived takes the VIP back, notify scripts move DRBD): the end state
# is named once it has not changed for SETTLE_S, or after SETTLE_TIMEOUT_S saying it was still changing
SETTLE_S = 3.0
SETTLE_TIMEOUT_S = 30.0
# before each command the plan's required nodes must answer; one that does not is given this long to come
# back (a dropped SSH session reconnects) before the plan stops
REQUIRED_GRACE_S = 10.0


def on_node(command: str, timeout_s: float) -> str:
    """`command` under coreutils timeout on the node: it cannot outlive its step, even if SSH is lost.
    timeout signals the whole process group (bash and what it started, e.g. mount)."""
    return f"timeout -k {KILL_AFTER_S} {timeout_s:g} bash -c {shlex.quote(command)}"


@dataclass
class StepResult:
    step: Step
    # done, skipped, failed, undone; "not run": stopped before its command was sent (nothing to undo);
    # unknown: timed out or the answer was lost, so whether it took effect is not known (the node's timeout
    # has ended it by the time undo runs)
    status: str
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
    vip = list(snap.vip_holders(cfg.vip))
    prim = list(snap.drbd_primaries(cfg.drbd.resource))
    mnt = list(snap.mounted_on())
    unreachable = snap.unreachable()
    whole = len(vip) == 1 and prim == vip and mnt == vip
    words = (f"VIP on {'+'.join(vip) or 'nobody'}, DRBD primary {'+'.join(prim) or 'nobody'}, "
             f"{cfg.drbd.mount_point} mounted on {'+'.join(mnt) or 'nobody'}")
    if unreachable:
        words += f"; unreachable: {', '.join(unreachable)}"
    return words + ("" if whole else " — NOT CONSISTENT: VIP, DRBD primary and mount are not on one node")


_DRBD_REASONS = {
    "peer-is-primary": "the peer is Primary (DRBD allows one Primary): demote it first",
    "device-held-open": "the device is in use (mounted or open): unmount it first",
    "need-connection": "the resource must be connected to its peer for this",
    "no-uptodate-data": "no UpToDate data to promote (Inconsistent or Outdated disk): resync first",
    "already-connected": "it is already connected",
    "minor-not-allocated": "the resource is not up on this node (drbdadm up)",
    "unknown-resource": "the resource is not configured on this node",
    "invalid-config-request": "DRBD refused the request as invalid in this state",
    "no-84-support": "this drbd-utils/kernel pair does not support the command",
}


def failure_detail(command: str, exit_status: int | None, output: str) -> str:
    """What a failed step printed; for drbdadm/drbdsetup, what DRBD's refusal means (its own text and code,
    parsed by probes.drbd.parse_drbd_error) and what to do about it."""
    detail = f"exit status {exit_status}: {output.strip()[-300:]}"
    if command.lstrip().startswith(("drbdadm", "drbdsetup")) or " drbdadm " in command:
        from hatui.probes.drbd import parse_drbd_error

        err = parse_drbd_error(output, exit_status).value
        if err is not None:
            why = _DRBD_REASONS.get(err.reason)
            detail += f" — DRBD: {err.text}" + (f" ({why})" if why else "")
    return detail


def _step_key(step: Step) -> tuple[str, str, str | None]:
    return step.node, step.command, step.undo


def step_changes(confirmed: Plan, fresh: Plan) -> list[str]:
    """How `fresh`'s steps differ from the `confirmed` ones (node, command, undo), in words; [] if alike."""
    out = []
    for i in range(max(len(confirmed.steps), len(fresh.steps))):
        old = confirmed.steps[i] if i < len(confirmed.steps) else None
        new = fresh.steps[i] if i < len(fresh.steps) else None
        if old is not None and new is not None and _step_key(old) == _step_key(new):
            continue
        if old is None and new is not None:
            out.append(f"step {i + 1} is new: on {new.node}: {new.command}")
        elif new is None and old is not None:
            out.append(f"step {i + 1} (on {old.node}: {old.command}) is no longer needed")
        elif old is not None and new is not None:
            out.append(f"step {i + 1} was on {old.node}: {old.command} (undo: {old.undo}), "
                       f"now on {new.node}: {new.command} (undo: {new.undo})")
    return out


class Executor:
    """Runs a Plan: takes the cluster lock, runs each step and checks its effect on snapshots from
    `Collector.fresh()`, stops and undoes on a failure or an operator abort, names the state it
    leaves, and audits every step locally and on both nodes.  The CLI and the TUI wizard drive it."""

    def __init__(self, config: Config, collector: Collector, progress: Callable[[str], None] = print,
                 read_only: bool = False) -> None:
        # set by the operator (ctrl+c on the CLI, ctrl+a in the wizard): stop before the next step or
        # at the next check, undo, and say where the cluster is
        self.abort = asyncio.Event()
        self.config = config
        self.collector = collector
        self.progress = progress
        self.read_only = read_only or config.actions.read_only
        self.required: tuple[str, ...] = ()  # the plan's must-reach nodes, set by run()

    async def snapshot(self) -> ClusterSnapshot:
        return await self.collector.fresh()

    async def wait(self, verify: Verify, abortable: bool = True) -> tuple[bool, ClusterSnapshot]:
        deadline = time.monotonic() + verify.timeout_s
        last_report, last_at = "", 0.0
        gone_since: dict[str, float] = {}
        while True:
            snap = await self.snapshot()
            if verify.holds(snap):
                return True, snap
            if abortable and self.abort.is_set():
                return False, snap
            # a check that needs a node which stopped answering cannot hold: a 30-minute resync wait
            # does not outlast a powered-off peer by half an hour
            now = time.monotonic()
            for name in self.required:
                n = snap.node(name)
                if n is not None and not n.reachable:
                    gone_since.setdefault(name, now)
                else:
                    gone_since.pop(name, None)
            lost = [name for name, t in gone_since.items() if now - t >= GIVE_UP_UNREACHABLE_S]
            if lost and verify.timeout_s > GIVE_UP_UNREACHABLE_S:
                self.progress(f"  … {', '.join(lost)} has not answered for {GIVE_UP_UNREACHABLE_S:.0f} s: "
                              f"'{verify.description}' cannot hold without it")
                return False, snap
            if verify.report is not None:
                line = verify.report(snap)
                if line != last_report and time.monotonic() - last_at >= 1.0:
                    self.progress(f"  … {line}")
                    last_report, last_at = line, time.monotonic()
            if time.monotonic() > deadline:
                return False, snap
            await asyncio.sleep(0.3)

    async def run(self, plan: Plan, rebuild: Callable[[ClusterSnapshot], Plan] | None = None) -> Outcome:
        """Run `plan`; raises only ActionRefused (before anything changed).  Every other surprise ends in
        an Outcome that names the cluster's state, with the lock released and an end record written.

        `rebuild` builds the same plan again from a snapshot (the registry's builder, with no lock owner:
        the lock is ours by then).  With it, the plan is re-checked once the lock is taken — the operator
        may have confirmed it minutes ago — and the run is refused if the fresh plan cannot run or its steps
        differ from the confirmed ones."""
        if self.read_only:
            reason = "read-only mode: actions are disabled (--read-only or actions.read_only)"
            # read-only writes nothing on the nodes: the refusal goes to the local audit only
            await Audit(self.collector, plan.action, plan.target, self.progress, on_nodes=False).write(
                "refused", reason=reason)
            raise ActionRefused(reason)
        audit = Audit(self.collector, plan.action, plan.target, self.progress)
        if not plan.runnable:
            failed = [f"{c.name}: {c.why}" for c in plan.prechecks if not c.ok]
            reason = plan.refusal or "pre-checks failed: " + "; ".join(failed)
            await audit.write("refused", reason=reason)
            raise ActionRefused(reason)
        t0 = time.monotonic()
        self.required = plan.lock_nodes
        lock = ClusterLock(self.collector, plan.action, self.progress)
        try:
            try:
                await lock.acquire(plan.lock_nodes)
            except ActionRefused as exc:
                await audit.write("refused", reason=str(exc))
                raise
            if rebuild is not None and (why := await self._recheck(plan, rebuild)) is not None:
                self.progress(f"REFUSED: {why}")
                await audit.write("refused", reason=why)
                raise ActionRefused(why)
            return await self._locked(plan, audit, lock, t0)
        finally:
            await lock.release()  # idempotent: _locked released it already unless it was interrupted

    async def _recheck(self, plan: Plan, rebuild: Callable[[ClusterSnapshot], Plan]) -> str | None:
        """Why the confirmed plan no longer holds on a fresh snapshot, or None if it still does."""
        try:
            fresh = rebuild(await self.snapshot())
        except Exception as exc:
            return f"the plan could not be re-checked before running ({type(exc).__name__}: {exc}): nothing was changed"
        if not fresh.runnable:
            failed = [f"{c.name}: {c.why}" for c in fresh.prechecks if not c.ok]
            return ("the cluster changed since the plan was confirmed, it no longer passes its pre-checks: "
                    + (fresh.refusal or "; ".join(failed)) + ": nothing was changed")
        changes = step_changes(plan, fresh)
        if changes:
            return ("the cluster changed since the plan was confirmed, its steps are now different: "
                    + "; ".join(changes) + ": nothing was changed, build and confirm the plan again")
        return None

    async def _locked(self, plan: Plan, audit: Audit, lock: ClusterLock, t0: float) -> Outcome:
        await audit.write("start", plan=plan.render(), lock_on=lock.held, lock_skipped=lock.skipped)
        results: list[StepResult] = []
        failure, undo = None, True
        try:
            failure, undo = await self._steps(plan, audit, results)
        except Exception as exc:  # a bug must not skip the undo, the end record or the lock release
            failure = f"internal error: {type(exc).__name__}: {exc}"
        undone = False
        if failure is not None:
            self.progress(f"STOPPED: {failure}")
            if undo:
                undone = await self._undo(results, audit)
            else:
                self.progress("every step was done and verified: nothing is undone (undoing a completed action "
                              "would change the cluster again, e.g. move the VIP back); check the above yourself")
        try:
            state = await self._end_state(results) if undone else describe(await self.snapshot(), self.config)
        except Exception as exc:
            state = f"not known: the cluster could not be read ({type(exc).__name__}: {exc})"
        ok = failure is None
        self.progress(("DONE: " if ok else "ENDED IN: ") + state)
        left = await lock.release()
        await audit.write("end", ok=ok, failure=failure, state=state, lock_left=left,
                          audit_failures=audit.failures[-20:])
        return Outcome(ok, state, results, time.monotonic() - t0)

    async def _steps(self, plan: Plan, audit: Audit, results: list[StepResult]) -> tuple[str | None, bool]:
        """Each step, then the final checks; (why it stopped or None, whether to undo).  Once every step is
        done and verified nothing is undone: a failed final check is reported, not rolled back."""
        for i, step in enumerate(plan.steps, 1):
            if self.abort.is_set():
                return f"aborted by the operator before step {i}", True
            res = await self._step(i, step)
            results.append(res)
            await audit.write("step", n=i, node=step.node, command=step.command, status=res.status,
                              output=res.output[-2000:], detail=res.detail)
            if res.status == "unknown":
                return f"step {i} on {step.node}: outcome unknown: {res.detail}", True
            if res.status in ("failed", "not run"):
                return (f"aborted by the operator during step {i}" if self.abort.is_set()
                        else f"step {i} on {step.node} {res.status}: {res.detail}"), True
        for v in plan.final:
            self.progress(f"final check: {v.description} …")
            ok, _ = await self.wait(v)
            self.progress(f"final check: {v.description}: {'OK' if ok else 'FAILED'}")
            if not ok:
                return ("aborted by the operator during the final checks" if self.abort.is_set()
                        else f"final check failed: {v.description}"), False
        return None, False

    async def _step(self, i: int, step: Step) -> StepResult:
        if step.skip_if is not None:
            self.progress(f"step {i}: waiting up to {step.skip_if.timeout_s:.0f} s for: {step.skip_if.description}")
            done, _ = await self.wait(step.skip_if)
            if self.abort.is_set():
                return StepResult(step, "not run", detail="aborted")
            if done:
                self.progress(f"step {i}: skipped, already {step.skip_if.description}")
                return StepResult(step, "skipped", detail="already done")
        if (gone := await self._required_gone()) is not None:
            self.progress(f"step {i}: not run: {gone}")
            return StepResult(step, "not run", detail=gone)
        self.progress(f"step {i} on {step.node}: {step.command}")
        t = self.collector.transports[step.node]
        try:
            await t.connect()
        except TransportError as exc:
            return StepResult(step, "not run", detail=str(exc))
        # the node's timeout ends the command by this time, whatever happens to the SSH session
        ended_by = time.monotonic() + step.timeout_s + KILL_AFTER_S
        try:
            res = await t.exec(on_node(step.command, step.timeout_s),
                               timeout_s=step.timeout_s + KILL_AFTER_S + TRANSPORT_GRACE_S)
        except TransportError as exc:
            return await self._unknown(i, step, "", f"no answer from {step.node}: {exc}", ended_by)
        if res.exit_status in TIMED_OUT:
            return await self._unknown(i, step, res.output, f"timed out after {step.timeout_s:g} s on {step.node} "
                                       f"and was killed there (exit status {res.exit_status})", time.monotonic())
        refused, _rest = refusals(res.output)
        if refused:
            user = self.config.node(step.node).user if step.node in {n.name for n in self.config.nodes} else "USER"
            lines = "; ".join(missing_line(self.config, user, c) for c in refused)
            return StepResult(step, "failed", res.output,
                              f"sudo on {step.node} refused `{refused[0]}` (exit status {res.exit_status}): the "
                              f"sudoers line missing there: {lines} (see `hatui sudoers`)")
        if not res.ok and not step.may_fail:
            return StepResult(step, "failed", res.output, failure_detail(step.command, res.exit_status, res.output))
        if step.verify is not None:
            self.progress(f"step {i}: checking {step.verify.description} …")
            ok, _ = await self.wait(step.verify)
            if not ok:
                return StepResult(step, "failed", res.output,
                                  f"{step.verify.description} did not hold within {step.verify.timeout_s:.0f} s")
            self.progress(f"step {i}: {step.verify.description}: OK")
        return StepResult(step, "done", res.output)

    async def _required_gone(self) -> str | None:
        """Why the plan cannot go on — a node it needs does not answer (given REQUIRED_GRACE_S to come back) —
        or None.  Without it a step would act for a later one that can no longer run (the source releasing
        DRBD for a target that was powered off)."""
        def answering(s: ClusterSnapshot) -> bool:
            return all((n := s.node(name)) is None or n.reachable for name in self.required)
        snap = await self.snapshot()
        if answering(snap):
            return None
        ok, snap = await self.wait(Verify("the nodes the plan needs answer", answering, REQUIRED_GRACE_S))
        if ok:
            return None
        lost = [n for name in self.required if (n := snap.node(name)) is not None and not n.reachable]
        return "; ".join(f"{n.node} does not answer ({n.error or 'no answer'})" for n in lost) + (
            f" for {REQUIRED_GRACE_S:.0f} s: the plan cannot go on without it")

    async def _unknown(self, i: int, step: Step, output: str, why: str, ended_by: float) -> StepResult:
        """A step whose effect is not known: wait until the node's timeout has surely ended it, then read
        the cluster (a fresh snapshot) before anything is undone."""
        wait_s = max(0.0, ended_by - time.monotonic())
        self.progress(f"step {i}: outcome UNKNOWN: {why}")
        if wait_s > 0:
            self.progress(f"step {i}: waiting {wait_s:.0f} s, until the node's timeout has ended the command, "
                          "before undoing")
            await asyncio.sleep(wait_s)
        try:
            snap = await self.snapshot()
            effect = (f"; its check ({step.verify.description}) "
                      f"{'holds' if step.verify.holds(snap) else 'does not hold'}" if step.verify else "")
            state = describe(snap, self.config) + effect
        except Exception as exc:
            state = f"not read ({type(exc).__name__}: {exc})"
        self.progress(f"step {i}: before undoing, the cluster is: {state}")
        return StepResult(step, "unknown", output, f"{why}; then: {state}")

    async def _end_state(self, results: list[StepResult]) -> str:
        """After an undo: wait for each undone step's expected state, then until the cluster stops changing,
        and only then name the state it ends in."""
        for r in reversed(results):
            if r.status == "undone" and r.step.undo_verify is not None:
                v = r.step.undo_verify
                self.progress(f"after undo: waiting up to {v.timeout_s:.0f} s for: {v.description}")
                ok, _ = await self.wait(v, abortable=False)
                self.progress(f"after undo: {v.description}: {'OK' if ok else 'did NOT hold'}")
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        last, since = None, time.monotonic()
        while True:
            state = describe(await self.snapshot(), self.config)
            now = time.monotonic()
            if state != last:
                last, since = state, now
            elif now - since >= SETTLE_S:
                return state
            if now > deadline:
                return f"{state} (still changing {SETTLE_TIMEOUT_S:.0f} s after the undo)"
            await asyncio.sleep(0.5)

    async def _undo(self, results: list[StepResult], audit: Audit) -> bool:
        """Undo in reverse order; True if any undo command ran.  Every undo is tried: one that fails, or an
        audit that cannot be written, does not stop the others."""
        ran = False
        for r in reversed(results):
            if r.status not in ("done", "failed", "unknown") or not r.step.undo:
                continue
            self.progress(f"undo on {r.step.node}: {r.step.undo}")
            ran = True
            try:
                res = await self.collector.transports[r.step.node].exec(
                    on_node(r.step.undo, r.step.timeout_s),
                    timeout_s=r.step.timeout_s + KILL_AFTER_S + TRANSPORT_GRACE_S)
            except Exception as exc:
                self.progress(f"undo on {r.step.node} FAILED: {exc}")
                await audit.write("undo", node=r.step.node, command=r.step.undo, ok=False, output=str(exc))
                continue
            if res.ok:
                r.status = "undone"
            else:
                self.progress(f"undo on {r.step.node} FAILED: exit status {res.exit_status}: "
                              f"{res.output.strip()[-300:]}")
            await audit.write("undo", node=r.step.node, command=r.step.undo, ok=res.ok, output=res.output[-500:])
        return ran
