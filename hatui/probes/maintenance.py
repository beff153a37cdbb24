"""The maintenance hook's file on a node: since when its value stands (the file's mtime, the node's
clock) and who wrote it last (the newest hatui audit record on the node that names the file).

A value left there by a switchover pins the pair: the node cannot preempt back while it stands."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hatui.model import Parsed
from hatui.probes import never_raises, printable, quote, short, to_int, valid_path

NODE_AUDIT = "/var/log/hatui-audit.log"  # where the executor appends its records on each node


@dataclass(frozen=True)
class MaintenanceMark:
    since_epoch_s: int | None  # mtime of the file (the node's clock)
    by: str | None  # "alice@ws1 (switchover to node2, 2026-12-01T03:12:00+0000)"


def command(path: str, audit: str = NODE_AUDIT) -> str:
    """mtime, then the newest audit line naming the file; prints nothing when the file is empty/absent."""
    p, a = quote(valid_path(path)), quote(valid_path(audit))
    return f"[ -s {p} ] && stat -c %Y {p} && {{ grep -F {p} {a} 2>/dev/null | tail -n 1; true; }}"


@never_raises()
def parse_mark(text: str) -> Parsed[MaintenanceMark]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return Parsed(None, (), text)
    since = to_int(lines[0])
    by = None
    notes: list[str] = []
    if len(lines) > 1:
        try:
            rec = json.loads(lines[-1])
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            who = f"{rec.get('user', '?')}@{rec.get('host', '?')}"
            what = " ".join(str(x) for x in (rec.get("action"), "to" if rec.get("action") == "switchover" else "",
                                                rec.get("target")) if x)
            by = printable(short(f"{who} ({what}, {rec.get('time', '?')})", 120))
        else:
            notes.append("maintenance: the audit line naming the file is not a hatui record")
    return Parsed(MaintenanceMark(since, by), tuple(notes), text)
