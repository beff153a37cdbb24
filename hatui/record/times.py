"""The times the replay and the timeline are given: `1h`, `30m`, `2d`, `90s` (that long before now),
or a local date and time (`2026-11-25 06:48:05`, `2026-11-25T06:48`, `06:48:05` today)."""

from __future__ import annotations

import re
from datetime import datetime

_AGO_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TODAY = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M")


def parse_time(text: str, now: float) -> float:
    """Epoch seconds.  Raises ValueError with the accepted forms."""
    t = text.strip().replace("T", " ")
    m = _AGO_RE.match(t)
    if m:
        return now - float(m[1]) * _UNITS[m[2]]
    for fmt in _FORMATS:
        try:
            return datetime.strptime(t, fmt).timestamp()
        except ValueError:
            pass
    for fmt in _TODAY:
        try:
            clock = datetime.strptime(t, fmt).time()
        except ValueError:
            continue
        return datetime.combine(datetime.fromtimestamp(now).date(), clock).timestamp()
    raise ValueError(f"{text!r} is not a time: give e.g. 1h, 30m, 90s (ago), 2026-11-25 06:48:05, or 06:48 (today)")


def show_time(epoch_s: float, ms: bool = False) -> str:
    dt = datetime.fromtimestamp(epoch_s)
    return dt.isoformat(sep=" ", timespec="milliseconds" if ms else "seconds")
