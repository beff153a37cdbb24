"""DRBD: what to run, and parsers of /proc/drbd (8.4), `drbdadm status` (text, 9 and the 8.4 compat
form), `drbdsetup status --json`, `drbdsetup events2`, `drbdadm role|cstate|dstate` and the stderr
of failed actions.  Grammar: /work/shared/samples/FORMATS.md sections 1-3.

This module is longer than the usual ~400 lines on purpose: the six DRBD formats share the state
vocabulary and the 8.4 → 9 translation, and splitting them would scatter that."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from hatui.model import (
    DRBD_CONNECTION_STATES,
    DRBD_CSTATES_84,
    DRBD_DISK_STATES,
    DRBD_REPLICATION_STATES,
    DRBD_ROLES,
    SYNC_STATES,
    UNKNOWN_STATE,
    DrbdConnection,
    DrbdError,
    DrbdErrorReason,
    DrbdEvent,
    DrbdPeerDevice,
    DrbdResource,
    DrbdSource,
    DrbdVolume,
    Events2Dump,
    Parsed,
    ProcDrbd,
)
from hatui.privilege import AS_ROOT, Root
from hatui.probes import (
    MAX_DRBD_LINES,
    dedupe,
    never_raises,
    quote,
    short,
    snippet,
    strip_ansi,
    to_bool,
    to_float,
    to_int,
    valid_name,
    valid_path,
)

# ---- vocabulary ------------------------------------------------------------------------------------
ROLES, DISK_STATES, CONN_STATES_9, REPL_STATES_9 = (DRBD_ROLES, DRBD_DISK_STATES, DRBD_CONNECTION_STATES,
                                                    DRBD_REPLICATION_STATES)
_CS_84_NOT_CONNECTED = frozenset({"StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe",
                                  "NetworkFailure", "ProtocolError", "TearDown"})
CSTATES_84 = DRBD_CSTATES_84
_PROGRESS_STATES_84 = frozenset({"SyncSource", "SyncTarget", "VerifyS", "VerifyT"})
NO_ETA_SENTINEL = 987654321  # drbdsetup's "no progress yet" estimated-seconds-to-finish


def translate_cs_84(cs: str) -> tuple[str, str]:
    """8.4 cs: → (DRBD 9 connection state, replication state), as drbd-utils' drbd_conn_str9/repl_str9."""
    if cs in _CS_84_NOT_CONNECTED:
        return cs, "Off"
    if cs == "WFConnection":
        return "Connecting", "Off"
    if cs == "WFReportParams":
        return "Connected", "Off"
    if cs == "Connected":
        return "Connected", "Established"
    return "Connected", cs


def known(value: str | None, vocabulary: frozenset[str], what: str, notes: list[str]) -> str:
    """`value` if DRBD has that word, else UNKNOWN_STATE with a note (a missing value is unknown too,
    silently: the caller decides whether absence means something)."""
    if value is None:
        return UNKNOWN_STATE
    if value in vocabulary:
        return value
    notes.append(f"{what} {snippet(value)} is not a DRBD state: taken as {UNKNOWN_STATE}")
    return UNKNOWN_STATE


def known_or_none(value: str | None, vocabulary: frozenset[str], what: str, notes: list[str]) -> str | None:
    return None if value is None else known(value, vocabulary, what, notes)


def percent(value: float | None, what: str, notes: list[str]) -> float | None:
    """A progress percentage, kept only inside 0..100."""
    if value is None or 0.0 <= value <= 100.0:
        return value
    notes.append(f"{what} {value:g} % is outside 0..100: progress unknown")
    return None


def progress_from_oos(size_kib: int | None, oos_kib: int | None, what: str, notes: list[str]) -> float | None:
    """Resync progress from out-of-sync vs size (both KiB), as drbd-utils computes `done:` for the 8.4
    path; None with a note when the two disagree (out-of-sync larger than the device, no size)."""
    if size_kib is None or oos_kib is None:
        return None
    if size_kib <= 0 or not 0 <= oos_kib <= size_kib:
        notes.append(f"{what}: out-of-sync {oos_kib} KiB vs size {size_kib} KiB do not fit: progress unknown")
        return None
    return round(100 * (1 - oos_kib / size_kib), 2)


def _unknown_resource(name: str, source: DrbdSource) -> DrbdResource:
    """What is left when the input says a resource exists but not its states."""
    vol = DrbdVolume(volume=0, minor=None, disk_state=UNKNOWN_STATE)
    conn = DrbdConnection(name="peer", connection_state=UNKNOWN_STATE, peer_role=UNKNOWN_STATE)
    return DrbdResource.build(name, UNKNOWN_STATE, source, (vol,), (conn,))


def _one_per_name(resources: list[DrbdResource], source: DrbdSource, notes: list[str]) -> tuple[DrbdResource, ...]:
    """Concatenated outputs name a resource twice: equal copies collapse to one; copies that disagree
    make it unknown (which one is current cannot be told from the text).  Either way with a note."""
    by_name: dict[str, list[DrbdResource]] = {}
    for r in resources:
        by_name.setdefault(r.name, []).append(r)
    out = []
    for name, copies in by_name.items():
        if len(copies) == 1:
            out.append(copies[0])
        elif all(c == copies[0] for c in copies):
            notes.append(f"{short(name)} appears {len(copies)} times (concatenated outputs?): the copies agree")
            out.append(copies[0])
        else:
            notes.append(f"{short(name)} appears {len(copies)} times with different states (concatenated "
                         f"outputs?): its state is unknown")
            out.append(_unknown_resource(name, source))
    return tuple(out)


# ---- /proc/drbd ------------------------------------------------------------------------------------
_VERSION_RE = re.compile(r"^version:\s*(?P<v>\S+)(?:\s*\(api:(?P<api>[^/)]*)/proto:(?P<proto>[^)]*)\))?")
_DEV_RE = re.compile(r"^\s*(?P<minor>\d+):\s+cs:(?P<cs>\S+)(?P<rest>.*)$")
_STATE_RE = re.compile(r"^\s+ro:(?P<role>\w+)/(?P<prole>\w+)\s+ds:(?P<disk>\w+)/(?P<pdisk>\w+)"
                       r"(?:\s(?P<proto>[ABC ])\s(?P<flags>\S*))?\s*$")
_PROGRESS_RE = re.compile(r"^\s*\[[=>.]*\]\s*(?P<what>sync'ed|verified):\s*(?P<pct>\d+(?:\.\d+)?)%\s*"
                          r"\((?P<left>\d+)/(?P<total>\d+)\)(?P<unit>[KM])")
_FINISH_RE = re.compile(r"^\s*finish:\s*(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)\s+speed:\s*(?P<speed>[\d,]+)\s*"
                        r"\((?:[\d,]+\s*--\s*)?(?P<avg>[\d,]+)\)(?:\s*want:\s*(?P<want>[\d,]+))?\s*K/sec"
                        r"(?P<stalled>\s*\(stalled\))?")
_DETAIL_RE = re.compile(r"^\s+(?:\d+% sector pos:|resync:|act_log:|blocked on activity log:)")


class _ProcMinor:
    """Accumulates the lines of one minor of /proc/drbd."""

    def __init__(self, minor: int, cs: str) -> None:
        self.minor, self.cs = minor, cs
        self.state: re.Match[str] | None = None
        self.counters: dict[str, str] = {}
        self.progress: re.Match[str] | None = None
        self.finish: re.Match[str] | None = None

    def build(self, notes: list[str]) -> DrbdResource:
        name = f"drbd{self.minor}"
        if self.cs == "Unconfigured":  # DRBD's meaning: StandAlone, Diskless, Secondary
            vol = DrbdVolume(volume=0, minor=self.minor, disk_state="Diskless")
            conn = DrbdConnection(name="peer", connection_state="StandAlone", state_84=self.cs)
            return DrbdResource.build(name, "Secondary", "/proc/drbd", (vol,), (conn,), unconfigured=True)
        cs = known(self.cs, CSTATES_84, f"minor {self.minor}: connection state", notes)
        connection, replication = translate_cs_84(cs) if cs != UNKNOWN_STATE else (UNKNOWN_STATE, UNKNOWN_STATE)
        if self.state is None:  # a cut line (` 0: cs:Connected`): the roles and disks are not known
            notes.append(f"minor {self.minor}: no ro:/ds: states (line cut?): roles and disks unknown")
            vol = DrbdVolume(volume=0, minor=self.minor, disk_state=UNKNOWN_STATE)
            conn = DrbdConnection(name="peer", connection_state=connection, peer_role=UNKNOWN_STATE,
                                  state_84=self.cs)
            return DrbdResource.build(name, UNKNOWN_STATE, "/proc/drbd", (vol,), (conn,))
        st, c = self.state, self.counters
        where = f"minor {self.minor}"
        pct = speed = avg = want = eta = total_kib = None
        if self.progress and self.cs in _PROGRESS_STATES_84:
            pct = percent(to_float(self.progress["pct"]), f"{where}: sync'ed", notes)
            total = to_int(self.progress["total"])
            total_kib = total * (1024 if self.progress["unit"] == "M" else 1) if total is not None else None
        if self.finish and self.cs in _PROGRESS_STATES_84:
            f = self.finish
            h, m, sec = to_int(f["h"]), to_int(f["m"]), to_int(f["s"])
            eta = h * 3600 + m * 60 + sec if h is not None and m is not None and sec is not None else None
            speed, avg, want = to_int(f["speed"]), to_int(f["avg"]), to_int(f["want"])
        pd = DrbdPeerDevice(
            volume=0, replication_state=replication,
            peer_disk_state=known(st["pdisk"], DISK_STATES, f"{where}: peer disk state", notes), sync_percent=pct,
            speed_kib_s=speed, average_speed_kib_s=avg, want_kib_s=want, eta_s=eta,
            stalled=bool(self.finish and self.finish["stalled"]), out_of_sync_kib=to_int(c.get("oos")),
            sync_total_kib=total_kib, received_kib=to_int(c.get("nr")), sent_kib=to_int(c.get("ns")))
        proto = (st["proto"] or "").strip() or None
        conn = DrbdConnection(name="peer", connection_state=connection,
                              peer_role=known(st["prole"], ROLES, f"{where}: peer role", notes),
                              state_84=self.cs, protocol=proto, peer_devices=(pd,))
        vol = DrbdVolume(volume=0, minor=self.minor, disk_state=known(st["disk"], DISK_STATES, f"{where}: disk state",
                                                                      notes),
                         read_kib=to_int(c.get("dr")), written_kib=to_int(c.get("dw")), io_flags=st["flags"] or None)
        return DrbdResource.build(name, known(st["role"], ROLES, f"{where}: role", notes), "/proc/drbd", (vol,),
                                  (conn,))


def _counters(line: str) -> dict[str, str]:
    """`ns:0 nr:0 dw:0 ...` → {"ns": "0", ...} (split on whitespace: the regex findall this replaces
    was quadratic on a long word without a colon)."""
    out: dict[str, str] = {}
    for tok in line.split():
        key, sep, val = tok.partition(":")
        if sep and val and key.isidentifier():
            out.setdefault(key, val)
    return out


@never_raises(max_lines=MAX_DRBD_LINES)
def parse_proc_drbd(text: str) -> Parsed[ProcDrbd]:
    """/proc/drbd of 8.4 (and 8.3).  The DRBD 9 header-only form yields no resources and
    `drbd9_header_only=True`: use `drbdadm status` / `drbdsetup status --json` there."""
    notes: list[str] = []
    version = api = proto = build = None
    minors: list[_ProcMinor] = []
    cur: _ProcMinor | None = None
    transports = False
    for lineno, line in enumerate(strip_ansi(text).splitlines(), 1):
        if not line.strip():
            continue
        if m := _VERSION_RE.match(line):
            if version is not None:
                notes.append(f"line {lineno}: a second version: header (concatenated outputs?)")
            version, api, proto = m["v"], m["api"], m["proto"]
        elif line.startswith(("GIT-hash:", "srcversion:", "built-in")):
            build = line.strip()
        elif line.startswith("Transports"):
            transports = True
        elif (m := _DEV_RE.match(line)) and (minor := to_int(m["minor"])) is not None:
            cur = _ProcMinor(minor, m["cs"])
            minors.append(cur)
            if m["rest"].strip():
                cur.state = _STATE_RE.match(m["rest"])
                if cur.state is None:
                    notes.append(f"line {lineno}: minor {cur.minor}: states not understood: {snippet(line)}")
        elif cur and line.lstrip().startswith("ns:"):
            cur.counters = _counters(line)
        elif cur and (m := _PROGRESS_RE.match(line)):
            cur.progress = m
        elif cur and (m := _FINISH_RE.match(line)):
            cur.finish = m
        elif cur and _DETAIL_RE.match(line):
            pass  # proc_details>=1 extras: sector position, caches
        else:
            notes.append(f"line {lineno}: not understood: {snippet(line)}")
    if version is None and not minors:
        return Parsed(None, tuple(notes) or ("no /proc/drbd content",), text)
    drbd9 = (version or "").startswith("9") or (transports and not minors)
    resources = _one_per_name([m_.build(notes) for m_ in minors], "/proc/drbd", notes)
    value = ProcDrbd(version, api, proto, build, resources, drbd9_header_only=drbd9)
    return Parsed(value, dedupe(notes), text)


# ---- drbdadm status / drbdsetup status (text) ------------------------------------------------------
_RES_KEYS = frozenset({"node-id", "role", "suspended", "force-io-failures", "write-ordering"})
_DEV_KEYS = frozenset({"volume", "minor", "disk", "client", "backing_dev", "quorum", "open", "size", "read",
                       "written", "al-writes", "bm-writes", "upper-pending", "lower-pending", "al-suspended",
                       "blocked"})
_CONN_KEYS = frozenset({"node-id", "connection", "role", "tls", "congested", "ap-in-flight", "rs-in-flight",
                        "local", "peer"})
_PD_KEYS = frozenset({"volume", "replication", "peer-disk", "disk", "peer-client", "done", "resync-suspended",
                      "received", "sent", "out-of-sync", "pending", "unacked", "dbdt1", "eta"})


def _status_block(name: str, tokens: list[str], notes: list[str]) -> DrbdResource | None:
    res: dict[str, str] = {}
    devs: list[dict[str, str]] = []
    conns: list[tuple[str, dict[str, str], list[dict[str, str]]]] = []
    for tok in tokens:
        if ":" not in tok:  # only connection names are bare words
            conns.append((tok, {}, []))
            continue
        key, _, val = tok.partition(":")
        if conns:
            cname, conn, pds = conns[-1]
            if not pds and key in _CONN_KEYS and key not in conn:
                conn[key] = val
            elif key in _PD_KEYS:
                if not pds or key in pds[-1] or (key == "volume" and pds[-1]):
                    pds.append({})
                pds[-1][key] = val
            else:
                notes.append(f"{short(name)}: connection {short(cname)}: unexpected {snippet(tok)}")
        elif key in _DEV_KEYS and (devs or key in ("volume", "disk")):
            if not devs or key in devs[-1] or (key == "volume" and devs[-1]):
                devs.append({})
            devs[-1][key] = val
        elif key in _RES_KEYS and not devs:
            res[key] = val
        else:
            notes.append(f"{short(name)}: unexpected {snippet(tok)}")
    if "role" not in res:
        notes.append(f"{short(name)}: no role: not a status block")
        return None
    rn = short(name)
    volumes = tuple(DrbdVolume(
        volume=to_int(d.get("volume")) or 0, minor=to_int(d.get("minor")),
        disk_state=known(d.get("disk"), DISK_STATES, f"{rn}: disk state", notes),
        client=to_bool(d.get("client")), quorum=to_bool(d.get("quorum")), open=d.get("open"),
        backing_dev=d.get("backing_dev"), size_kib=to_int(d.get("size")), read_kib=to_int(d.get("read")),
        written_kib=to_int(d.get("written"))) for d in devs)
    connections = []
    for cname, c, pds in conns:
        where = f"{rn}: connection {short(cname)}"
        # connection_status() prints `connection:` only when not Connected and the peer's `role:` only
        # when Connected (FORMATS.md 2.2); a bare name with neither is a cut or foreign line.
        if "connection" in c:
            cstate = known(c["connection"], CONN_STATES_9, f"{where}: state", notes)
        elif "role" in c:
            cstate = "Connected"
        else:
            cstate = UNKNOWN_STATE
            notes.append(f"{where}: neither connection: nor role: (line cut?): state unknown")
        peer_devices = tuple(_peer_device_from_keys(p, cstate, where, notes) for p in pds)
        connections.append(DrbdConnection(
            name=cname, connection_state=cstate,
            peer_role=known_or_none(c.get("role"), ROLES, f"{where}: peer role", notes),
            peer_node_id=to_int(c.get("node-id")), congested=to_bool(c.get("congested")), peer_devices=peer_devices))
    return DrbdResource.build(name, known(res["role"], ROLES, f"{rn}: role", notes), "status", volumes,
                              tuple(connections), suspended=res.get("suspended"))


def _mib_to_kib(mib_s: float | None) -> int | None:
    kib = mib_s * 1024 if mib_s is not None else None
    return round(kib) if kib is not None and math.isfinite(kib) else None


def _peer_device_from_keys(p: dict[str, str], cstate: str, where: str, notes: list[str]) -> DrbdPeerDevice:
    """One peer device from status/events2 keys.  Unprinted replication is Established while Connected
    and Off otherwise (the printers omit those two); on an unknown connection it is unknown too."""
    dbdt1 = to_float(p.get("dbdt1"))  # MiB/s
    if (repl := p.get("replication")) is not None:
        repl = known(repl, REPL_STATES_9, f"{where}: replication state", notes)
    else:
        repl = {"Connected": "Established", UNKNOWN_STATE: UNKNOWN_STATE}.get(cstate, "Off")
    peer_disk = p.get("peer-disk", p.get("disk"))  # "disk:" in old user guides; not printed while DUnknown
    return DrbdPeerDevice(
        volume=to_int(p.get("volume")) or 0, replication_state=repl,
        peer_disk_state=known(peer_disk, DISK_STATES, f"{where}: peer disk state", notes) if peer_disk is not None
        else "DUnknown",
        peer_client=to_bool(p.get("peer-client")), resync_suspended=p.get("resync-suspended"),
        sync_percent=percent(to_float(p.get("done")), f"{where}: done", notes), speed_kib_s=_mib_to_kib(dbdt1),
        eta_s=to_int(p.get("eta")), out_of_sync_kib=to_int(p.get("out-of-sync")),
        received_kib=to_int(p.get("received")), sent_kib=to_int(p.get("sent")))


@never_raises(max_lines=MAX_DRBD_LINES)
def parse_drbdadm_status(text: str) -> Parsed[tuple[DrbdResource, ...]]:
    """`drbdadm status` / `drbdsetup status [-v] [-s]`.  Lines wrapped at 80 columns are joined: a
    resource is everything from a line starting in column 0 to the next, split on whitespace."""
    if not text.strip():
        return Parsed(None, ("empty input",), text)
    notes: list[str] = []
    blocks: list[list[str]] = []
    for line in strip_ansi(text).splitlines():
        if not line.strip() or line.startswith("#"):  # "# No currently configured DRBD found."
            continue
        if line[0].isspace():
            if blocks:
                blocks[-1].extend(line.split())
            else:
                notes.append(f"indented line before any resource: {snippet(line)}")
        else:
            blocks.append(line.split())
    resources = []
    for tokens in blocks:
        name = tokens[0]
        if name.endswith(":") or "=" in name or (len(tokens) > 1 and ":" not in tokens[1]):
            notes.append(f"not a resource line: {snippet(' '.join(tokens))}")
            continue
        if (r := _status_block(name, tokens[1:], notes)) is not None:
            resources.append(r)
    if not resources and notes:
        return Parsed(None, tuple(notes), text)
    return Parsed(_one_per_name(resources, "status", notes), dedupe(notes), text)


# ---- drbdsetup status --json -----------------------------------------------------------------------


# ---- drbdsetup events2 -----------------------------------------------------------------------------
EVENT_ACTIONS = frozenset({"exists", "create", "change", "destroy", "call", "response", "rename"})
EVENT_OBJECTS = frozenset({"resource", "device", "connection", "peer-device", "path", "helper", "-"})
_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _event_lines(text: str) -> list[str]:
    """Real events2 output is one line per event; user guides break long ones with indented
    continuations, which are joined back here (parts collected, then joined once: `+=` on a list
    item copied the growing line for every continuation, quadratic in its length)."""
    out: list[list[str]] = []
    for line in strip_ansi(text).splitlines():
        if not (stripped := line.strip()):
            continue
        if line[:1].isspace() and out:
            out[-1].append(stripped)
        else:
            out.append([stripped])
    return [" ".join(parts) for parts in out]


@never_raises(one_line=True)
def parse_event_line(line: str) -> Parsed[DrbdEvent]:
    tokens = line.split()
    ts: datetime | None = None
    notes: list[str] = []
    if len(tokens) >= 2 and tokens[0] not in EVENT_ACTIONS and tokens[1] in EVENT_ACTIONS:
        stamp = tokens.pop(0)
        if _TS_RE.match(stamp):
            try:
                ts = datetime.fromisoformat(stamp)
            except ValueError:
                notes.append(f"timestamp not understood: {snippet(stamp)}")
        else:
            notes.append(f"timestamp not understood: {snippet(stamp)}")
    if len(tokens) < 2 or tokens[0] not in EVENT_ACTIONS or tokens[1] not in EVENT_OBJECTS:
        return Parsed(None, (f"not an events2 line: {snippet(line)}",), line)
    fields = []
    for tok in tokens[2:]:
        key, sep, val = tok.partition(":")
        if not sep:
            notes.append(f"token without key: {snippet(tok)}")
            continue
        fields.append((key, val.rpartition("->")[2]))  # --diff prints old->new
    return Parsed(DrbdEvent(ts, tokens[0], tokens[1], tuple(fields), line), tuple(notes), line)


def apply_role_event(resources: tuple[DrbdResource, ...], line: str) -> tuple[DrbdResource, ...] | None:
    """A role change from the `drbdsetup events2` stream (`change resource name:r0 role:Secondary`, or a
    connection's `role:` for the peer) applied to the last poll's resources; None for any other line
    (the poll it wakes reads the rest)."""
    ev = parse_event_line(line).value
    if ev is None or ev.action != "change" or ev.object not in ("resource", "connection"):
        return None
    fields = dict(ev.fields)
    role, name = fields.get("role"), fields.get("name")
    if not role or not name or not any(r.name == name for r in resources):
        return None
    out = []
    for r in resources:
        if r.name != name:
            out.append(r)
        elif ev.object == "resource":
            out.append(replace(r, role=role))
        elif len(r.connections) <= 1:  # a pair: the one peer (and its summary)
            out.append(replace(r, peer_role=role, connections=tuple(replace(c, peer_role=role) for c in r.connections)))
        else:
            return None
    return tuple(out)


class _Fold:
    """The state events2 describes, updated event by event."""

    def __init__(self) -> None:
        self.res: dict[str, dict[str, Any]] = {}
        self.split_brain: set[str] = set()

    def _r(self, name: str) -> dict[str, Any]:
        return self.res.setdefault(name, {"res": {}, "devs": {}, "conns": {}})

    def apply(self, ev: DrbdEvent) -> None:
        name = ev.get("name")
        if name is None or ev.object == "-":
            return
        state = {k: v for k, v in ev.fields if k not in ("name", "peer-node-id", "conn-name", "volume")}
        gone = ev.action == "destroy"
        if ev.object == "resource":
            if ev.action == "rename" and (new := ev.get("new_name")):
                self.res[new] = self.res.pop(name, self._r(name))
            elif gone:
                self.res.pop(name, None)
            else:
                self._r(name)["res"].update(state)
            return
        r, vol, cname = self._r(name), to_int(ev.get("volume")), ev.get("conn-name")
        if ev.object == "device" and vol is not None:
            if gone:
                r["devs"].pop(vol, None)
            else:
                r["devs"].setdefault(vol, {}).update(state)
        elif ev.object in ("connection", "peer-device") and cname:
            conn = r["conns"].setdefault(cname, {"conn": {"peer-node-id": ev.get("peer-node-id")}, "pds": {}})
            if ev.object == "connection":
                if gone:
                    r["conns"].pop(cname, None)
                else:
                    conn["conn"].update(state)
            elif vol is not None:
                if gone:
                    conn["pds"].pop(vol, None)
                else:
                    conn["pds"].setdefault(vol, {}).update(state)
                    if state.get("replication", "Off") not in ("Off",):
                        self.split_brain.discard(name)  # replicating again: resolved
        elif ev.object == "helper" and ev.action == "call" and ev.get("helper") == "split-brain":
            self.split_brain.add(name)

    def resources(self, notes: list[str]) -> tuple[DrbdResource, ...]:
        out = []
        for name, r in self.res.items():
            rn = short(name)
            vols = tuple(DrbdVolume(
                volume=v, minor=to_int(d.get("minor")),
                disk_state=known(d.get("disk"), DISK_STATES, f"{rn}: volume {v}: disk state", notes),
                client=to_bool(d.get("client")), quorum=to_bool(d.get("quorum")), open=d.get("open"),
                backing_dev=d.get("backing_dev"), size_kib=to_int(d.get("size")), read_kib=to_int(d.get("read")),
                written_kib=to_int(d.get("written"))) for v, d in sorted(r["devs"].items()))
            sizes = {v.volume: v.size_kib for v in vols}
            conns = []
            for cname, c in r["conns"].items():
                cc = c["conn"]
                where = f"{rn}: connection {short(cname)}"
                cstate = known(cc.get("connection"), CONN_STATES_9, f"{where}: state", notes)
                pds = []
                for v, p in sorted(c["pds"].items()):
                    # a replication state never printed is not known (exists lines print every key)
                    pd_cstate = cstate if "replication" in p else UNKNOWN_STATE
                    pd = _peer_device_from_keys({**p, "volume": str(v)}, pd_cstate, f"{where}: volume {v}", notes)
                    if pd.sync_percent is None and pd.replication_state in SYNC_STATES:
                        # the 8.4 path never prints done:; drbd-utils computes it the same way for status
                        pct = progress_from_oos(sizes.get(v), pd.out_of_sync_kib, f"{where}: volume {v}", notes)
                        pd = replace(pd, sync_percent=pct)
                    pds.append(pd)
                conns.append(DrbdConnection(
                    name=cname, connection_state=cstate,
                    peer_role=known_or_none(cc.get("role"), ROLES, f"{where}: peer role", notes),
                    peer_node_id=to_int(cc.get("peer-node-id")), congested=to_bool(cc.get("congested")),
                    peer_devices=tuple(pds)))
            out.append(DrbdResource.build(name, known(r["res"].get("role"), ROLES, f"{rn}: role", notes), "events2",
                                          vols, tuple(conns), suspended=r["res"].get("suspended"),
                                          split_brain_helper=name in self.split_brain))
        return tuple(out)


@never_raises(max_lines=2 * MAX_DRBD_LINES)
def parse_events2(text: str) -> Parsed[Events2Dump]:
    """`drbdsetup events2 [--now] [--statistics] [--timestamps] [--diff]`, 8.4 and 9 paths.  A second
    initial-state dump (`exists` lines after `exists -`: outputs concatenated) starts the state over."""
    notes: list[str] = []
    events: list[DrbdEvent] = []
    fold = _Fold()
    done = False
    for line in _event_lines(text):
        if line.startswith("- skipped") or " - skipped" in line:
            notes.append(f"events lost: {snippet(line)}")
            continue
        p = parse_event_line(line)
        notes.extend(p.unparsed)
        if p.value is None:
            continue
        ev = p.value
        events.append(ev)
        if ev.action == "exists" and ev.object == "-":
            done = True
        elif ev.action == "exists" and done:
            notes.append("a second initial-state dump (concatenated outputs?): the state is read from the last one")
            fold, done = _Fold(), False
        fold.apply(ev)
    if not events:
        return Parsed(None, dedupe(notes) or ("no events2 lines",), text)
    resources = fold.resources(notes)
    dump = Events2Dump(tuple(events), resources, done, tuple(sorted(fold.split_brain)))
    return Parsed(dump, dedupe(notes), text)


# ---- drbdadm role / cstate / dstate ----------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in strip_ansi(text).splitlines() if ln.strip()]


# ---- errors of drbdadm/drbdsetup actions -----------------------------------------------------------
_SC_RE = re.compile(r"State change failed: \((?P<code>-?\d+)\)\s*(?P<text>.*)")
_FAIL_RE = re.compile(r"Failure: \((?P<code>-?\d+)\)\s*(?P<text>.*)")
_CMD_HEAD, _CMD_TAIL = "Command '", "' terminated with exit code "
_STATE_REASONS: dict[int, DrbdErrorReason] = {-1: "peer-is-primary", -12: "device-held-open",
                                               -15: "need-connection", -2: "no-uptodate-data"}
_FAIL_REASONS: dict[int, DrbdErrorReason] = {125: "already-connected", 127: "minor-not-allocated",
                                             158: "unknown-resource", 162: "invalid-config-request"}
_NOISE = ("DRBD module version:", "userland version:", "preferably kernel and userland")


def _command_line(line: str) -> tuple[str, int] | None:
    """drbdadm's `Command '<argv>' terminated with exit code <n>` → (argv, n).  String search: the regex
    `Command '(.*)' terminated...` retried its greedy `.*` from every `Command '` (quadratic).  As the
    greedy regex did, the argv runs to the last tail that is followed by a number."""
    start = line.find(_CMD_HEAD)
    if start < 0:
        return None
    end = len(line)
    while (pos := line.rfind(_CMD_TAIL, start + len(_CMD_HEAD), end)) >= 0:
        digits = line[pos + len(_CMD_TAIL):pos + len(_CMD_TAIL) + 12]
        n = len(digits) - len(digits.lstrip("0123456789"))
        if n and (rc := to_int(digits[:n])) is not None:
            return line[start + len(_CMD_HEAD):pos], rc
        end = pos + len(_CMD_TAIL) - 1
    return None


def _object_before(line: str, pos: int) -> str | None:
    """The `<obj>` of `<obj>: State change failed...` (string operations: a regex here would be
    quadratic on a long line without colons)."""
    head = line[:pos].rstrip()
    if not head.endswith(":"):
        return None
    words = head[:-1].split()
    return words[-1] if words and ":" not in words[-1] else None


@never_raises(max_lines=MAX_DRBD_LINES)
def parse_drbd_error(stderr: str, exit_code: int | None = None) -> Parsed[DrbdError]:
    """stderr of a failed `drbdadm primary|secondary|invalidate|connect ...`.  Value None with no
    note means nothing failed (exit 0, nothing recognisable on stderr)."""
    err: DrbdError | None = None
    info: list[str] = []
    in_info = False
    cmd = cmd_rc = None
    lines = _lines(stderr)
    for ln in lines:
        if found := _command_line(ln):
            (cmd, cmd_rc), in_info = found, False
        elif ln.startswith("additional info from kernel:"):
            in_info = True
        elif in_info:
            info.append(ln)
        elif err is None and (m := _SC_RE.search(ln)):
            code = to_int(m["code"])
            err = DrbdError("state-change", code, m["text"].strip(), _STATE_REASONS.get(code, "other"), None,
                            _object_before(ln, m.start()))
        elif err is None and (m := _FAIL_RE.search(ln)):
            code = to_int(m["code"])
            err = DrbdError("failure", code, m["text"].strip(), _FAIL_REASONS.get(code, "other"), None,
                            _object_before(ln, m.start()))
        elif err is None and ln.endswith(": No such resource"):
            err = DrbdError("failure", None, "No such resource", "unknown-resource", None,
                            _object_before(ln, len(ln) - len("No such resource")))
        elif err is None and "was built without support for drbd kernel code 8.4" in ln:
            err = DrbdError("other", None, ln, "no-84-support", None)
    rc = exit_code if exit_code is not None else cmd_rc
    notes: list[str] = []
    if err is None:
        if not rc:
            return Parsed(None, (), stderr)
        text = next((ln for ln in lines if not ln.startswith(_NOISE)), "")
        err = DrbdError("other", None, text, "other", rc)
        notes.append(f"exit code {rc} with an error not understood: {snippet(text)}")
    return Parsed(replace(err, exit_code=rc, additional_info=tuple(info), command=cmd), tuple(notes), stderr)


# ---- what the live loop runs ------------------------------------------------------------------------
def live_commands(proc_file: str, resource: str, mount_point: str, root: Root = AS_ROOT) -> dict[str, str]:
    """/proc/drbd (8.4); where it has no device lines (DRBD 9) `drbdsetup events2 --now` (root: through
    sudo for an unprivileged user); and whether the mount point is mounted.  bash builtins where they do:
    a fork costs ~1-2 ms per command."""
    proc, mnt = quote(valid_path(proc_file)), quote(valid_path(mount_point))
    events, status = root(*events_argv(resource)), root(*status_argv(resource))
    return {
        "drbd_proc": f"DRBD_PROC=$(< {proc}) 2>/dev/null; printf '%s\\n' \"$DRBD_PROC\"",
        "drbd_events": f"[[ \"$DRBD_PROC\" =~ [0-9]+:\\ cs: ]] || "
                       f"{{ EV=$({events} 2>&1); EV_RC=$?; printf '%s\\n' \"$EV\"; }}",
        # where events2 --now printed nothing (a drbd-utils without it): `drbdadm status`, parsed as well
        "drbd_status": f"[[ \"$DRBD_PROC\" =~ [0-9]+:\\ cs: ]] || "
                       f"{{ [ \"$EV_RC\" = 0 ] && [ -n \"$EV\" ]; }} || {status}",
        "mounted": f"M=1; while read -r _ mp _; do [ \"$mp\" = {mnt} ] && M=0; done < /proc/self/mounts; [ $M = 0 ]",
    }


def events_argv(resource: str) -> tuple[str, ...]:
    return ("drbdsetup", "events2", "--now", "--statistics", valid_name(resource))


def status_argv(resource: str) -> tuple[str, ...]:
    return ("drbdadm", "status", valid_name(resource))


def root_argvs(resource: str) -> list[tuple[str, ...]]:
    """The exact commands the DRBD probe runs as root (DRBD 9 only: /proc/drbd is world-readable)."""
    return [events_argv(resource), status_argv(resource), ("drbdsetup", "events2", valid_name(resource))]


def drbd_from_raw(proc_text: str, events_text: str, device: str, resource: str,
                  status_text: str = "") -> tuple[tuple[DrbdResource, ...], list[str]]:
    """The configured resource from /proc/drbd (8.4), events2 (9) or, where events2 printed nothing,
    `drbdadm status`, with the parsers' notes."""
    notes: list[str] = []
    if proc_text.strip():
        proc = parse_proc_drbd(proc_text)
        notes.extend(proc.unparsed)
        if proc.value is not None and proc.value.resources:
            # /proc/drbd knows minors, not resource names: name the configured device's minor
            minor_name = "drbd" + device.rsplit("drbd", 1)[-1]
            return tuple(replace(r, name=resource) if r.name == minor_name else r
                         for r in proc.value.resources), notes
    if events_text.strip():
        ev = parse_events2(events_text)
        notes.extend(ev.unparsed)
        if ev.value is not None:
            return ev.value.resources, notes
    if status_text.strip():
        st = parse_drbdadm_status(status_text)
        notes.extend(st.unparsed)
        if st.value:
            return st.value, notes
    if not proc_text.strip() and not events_text.strip() and not status_text.strip():
        notes.append("DRBD: no status (no /proc/drbd, and drbdsetup and drbdadm printed nothing)")
    return (), notes


def events_follow_command(proc_file: str, resource: str, root: Root = AS_ROOT) -> str:
    """DRBD 9 (a /proc/drbd without device lines): `drbdsetup events2` without --now follows every state
    change as it happens; on 8.4 it prints nothing here and /proc/drbd is polled.  Root: through sudo for
    an unprivileged user."""
    proc = quote(valid_path(proc_file))
    return f"[[ \"$(< {proc})\" =~ [0-9]+:\\ cs: ]] 2>/dev/null || {root('drbdsetup', 'events2', valid_name(resource))}"
