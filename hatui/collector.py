"""Polls every node concurrently and turns what comes back into ClusterSnapshots.

Each node has its own loop, so a node that hangs (say its sshd is SIGSTOPped) is marked unreachable
after the command timeout while the other node keeps updating.  One cycle of one node is ONE round
trip on its persistent shell (every command in a batch) plus one query on its persistent MariaDB
connection, run concurrently.

keepalived's dumps are pipelined: each batch reads the JSON and data dumps that the previous batch's
signals asked for, then signals again, so no cycle waits for keepalived to write.  The VIP itself is
read fresh from `ip -o addr` every cycle.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pymysql

from hatui.config import Config
from hatui.model import ClusterSnapshot, FailoverEvent, NodeSnapshot, WebCheck
from hatui.probes import drbd as drbd_probe
from hatui.probes import failover_log, galera, keepalived
from hatui.probes import quote as q
from hatui.transport import CommandResult, NodeTransport, TransportError, transports

KEEPALIVED_PID = "/run/keepalived.pid"
MAX_EVENTS = 500
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)
PUBLISH_COALESCE_S = 0.05


@dataclass
class _NodeLoop:
    transport: NodeTransport
    snapshot: NodeSnapshot
    log_tail: failover_log.FailoverLogTail
    events: collections.deque[FailoverEvent] = field(default_factory=lambda: collections.deque(maxlen=MAX_EVENTS))
    log_started: bool = False
    cycles: int = 0
    last_ka_data: CommandResult | None = None
    # (instance, state, effective priority) from the JSON read together with last_ka_data
    ka_key_at_data: tuple | None = None
    signums: tuple[int, int] | None = None  # (JSON, DATA)
    mysql: pymysql.connections.Connection | None = None
    failures: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Collector:
    def __init__(self, config: Config, on_snapshot: Callable[[ClusterSnapshot], None] | None = None) -> None:
        self.config = config
        self.on_snapshot = on_snapshot
        self.paused = False
        self._loops = {
            name: _NodeLoop(t, NodeSnapshot(node=name, reachable=False, error="not polled yet"),
                            failover_log.FailoverLogTail(name))
            for name, t in transports(config).items()
        }
        self._web: WebCheck | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._latest: ClusterSnapshot | None = None
        self._web_wake = asyncio.Event()
        self._publish_pending = False
        # called with (node, raw poll) after every successful poll: used to record fixtures
        self.recorder: Callable[[str, dict], None] | None = None

    @property
    def transports(self) -> dict[str, NodeTransport]:
        return {n: lp.transport for n, lp in self._loops.items()}

    # ---- one node, one cycle ------------------------------------------------------------------
    def _commands(self, lp: _NodeLoop) -> dict[str, str]:
        cfg = self.config
        proc = q(cfg.drbd.proc_file)
        lp.cycles += 1
        mnt = q(cfg.drbd.mount_point)
        log = q(cfg.failover_log)
        # bash builtins where they do (read, kill, $(<file), [[ ]]): a fork+exec costs ~1-2 ms per command
        cmds = {
            "addr": keepalived.IP_ADDR_COMMAND,
            "ka_pid": f"read -r P < {KEEPALIVED_PID} 2>/dev/null && kill -0 \"$P\" 2>/dev/null && echo \"$P\"",
            "ka_json": "[ -r /tmp/keepalived.json ] && printf '%s\\n' \"$(< /tmp/keepalived.json)\"",
            # the data dump (~7 KB) only gives the track scripts' GOOD/BAD: every 3rd cycle is enough
            # (they run every few seconds); the JSON dump with state and priorities comes every cycle
            **({"ka_data": _KA_DATA_CMD} if lp.cycles % 3 == 0 or lp.last_ka_data is None else {}),
            "drbd_proc": f"DRBD_PROC=$(< {proc}) 2>/dev/null; printf '%s\\n' \"$DRBD_PROC\"",
            # DRBD 9 (or a /proc/drbd without device lines): ask drbdsetup; 8.4 needs nothing more
            "drbd_events": f"[[ \"$DRBD_PROC\" =~ [0-9]+:\\ cs: ]] || "
                           f"drbdsetup events2 --now --statistics {q(cfg.drbd.resource)}",
            "mounted": f"M=1; while read -r _ mp _; do [ \"$mp\" = {mnt} ] && M=0; done < /proc/self/mounts; "
                       "[ $M = 0 ]",
            "grastate": "[ -r /var/lib/mysql/grastate.dat ] && printf '%s\\n' \"$(< /var/lib/mysql/grastate.dat)\"",
        }
        if lp.log_started and lp.cycles % 10:
            # only what was appended since the last read; the size (rotation check) every 10th cycle
            cmds["log"] = f"echo -; tail -c +{lp.log_tail.bytes_consumed + 1} {log} 2>/dev/null"
        elif lp.log_started:
            cmds["log"] = failover_log.read_from_command(cfg.failover_log, lp.log_tail.bytes_consumed)
        else:
            cmds["log"] = f"stat -c %s {log} 2>/dev/null || echo 0; tail -n 200 {log} 2>/dev/null || true"
        if lp.signums is None:
            # first cycle: learn the signal numbers, ask for dumps and wait (<= 1 s) until both are rewritten
            cmds = {"signums": (
                "J=$(keepalived --signum=JSON 2>/dev/null); D=$(keepalived --signum=DATA 2>/dev/null); echo $J $D; "
                f"if read -r P < {KEEPALIVED_PID} 2>/dev/null && kill -0 \"$P\" 2>/dev/null; then "
                "M() { stat -c %.9Y /tmp/keepalived.json /tmp/keepalived.data 2>/dev/null | tr '\\n' ' '; }; "
                "B=$(M); [ -n \"$J\" ] && kill -\"$J\" \"$P\"; [ -n \"$D\" ] && kill -\"$D\" \"$P\"; "
                "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
                "A=$(M); [ \"$A\" != \"$B\" ] && [ $(echo $A | wc -w) -ge 2 ] && break; sleep 0.05; done; fi"),
                **cmds}
        else:
            js, data = lp.signums
            # ask for fresh dumps for the next cycle (written by keepalived while we wait)
            cmds["ka_signal"] = (f"read -r P < {KEEPALIVED_PID} 2>/dev/null && kill -{js} \"$P\" 2>/dev/null && "
                                 f"kill -{data} \"$P\" 2>/dev/null; true")
        return cmds

    async def _galera(self, lp: _NodeLoop) -> tuple[list[tuple[str, str]] | None, str | None]:
        cfg = self.config.mariadb
        try:
            local_socket = await lp.transport.mysql_socket(cfg.socket)

            def query() -> list[tuple[str, str]]:
                if lp.mysql is None:
                    lp.mysql = pymysql.connect(unix_socket=local_socket, user=cfg.user,
                                               password=cfg.password() or "",
                                               connect_timeout=self.config.command_timeout_s,
                                               read_timeout=self.config.command_timeout_s)
                with lp.mysql.cursor() as cur:
                    cur.execute(galera.WSREP_STATUS_SQL)
                    return list(cur.fetchall())

            rows = await asyncio.wait_for(asyncio.to_thread(query), self.config.command_timeout_s + 1)
        except (TimeoutError, pymysql.MySQLError, OSError, TransportError) as exc:
            self._close_mysql(lp)
            return None, _mysql_why(exc)
        return [(str(k), "" if v is None else str(v)) for k, v in rows], None

    @staticmethod
    def _close_mysql(lp: _NodeLoop) -> None:
        if lp.mysql is not None:
            with contextlib.suppress(Exception):
                lp.mysql.close()
            lp.mysql = None

    async def poll_node(self, name: str) -> NodeSnapshot:
        lp = self._loops[name]
        t0 = time.perf_counter()
        try:
            batch_task = asyncio.ensure_future(lp.transport.batch(self._commands(lp)))
            galera_task = asyncio.ensure_future(self._galera(lp))
            res = await batch_task
            galera_rows, mysql_error = await galera_task
        except TransportError as exc:
            galera_task.cancel()
            self._close_mysql(lp)
            return self._unreachable(lp, str(exc))
        if "signums" in res:
            nums = [int(x) for x in res["signums"].output.split() if x.isdigit()]
            lp.signums = (nums[0], nums[1]) if len(nums) == 2 else (36, 10)  # SIGRTMIN+2, SIGUSR1 on Linux
        for key in ("ka_json", "ka_data"):  # the VRRP password goes no further than this
            if key in res:
                res[key] = CommandResult(res[key].exit_status, keepalived.redact(res[key].output))
        ka_key = _vrrp_key(res.get("ka_json"))
        if "ka_data" not in res and lp.last_ka_data is not None and ka_key != lp.ka_key_at_data:
            # state or priority moved since the data dump we hold: its script GOOD/BAD and track-file values
            # are stale. The file on the node was rewritten with the JSON we just read: fetch it now.
            try:
                extra = await lp.transport.batch({"ka_data": _KA_DATA_CMD})
                res["ka_data"] = CommandResult(extra["ka_data"].exit_status,
                                               keepalived.redact(extra["ka_data"].output))
            except TransportError:
                pass  # the next full cycle decides whether the node is still reachable
        if "ka_data" in res:
            lp.last_ka_data = res["ka_data"]
            lp.ka_key_at_data = ka_key
        elif lp.last_ka_data is not None:
            res["ka_data"] = lp.last_ka_data
        if self.recorder is not None:
            self.recorder(name, {"batch": {k: [v.exit_status, v.output] for k, v in res.items()},
                                 "galera_rows": galera_rows, "mysql_error": mysql_error})
        self._read_log(lp, res["log"].output)
        prev = lp.snapshot
        lp.failures = 0
        snap = node_from_raw(self.config, name, res, galera_rows, mysql_error)
        lp.snapshot = replace(
            snap, since_epoch_s=prev.since_epoch_s if prev.reachable and prev.since_epoch_s else time.time(),
            failover_events=tuple(lp.events), poll_latency_ms=(time.perf_counter() - t0) * 1000)
        return lp.snapshot

    def _read_log(self, lp: _NodeLoop, output: str) -> None:
        if output.startswith("-\n"):
            size, text = None, output[2:]
        else:
            size, text = failover_log.split_read_from_output(output)
        if not lp.log_started:
            lp.events.extend(lp.log_tail.feed(text))
            lp.log_tail.bytes_consumed = size or 0
            lp.log_started = True
            return
        if size is not None and lp.log_tail.rotated(size):
            lp.log_tail.reset()
            lp.log_started = False
            return
        lp.events.extend(lp.log_tail.feed(text))

    def _unreachable(self, lp: _NodeLoop, why: str) -> NodeSnapshot:
        prev = lp.snapshot
        lp.failures += 1
        since = prev.since_epoch_s if not prev.reachable and prev.since_epoch_s else time.time()
        lp.snapshot = replace(prev, reachable=False, since_epoch_s=since, error=why,
                              failover_events=tuple(lp.events), poll_latency_ms=None)
        return lp.snapshot

    # ---- the web page through the VIP ----------------------------------------------------------
    async def check_web(self) -> WebCheck | None:
        url = self.config.web.url
        if not url:
            return None
        self._web = await fetch_web(url, self.config.web.expect_text, self.config.command_timeout_s)
        return self._web

    # ---- snapshots --------------------------------------------------------------------------------
    def snapshot(self) -> ClusterSnapshot:
        from hatui.diagnosis import diagnose

        now = time.time()
        nodes = []
        for lp in self._loops.values():
            snap = lp.snapshot
            nodes.append(snap)
        merged = failover_log.merge_failover_events(*(lp.events for lp in self._loops.values()))
        cluster = ClusterSnapshot(taken_at_epoch_s=now, nodes=tuple(nodes), web=self._web,
                                  failover_events=merged)
        cluster = replace(cluster, findings=diagnose(cluster, self.config))
        self._latest = cluster
        return cluster

    async def snapshot_once(self) -> ClusterSnapshot:
        """Poll every node and the web page once (for `hatui status` / `hatui check`)."""
        await asyncio.gather(*(self.poll_node(n) for n in self._loops), self.check_web())
        return self.snapshot()

    # ---- live loops -------------------------------------------------------------------------------
    def start(self) -> None:
        for name in self._loops:
            self._tasks.append(asyncio.create_task(self._node_loop(name), name=f"poll-{name}"))
        self._tasks.append(asyncio.create_task(self._web_loop(), name="poll-web"))

    def refresh_now(self) -> None:
        for lp in self._loops.values():
            lp.failures = 0
            lp.wake.set()
        self._web_wake.set()

    async def _sleep(self, event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()

    async def _node_loop(self, name: str) -> None:
        lp = self._loops[name]
        interval = self.config.poll_interval_s
        while True:
            started = time.monotonic()
            if not self.paused:
                await self.poll_node(name)
                self._publish()
            if lp.failures:
                delay = BACKOFF_S[min(lp.failures - 1, len(BACKOFF_S) - 1)]
            else:
                delay = max(0.0, interval - (time.monotonic() - started))
            await self._sleep(lp.wake, delay)

    async def _web_loop(self) -> None:
        while True:
            started = time.monotonic()
            if not self.paused:
                await self.check_web()
                self._publish()
            await self._sleep(self._web_wake, max(0.0, self.config.poll_interval_s - (time.monotonic() - started)))

    def _publish(self) -> None:
        """Tell the UI, coalescing: both nodes' polls and the web check of one cycle finish within a few
        ms of each other, and one snapshot (merge + diagnosis + redraw) serves them all."""
        if self.on_snapshot is None or self._publish_pending:
            return
        self._publish_pending = True
        asyncio.get_running_loop().call_later(PUBLISH_COALESCE_S, self._publish_now)

    def _publish_now(self) -> None:
        self._publish_pending = False
        if self.on_snapshot is not None:
            self.on_snapshot(self.snapshot())

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for lp in self._loops.values():
            self._close_mysql(lp)
            await lp.transport.close()


def node_from_raw(config: Config, name: str, res: dict[str, CommandResult],
                  galera_rows: list[tuple[str, str]] | None, mysql_error: str | None) -> NodeSnapshot:
    """Pure: one node's poll (what each command printed, the wsrep rows) → its NodeSnapshot.
    The collector adds the reachability time, log events and latency; tests replay recorded polls."""
    notes: list[str] = []
    galera_state = None
    if galera_rows is not None:
        parsed = galera.parse_wsrep_status(galera_rows)
        galera_state = parsed.value
        notes.extend(parsed.unparsed)
    empty = CommandResult(None, "")
    ka_running = res.get("ka_pid", empty).ok
    vrrp: tuple = ()
    if ka_running:
        js_text, data_text = res.get("ka_json", empty).output, res.get("ka_data", empty).output
        js = keepalived.parse_keepalived_json(js_text) if js_text.strip() else None
        data = keepalived.parse_keepalived_data(data_text) if data_text.strip() else None
        vrrp = _merge_vrrp(js.value if js else None, data.value if data else None)
        for p in (js, data):
            if p is not None:
                notes.extend(p.unparsed)
    addrs = keepalived.parse_ip_addr(res.get("addr", empty).output)
    notes.extend(addrs.unparsed)
    drbd_res, drbd_notes = _parse_drbd(res.get("drbd_proc", empty).output, res.get("drbd_events", empty).output,
                                       config.drbd.device, config.drbd.resource)
    notes.extend(drbd_notes)
    gra = res.get("grastate", empty)
    grastate = galera.parse_grastate(gra.output).value if gra.ok else None
    return NodeSnapshot(
        node=name, reachable=True, poll_age_s=0.0, vrrp=vrrp, addresses=addrs.value or (), drbd=drbd_res,
        galera=galera_state, grastate=grastate, notes=tuple(dict.fromkeys(notes)), keepalived_running=ka_running,
        drbd_mounted=res.get("mounted", empty).ok, mysql_error=mysql_error)


_KA_DATA_CMD = "[ -r /tmp/keepalived.data ] && printf '%s\\n' \"$(< /tmp/keepalived.data)\""


_VRRP_KEY_RE = re.compile(r'"(?:iname|state|effective_priority)":\s*("[^"]*"|-?\d+)')


def _vrrp_key(js: CommandResult | None) -> tuple | None:
    """What a data dump's track-script statuses must agree with: each instance's name, state and
    effective priority, picked from the JSON text (the full parse comes later, once)."""
    if js is None or not js.output.strip():
        return None
    return tuple(_VRRP_KEY_RE.findall(js.output))


def _merge_vrrp(js: tuple | None, data: tuple | None) -> tuple:
    """JSON gives numbers and counters; the data dump gives each track script's GOOD/BAD status."""
    if not js:
        return data or ()
    if not data:
        return js
    by_name = {d.name: d for d in data}
    merged = []
    for inst in js:
        d = by_name.get(inst.name)
        if d is not None:
            inst = replace(inst, track_scripts=d.track_scripts or inst.track_scripts,
                           track_files=d.track_files or inst.track_files,
                           fault_count=d.fault_count if d.fault_count is not None else inst.fault_count)
        merged.append(inst)
    return tuple(merged)


def _parse_drbd(proc_text: str, events_text: str, device: str, resource: str) -> tuple[tuple, list[str]]:
    notes: list[str] = []
    if proc_text.strip():
        proc = drbd_probe.parse_proc_drbd(proc_text)
        notes.extend(proc.unparsed)
        if proc.value is not None and proc.value.resources:
            # /proc/drbd knows minors, not resource names: name the configured device's minor
            minor_name = "drbd" + device.rsplit("drbd", 1)[-1]
            return tuple(replace(r, name=resource) if r.name == minor_name else r
                         for r in proc.value.resources), notes
    if events_text.strip():
        ev = drbd_probe.parse_events2(events_text)
        notes.extend(ev.unparsed)
        if ev.value is not None:
            return ev.value.resources, notes
    if not proc_text.strip() and not events_text.strip():
        notes.append("DRBD: no status (no /proc/drbd and drbdsetup printed nothing)")
    return (), notes


def _mysql_why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "MariaDB did not answer in time"
    if isinstance(exc, pymysql.MySQLError) and exc.args:
        return f"MariaDB: {exc.args[-1]}"
    return f"MariaDB: {exc}"


async def fetch_web(url: str, expect_text: str, timeout_s: float) -> WebCheck:
    """GET `url` with a plain HTTP/1.0 request (no extra dependency), timed."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=parts.scheme == "https" or None), timeout_s)
        path = parts.path or "/"
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: hatui\r\n\r\n".encode())
        async def read_all() -> bytes:  # HTTP/1.0: the server closes when done; the page may come in pieces
            data = b""
            while len(data) < 65536 and (chunk := await reader.read(65536)):
                data += chunk
            return data

        raw = await asyncio.wait_for(read_all(), timeout_s)
        writer.close()
    except (TimeoutError, OSError) as exc:
        why = "timed out" if isinstance(exc, asyncio.TimeoutError) else (exc.strerror or str(exc))
        return WebCheck(url=url, ok=False, node=None, latency_ms=None, error=why)
    latency = (time.perf_counter() - t0) * 1000
    head, _, body = raw.decode(errors="replace").partition("\r\n\r\n")
    status_line = head.split("\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
    text = body.strip()
    node = None
    if expect_text in text:
        node = text.split(expect_text, 1)[1].split()[0] if text.split(expect_text, 1)[1].split() else None
    ok = status == 200 and expect_text in text
    return WebCheck(url=url, ok=ok, node=node, latency_ms=latency, status=status, body=text[:200],
                    error=None if ok else f"HTTP {status}: unexpected page" if status else "no HTTP answer")
