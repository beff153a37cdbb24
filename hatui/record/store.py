"""The recording: one SQLite file (WAL), one writer, every cycle of every node and of the web page.

A cycle row holds what that source printed (the raw poll as JSON) zlib-compressed:
* a *keyframe* on its own, at least every PERIOD_S per source and after a big change;
* otherwise a *delta*: compressed with the source's current keyframe as zlib's preset dictionary, so
  only what differs from it costs bytes (keepalived's counters, the wsrep byte counts);
* a cycle identical to the source's previous one stores no data at all: `same_as` names the row
  that holds it (a row reference, not a copy).
Every reference points at most PERIOD_S back, so decoding a row reads at most two others, and the
retention (by age and by size, enforced while recording) can cut anywhere, keeping only rows still
referenced from after the cut.

One writer: an exclusive `flock` on `<db>.lock` (released by the kernel when the process dies, so
a crash never leaves a stale lock); a second recorder gets RecordError naming the first.  Readers
(`hatui replay`, `hatui timeline`) open the file read-only and may run beside the writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1"
PERIOD_S = 600.0  # a keyframe per source at least this often: references never reach further back
WARMUP_CYCLES = 5  # a source's first cycles are odd (signal numbers learnt, the log's backlog, MariaDB
# connecting): a keyframe made of them would make every later delta carry those outputs; one more after
KEYFRAME_RATIO = 0.5  # a delta larger than this share of its keyframe: write a new keyframe instead
RETENTION_EVERY_S = 60.0
BUSY_TIMEOUT_S = 0.5  # the live view writes from its event loop: never wait long on a lock
ZDICT_BYTES = 32768  # zlib's window: a longer preset dictionary is used from its end only

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,          -- this machine's clock (epoch s) when the answer arrived
    kind TEXT NOT NULL,        -- 'node' or 'web'
    node TEXT,                 -- the node's name ('node' rows)
    reachable INTEGER NOT NULL,
    error TEXT, error_kind TEXT,
    latency_ms REAL,
    base INTEGER,              -- the keyframe this row's data is a delta against (NULL: a keyframe)
    same_as INTEGER,           -- identical to this earlier row's data (this row holds none)
    data BLOB,
    changed INTEGER NOT NULL,  -- its facts (timeline.py) differ from the source's previous row
    facts TEXT                 -- those facts, as JSON, on changed rows
);
CREATE INDEX IF NOT EXISTS cycles_at ON cycles (at);
CREATE TABLE IF NOT EXISTS log_lines (
    id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, at REAL NOT NULL, node TEXT NOT NULL, raw TEXT NOT NULL,
    backlog INTEGER NOT NULL DEFAULT 0);  -- 1: read at the start of a session (the log's last lines), not new
CREATE INDEX IF NOT EXISTS log_lines_at ON log_lines (at);
"""


class RecordError(Exception):
    """The recording cannot be opened, written or read: the message says which file and why."""


@dataclass(frozen=True)
class Row:
    """One recorded cycle, without its data."""

    id: int
    at: float
    kind: str  # node | web
    node: str | None
    reachable: bool
    error: str | None
    error_kind: str | None
    latency_ms: float | None
    changed: bool

    @property
    def source(self) -> str:
        return self.node if self.kind == "node" and self.node else "web"


_ROW_COLUMNS = "id, at, kind, node, reachable, error, error_kind, latency_ms, changed"


def _row(t: tuple) -> Row:
    return Row(t[0], t[1], t[2], t[3], bool(t[4]), t[5], t[6], t[7], bool(t[8]))


def encode(doc: Any) -> bytes:
    """Canonical JSON (lone surrogates from the shell's surrogateescape survive as \\udcXX escapes)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _flat(doc: Any) -> dict[str, Any]:
    """A raw poll as one level of keys (`batch/ka_json`, `galera_rows`, ...): what a delta compares."""
    if not isinstance(doc, dict):
        return {"": doc}
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if isinstance(v, dict) and v:
            out.update({f"{k}/{k2}": v2 for k2, v2 in v.items()})
        else:
            out[k] = v
    return out


def _unflat(flat: dict[str, Any]) -> Any:
    if set(flat) == {""}:
        return flat[""]
    out: dict[str, Any] = {}
    for k, v in flat.items():
        top, slash, sub = k.partition("/")
        if slash:
            out.setdefault(top, {})[sub] = v
        else:
            out[top] = v
    return out


def delta(base: Any, doc: Any) -> dict[str, Any]:
    """What differs from the keyframe: the changed outputs whole ("~"), the keys gone ("-")."""
    b, d = _flat(base), _flat(doc)
    return {"~": {k: v for k, v in d.items() if k not in b or b[k] != v}, "-": [k for k in b if k not in d]}


def undelta(base: Any, change: dict[str, Any]) -> Any:
    flat = _flat(base)
    for k in change.get("-", ()):
        flat.pop(k, None)
    flat.update(change.get("~", {}))
    return _unflat(flat)


def _why(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{path}: the database is locked by another program ({text}); nothing is recorded"
    if (isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)) or \
            "not a database" in text or "malformed" in text:
        return (f"{path}: not a usable hatui recording ({text}): move it away (a new one is started) "
                "or pass --no-record")
    return f"{path}: {text}"


@dataclass
class _Source:
    """The writer's memory of one source (a node, or the web page) between its cycles."""

    last_doc: bytes | None = None
    holder_id: int | None = None  # the row holding last_doc's data
    base_id: int | None = None
    base_at: float = 0.0
    base_doc: bytes = b""
    base_value: Any = None
    base_size: int = 0
    facts: str | None = None
    cycles: int = 0


class RecordStore:
    """The one writer of a recording.  Raises RecordError (already held by another recorder, not a
    database, locked, unwritable); every method after that raises RecordError too, never sqlite3's."""

    def __init__(self, path: Path, retention_days: float = 14.0, max_mb: float = 500.0,
                 clock=time.time) -> None:
        self.path = path
        self.retention_s = retention_days * 86400
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.clock = clock
        self._sources: dict[str, _Source] = {}
        self._lock_fd = self._lock()
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # effective on a new file only
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise RecordError(f"{path}: cannot switch to WAL mode (got {mode!r}): is it on a network file system?")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.executescript(_SCHEMA)
            version = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif version[0] != SCHEMA_VERSION:
                raise RecordError(f"{path}: recorded by another hatui (schema {version[0]}, this one writes "
                                  f"{SCHEMA_VERSION}): move it away or set record.path")
        except sqlite3.Error as exc:
            self._unlock()
            raise RecordError(_why(path, exc)) from None
        except RecordError:
            self._unlock()
            raise
        self._retained_at = 0.0
        self.enforce_retention()

    # ---- one writer ---------------------------------------------------------------------------------
    def _lock(self) -> int:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise RecordError(f"{lock_path}: cannot create the recorder's lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RecordError(f"{self.path}: another recorder is writing it ({holder}); one writer per "
                              "recording: stop that one, or give this one its own record.path / --db, "
                              "or pass --no-record") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        return fd

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        self._unlock()

    # ---- writing ------------------------------------------------------------------------------------
    def write(self, kind: str, node: str | None, at: float, *, reachable: bool, doc: Any = None,
              facts: dict[str, str] | None = None, error: str | None = None, error_kind: str | None = None,
              latency_ms: float | None = None, log_lines: list[str] = (),  # type: ignore[assignment]
              backlog: bool = False) -> int:
        """Record one cycle of one source; returns its row id.  `doc` is the raw poll (None when the
        source did not answer); `facts` what the timeline compares (hatui.record.timeline)."""
        src = self._sources.setdefault(f"{kind}:{node or ''}", _Source())
        facts_text = json.dumps(facts, sort_keys=True) if facts is not None else None
        changed = facts_text != src.facts
        base = same_as = data = None
        if doc is not None:
            raw = encode(doc)
            if raw == src.last_doc and src.holder_id is not None and at - src.base_at < PERIOD_S:
                same_as = src.holder_id
            elif src.base_id is not None and at - src.base_at < PERIOD_S and src.cycles != WARMUP_CYCLES:
                # only the outputs that differ from the keyframe, compressed with it as the dictionary
                c = zlib.compressobj(9, zdict=src.base_doc[-ZDICT_BYTES:])
                data = c.compress(encode(delta(src.base_value, doc))) + c.flush()
                base = src.base_id
                if len(data) > KEYFRAME_RATIO * src.base_size:
                    data = base = None
            if same_as is None and data is None:
                data = zlib.compress(raw, 6)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute(
                "INSERT INTO cycles (at, kind, node, reachable, error, error_kind, latency_ms, base, same_as, "
                "data, changed, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (at, kind, node, int(reachable), error, error_kind, latency_ms, base, same_as, data, int(changed),
                 facts_text if changed else None))
            row_id = int(cur.lastrowid or 0)
            if log_lines:
                self.db.executemany("INSERT INTO log_lines (cycle, at, node, raw, backlog) VALUES (?, ?, ?, ?, ?)",
                                    [(row_id, at, node or "", line, int(backlog)) for line in log_lines])
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            raise RecordError(_why(self.path, exc)) from None
        if facts_text is not None:
            src.facts = facts_text
        if doc is not None:
            src.cycles += 1
            src.last_doc = raw
            if same_as is None:
                src.holder_id = row_id
            if same_as is None and base is None:
                src.base_id, src.base_at, src.base_doc, src.base_size = row_id, at, raw, len(data or b"")
                src.base_value = json.loads(raw)
        if at - self._retained_at >= RETENTION_EVERY_S:
            self.enforce_retention(at)
        return row_id

    # ---- retention ----------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        page, count, free = (self.db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_size", "page_count", "freelist_count"))
        return page * (count - free)

    def enforce_retention(self, now: float | None = None) -> int:
        """Delete cycles older than the retention, then the oldest while the file is over max_mb.
        Returns the number of cycles deleted."""
        now = self.clock() if now is None else now
        self._retained_at = now
        try:
            deleted = self._delete_before(now - self.retention_s)
            for _ in range(40):
                if self.used_bytes() <= self.max_bytes:
                    break
                oldest, newest = self.db.execute("SELECT min(at), max(at) FROM cycles").fetchone()
                if oldest is None:
                    break
                n = self._delete_before(min(newest, oldest + max(60.0, (newest - oldest) * 0.05)))
                self.db.execute("PRAGMA incremental_vacuum")
                if n == 0:
                    break
                deleted += n
            if deleted:
                self.db.execute("PRAGMA incremental_vacuum")
        except sqlite3.Error as exc:
            raise RecordError(_why(self.path, exc)) from None
        return deleted

    def _delete_before(self, cut: float) -> int:
        """Delete rows before `cut` that no row from `cut` on refers to (references reach back at
        most PERIOD_S, so only the rows just after the cut are looked at)."""
        window = (cut, cut + 2 * PERIOD_S + 60)
        refs = {r for (r,) in self.db.execute(
            "SELECT base FROM cycles WHERE at >= ? AND at < ? AND base IS NOT NULL UNION "
            "SELECT same_as FROM cycles WHERE at >= ? AND at < ? AND same_as IS NOT NULL", window * 2)}
        if refs:  # a same_as target may itself be a delta: keep its keyframe too
            marks = ",".join("?" * len(refs))
            refs |= {r for (r,) in self.db.execute(
                f"SELECT base FROM cycles WHERE id IN ({marks}) AND base IS NOT NULL", tuple(refs))}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            marks = ",".join("?" * len(refs))
            keep = f" AND id NOT IN ({marks})" if refs else ""
            n = self.db.execute(f"DELETE FROM cycles WHERE at < ?{keep}", (cut, *refs)).rowcount
            self.db.execute("DELETE FROM log_lines WHERE at < ?", (cut,))
            self.db.execute("COMMIT")
        except sqlite3.Error:
            self.db.execute("ROLLBACK")
            raise
        return n


class RecordReader:
    """A recording opened read-only (beside a writer, if one runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise RecordError(f"{path}: no recording here (the live view and `hatui record` write one; "
                              "--db names another)")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
            version = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as exc:
            raise RecordError(_why(path, exc)) from None
        if version is None or version[0] != SCHEMA_VERSION:
            raise RecordError(f"{path}: not a recording of this hatui (schema {version and version[0]!r})")
        self._docs: dict[int, bytes] = {}  # keyframes decoded, by row id

    def close(self) -> None:
        self.db.close()

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise RecordError(_why(self.path, exc)) from None

    def rows(self, since: float | None = None, until: float | None = None) -> list[Row]:
        """Every cycle in [since, until], in time order."""
        return [_row(t) for t in self._query(
            f"SELECT {_ROW_COLUMNS} FROM cycles WHERE at >= ? AND at <= ? ORDER BY at, id",
            (since if since is not None else float("-inf"), until if until is not None else float("inf")))]

    def last_before(self, at: float, kind: str, node: str | None) -> Row | None:
        """The source's latest cycle at or before `at`."""
        got = self._query(f"SELECT {_ROW_COLUMNS} FROM cycles WHERE at <= ? AND kind = ? AND node IS ? "
                          "ORDER BY at DESC, id DESC LIMIT 1", (at, kind, node))
        return _row(got[0]) if got else None

    def span(self) -> tuple[float, float] | None:
        first, last = self._query("SELECT min(at), max(at) FROM cycles")[0]
        return None if first is None else (first, last)

    def _raw(self, row_id: int) -> bytes | None:
        got = self._query("SELECT base, same_as, data FROM cycles WHERE id = ?", (row_id,))
        if not got:
            raise RecordError(f"{self.path}: cycle {row_id} is missing (cut by the retention?)")
        base, same_as, data = got[0]
        if same_as is not None:
            return self._raw(same_as)
        if data is None:
            return None
        try:
            if base is None:
                return zlib.decompress(data)
            zdict = self._docs.get(base) or self._raw(base) or b""
            if len(self._docs) > 64:
                self._docs.clear()
            self._docs[base] = zdict
            d = zlib.decompressobj(zdict=zdict[-ZDICT_BYTES:])
            return encode(undelta(json.loads(zdict), json.loads(d.decompress(data) + d.flush())))
        except zlib.error as exc:
            raise RecordError(f"{self.path}: cycle {row_id} does not decompress ({exc})") from None

    def doc(self, row_id: int) -> Any:
        """The raw poll recorded for this cycle (None for a cycle without an answer)."""
        raw = self._raw(row_id)
        return None if raw is None else json.loads(raw)

    def facts(self, row_id: int) -> dict[str, str] | None:
        got = self._query("SELECT facts FROM cycles WHERE id = ?", (row_id,))
        return json.loads(got[0][0]) if got and got[0][0] else None

    def log_lines(self, since: float | None = None, until: float | None = None,
                  limit: int | None = None) -> list[tuple[float, str, str, bool]]:
        """(read at, node, line, backlog) in the order read; with `limit`, the latest that many up to
        `until`.  Backlog lines (a session's first read of the log) may repeat earlier ones."""
        lo = since if since is not None else float("-inf")
        hi = until if until is not None else float("inf")
        sql = "SELECT at, node, raw, backlog FROM log_lines WHERE at >= ? AND at <= ? ORDER BY at DESC, id DESC"
        if limit is None:
            got = self._query(sql, (lo, hi))
        else:
            got = self._query(sql + " LIMIT ?", (lo, hi, limit))
        return [(r[0], r[1], r[2], bool(r[3])) for r in reversed(got)]

    def index(self) -> list[tuple[int, float, str, str | None, int, int]]:
        """(id, at, kind, node, reachable, changed) of every cycle in time order: what a replay
        navigates, as plain tuples (a day is ~260,000 rows)."""
        return self._query("SELECT id, at, kind, node, reachable, changed FROM cycles ORDER BY at, id")

    def row(self, row_id: int) -> Row:
        got = self._query(f"SELECT {_ROW_COLUMNS} FROM cycles WHERE id = ?", (row_id,))
        if not got:
            raise RecordError(f"{self.path}: cycle {row_id} is missing (cut by the retention?)")
        return _row(got[0])
