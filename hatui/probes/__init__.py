"""What to run on a node and pure parsers of what comes back, one module per subsystem.

Every parser takes text (or rows) and returns `hatui.model.Parsed`; none raises on odd input.  Every
command is a constant or is built from a validated name with `shlex.quote`.  This module holds the
few helpers they share."""

from __future__ import annotations

import functools
import math
import re
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

UINT64_MAX = 2**64 - 1  # "-1" printed as unsigned by Galera and others

# What a node may send for one command.  The largest real outputs hatui reads are a keepalived data
# dump (tens of KB) and a failover-log catch-up read; 1 MiB is far above both and, at the parsers'
# ≤ 0.2 s per MB (benchmarks/parsers.py), bounds the parse time of one output.  The collector cuts
# each output with `cap_output`; `never_raises` also cuts every parser's text input at
# MAX_OUTPUT_BYTES characters (a character is at least one byte), so no parser ever sees more.
MAX_OUTPUT_BYTES = 1024 * 1024
# ... and at most this many lines: the parsers spend 1-10 µs of Python per line, so a megabyte of
# one-character lines (500,000 of them) would take seconds.  Real outputs stay far below (a data
# dump has a few hundred lines, 1 MiB of failover log about 10,000).
MAX_OUTPUT_LINES = 20_000
MAX_DRBD_LINES = 5_000  # DRBD outputs are a few lines per resource; their per-line work is the largest
MAX_ITEMS = 5_000  # JSON array items (resources, VRRP instances) parsed per output
MAX_INT_DIGITS = 40  # longer digit runs are not a counter from these tools (and int() of 4301+ raises)

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_INT_RE = re.compile(r"[-+]?[0-9]+")  # ASCII digits only: '²'.isdigit() and '٣'.isdecimal() are True
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9_./@+-]*$")


def strip_ansi(text: str) -> str:
    """Remove colour escapes (`ssh -t` makes drbd-utils colour its states)."""
    return _ANSI_RE.sub("", text)


def to_int(text: str | None) -> int | None:
    """`"64,800"` → 64800; `"-1"` → -1; anything else (also 41+ digits) → None."""
    if text is None:
        return None
    text = text.strip().replace(",", "")
    if len(text) > MAX_INT_DIGITS + 1 or not _INT_RE.fullmatch(text):
        return None
    return int(text)


def to_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def to_bool(text: str | None) -> bool | None:
    """yes/no, ON/OFF, true/false, 1/0 → bool; anything else → None."""
    if text is None:
        return None
    low = text.strip().lower()
    if low in ("yes", "on", "true", "1"):
        return True
    if low in ("no", "off", "false", "0"):
        return False
    return None


def valid_name(name: str) -> str:
    """A resource/instance name safe to use in a command; raises ValueError (a config error, not a
    parse error) otherwise.  Callers still shlex.quote it."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"{name!r} is not a valid name: expected letters, digits and _.+- (max 128)")
    return name


def valid_path(path: str) -> str:
    if not isinstance(path, str) or not _PATH_RE.match(path) or "/../" in f"{path}/":
        raise ValueError(f"{path!r} is not a valid absolute path")
    return path


def quote(arg: str) -> str:
    return shlex.quote(arg)


def snippet(text: str, limit: int = 80) -> str:
    """A short printable excerpt of odd input for an `unparsed` note."""
    text = text.replace("\x00", "\\0")
    return repr(text if len(text) <= limit else text[:limit] + "…")


def dedupe(notes: list[str]) -> tuple[str, ...]:
    """Notes in first-seen order, repeats counted: `"x (×13)"` rather than thirteen lines."""
    counts: dict[str, int] = {}
    for n in notes:
        counts[n] = counts.get(n, 0) + 1
    return tuple(n if c == 1 else f"{n} (×{c})" for n, c in counts.items())


# ---- remote text is data -------------------------------------------------------------------------
# Terminal escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST` such as OSC 52, which writes
# the clipboard, and DCS/SOS/PM/APC `ESC P|X|^|_ ... ST`, 7- and 8-bit forms) are removed whole; then
# every other C0/C1 control, DEL and lone ESC.  Each pattern is linear: the string bodies stop at the
# first ESC/terminator, so a run of unterminated introducers is scanned once.
_ESC_SEQ_RE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                                 # CSI
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?")                                                # other ESC sequences
# str.splitlines' line ends that are controls, folded to "\n" so lines survive; \r and \n are kept.
_CONTROL_LINE_ENDS = "\v\f\x1c\x1d\x1e\x85"
_ALL_LINE_ENDS = "\r\n" + _CONTROL_LINE_ENDS + "\u2028\u2029"
_LINE_END_TABLE = {ord(c): "\n" for c in _CONTROL_LINE_ENDS}
_CONTROLS_KEEP_LINES = {c: None for c in (*range(0x00, 0x20), *range(0x7f, 0xa0)) if chr(c) not in "\t\n\r"}
_CONTROLS_ONE_LINE = {c: None for c in (*range(0x00, 0x20), *range(0x7f, 0xa0)) if chr(c) != "\t"}
for _c in _ALL_LINE_ENDS:
    _CONTROLS_ONE_LINE[ord(_c)] = " "


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def printable(text: str, keep_lines: bool = False) -> str:
    """`text` without terminal escape sequences and C0/C1 control characters (TAB kept).  With
    `keep_lines`, line ends stay line ends (\n, \r; \v \f \x1c-\x1e NEL become \n); without, every
    line end becomes a space.  For every string that came from a node before it reaches a value, a
    note or a terminal."""
    if text.isprintable():  # the common case: nothing to do (isprintable is False for \t and \n too)
        return text
    text = _ESC_SEQ_RE.sub("", text)
    # bytes that were not UTF-8 arrive as lone surrogates (the shell decodes with surrogateescape):
    # a terminal cannot print them
    text = _SURROGATE_RE.sub("\ufffd", text)
    if keep_lines:
        return text.translate(_LINE_END_TABLE).translate(_CONTROLS_KEEP_LINES)
    return text.rstrip(_ALL_LINE_ENDS).translate(_CONTROLS_ONE_LINE)


# ---- secrets -------------------------------------------------------------------------------------
REDACTED = "********"
# runs of plain characters at a time (the `"?` at the end cannot fail, so the nesting cannot backtrack)
_JSON_SECRET_RE = re.compile(r'("(?:auth_data|auth_pass)"\s*:\s*)"(?:[^"\\]+|\\.)*"?')
# Applied to one line at a time (the line end split off), so `\s*` cannot run across lines.
_DATA_SECRET_RE = re.compile(r"\s*(?:Password|Auth(?:entication)? data|auth_pass)\s*[=:]?\s*", re.IGNORECASE)
_SECRET_HINT_RE = re.compile(r"password|auth", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """Remove VRRP passwords from a keepalived JSON or data dump (also from a truncated one), for every
    line end str.splitlines knows (\n, \r, \r\n, \v, \f, \x1c-\x1e, NEL, U+2028/9): the parsers
    split on all of them, so a password line ended by \r or NEL must be redacted too.  Linear time."""
    if not _SECRET_HINT_RE.search(text):
        return text
    text = _JSON_SECRET_RE.sub(rf'\1"{REDACTED}"', text)
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip(_ALL_LINE_ENDS)
        m = _DATA_SECRET_RE.match(body)
        out.append(m.group(0) + REDACTED + line[len(body):] if m else line)
    return "".join(out)


def cap_output(text: str, limit_bytes: int = MAX_OUTPUT_BYTES) -> tuple[str, str | None]:
    """(text cut to at most `limit_bytes` of UTF-8, at the last line end before the limit if there is
    one, and a note saying so), or (text, None) when it fits.  For the collector, per command output."""
    if len(text) * 4 <= limit_bytes:
        return text, None
    data = text.encode("utf-8", errors="surrogateescape")
    if len(data) <= limit_bytes:
        return text, None
    head = data[:limit_bytes]
    nl = head.rfind(b"\n")
    if nl >= limit_bytes // 2:
        head = head[:nl + 1]
    kept = head.decode("utf-8", errors="ignore")
    return kept, (f"output cut to its first {len(head):,} of {len(data):,} bytes (limit {limit_bytes:,}): "
                  "the rest was not read")


_LINE_END_RE = re.compile("\r\n|[" + _ALL_LINE_ENDS + "]")


def _end_of_line(text: str, n: int) -> int | None:
    """The index just past the `n`-th line end of `text` (as str.splitlines counts them), or None
    when `text` has no more than `n` lines."""
    if len(text) <= n:
        return None
    for i, m in enumerate(_LINE_END_RE.finditer(text), 1):
        if i == n:
            return m.end() if m.end() < len(text) else None
    return None


# ---- the "never raises" promise --------------------------------------------------------------------
INTERNAL_ERROR = "internal parser error"
_F = TypeVar("_F", bound=Callable[..., Any])


def never_raises(one_line: bool = False, max_lines: int = MAX_OUTPUT_LINES) -> Callable[[_F], _F]:
    """What every parser gets before and after it runs:

    * its text input cut to MAX_OUTPUT_BYTES characters and `max_lines` lines (a note says so), so
      parse time stays bounded;
    * VRRP passwords redacted from it (any output may hold a dump when a batch is split wrongly), so
      neither `raw` nor a note can hold one;
    * terminal controls removed from it (`printable`; line ends kept unless `one_line`), so no value,
      note or `raw` carries an escape sequence to a terminal;
    * a bug on odd input becomes an `unparsed` note (starting with INTERNAL_ERROR, which the robustness
      tests look for) instead of a crash."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def safe(source: Any, *args: Any, **kwargs: Any) -> Any:
            from hatui.model import Parsed

            cut_note = None
            if isinstance(source, str):
                if len(source) > MAX_OUTPUT_BYTES:
                    cut_note = (f"input cut to its first {MAX_OUTPUT_BYTES:,} of {len(source):,} characters "
                                "(MAX_OUTPUT_BYTES): the rest was not parsed")
                    source = source[:MAX_OUTPUT_BYTES]
                if not one_line and (end := _end_of_line(source, max_lines)) is not None:
                    cut_note = f"input cut to its first {max_lines:,} lines: the rest was not parsed"
                    source = source[:end]
                source = printable(redact_secrets(source), keep_lines=not one_line)
            try:
                result = fn(source, *args, **kwargs)
            except Exception as exc:
                raw = source if isinstance(source, str) else ""
                result = Parsed(None, (f"{INTERNAL_ERROR} in {fn.__name__}: {type(exc).__name__}: {short(exc, 200)}",),
                                raw)
            if cut_note and isinstance(result, Parsed):
                result = Parsed(result.value, (*result.unparsed, cut_note), result.raw)
            return result

        return safe  # type: ignore[return-value]

    return wrap


def short(text: object, limit: int = 60) -> str:
    """A name from the input, cut to fit in a note (and made printable)."""
    s = printable(str(text))
    return s if len(s) <= limit else s[:limit] + "…"
