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
    """One subparser per action command of the registry, plus `lock`."""
    from hatui.actions import registry

    for command in registry.commands():
        specs = [a for a in registry.ACTIONS if a.command == command]
        p = sub.add_parser(command, help=registry.COMMAND_HELP.get(command, specs[0].help))
        whats = [a.what for a in specs if a.what]
        if whats:
            p.add_argument("what", choices=whats, help="; ".join(f"{a.what}: {a.help}" for a in specs))
        for option in dict.fromkeys(a.node_option for a in specs):
            users = [a for a in specs if a.node_option == option]
            p.add_argument(option, metavar="NODE", required=len(users) == len(specs),
                           help=" / ".join(dict.fromkeys(a.node_help for a in users)))
        p.add_argument("--dry-run", action="store_true", help="print the pre-checks and the plan, change nothing")
        p.add_argument("--yes", action="store_true", help="do not ask to type the node's name to confirm")
    lk = sub.add_parser("lock", help="the cluster-wide action lock")
    lk.add_argument("what", choices=["show", "break"])
    lk.add_argument("--yes", action="store_true")


COMMANDS = ("lock",)  # besides the registry's; see `handles()`


def handles(cmd: str | None) -> bool:
    from hatui.actions import registry

    return cmd in registry.commands() or cmd in COMMANDS


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
    from hatui.actions.lock import ClusterLock, break_shown, held, nothing_to_break, shown_lines

    shown = await ClusterLock(collector, "show").read()
    lines = shown_lines(shown)
    if args.what == "show":
        print("\n".join(lines))
        return 0
    if read_only or config.actions.read_only:
        reason = "read-only mode: `lock break` is an action (--read-only or actions.read_only)"
        await Audit(collector, "lock-break", None, on_nodes=False).write("refused", reason=reason)
        print(f"hatui: {reason}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    if not held(shown):
        print(nothing_to_break(shown))
        return 0
    if not args.yes and (not sys.stdin.isatty() or input("Break it? type 'break': ").strip() != "break"):
        print("not broken")
        return 1
    ok, messages = await break_shown(collector, shown, progress=lambda m: print(f"  {m}", flush=True))
    for message in messages:
        print(message)
    return 0 if ok else 1


async def _run(args: argparse.Namespace, config: Config, read_only: bool) -> int:
    from hatui.actions.executor import ActionRefused, ClusterLock, Executor
    from hatui.collector import Collector

    collector = Collector(config, streams=False)
    try:
        if args.cmd == "lock":
            return await lock_command(args, config, collector, read_only)
        if read_only:
            print("hatui: read-only mode: actions are disabled", file=sys.stderr)
            return 2
        from hatui.actions import registry

        spec = registry.find(args.cmd, getattr(args, "what", None))
        assert spec is not None  # argparse only accepts the registry's commands and words
        node = getattr(args, spec.node_option.lstrip("-").replace("-", "_"), None)
        if not node:
            print(f"hatui {args.cmd} {spec.what or ''}: {spec.node_option} NODE is required ({spec.node_help})",
                  file=sys.stderr)
            return 2
        snap = await collector.fresh()
        holder = await ClusterLock(collector, "check").holder()
        plan = spec.build(snap, config, node, holder)
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

        def on_quit(name: str) -> None:
            # the terminal closed or the operator's session ends: never leave the action half-done; abort it
            # (undo) and exit once the executor has written its end record and released the lock (S6)
            print(f"  QUIT requested ({name}): aborting, undoing what can be undone, then exiting", flush=True)
            executor.abort.set()

        loop.add_signal_handler(signal.SIGINT, on_interrupt)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, on_quit, sig.name)
        try:
            # re-checked once the lock is taken (no owner then: it is ours), refused if the cluster changed
            outcome = await executor.run(plan, rebuild=lambda s: spec.build(s, config, node, None))
        except ActionRefused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
        print(f"{'OK' if outcome.ok else 'FAILED'} after {outcome.duration_s:.1f} s: {outcome.state}")
        return 0 if outcome.ok else 1
    finally:
        await collector.close()


def run(args: argparse.Namespace, config: Config, read_only: bool) -> int:
    return asyncio.run(_run(args, config, read_only))
