"""Galera / MariaDB: what to run, and parsers of `SHOW GLOBAL STATUS LIKE 'wsrep%'`, grastate.dat and
the error-log `Recovered position` line.  Grammar: /work/shared/samples/FORMATS.md section 5.

The collector normally reads the status over pymysql and passes the rows to `parse_wsrep_status`;
`mysql -N -B` text (and, for pasted material, the interactive table and `\\G` forms) is accepted too."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

import pymysql

from hatui.model import GaleraState, GraState, Parsed
from hatui.privilege import AS_ROOT, Root
from hatui.probes import (
    UINT64_MAX,
    never_raises,
    printable,
    quote,
    short,
    snippet,
    to_bool,
    to_float,
    to_int,
    valid_path,
)

# ---- commands --------------------------------------------------------------------------------------
WSREP_STATUS_SQL = "SHOW GLOBAL STATUS LIKE 'wsrep%'"


def grastate_command(datadir: str = "/var/lib/mysql", root: Root = AS_ROOT) -> str:
    """grastate.dat through bash's `$(< file)` (no fork); a missing file prints nothing, exit 1.
    An unprivileged user reads it where the datadir lets it, else through sudo (one exact `cat`)."""
    path = quote(valid_path(datadir).rstrip("/") + "/grastate.dat")
    own = f"[ -r {path} ] && printf '%s\\n' \"$(< {path})\""
    if not root.unprivileged:
        return own
    # sudo only when the user could not tell: the file exists but is unreadable, or the datadir is private
    unknown = f"{{ [ -e {path} ] || [ ! -x {quote(valid_path(datadir))} ]; }}"
    return f"{{ {own}; }} || {{ {unknown} && {root(*grastate_argv(datadir))}; }}"


def grastate_argv(datadir: str = "/var/lib/mysql") -> tuple[str, ...]:
    return ("cat", valid_path(datadir).rstrip("/") + "/grastate.dat")


def root_argvs() -> list[tuple[str, ...]]:
    """The exact command the Galera probe may run as root: grastate.dat where the datadir is private."""
    return [grastate_argv()]


# ---- SHOW GLOBAL STATUS ----------------------------------------------------------------------------
CLUSTER_STATUSES = frozenset({"Primary", "non-Primary", "Non-Primary", "Non_primary", "Disconnected"})
LOCAL_STATES = {0: "Initialized", 1: "Joining", 2: "Donor/Desynced", 3: "Joined", 4: "Synced", 5: "Error"}
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SKIP_RE = re.compile(r"^\s*(?:\+[-+]*\+|\**\s*\d+\. row\s*\**|SHOW .*|\d+ rows? in set.*)\s*$", re.IGNORECASE)


def _rows_from_text(text: str, notes: list[str]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    pending: str | None = None  # \G form: "Variable_name: x" then "Value: y"
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        if not line.strip() or _SKIP_RE.match(line):
            continue
        if "\t" in line:  # -N -B: split on the first TAB only, values may hold anything else
            name, value = line.split("\t", 1)
            rows.append((name.strip(), value))
        elif line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 2 and cells[0] != "Variable_name":
                rows.append((cells[0], cells[1]))
            elif cells[0] != "Variable_name":
                notes.append(f"line {lineno}: table row not understood: {snippet(line)}")
        elif (s := line.strip()).startswith("Variable_name:"):
            pending = s.split(":", 1)[1].strip()
        elif s.startswith("Value:") and pending is not None:
            rows.append((pending, s.split(":", 1)[1].strip()))
            pending = None
        elif re.match(r"^wsrep_\w+$", s):
            rows.append((s, ""))  # a variable with an empty value and the TAB lost on the way
        else:
            notes.append(f"line {lineno}: not understood: {snippet(line)}")
    return rows


def _uint_or_none(text: str | None) -> int | None:
    n = to_int(text)
    return None if n is None or n in (UINT64_MAX, -1) else n


@never_raises()
def parse_wsrep_status(source: str | Iterable[tuple[Any, Any]]) -> Parsed[GaleraState]:
    """`SHOW GLOBAL STATUS LIKE 'wsrep%'`, as text or as (name, value) rows.  Keyed by name: the
    order differs between versions."""
    notes: list[str] = []
    if isinstance(source, str):
        raw = source
        rows = _rows_from_text(source, notes)
    else:
        rows = []
        try:
            for row in source:
                name, value = row[0], row[1]
                name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
                if isinstance(value, bytes):
                    value = value.decode(errors="replace")
                value = "" if value is None else str(value)
                # rows come from pymysql, not through never_raises' text cleaning
                rows.append((printable(name), printable(value)))
        except (TypeError, IndexError, ValueError) as exc:
            notes.append(f"rows not understood: {short(exc)}")
        raw = "\n".join(f"{n}\t{v}" for n, v in rows)
    v = {name.lower(): value.strip() for name, value in rows}
    if not any(k.startswith("wsrep_") for k in v):
        notes.append("no wsrep_ variables: not a Galera node, or wsrep is off")
        return Parsed(None, tuple(notes), raw)
    g = v.get
    status = g("wsrep_cluster_status") or None
    if status is not None and status not in CLUSTER_STATUSES:
        notes.append(f"wsrep_cluster_status {snippet(status)} not understood")
    local_state = to_int(g("wsrep_local_state"))
    if g("wsrep_local_state") and local_state not in LOCAL_STATES:
        notes.append(f"wsrep_local_state {snippet(g('wsrep_local_state') or '')} not understood")
    for key in ("wsrep_cluster_state_uuid", "wsrep_local_state_uuid"):
        if g(key) and not _UUID_RE.match(g(key) or ""):
            notes.append(f"{key} {snippet(g(key) or '')} is not a UUID")
    state = GaleraState(
        cluster_size=to_int(g("wsrep_cluster_size")), cluster_status=status, local_state=local_state,
        local_state_comment=g("wsrep_local_state_comment") or None,
        ready=to_bool(g("wsrep_ready")), connected=to_bool(g("wsrep_connected")),
        cluster_state_uuid=g("wsrep_cluster_state_uuid") or None, local_state_uuid=g("wsrep_local_state_uuid") or None,
        conf_id=_uint_or_none(g("wsrep_cluster_conf_id")), last_committed=to_int(g("wsrep_last_committed")),
        recv_queue=to_int(g("wsrep_local_recv_queue")), flow_control_paused=to_float(g("wsrep_flow_control_paused")),
        incoming_addresses=tuple(a.strip() for a in (g("wsrep_incoming_addresses") or "").split(",") if a.strip()),
        provider_version=g("wsrep_provider_version") or None, evs_state=g("wsrep_evs_state") or None,
        desync_count=to_int(g("wsrep_desync_count")), local_index=_uint_or_none(g("wsrep_local_index")),
        flow_control_active=to_bool(g("wsrep_flow_control_active")), variables=tuple(rows))
    return Parsed(state, tuple(notes), raw)


# ---- grastate.dat ----------------------------------------------------------------------------------
@never_raises()
def parse_grastate(text: str) -> Parsed[GraState]:
    """grastate.dat.  Tolerates the space padding Galera leaves after the last line, the pre-3.19 form
    (no safe_to_bootstrap, an empty cert_index:) and hand-edited whitespace."""
    notes: list[str] = []
    kv: dict[str, str] = {}
    for lineno, line in enumerate(text.strip().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z_]+", key):
            notes.append(f"line {lineno}: not understood: {snippet(line)}")
            continue
        kv[key] = value.strip()
    uuid, seqno_text = kv.get("uuid"), kv.get("seqno")
    if uuid is None and seqno_text is None:
        return Parsed(None, tuple(notes) or ("no uuid: or seqno: line",), text)
    if uuid is not None and not _UUID_RE.match(uuid):
        notes.append(f"uuid {snippet(uuid)} is not a UUID")
        uuid = None
    seqno = to_int(seqno_text)
    if seqno_text is not None and seqno is None:
        notes.append(f"seqno {snippet(seqno_text)} is not a number")
    stb_text = kv.get("safe_to_bootstrap")
    stb = to_bool(stb_text) if stb_text in ("0", "1") else None
    if stb_text is not None and stb is None:
        notes.append(f"safe_to_bootstrap {snippet(stb_text)} is not 0 or 1")
    return Parsed(GraState(uuid, seqno, stb, kv.get("version")), tuple(notes), text)


# ---- error log -------------------------------------------------------------------------------------


# ---- what the live loop runs ------------------------------------------------------------------------
class QueryStillRunning(TimeoutError):
    """The previous wsrep query (or its connect) has not returned yet: the node is slow, not gone, and the
    connection it is using must be kept (closing it would make every next cycle connect again, which on a
    node 300 ms away takes longer than a cycle: it never answered again)."""


class WsrepReader:
    """One node's MariaDB connection (kept open between cycles) and its wsrep status query.
    pymysql connections are not thread-safe (threadsafety = 1): `query()` runs in a worker thread, one
    at a time (a second call while one still waits is refused at once, never run beside it), and
    `close()` never blocks the caller: a connection still in use is closed by its query when it returns
    (closing it under a blocked read would wait for that read's timeout)."""

    def __init__(self, user: str, password: str | None, timeout_s: float) -> None:
        self.user, self.password, self.timeout_s = user, password, timeout_s
        self._conn: pymysql.connections.Connection | None = None
        self._busy = threading.Lock()
        self._discard = False

    def query(self, **endpoint: Any) -> list[tuple[str, str]]:
        """`endpoint`: pymysql's `unix_socket=` or `host=`/`port=` of the forward to the node's socket."""
        if not self._busy.acquire(blocking=False):
            raise QueryStillRunning("the previous wsrep query has not returned yet")
        try:
            if self._discard:
                self._close_now()
            if self._conn is None:
                self._conn = pymysql.connect(user=self.user, password=self.password or "",
                                             connect_timeout=self.timeout_s, read_timeout=self.timeout_s,
                                             **endpoint)
            with self._conn.cursor() as cur:
                cur.execute(WSREP_STATUS_SQL)
                rows = cur.fetchall()
            return [(str(k), "" if v is None else str(v)) for k, v in rows]
        except BaseException:
            self._close_now()
            raise
        finally:
            self._busy.release()

    def close(self) -> None:
        if self._busy.acquire(blocking=False):
            try:
                self._close_now()
            finally:
                self._busy.release()
        else:
            self._discard = True

    def _close_now(self) -> None:
        self._discard = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection may fail to say goodbye; it is dropped either way
                pass
            self._conn = None


def mysql_why(exc: BaseException) -> str:
    """Why the wsrep query failed, in words (pymysql puts its message last)."""
    if isinstance(exc, QueryStillRunning):
        return "MariaDB has not answered the previous cycle's query yet"
    if isinstance(exc, TimeoutError):
        return "MariaDB did not answer in time"
    if isinstance(exc, pymysql.MySQLError) and exc.args:
        return f"MariaDB: {exc.args[-1]}"
    return f"MariaDB: {exc}"
