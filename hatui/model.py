"""The typed, frozen picture of a cluster that probes produce and everything else reads.

Units are in the names (`speed_kib_s`, `eta_s`, `out_of_sync_kib`).  State names are kept exactly as
the tools print them (`UpToDate`, `SyncTarget`, `MASTER`, `non-Primary`), so a user can grep for what
the screen shows.  DRBD states use the DRBD 9 vocabulary everywhere; the 8.4 name, where it differs,
is kept beside it (`DrbdConnection.state_84`).

Parsers never raise on odd input: they return `Parsed[T]`, i.e. what they understood plus notes of
what they did not, plus the raw text (with secrets already removed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """What a parser understood (`value`, None if nothing usable), what it did not (`unparsed`, one
    human-readable note per problem) and the text it was given (`raw`, secrets redacted)."""

    value: T | None
    unparsed: tuple[str, ...] = ()
    raw: str = ""

    @property
    def ok(self) -> bool:
        """A value and nothing left over."""
        return self.value is not None and not self.unparsed


# ---- DRBD ------------------------------------------------------------------------------------------
DrbdSource = Literal["/proc/drbd", "status", "status-json", "events2"]
# a resync, from its start (bitmap exchange) to its end; an online verify is apart: it changes no data
RESYNC_STATES = frozenset({"SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "StartingSyncS",
                           "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID"})
VERIFY_STATES = frozenset({"VerifyS", "VerifyT"})
# every state in which DRBD prints a progress (done:/sync'ed:) towards the peer
SYNC_STATES = RESYNC_STATES | VERIFY_STATES
# DRBD's state words, as drbd_strings.c (drbd-headers; drbd-8.4 drbd/drbd_strings.c) names them
# (FORMATS.md sections 1.2, 2.2).  A word outside its set is not guessed at: parsers report
# UNKNOWN_STATE with a note.  "Unknown" is DRBD's own word for a role it cannot know, DUnknown for a
# peer disk it cannot see.
UNKNOWN_STATE = "Unknown"
DRBD_ROLES = frozenset({"Primary", "Secondary", "Unknown"})
DRBD_DISK_STATES = frozenset({"Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent",
                              "Outdated", "DUnknown", "Consistent", "UpToDate"})
DRBD_CONNECTION_STATES = frozenset({"StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe",
                                    "NetworkFailure", "ProtocolError", "TearDown", "Connecting", "Connected"})
DRBD_REPLICATION_STATES = frozenset({"Off", "Established", "Ahead", "Behind"}) | SYNC_STATES
# /proc/drbd's cs: (8.4 drbd_conn_str): the not-connected states, WFConnection, WFReportParams,
# Connected and the replication states other than Off/Established.
DRBD_CSTATES_84 = (frozenset({"StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe",
                              "NetworkFailure", "ProtocolError", "TearDown", "WFConnection", "WFReportParams",
                              "Connected"}) | DRBD_REPLICATION_STATES) - {"Off", "Established"}


@dataclass(frozen=True)
class DrbdVolume:
    """The local side of one volume (a DRBD 9 "device"; on 8.4 one minor)."""

    volume: int
    minor: int | None
    disk_state: str  # UpToDate, Inconsistent, Diskless, ...
    client: bool | None = None  # diskless by intention (DRBD 9); None when not printed
    quorum: bool | None = None
    open: str | None = None  # yes/no/unknown, drbd-utils >= 9.29
    backing_dev: str | None = None
    size_kib: int | None = None
    read_kib: int | None = None
    written_kib: int | None = None
    io_flags: str | None = None  # /proc/drbd only: "r-----" (running, sync-after, paused..., congestion)


@dataclass(frozen=True)
class DrbdPeerDevice:
    """One volume as seen towards one peer: replication and the peer's disk."""

    volume: int
    replication_state: str  # Off, Established, SyncSource, SyncTarget, PausedSyncS, VerifyS, Ahead, ...
    peer_disk_state: str  # UpToDate, Inconsistent, DUnknown, ...
    peer_client: bool | None = None
    resync_suspended: str | None = None  # no | user,peer,dependency,...
    sync_percent: float | None = None  # resync progress 0..100 (done: / sync'ed:), None if not syncing/unknown
    speed_kib_s: int | None = None  # current resync speed
    average_speed_kib_s: int | None = None  # /proc/drbd's bracketed value
    want_kib_s: int | None = None  # /proc/drbd want: (SyncTarget, VerifyS)
    eta_s: int | None = None
    stalled: bool = False  # /proc/drbd "(stalled)": no progress for 180 s
    out_of_sync_kib: int | None = None
    sync_total_kib: int | None = None  # /proc/drbd (left/total)
    received_kib: int | None = None
    sent_kib: int | None = None


@dataclass(frozen=True)
class DrbdConnection:
    name: str  # peer's name; always "peer" on the 8.4 code path
    connection_state: str  # DRBD 9 names: Connected, Connecting, StandAlone, ...
    peer_role: str | None = None  # Primary/Secondary/Unknown; None when not printed
    peer_node_id: int | None = None
    state_84: str | None = None  # the raw 8.4 cs: name (WFConnection, SyncSource, ...) when known
    protocol: str | None = None  # /proc/drbd A/B/C; None when no net config (StandAlone)
    congested: bool | None = None
    peer_devices: tuple[DrbdPeerDevice, ...] = ()


@dataclass(frozen=True)
class CommandResult:
    """What one command printed on a node (stdout and stderr interleaved) and its exit status
    (None when it did not finish or its status could not be read)."""

    exit_status: int | None
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


@dataclass(frozen=True)
class DrbdResource:
    """One DRBD resource (on /proc/drbd: one minor, named `drbd<minor>`).

    The flat fields summarise the first volume towards the first peer, which is the whole story for
    an active-standby pair; `volumes` and `connections` keep every detail.  Build with `build()` so
    the summary always agrees with the detail."""

    name: str
    role: str  # Primary/Secondary/Unknown
    source: DrbdSource
    peer_role: str | None
    connection_state: str | None
    disk_state: str | None
    peer_disk_state: str | None
    replication_state: str | None
    sync_percent: float | None
    speed_kib_s: int | None
    eta_s: int | None
    out_of_sync_kib: int | None
    split_brain_suspected: bool  # StandAlone, or events2 showed the split-brain helper
    suspended: str | None = None
    unconfigured: bool = False  # /proc/drbd "cs:Unconfigured"
    volumes: tuple[DrbdVolume, ...] = ()
    connections: tuple[DrbdConnection, ...] = ()

    @classmethod
    def build(cls, name: str, role: str, source: DrbdSource, volumes: tuple[DrbdVolume, ...] = (),
              connections: tuple[DrbdConnection, ...] = (), suspended: str | None = None,
              split_brain_helper: bool = False, unconfigured: bool = False) -> DrbdResource:
        vol = volumes[0] if volumes else None
        conn = connections[0] if connections else None
        pd: DrbdPeerDevice | None = None
        if conn and conn.peer_devices:
            same = [p for p in conn.peer_devices if vol is None or p.volume == vol.volume]
            pd = (same or list(conn.peer_devices))[0]
        connected = conn is not None and conn.connection_state == "Connected"
        # Without a peer-device line the tools say nothing because nothing is known: DUnknown/Off.
        peer_disk = pd.peer_disk_state if pd else ("DUnknown" if conn and not connected else None)
        repl = pd.replication_state if pd else ("Off" if conn and not connected else None)
        standalone = any(c.connection_state == "StandAlone" for c in connections)
        return cls(
            name=name, role=role, source=source,
            peer_role=conn.peer_role if conn else None,
            connection_state=conn.connection_state if conn else None,
            disk_state=vol.disk_state if vol else None,
            peer_disk_state=peer_disk, replication_state=repl,
            sync_percent=pd.sync_percent if pd else None,
            speed_kib_s=pd.speed_kib_s if pd else None,
            eta_s=pd.eta_s if pd else None,
            out_of_sync_kib=pd.out_of_sync_kib if pd else None,
            split_brain_suspected=split_brain_helper or (standalone and not unconfigured),
            suspended=suspended, unconfigured=unconfigured, volumes=volumes, connections=connections,
        )

    @property
    def syncing(self) -> bool:
        """A resync (from its start to its end) is running towards the peer; a verify is not one."""
        return (self.replication_state or "") in RESYNC_STATES or (self.connection_state or "") in RESYNC_STATES

    @property
    def verifying(self) -> bool:
        return (self.replication_state or "") in VERIFY_STATES

    @property
    def progress_percent(self) -> float | None:
        """The resync's or verify's progress, when one runs and DRBD printed it."""
        return self.sync_percent if self.syncing or self.verifying else None


@dataclass(frozen=True)
class ProcDrbd:
    """/proc/drbd.  On DRBD 9 it has only the header: `drbd9_header_only` says "ask drbdsetup"."""

    version: str | None
    api: str | None
    proto: str | None
    build: str | None  # GIT-hash/srcversion/built-in line
    resources: tuple[DrbdResource, ...]
    drbd9_header_only: bool = False


@dataclass(frozen=True)
class DrbdEvent:
    """One `drbdsetup events2` line; `fields` keeps every key in printed order (new value for --diff)."""

    timestamp: datetime | None
    action: str  # exists, create, change, destroy, call, response, rename
    object: str  # resource, device, connection, peer-device, path, helper, -
    fields: tuple[tuple[str, str], ...]
    raw: str

    def get(self, key: str) -> str | None:
        for k, v in self.fields:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class Events2Dump:
    events: tuple[DrbdEvent, ...]
    resources: tuple[DrbdResource, ...]  # state after applying every event
    initial_state_done: bool  # saw "exists -"
    split_brain_resources: tuple[str, ...] = ()  # resources whose split-brain helper was called


DrbdErrorReason = Literal["peer-is-primary", "device-held-open", "need-connection", "no-uptodate-data",
                          "already-connected", "minor-not-allocated", "unknown-resource",
                          "invalid-config-request", "no-84-support", "other"]


@dataclass(frozen=True)
class DrbdError:
    """A failed drbdadm/drbdsetup action, from its stderr and exit code."""

    kind: Literal["state-change", "failure", "other"]
    code: int | None  # (-1), (125), ...; None when the text had none
    text: str  # "Multiple primaries not allowed by config"
    reason: DrbdErrorReason
    exit_code: int | None  # the real exit code, else the one drbdadm printed
    object_name: str | None = None  # "r0" or the minor ("1") the tool named
    additional_info: tuple[str, ...] = ()  # lines after "additional info from kernel:"
    command: str | None = None  # from "Command '...' terminated with exit code N"


# ---- keepalived ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vip:
    address: str  # without prefix
    prefix_len: int | None  # printed only when not /32 (/128)
    device: str | None
    installed: bool  # the dump's " set" suffix: the address is on the interface now


@dataclass(frozen=True)
class TrackScript:
    name: str  # the script name (data dump) or its command (JSON has no names)
    weight: int | None
    status: Literal["GOOD", "BAD", "unknown"]


@dataclass(frozen=True)
class TrackFile:
    name: str
    weight: int | None
    value: int | None


@dataclass(frozen=True)
class VrrpInstance:
    """One VRRP instance.  Never holds the VRRP password: parsers drop it."""

    name: str
    state: str  # INIT, BACKUP, MASTER, FAULT, STOP, DELETED, unknown
    wanted_state: str | None
    base_priority: int | None
    effective_priority: int | None
    vrid: int | None
    vips_held: tuple[str, ...]  # addresses installed now (" set")
    track_scripts: tuple[TrackScript, ...]
    last_transition: float | None  # epoch seconds
    master_router: str | None  # BACKUP only: who is master
    master_priority: int | None
    become_master_count: int | None = None
    release_master_count: int | None = None
    auth_failures: int | None = None  # invalid type + type mismatch + failure
    interface: str | None = None
    vips: tuple[Vip, ...] = ()  # every configured VIP
    track_files: tuple[TrackFile, ...] = ()
    fault_count: int | None = None
    source: Literal["json", "data"] = "data"


@dataclass(frozen=True)
class IpAddress:
    """One line of `ip -o addr show`."""

    ifindex: int
    ifname: str
    family: Literal["inet", "inet6"]
    address: str
    prefix_len: int
    scope: str | None
    secondary: bool = False
    label: str | None = None


# ---- Galera ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaleraState:
    """`SHOW GLOBAL STATUS LIKE 'wsrep%'`, keyed by name.  None means "not reported"."""

    cluster_size: int | None
    cluster_status: str | None  # Primary, non-Primary, Disconnected
    local_state: int | None  # 1 joiner, 2 donor, 3 joined, 4 synced, 5 error
    local_state_comment: str | None  # Synced, Donor/Desynced, Joining: receiving State Transfer, ...
    ready: bool | None
    connected: bool | None
    cluster_state_uuid: str | None
    local_state_uuid: str | None
    conf_id: int | None  # None also for the 2^64-1 "no primary view" sentinel
    last_committed: int | None  # -1 when undefined
    recv_queue: int | None
    flow_control_paused: float | None  # fraction 0..1
    incoming_addresses: tuple[str, ...]
    provider_version: str | None
    evs_state: str | None = None
    desync_count: int | None = None
    local_index: int | None = None
    flow_control_active: bool | None = None
    variables: tuple[tuple[str, str], ...] = ()  # every row, in server order


@dataclass(frozen=True)
class GraState:
    """grastate.dat."""

    uuid: str | None
    seqno: int | None  # -1 while running or after a crash
    safe_to_bootstrap: bool | None  # None: file predates Galera 3.19
    version: str | None = None


# ---- failover log ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FailoverEvent:
    """One notify-script log line.  Unparseable lines are kept with only `node` and `raw` set."""

    timestamp: datetime | None  # naive local time of the node
    node: str  # whose log file
    name: str | None  # VRRP instance or group
    state: str | None
    type: str | None  # INSTANCE | GROUP
    raw: str


# ---- snapshots and findings (filled by the collector and diagnosis, written later) -------------------
Severity = Literal["ok", "info", "warning", "critical"]


@dataclass(frozen=True)
class Finding:
    """A diagnosis result: what is wrong (or fine), why it matters and what to do."""

    severity: Severity
    code: str  # stable identifier, e.g. "drbd-split-brain"
    title: str
    explanation: str
    action: str
    nodes: tuple[str, ...] = ()
    # False for findings that describe what WOULD happen (predictions): they never raise the overall
    # status, the `healthy` finding or `hatui check`'s exit code
    counts: bool = True
    # True when the explanation and action are worth showing without being asked (problems, and
    # predictions whose outcome is harmful); the rest show only their title until expanded
    expand: bool = False


@dataclass(frozen=True)
class NodeSnapshot:
    """Everything learned about one node in one poll.  `notes` collects every parser's `unparsed`."""

    node: str
    reachable: bool
    since_epoch_s: float | None = None  # when `reachable` last changed
    poll_age_s: float | None = None  # how old this data is when shown
    vrrp: tuple[VrrpInstance, ...] = ()
    addresses: tuple[IpAddress, ...] = ()
    drbd: tuple[DrbdResource, ...] = ()
    galera: GaleraState | None = None
    grastate: GraState | None = None
    failover_events: tuple[FailoverEvent, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None  # why it is unreachable, or what failed in this poll
    keepalived_running: bool | None = None  # None: unknown (unreachable)
    drbd_mounted: bool | None = None  # is the DRBD mount point mounted on this node
    mysql_error: str | None = None
    poll_latency_ms: float | None = None
    # why the last cycle did not read the node: "network" (no answer, connection lost), "host-key"
    # (its key does not verify: hatui stops reconnecting), "hatui" (hatui's own error on its output)
    error_kind: Literal["network", "host-key", "hatui"] | None = None
    maintenance_since_epoch_s: int | None = None  # the maintenance file's mtime, when it holds a value
    maintenance_set_by: str | None = None  # from the node's hatui audit log
    answered_at_epoch_s: float | None = None  # when this node last answered a whole cycle
    # the change stream (VIP, failover log, DRBD 9 events) that wakes the poll: "up", or why not
    stream: str | None = None
    # commands sudo refused in this cycle (`become: sudo`): the program's path on the node, then its arguments
    sudo_refused: tuple[str, ...] = ()

    def holds_vip(self, vip: str) -> bool:
        """The VIP is installed on one of this node's interfaces (as `ip -o addr` showed it)."""
        return self.reachable and any(a.address == vip for a in self.addresses)

    def vrrp_instance(self, name: str) -> VrrpInstance | None:
        if not self.reachable:
            return None
        return next((v for v in self.vrrp if v.name == name), None)

    def drbd_resource(self, name: str) -> DrbdResource | None:
        if not self.reachable:
            return None
        return next((r for r in self.drbd if r.name == name), None)


@dataclass(frozen=True)
class WebCheck:
    """The status page fetched through the VIP from the workstation side."""

    url: str
    ok: bool  # answered 200 with the expected text
    node: str | None  # the node the page names ("... running on node NAME")
    latency_ms: float | None
    status: int | None = None
    error: str | None = None
    body: str = ""


@dataclass(frozen=True)
class ClusterSnapshot:
    taken_at_epoch_s: float
    nodes: tuple[NodeSnapshot, ...]
    findings: tuple[Finding, ...] = ()
    web: WebCheck | None = None
    failover_events: tuple[FailoverEvent, ...] = field(default=())  # both nodes' logs, merged in time order

    def node(self, name: str) -> NodeSnapshot | None:
        return next((n for n in self.nodes if n.node == name), None)

    def reachable_node(self, name: str) -> NodeSnapshot | None:
        """The node's snapshot if it answered, else None (its last data may be stale)."""
        n = self.node(name)
        return n if n is not None and n.reachable else None

    def vip_holders(self, vip: str) -> tuple[str, ...]:
        """The reachable nodes that have the VIP installed, in config order."""
        return tuple(n.node for n in self.nodes if n.holds_vip(vip))

    def drbd_primaries(self, resource: str) -> tuple[str, ...]:
        return tuple(n.node for n in self.nodes if (r := n.drbd_resource(resource)) and r.role == "Primary")

    def mounted_on(self) -> tuple[str, ...]:
        return tuple(n.node for n in self.nodes if n.reachable and n.drbd_mounted)

    def unreachable(self) -> tuple[str, ...]:
        return tuple(n.node for n in self.nodes if not n.reachable)
