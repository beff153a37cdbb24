"""`hatui record` (the collection without a screen, for a machine that watches around the clock),
`hatui replay` (its options; the screen is started by hatui.cli) and `hatui timeline`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from hatui.config import Config
from hatui.record.store import RecordError, RecordReader
from hatui.record.times import parse_time, show_time

COMMANDS = ("record", "replay", "timeline")


def add_parsers(sub) -> None:
    rec = sub.add_parser("record", help="record every cycle without the TUI (for a machine that watches "
                                        "around the clock; docs/record.md)")
    rec.add_argument("--db", type=Path, help="the recording (default: record.path, then "
                                             "$XDG_STATE_HOME/hatui/record.sqlite)")
    rec.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: never)")
    rep = sub.add_parser("replay", help="the TUI on a recording: ←/→ a cycle, shift+←/→ a change, t a time, "
                                        "space play, +/- speed")
    rep.add_argument("--db", type=Path, help="the recording (default: the live view's)")
    rep.add_argument("--at", metavar="TIME", help="start at this time (1h = an hour ago, 2026-11-25 06:48:05, "
                                                  "06:48); default: the end")
    tl = sub.add_parser("timeline", help="every change across the layers, in time order (for a postmortem)")
    tl.add_argument("--since", metavar="TIME", help="1h, 30m (ago) or a time; default: the whole recording")
    tl.add_argument("--until", metavar="TIME", help="a time; default: now")
    tl.add_argument("--format", choices=("text", "md", "json"), default="text")
    tl.add_argument("--db", type=Path, help="the recording (default: the live view's)")


def db_path(args: argparse.Namespace, config: Config) -> Path:
    return args.db.expanduser() if getattr(args, "db", None) else config.record.db_path()


def run(args: argparse.Namespace, config: Config) -> int:
    if args.cmd == "record":
        return asyncio.run(record(config, db_path(args, config), args.duration))
    if args.cmd == "timeline":
        return timeline(args, config)
    raise ValueError(args.cmd)


async def record(config: Config, db: Path, duration_s: float | None = None) -> int:
    from hatui.collector import Collector
    from hatui.record.recorder import Recorder

    try:
        recorder = Recorder.open(config, db)
    except RecordError as exc:
        print(f"hatui record: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()

    def failed(why: str) -> None:
        print(f"hatui record: {why}", file=sys.stderr)
        stop.set()

    recorder.on_error = failed
    collector = Collector(config)
    recorder.attach(collector)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"hatui record: recording the pair of {config.path} into {db} (SIGTERM or Ctrl-C stops)", flush=True)
    started = time.monotonic()
    collector.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration_s)
    finally:
        await collector.close()
        recorder.close()
    print(f"hatui record: {recorder.cycles} node cycles recorded in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if recorder.error else 0


def open_recording(args: argparse.Namespace, config: Config):
    """(Recording, start frame) for `hatui replay`; raises RecordError or ValueError (a bad --at)."""
    from hatui.record.rebuild import Recording

    recording = Recording(RecordReader(db_path(args, config)), config)
    if not len(recording):
        raise RecordError(f"{db_path(args, config)}: the recording holds no cycle yet")
    start = len(recording) - 1
    if args.at:
        import bisect

        at = parse_time(args.at, time.time())
        start = max(0, bisect.bisect_right(recording.times, at) - 1)
    return recording, start


def timeline(args: argparse.Namespace, config: Config) -> int:
    from hatui.actions.audit import LOCAL_AUDIT
    from hatui.record import timeline_format
    from hatui.record.rebuild import build_timeline

    now = time.time()
    try:
        since = parse_time(args.since, now) if args.since else None
        until = parse_time(args.until, now) if args.until else None
    except ValueError as exc:
        print(f"hatui timeline: {exc}", file=sys.stderr)
        return 2
    try:
        reader = RecordReader(db_path(args, config))
        try:
            audit = LOCAL_AUDIT.read_text(errors="replace").splitlines()
        except OSError:
            audit = []
        events = build_timeline(reader, config, since, until, audit)
    except RecordError as exc:
        print(f"hatui timeline: {exc}", file=sys.stderr)
        return 2
    offsets: dict[str, float] = {}
    for e in events:
        if e.clock_offset_s is not None:
            offsets[e.node] = e.clock_offset_s
    if args.format == "json":
        print(timeline_format.to_json(events, since, until))
    elif args.format == "md":
        span = reader.span()
        lo = since if since is not None else (span[0] if span else now)
        hi = until if until is not None else (span[1] if span else now)
        print(timeline_format.to_markdown(events, f"{show_time(lo)} – {show_time(hi)} (VIP {config.vip})", offsets))
    else:
        print(timeline_format.to_text(events))
    return 0
