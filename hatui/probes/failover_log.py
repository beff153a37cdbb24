"""The notify script's log: one line per VRRP transition, written by the seed's notify.sh as

    2026-11-25 06:20:36 - Keepalived notification on VI_1: State changed to MASTER (Type: INSTANCE)

Parsers, a time-ordered merge of both nodes' logs, and an incremental reader that is fed new text as
it arrives (e.g. from `tail -c +N` or a stream) and never re-reads.  Pure: no I/O here."""

from __future__ import annotations

import codecs
import collections
import re
from collections.abc import Iterable
from datetime import datetime

from hatui.model import FailoverEvent, Parsed
from hatui.probes import dedupe, never_raises, quote, snippet, valid_path

DEFAULT_PATH = "/var/log/keepalived_failover.log"
MAX_UNPARSED_NOTES = 200  # FailoverLogTail keeps the latest notes, counts the rest


def read_from_command(path: str = DEFAULT_PATH, offset_bytes: int = 0) -> str:
    """Everything after `offset_bytes` (use `FailoverLogTail.bytes_consumed`), preceded by one line with
    the file's current size so a rotated or truncated file can be noticed (`size < offset`)."""
    p = quote(valid_path(path))
    return f"stat -c %s {p} 2>/dev/null || echo 0; tail -c +{max(0, int(offset_bytes)) + 1} {p} 2>/dev/null || true"


def split_read_from_output(output: str) -> tuple[int | None, str]:
    """(file size in bytes, new text) from the output of `read_from_command`."""
    first, _, rest = output.partition("\n")
    size = first.strip()
    return (int(size), rest) if size.isascii() and size.isdigit() and len(size) < 20 else (None, output)


_PREFIX_RE = re.compile(r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - Keepalived notification on ")
_MID, _TYPE = ": State changed to ", " (Type: "
_NON_SPACE_RE = re.compile(r"\S*")


def _fields(line: str) -> tuple[str, str, str, str] | None:
    r"""(time, name, state, type) of `<ts> - Keepalived notification on <name>: State changed to <state>
    (Type: <type>)`, or None.  The same result as the regex `... on (.+?): State changed to (\S+)
    \(Type: ([^)]*)\)\s*$`, by string search: that regex retried its tail at every `: State changed
    to ` in a line, quadratic on a line made of them.  The name is the shortest that fits, as `.+?`."""
    m = _PREFIX_RE.match(line)
    if not m:
        return None
    s = line.rstrip()
    if not s.endswith(")"):
        return None
    close = len(s) - 1
    last_paren = s.rfind(")", 0, close)  # the type holds no ")": its "(Type: " comes after this one
    pos = m.end() + 1  # the name has at least one character
    while (i := s.find(_MID, pos)) >= 0:
        state_start = i + len(_MID)
        state_end = _NON_SPACE_RE.match(s, state_start).end()
        type_start = state_end + len(_TYPE)
        if (state_end > state_start and s.startswith(_TYPE, state_end) and type_start <= close
                and last_paren < type_start):
            return m["ts"], s[m.end():i], s[state_start:state_end], s[type_start:close]
        pos = i + 1
    return None


def _timestamp(ts: str) -> datetime | None:
    """`2026-11-25 06:20:36` (digits already checked by _PREFIX_RE) → datetime; strptime cost 10 µs."""
    try:
        return datetime(int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]), int(ts[17:19]))
    except ValueError:
        return None


def _line_event(line: str, node: str) -> tuple[FailoverEvent, str | None]:
    """The event of one cleaned line and a note if it was not understood."""
    line = line.rstrip("\r\n")
    f = _fields(line)
    ts = _timestamp(f[0]) if f else None
    if not f or ts is None:
        return FailoverEvent(None, node, None, None, None, line), f"{node}: not understood: {snippet(line)}"
    return FailoverEvent(ts, node, f[1], f[2], f[3], line), None


@never_raises(one_line=True)
def parse_failover_line(line: str, node: str) -> Parsed[FailoverEvent]:
    """One line.  An unparseable line still gives an event with only `node` and `raw`, plus a note."""
    event, note = _line_event(line, node)
    return Parsed(event, (note,) if note else (), event.raw)


@never_raises()
def parse_failover_log(text: str, node: str) -> Parsed[tuple[FailoverEvent, ...]]:
    """Every non-blank line, in file order; unparseable ones are kept (raw only) and noted."""
    events: list[FailoverEvent] = []
    notes: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        event, note = _line_event(line, node)
        events.append(event)
        if note:
            notes.append(note)
    return Parsed(tuple(events), dedupe(notes), text)


def merge_failover_events(*logs: Iterable[FailoverEvent]) -> tuple[FailoverEvent, ...]:
    """Both nodes' events in time order.  Stable: equal times keep the order of `logs` and of each file.
    An event without a time stays right after the event before it in its own file.  The times are
    each node's local clock: skew between nodes shows up as-is."""
    keyed: list[tuple[datetime, int, int, FailoverEvent]] = []
    for log_index, log in enumerate(logs):
        last = datetime.min
        for pos, ev in enumerate(log):
            if ev.timestamp is not None:
                last = ev.timestamp
            keyed.append((last, log_index, pos, ev))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return tuple(k[3] for k in keyed)


class FailoverLogTail:
    """Incremental reader: `feed()` new text (str, or bytes that may end mid-character) and get the
    events of the lines completed by it.  A partial last line waits for the next chunk.

    `bytes_consumed` counts every byte fed (str is counted as its UTF-8 encoding), i.e. the file
    offset to read from next (`read_from_command(path, tail.bytes_consumed)`).
    If the file is now smaller than that, it was rotated or truncated: call `reset()`."""

    def __init__(self, node: str, max_line_chars: int = 65536, max_notes: int = MAX_UNPARSED_NOTES) -> None:
        self.node = node
        self.max_line_chars = max_line_chars
        self.bytes_consumed = 0
        # Notes of the latest lines not understood; older ones are counted, not kept (a log flood of
        # odd lines must not grow memory: 1M lines kept every note, 137 MB).
        self._unparsed: collections.deque[str] = collections.deque(maxlen=max(1, max_notes))
        self.unparsed_dropped = 0
        self._buf = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def unparsed(self) -> list[str]:
        """The latest notes (at most `max_notes`), preceded by one saying how many older ones were
        dropped, if any."""
        head = [f"{self.node}: {self.unparsed_dropped} older notes of lines not understood were dropped"] \
            if self.unparsed_dropped else []
        return head + list(self._unparsed)

    @property
    def pending(self) -> str:
        """The incomplete last line, not yet turned into an event."""
        return self._buf

    def rotated(self, file_size_bytes: int) -> bool:
        return file_size_bytes < self.bytes_consumed

    def reset(self) -> None:
        self.bytes_consumed = 0
        self._buf = ""
        self._decoder.reset()

    def feed(self, chunk: str | bytes) -> tuple[FailoverEvent, ...]:
        if isinstance(chunk, bytes):
            self.bytes_consumed += len(chunk)
            chunk = self._decoder.decode(chunk)
        else:  # exact as long as the remote text was valid UTF-8
            self.bytes_consumed += len(chunk.encode("utf-8", errors="surrogateescape"))
        *complete, self._buf = (self._buf + chunk).split("\n")
        if len(self._buf) > self.max_line_chars:  # a writer that never ends its line: do not grow forever
            complete.append(self._buf)
            self._buf = ""
        return self._events(complete)

    def flush(self) -> tuple[FailoverEvent, ...]:
        """Treat the pending partial line as complete (when the writer is known to be done)."""
        rest = self._buf + self._decoder.decode(b"", final=True)
        self._buf = ""
        return self._events([rest])

    def _events(self, lines: list[str]) -> tuple[FailoverEvent, ...]:
        out = []
        for line in lines:
            if not line.strip():
                continue
            p = parse_failover_line(line, self.node)
            for note in p.unparsed:
                if len(self._unparsed) == self._unparsed.maxlen:
                    self.unparsed_dropped += 1
                self._unparsed.append(note)
            if p.value is not None:
                out.append(p.value)
        return tuple(out)


class FailoverLogReader:
    """One node's failover log as the live loop reads it: the last lines once, then only what was
    appended (by byte offset), with the file's size every `SIZE_EVERY` cycles to notice a rotation or
    truncation, after which it starts over.

    Each read is capped at `MAX_READ_BYTES`, and the offset advances by what was read: a log that
    grew by megabytes between two polls (a flapping notify script, a flood) is caught up over several
    cycles while the node stays readable.  When it is more than `MAX_BACKLOG_BYTES` behind, the
    reader jumps to the newest part and says how much it skipped (one event in the log)."""

    SIZE_EVERY = 10
    FIRST_LINES = 200
    MAX_READ_BYTES = 256 * 1024
    MAX_BACKLOG_BYTES = 4 * 1024 * 1024

    def __init__(self, node: str, path: str) -> None:
        self.node = node
        self.path = valid_path(path)
        self.tail = FailoverLogTail(node)
        self.started = False
        self.behind = False  # the last read was capped: read the size again
        self.skipped_bytes = 0  # in all, for notes
        self._drop_partial = False  # after a jump: the first (cut) line is not a line

    def command(self, cycle: int) -> str:
        p, cap = quote(self.path), self.MAX_READ_BYTES
        if not self.started:
            return (f"stat -c %s {p} 2>/dev/null || echo 0; "
                    f"tail -n {self.FIRST_LINES} {p} 2>/dev/null | tail -c {cap} || true")
        read = f"tail -c +{self.tail.bytes_consumed + 1} {p} 2>/dev/null | head -c {cap}"
        if cycle % self.SIZE_EVERY and not self.behind:
            return f"echo -; {read}"
        return f"stat -c %s {p} 2>/dev/null || echo 0; {read}"

    def absorb(self, output: str) -> tuple[FailoverEvent, ...]:
        """The events of the lines completed by this cycle's output."""
        if output.startswith("-\n"):
            size, text = None, output[2:]
        else:
            size, text = split_read_from_output(output)
        if not self.started:
            events = self.tail.feed(text.partition("\n")[2] if _bytes(text) >= self.MAX_READ_BYTES else text)
            self.tail.bytes_consumed = size or 0
            self.started = True
            return events
        if size is not None and self.tail.rotated(size):
            self.tail.reset()
            self.started = self.behind = False
            return ()
        read = _bytes(text)
        self.behind = read >= self.MAX_READ_BYTES
        out: list[FailoverEvent] = []
        if self._drop_partial:
            cut, nl, rest = text.partition("\n")
            if nl:
                self.tail.bytes_consumed += _bytes(cut) + 1
                text, self._drop_partial = rest, False
            else:
                self.tail.bytes_consumed += read
                text = ""
        out.extend(self.tail.feed(text))
        if size is not None and size - self.tail.bytes_consumed > self.MAX_BACKLOG_BYTES:
            # too far behind to catch up: jump to the newest part, say so
            jump_to = size - self.MAX_READ_BYTES
            skipped = jump_to - self.tail.bytes_consumed
            self.skipped_bytes += skipped
            self.tail.reset()
            self.tail.bytes_consumed = jump_to
            self._drop_partial = True
            self.behind = True
            out.append(FailoverEvent(None, self.node, None, None, None,
                                     f"[hatui] skipped {skipped:,} bytes of {self.path}: it grew faster than "
                                     "hatui reads it (a flapping notify script or a flood?)"))
        return tuple(out)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogateescape"))


def follow_command(path: str) -> str:
    """A line for every line appended, across rotation (`tail -F`): streamed, it wakes the node's loop,
    which reads the new text by offset as always."""
    return f"tail -n 0 -F {quote(valid_path(path))}"
