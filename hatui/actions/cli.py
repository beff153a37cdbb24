"""`hatui switchover`, `hatui maintenance clear`, `hatui lock break`: the executor from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from typing import TYPE_CHECKING

from hatui.config import Config

if TYPE_CHECKING:
    from hatui.collector import Collector


def add_parsers(sub: argparse._SubParsersAction) -> None:
    sw = sub.add_parser("switchover", help="guided switchover to the standby (planned failover)")
    sw.add_argument("--to", required=True, metavar="NODE", help="the node that takes over")
    sw.add_argument("--dry-run", action="store_true", help="print the pre-checks and the plan, change nothing")
    sw.add_argument("--yes", action="store_true", help="do not ask to type the node's name to confirm")
    mt = sub.add_parser("maintenance", help="the keepalived maintenance hook")
    mt.add_argument("what", choices=["clear"])
    mt.add_argument("--node", required=True)
    mt.add_argument("--dry-run", action="store_true")
    mt.add_argument("--yes", action="store_true")
    dr = sub.add_parser("drbd", help="guided DRBD actions")
    dr.add_argument("what", choices=["resync", "connect", "disconnect", "verify", "pause-sync", "resume-sync",
                                     "split-brain"])
    dr.add_argument("--node", help="the node to act on (resync: the node whose copy is discarded and resynced)")
    dr.add_argument("--victim", help="split-brain: the node whose changes are discarded")
    dr.add_argument("--dry-run", action="store_true")
    dr.add_argument("--yes", action="store_true")
    ga = sub.add_parser("galera", help="guided Galera actions")
    ga.add_argument("what", choices=["bootstrap"])
    ga.add_argument("--node", required=True, help="the non-Primary survivor to re-bootstrap")
    ga.add_argument("--dry-run", action="store_true")
    ga.add_argument("--yes", action="store_true")
    lk = sub.add_parser("lock", help="the cluster-wide action lock")
    lk.add_argument("what", choices=["show", "break"])
    lk.add_argument("--yes", action="store_true")


def _confirm(target: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("refusing to act without confirmation: no terminal to type into (use --yes)", file=sys.stderr)
        return False
    answer = input(f"Type the node name '{target}' to go ahead: ").strip()
    return answer == target


async def lock_command(args: argparse.Namespace, config: Config, collector: Collector, read_only: bool) -> int:
    """`hatui lock show|break`.  break: refused under read-only; audited; removes on each node only the lock
    shown (compare-and-remove on the node); a node that does not answer keeps its lock and is named."""
    from hatui.actions.audit import Audit
    from hatui.actions.lock import ClusterLock, LockInfo, break_lock

    shown = await ClusterLock(collector, "show").read()
    lines = [f"{name}: {info.describe()}" if isinstance(info, LockInfo) else
             f"{name}: does not answer ({info})" if isinstance(info, str) else f"{name}: no lock"
             for name, info in shown.items()]
    held = {n: i for n, i in shown.items() if isinstance(i, LockInfo)}
    if args.what == "show":
        print("\n".join(lines))
        return 0
    if read_only or config.actions.read_only:
        reason = "read-only mode: `lock break` is an action (--read-only or actions.read_only)"
        await Audit(collector, "lock-break", None, on_nodes=False).write("refused", reason=reason)
        print(f"hatui: {reason}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    if not held:
        print("no lock to break" + ("; a node that does not answer may still hold one"
                                    if any(isinstance(i, str) for i in shown.values()) else ""))
        return 0
    if not args.yes and (not sys.stdin.isatty() or input("Break it? type 'break': ").strip() != "break"):
        print("not broken")
        return 1
    audit = Audit(collector, "lock-break", None, progress=lambda m: print(f"  {m}", flush=True))
    await audit.write("start", shown={n: i.owner for n, i in held.items()},
                      unreachable=[n for n, i in shown.items() if isinstance(i, str)])
    results = await break_lock(collector, shown)
    for r in results:
        print(r.message)
    ok = all(r.broken for r in results)
    await audit.write("end", ok=ok, results=[r.message for r in results])
    return 0 if ok else 1


async def _run(args: argparse.Namespace, config: Config, read_only: bool) -> int:
    from hatui.actions.executor import ActionRefused, ClusterLock, Executor
    from hatui.actions.switchover import plan_clear_maintenance, plan_switchover
    from hatui.collector import Collector

    collector = Collector(config)
    try:
        if args.cmd == "lock":
            return await lock_command(args, config, collector, read_only)
        if read_only:
            print("hatui: read-only mode: actions are disabled", file=sys.stderr)
            return 2
        snap = await collector.snapshot_once()
        if args.cmd == "switchover":
            holder = await ClusterLock(collector, "check").holder()
            plan = plan_switchover(snap, config, args.to, lock_owner=holder)
        elif args.cmd == "drbd":
            from hatui.actions.drbd import plan_drbd, plan_split_brain

            if args.what == "split-brain":
                if not args.victim:
                    print("hatui drbd split-brain: --victim NODE is required (whose changes are discarded)",
                          file=sys.stderr)
                    return 2
                plan = plan_split_brain(snap, config, args.victim)
            else:
                if not args.node:
                    print(f"hatui drbd {args.what}: --node NODE is required", file=sys.stderr)
                    return 2
                plan = plan_drbd(snap, config, args.what, args.node)
        elif args.cmd == "galera":
            from hatui.actions.galera import plan_galera_bootstrap

            plan = plan_galera_bootstrap(snap, config, args.node)
        else:
            plan = plan_clear_maintenance(snap, config, args.node)
        print(plan.render())
        if args.dry_run:
            return 0 if plan.runnable else 1
        if not plan.runnable:
            print("\nnot run: see the failed pre-checks above", file=sys.stderr)
            return 1
        if not _confirm(plan.target or "", args.yes):
            print("not confirmed: nothing changed")
            return 1
        executor = Executor(config, collector, progress=lambda m: print(f"  {m}", flush=True))
        loop = asyncio.get_running_loop()
        import signal

        def on_interrupt() -> None:
            print("  ABORT requested (ctrl+c): stopping at the next step or check, then undoing", flush=True)
            executor.abort.set()
            loop.remove_signal_handler(signal.SIGINT)  # a second ctrl+c interrupts at once

        loop.add_signal_handler(signal.SIGINT, on_interrupt)
        try:
            outcome = await executor.run(plan)
        except ActionRefused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
        print(f"{'OK' if outcome.ok else 'FAILED'} after {outcome.duration_s:.1f} s: {outcome.state}")
        return 0 if outcome.ok else 1
    finally:
        await collector.close()


def run(args: argparse.Namespace, config: Config, read_only: bool) -> int:
    return asyncio.run(_run(args, config, read_only))
