"""The timeline printed: text for a terminal, Markdown ready to paste into a postmortem, JSON."""

from __future__ import annotations

import json

from hatui.record.times import show_time
from hatui.record.timeline import Event


def _offset(e: Event) -> str:
    if e.clock_offset_s is None:
        return ""
    return f" [{e.node}'s clock {e.clock_offset_s:+.1f} s vs this machine's; node time {e.node_time}]"


def to_text(events: list[Event]) -> str:
    if not events:
        return "no changes in this time range"
    lines = []
    for e in events:
        lines.append(f"{show_time(e.at_epoch_s, ms=True)}  {e.node:<6} {e.source:<13} {e.text}{_offset(e)}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(events: list[Event], title: str, offsets: dict[str, float]) -> str:
    out = [f"## Timeline: {title}", ""]
    out.append("Times are the watching machine's clock when hatui saw each change (both nodes on one clock).")
    for node, off in sorted(offsets.items()):
        out.append(f"**{node}'s clock is off by about {off:+.1f} s**: its own timestamps (failover log, "
                   "keepalived) are shown as they were printed.")
    out += ["", "| time | node | source | what happened |", "|---|---|---|---|"]
    for e in events:
        out.append(f"| {show_time(e.at_epoch_s, ms=True)} | {_cell(e.node)} | {e.source} | "
                   f"{_cell(e.text)}{_cell(_offset(e))} |")
    if not events:
        out.append("| | | | no changes in this time range |")
    return "\n".join(out) + "\n"


def to_json(events: list[Event], since: float | None, until: float | None) -> str:
    return json.dumps({"since_epoch_s": since, "until_epoch_s": until,
                       "events": [dict(e.to_dict(), time=show_time(e.at_epoch_s, ms=True)) for e in events]},
                      indent=1)
