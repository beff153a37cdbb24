"""hatui's command line: the live TUI (default), one-shot status and check, and the rehearsal lab."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hatui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hatui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hatui {__version__}")
    parser.add_argument("--config", help="config file (default: $HATUI_CONFIG, then ~/.config/hatui/config.yaml)")
    parser.add_argument("--read-only", action="store_true", help="hide and refuse every action")
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("tui", help="the live terminal UI (the default)")
    st = sub.add_parser("status", help="one snapshot of both nodes, with findings")
    st.add_argument("--json", action="store_true", help="the full snapshot as JSON (docs/status-json.md)")
    sub.add_parser("check", help="one line and a Nagios exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    from hatui.actions.cli import add_parsers as add_actions
    from hatui.lab.cli import add_parser as add_lab

    add_actions(sub)
    add_lab(sub)
    return parser


async def _snapshot(config):
    from hatui.collector import Collector

    collector = Collector(config)
    try:
        return await collector.snapshot_once()
    finally:
        await collector.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd == "lab":
        from hatui.lab.cli import run

        return run(args)
    from hatui.config import ConfigError, load

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"hatui: {exc}", file=sys.stderr)
        return 3 if args.cmd == "check" else 2
    from hatui.actions.cli import handles

    if handles(args.cmd):
        from hatui.actions.cli import run as run_action

        return run_action(args, config, read_only=args.read_only or config.actions.read_only)
    if args.cmd in ("status", "check"):
        from hatui import report

        try:
            snap = asyncio.run(_snapshot(config))
        except Exception as exc:
            if args.cmd == "check":
                print(f"HATUI UNKNOWN - {type(exc).__name__}: {exc}")
                return 3
            raise
        if args.cmd == "check":
            code, line = report.to_check(snap, config)
            print(line)
            return code
        print(report.to_json(snap, config) if args.json else report.to_text(snap, config))
        return 0
    from hatui.tui.app import run_tui

    return run_tui(config, read_only=args.read_only or config.actions.read_only)


if __name__ == "__main__":
    sys.exit(main())
