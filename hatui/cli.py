"""hatui's command line: the live TUI (default), one-shot status and check, the actions, and the
subcommands other installed packages add (the rehearsal lab's `hatui lab`, see COMMANDS_GROUP)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from importlib import metadata
from types import ModuleType

from hatui import __version__

# Packages add subcommands to `hatui` through this entry-point group: each entry names a module (or
# object) with `add_parser(subparsers)` and `run(args) -> int`.  hatui itself never imports them by
# name: the operator's wheel holds hatui only, and the lab (hatui_lab) registers `lab` where installed.
COMMANDS_GROUP = "hatui.commands"
# Subcommands hatui knows of even where their package is missing, with how to get them.
KNOWN_EXTRAS = {
    "lab": ("the rehearsal lab (a real HA pair on this machine, root)",
            "it ships in hatui's source repository, not in the operator's package: in a checkout run "
            "`make deps` (or `pip install -e .`), then `hatui lab ...`"),
}


@functools.cache
def extra_commands() -> tuple[dict[str, ModuleType], dict[str, str]]:
    """The installed subcommands of COMMANDS_GROUP, and why each known or declared one is missing."""
    found: dict[str, ModuleType] = {}
    missing: dict[str, str] = {}
    for entry in metadata.entry_points(group=COMMANDS_GROUP):
        if entry.name in found:
            continue
        try:
            found[entry.name] = entry.load()
        except ImportError as exc:  # declared by hatui's metadata, but its package is not installed
            missing[entry.name] = f"{entry.value} cannot be imported ({exc})"
    for name in KNOWN_EXTRAS:
        if name not in found:
            missing.setdefault(name, f"no package registers `{name}` in the entry-point group {COMMANDS_GROUP}")
    return found, missing


def not_installed(name: str, why: str) -> str:
    what, how = KNOWN_EXTRAS.get(name, (f"the `{name}` subcommand", "install the package that provides it"))
    return f"hatui {name}: {what} is not installed here ({why}); {how}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hatui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hatui {__version__}")
    parser.add_argument("--config", help="config file (default: $HATUI_CONFIG, then ~/.config/hatui/config.yaml)")
    parser.add_argument("--read-only", action="store_true", help="hide and refuse every action")
    parser.add_argument("--no-record", action="store_true",
                        help="do not record this live view's cycles (record.enabled in the config; docs/record.md)")
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("tui", help="the live terminal UI (the default)")
    st = sub.add_parser("status", help="one snapshot of both nodes, with findings")
    st.add_argument("--json", action="store_true", help="the full snapshot as JSON (docs/status-json.md)")
    sub.add_parser("check", help="one line and a Nagios exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    doc = sub.add_parser("doctor", help="hazards in both nodes' configuration, read-only (exit 0 none, 1 warnings, "
                         "2 critical)")
    doc.add_argument("--json", action="store_true", help="the hazards as JSON")
    from hatui.actions.cli import add_parsers as add_actions

    add_actions(sub)
    from hatui.record.cli import add_parsers as add_record

    add_record(sub)

    from hatui import init_cli, sudoers_cli

    sudoers_cli.add_parser(sub)
    init_cli.add_parser(sub)
    _global_options_everywhere(parser, parser)
    found, missing = extra_commands()
    for command in found.values():
        command.add_parser(sub)
    for name in missing:
        what = KNOWN_EXTRAS.get(name, (f"`{name}`",))[0]
        placeholder = sub.add_parser(name, help=f"{what} (not installed)", add_help=False)
        placeholder.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


GLOBAL_OPTIONS = ("--config", "--read-only", "--no-record")


def _global_options_everywhere(top: argparse.ArgumentParser, parser: argparse.ArgumentParser) -> None:
    """hatui's own options are taken after a subcommand too (`hatui status --config F`), at every level.
    A subcommand's copy has no default (SUPPRESS), so it sets the option only when given there."""
    for action in parser._actions:  # argparse keeps subcommands only here
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for child in dict.fromkeys(action.choices.values()):  # an alias maps to the same parser
            for flag in GLOBAL_OPTIONS:
                if flag in child._option_string_actions:
                    continue
                orig = top._option_string_actions[flag]
                kwargs = {"action": "store_true"} if orig.nargs == 0 else {"metavar": orig.metavar or "CONFIG"}
                child.add_argument(flag, dest=orig.dest, default=argparse.SUPPRESS, help=orig.help, **kwargs)
            _global_options_everywhere(top, child)


async def _snapshot(config):
    from hatui.collector import Collector

    collector = Collector(config, streams=False)
    try:
        return await collector.snapshot_once()
    finally:
        await collector.close()


def _with_fault_predictions(snap, config):
    """The snapshot with one finding per fault the pair can suffer, predicted from the live state and
    the nodes' configuration (read like `hatui doctor` does, one more round trip per node)."""
    import dataclasses

    from hatui import doctor_run, predict
    from hatui.diagnosis import SEVERITY_ORDER

    reads = asyncio.run(doctor_run.read_all(config))
    preds = predict.predict_all(snap, reads, config)
    findings = sorted((*snap.findings, *predict.prediction_findings(preds)),
                      key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
    return dataclasses.replace(snap, findings=tuple(findings)), preds


def nagios_unknown(why: str) -> str:
    """`hatui check`'s one stdout line when it could not look at the pair (a Nagios plugin prints one
    line on every path: the monitoring system shows it, and a second line would be taken as long output)."""
    from hatui.probes import printable

    return "HATUI UNKNOWN - " + " ".join(printable(why).split())


def main(argv: list[str] | None = None) -> int:
    """hatui's command line.  A reader that stops early (`hatui status | head`) ends the output quietly, with
    the shell's status for SIGPIPE, not a traceback."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a closed pipe fails here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush finds a sink
        return 141  # 128 + SIGPIPE, what a shell reports for a pipeline's writer


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    found, missing = extra_commands()
    if args.cmd in found:
        return found[args.cmd].run(args)
    if args.cmd in missing:
        print(not_installed(args.cmd, missing[args.cmd]), file=sys.stderr)
        return 2
    if args.cmd == "init":
        from hatui import init_cli

        return init_cli.run(args)
    from hatui.config import ConfigError, load

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"hatui: {exc}", file=sys.stderr)
        if args.cmd == "check":
            print(nagios_unknown(f"config: {exc}"))
            return 3
        return 2
    if args.cmd == "sudoers":
        from hatui import sudoers_cli

        return sudoers_cli.run(args, config)
    from hatui.actions.cli import handles

    if handles(args.cmd):
        from hatui.actions.cli import run as run_action

        return run_action(args, config, read_only=args.read_only or config.actions.read_only)
    if args.cmd == "doctor":
        from hatui import doctor_run

        return doctor_run.main(config, as_json=args.json)
    if args.cmd in ("status", "check"):
        from hatui import report

        try:
            snap = asyncio.run(_snapshot(config))
            if args.cmd == "check":
                code, line = report.to_check(snap, config)
                print(line)
                return code
        except Exception as exc:
            if args.cmd == "check":
                print(nagios_unknown(f"{type(exc).__name__}: {exc}"))
                return 3
            raise
        snap, preds = _with_fault_predictions(snap, config)
        print(report.to_json(snap, config, preds) if args.json else report.to_text(snap, config))
        return 0
    from hatui.record import cli as record_cli

    if args.cmd in ("record", "timeline"):
        return record_cli.run(args, config)
    if args.cmd == "replay":
        from hatui.record.store import RecordError

        try:
            recording, start = record_cli.open_recording(args, config)
        except (RecordError, ValueError) as exc:
            print(f"hatui replay: {exc}", file=sys.stderr)
            return 2
        from hatui.tui.replay import run_replay

        return run_replay(config, recording, start)
    return _live(config, args)


def _live(config, args) -> int:
    """The live view, recording unless --no-record or record.enabled: false.  A recording that cannot
    be opened is said on screen; the live view goes on."""
    from hatui.collector import Collector
    from hatui.record.recorder import Recorder
    from hatui.record.store import RecordError
    from hatui.tui.app import run_tui

    collector = Collector(config)
    recorder = notice = None
    if config.record.enabled and not args.no_record:
        try:
            recorder = Recorder.open(config)
            recorder.attach(collector)
        except RecordError as exc:
            notice = str(exc)
    try:
        return run_tui(config, read_only=args.read_only or config.actions.read_only, collector=collector,
                       recorder=recorder, record_notice=notice)
    finally:
        if recorder is not None:
            recorder.close()


if __name__ == "__main__":
    sys.exit(main())
