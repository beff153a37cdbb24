#!/usr/bin/env python3
"""A DRBD emulator for the hatui rehearsal lab (the lab's kernel has no DRBD module).

Stdlib only; run as a script: ``python3 drbdemu.py <kernel|drbdadm|drbdsetup|mount|umount> ...`` with
``DRBDEMU_CONF`` naming a JSON config (see ``Config``). Both nodes share ``state_dir`` (state.json, a
lock, one kernel log per node ``kern-<node>.log``). Each node runs one ``kernel`` daemon, standing in
for the module: UDP heartbeats to the peer, the state machine, replication of the Primary's
``backing_dir`` into the peer's, and a rewritten ``proc_file`` (the node's /proc/drbd).

Model (one resource, one volume):
* Per node: up (resource configured), role, disk state, net (has a net config: connect/disconnect),
  open (mounted through the ``mount`` wrapper), data generation (current and bitmap UUID; history is
  collapsed), out-of-sync KiB, counters. The link is up when both daemons are alive, both have the
  resource up with a net config, and each heard the other's heartbeat within the live window.
* Data generations: a Primary that loses its peer, or is promoted while disconnected, moves its
  current UUID to the bitmap UUID (if empty) and takes a new current UUID. On connect
  (drbd_uuid_compare() reduced): equal current -> no resync (unless one side crashed as Primary:
  it becomes SyncSource); my bitmap == peer current -> I am SyncSource; both bitmaps equal and
  currents differ -> split brain (``--discard-my-data`` on one side resolves it); otherwise
  unrelated data. An Inconsistent disk facing an UpToDate one always becomes SyncTarget.
* Out-of-sync: while Connected it is 0 (the Primary's changes are copied continuously, like
  protocol C). While a Primary is disconnected it is the size of the files that differ from the
  last state known to be on the peer (each file rounded up to 4 KiB), plus a 4 MiB floor (one
  activity-log extent) once anything differs; a Primary that crashed gets the same 4 MiB floor on
  reboot. On reconnect the resync total is the larger side's count (the sum of both sides after a
  resolved split brain), capped at size_kib; invalidate/invalidate-remote/verify cover size_kib.
  Resync and verify advance at resync_rate_kib_s of wall time (paused time excluded); the data is
  copied from source to target (rsync -a --delete --checksum) when the resync completes; a verify
  compares the two directories when it completes and reports what differs as out-of-sync.

CLI: ``kernel`` (daemon, until SIGTERM); ``drbdadm`` status [res] [-v] [-s], role|cstate|dstate res
(res:peer on 9), primary [--force], secondary, connect [--discard-my-data], disconnect, invalidate,
invalidate-remote, verify, pause-sync, resume-sync, up, down (res may be ``all``), -V, -d; ``drbdsetup``
status [res] [-v] [-s] [--json], events2 [--now] [--statistics] [--timestamps] [res|all], and the same
role/state commands; ``mount`` and ``umount`` (any other arguments go to /usr/bin/mount, umount).
Heartbeats are UDP datagrams from local_addr:port to peer_addr:peer_port: blocking that traffic
partitions the pair like a broken replication link.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import filecmp
import json
import math
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

AL_FLOOR_KIB = 4096  # one activity-log extent
MARK_STEP_S = 3.0  # DRBD_SYNC_MARK_STEP (drbd-8.4 drbd/drbd_int.h), also DRBD 9's progress report step
COUNTERS = ("ns", "nr", "dw", "dr", "al", "bm")
REAL_MOUNT = ("/usr/bin/mount", "/bin/mount")
REAL_UMOUNT = ("/usr/bin/umount", "/bin/umount")
# Debian/Ubuntu in-tree module: sample drbd84/proc_drbd-intree-8.4.11-*; srcversion is 23 hex chars.
V84_SRCVERSION = "211FB288A383ED945B83420"
# drbd-9.2.12 tag: drbd/linux/drbd_config.h (proto 118-122), drbd-headers drbd_transport.h (api 21).
V9_REL = "9.2.12"
V9_GIT = "2da6f528dc4ab3fd25c511f7b03531100e54ab08"
# drbdadm --version, sample drbd84/drbdadm-version-utils9.28-kernel8.4.11.txt (drbd-utils 9.28.0).
UTILS_BUILDTAG = (
    r"GIT-hash:\ ba2ce9037989b6141222c7901d1219cf852949f1\ build\ by\ buildd@lcy02-amd64-093\,"
    r"\ 2024-05-06\ 09:10:38"
)


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Config:
    node: str
    peer: str
    node_id: int
    version: str  # "84" or "9"
    state_dir: str
    backing_dir: str
    peer_backing_dir: str
    local_addr: str
    peer_addr: str
    proc_file: str
    resource: str = "r0"
    minor: int = 0
    device: str = ""
    port: int = 7789
    peer_port: int = 0  # 0: same as port
    size_kib: int = 1048576
    resync_rate_kib_s: int = 51200
    ping_timeout_s: float = 1.5
    mount_point: str = "/mnt/drbd"
    tick_s: float = 0.25
    report_open: bool = False  # DRBD 9: print open: like drbd-utils >= 9.29 (default: 9.28, no open:)
    auto_promote: bool = False  # DRBD 9: mount on a Secondary tries to promote, umount demotes

    @property
    def is84(self) -> bool:
        return self.version == "84"

    @property
    def peer_node_id(self) -> int:
        return 1 - self.node_id

    @property
    def live_s(self) -> float:
        """A heartbeat older than this means the peer is gone (detected within ping_timeout_s)."""
        return max(2.2 * self.tick_s, self.ping_timeout_s - self.tick_s)


def load_config(path: str | None = None) -> Config:
    path = path or os.environ.get("DRBDEMU_CONF")
    if not path:
        raise ConfigError("DRBDEMU_CONF is not set (path of the emulator's JSON config)")
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be an object")
    fields = {f.name: f for f in dataclasses.fields(Config)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(unknown)}")
    kw: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{path}: missing key '{name}'")
            continue
        want = {"int": int, "float": (int, float), "bool": bool}.get(str(f.type), str)
        val = raw[name]
        if not isinstance(val, want) or (want is int and isinstance(val, bool)):
            raise ConfigError(f"{path}: key '{name}' must be {f.type}, got {val!r}")
        kw[name] = float(val) if f.type == "float" else val
    cfg = Config(**kw)
    if cfg.version not in ("84", "9"):
        raise ConfigError(f'{path}: key \'version\' must be "84" or "9", got {cfg.version!r}')
    if cfg.node_id not in (0, 1) or cfg.node == cfg.peer:
        raise ConfigError(f"{path}: node_id must be 0 or 1 and node differ from peer")
    if cfg.size_kib < 4 or cfg.resync_rate_kib_s <= 0 or cfg.ping_timeout_s <= 0 or cfg.tick_s <= 0:
        raise ConfigError(f"{path}: size_kib, resync_rate_kib_s, ping_timeout_s, tick_s must be positive")
    return dataclasses.replace(cfg, device=cfg.device or f"/dev/drbd{cfg.minor}", peer_port=cfg.peer_port or cfg.port)


# ----------------------------------------------------------------------------------------------
# Shared state (state_dir/state.json under an fcntl lock)


def new_uuid() -> str:
    return "%016X" % (secrets.randbits(64) & ~1)


def new_node(node_id: int, gen: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "alive_at": 0.0,
        "heard_at": 0.0,
        "up": True,
        "role": "Secondary",
        "disk": "UpToDate",
        "net": True,
        "discard": False,
        "open": None,
        "cur": gen,
        "bm": "",
        "oos": 0,
        "user_isp": False,
        "crashed": False,
        "cnt": dict.fromkeys(COUNTERS, 0),
    }


class Store:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.path = os.path.join(cfg.state_dir, "state.json")

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        os.makedirs(self.cfg.state_dir, exist_ok=True)
        with open(os.path.join(self.cfg.state_dir, "state.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path) as f:
                    text = f.read()
                st = json.loads(text)
            except FileNotFoundError:
                gen, text = new_uuid(), ""
                st = {
                    "nodes": {
                        self.cfg.node: new_node(self.cfg.node_id, gen),
                        self.cfg.peer: new_node(self.cfg.peer_node_id, gen),
                    },
                    "link": {"up": False},
                    "resync": None,
                    "events": [],
                    "seq": 0,
                }
            if set(st["nodes"]) != {self.cfg.node, self.cfg.peer}:
                raise ConfigError(
                    f"{self.path} holds nodes {sorted(st['nodes'])}, config says {self.cfg.node}/{self.cfg.peer}"
                )
            yield st
            new = json.dumps(st, indent=1, sort_keys=True)
            if new != text:
                tmp = f"{self.path}.{os.getpid()}.tmp"
                with open(tmp, "w") as f:
                    f.write(new)
                os.replace(tmp, self.path)


def alive(cfg: Config, n: dict[str, Any], now: float) -> bool:
    return now - n["alive_at"] < cfg.live_s


def kern_log(cfg: Config, logs: list[tuple[str, str]]) -> None:
    """Append kernel messages; prefixes as drbd-8.4 dev_printk()/conn_printk() ("block drbd0: ",
    "drbd r0: ") and DRBD 9 drbd_polymorph_printk.h ("drbd r0/0 drbd0 node2: ", "drbd r0 node2: ")."""
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="microseconds")
    for node, msg in logs:
        peer = cfg.peer if node == cfg.node else cfg.node
        conn = msg.startswith(("Handshake", "PingAck", "conn("))
        if cfg.is84:
            pre = f"drbd {cfg.resource}: " if conn else f"block drbd{cfg.minor}: "
        else:
            pre = f"drbd {cfg.resource} {peer}: " if conn else f"drbd {cfg.resource}/0 drbd{cfg.minor} {peer}: "
        with open(os.path.join(cfg.state_dir, f"kern-{node}.log"), "a") as f:
            f.write(f"{stamp} {node} kernel: {pre}{msg}\n")


# ----------------------------------------------------------------------------------------------
# State machine (drbd_sync_handshake()/drbd_uuid_compare() in drbd-8.4 drbd/drbd_receiver.c, reduced)


def new_generation(n: dict[str, Any]) -> None:
    if not n["bm"]:
        n["bm"] = n["cur"]
    n["cur"] = new_uuid()


def helper(st: dict[str, Any], node: str, name: str) -> None:
    for action in ("call", "response"):
        st["seq"] += 1
        st["events"].append({"seq": st["seq"], "node": node, "action": action, "helper": name})
    del st["events"][:-50]


def advance(cfg: Config, st: dict[str, Any], now: float) -> list[tuple[str, str]]:
    logs: list[tuple[str, str]] = []
    nodes = st["nodes"]
    ready = all(
        n["up"] and n["net"] and alive(cfg, n, now) and now - n["heard_at"] < cfg.live_s for n in nodes.values()
    )
    if st["link"]["up"] and not ready:
        drop_link(cfg, st, now, logs)
    elif not st["link"]["up"] and ready:
        handshake(cfg, st, now, logs)
    if st["link"]["up"] and st["resync"]:
        step_resync(cfg, st, now)
    return logs


def drop_link(cfg: Config, st: dict[str, Any], now: float, logs: list[tuple[str, str]]) -> None:
    st["link"] = {"up": False}
    rs = st.pop("resync", None)
    st["resync"] = None
    for name, n in st["nodes"].items():
        if rs and rs["kind"] == "resync" and name in (rs["src"], rs["tgt"]):
            n["oos"] = max(n["oos"], 4 * math.ceil(rs["left"] / 4))
        n["cnt"]["bm"] += 1
        if n["role"] == "Primary" and n["up"] and alive(cfg, n, now):
            new_generation(n)
        if alive(cfg, n, now) and n["up"]:
            peer = next(m for m in st["nodes"].values() if m is not n)
            logs.append(
                (
                    name,
                    "conn( Connected -> Disconnecting )"
                    if not n["net"]
                    else "conn( Connected -> TearDown )"
                    if peer["up"] and not peer["net"] and alive(cfg, peer, now)
                    else "PingAck did not arrive in time.",
                )
            )


def handshake(cfg: Config, st: dict[str, Any], now: float, logs: list[tuple[str, str]]) -> None:
    xn, yn = sorted(st["nodes"])
    x, y = st["nodes"][xn], st["nodes"][yn]
    if x["cur"] == y["cur"]:
        hg = 1 if x["crashed"] and not y["crashed"] else -1 if y["crashed"] and not x["crashed"] else 0
    elif x["bm"] and x["bm"] == y["cur"]:
        hg = 1
    elif y["bm"] and y["bm"] == x["cur"]:
        hg = -1
    elif x["bm"] and x["bm"] == y["bm"]:
        hg = 100
    else:
        hg = -1000
    if (x["disk"] == "Inconsistent") != (y["disk"] == "Inconsistent"):
        hg = 1 if y["disk"] == "Inconsistent" else -1  # "Becoming sync ... due to disk states."
    elif x["disk"] == y["disk"] == "Inconsistent":
        hg = 0
    solved = False
    if abs(hg) == 100:
        for name in (xn, yn):
            helper(st, name, "initial-split-brain")
        if x["discard"] != y["discard"]:
            hg, solved = (-1 if x["discard"] else 1), True
            for name, n in ((xn, x), (yn, y)):
                logs.append(
                    (
                        name,
                        "Split-Brain detected, manually solved. Sync from %s node"
                        % ("peer" if n["discard"] else "this"),
                    )
                )
    if abs(hg) >= 100:
        for name, n in ((xn, x), (yn, y)):
            if hg == 100:
                logs.append((name, "Split-Brain detected but unresolved, dropping connection!"))
                helper(st, name, "split-brain")
            else:
                logs.append((name, "Unrelated data, aborting!"))
            n["net"] = n["discard"] = False
        return
    src, tgt = ((xn, yn) if hg > 0 else (yn, xn)) if hg else (None, None)
    if tgt and st["nodes"][tgt]["role"] == "Primary":  # rr-conflict disconnect (default)
        logs.append((tgt, "I shall become SyncTarget, but I am primary!"))
        st["nodes"][tgt]["net"] = False
        return
    if src and st["nodes"][src]["disk"] != "UpToDate":
        logs.append((src, "I shall become SyncSource, but I am inconsistent!"))
        st["nodes"][src]["net"] = False
        return
    st["link"] = {"up": True, "since": now}
    proto = "101" if cfg.is84 else "122"
    for name, n in ((xn, x), (yn, y)):
        logs.append((name, f"Handshake successful: Agreed network protocol version {proto}"))
        n["discard"] = n["crashed"] = False
    if not src:
        x["bm"] = y["bm"] = ""
        x["oos"] = y["oos"] = 0
        return
    s, t = st["nodes"][src], st["nodes"][tgt]
    total = s["oos"] + t["oos"] if solved else max(s["oos"], t["oos"])
    start_resync(cfg, st, src, tgt, min(cfg.size_kib, total), now, logs, "resync")


def start_resync(
    cfg: Config,
    st: dict[str, Any],
    src: str,
    tgt: str,
    kib: int,
    now: float,
    logs: list[tuple[str, str]],
    kind: str,
) -> None:
    bits = math.ceil(kib / 4)
    st["seq"] += 1
    st["resync"] = {
        "id": st["seq"],
        "kind": kind,
        "src": src,
        "tgt": tgt,
        "bits": bits,
        "left": float(bits * 4),
        "start": now,
        "last": now,
        "paused": 0.0,
        "marks": [[now, bits]],
        "finishing": bits == 0,
    }
    for name in (src, tgt):
        st["nodes"][name]["cnt"]["bm"] += 1
        if kind == "verify":
            logs.append((name, "Starting Online Verify from sector 0"))
        else:
            role = "SyncSource" if name == src else "SyncTarget"
            logs.append((name, f"Began resync as {role} (will sync {bits * 4} KB [{bits} bits set])."))
    if kind == "resync":
        st["nodes"][tgt]["disk"] = "Inconsistent"


def paused(st: dict[str, Any]) -> bool:
    return any(n["user_isp"] for n in st["nodes"].values())


def step_resync(cfg: Config, st: dict[str, Any], now: float) -> None:
    rs = st["resync"]
    dt = now - rs["last"]
    if rs["finishing"] or dt <= 0:
        return
    rs["last"] = now
    if paused(st) and rs["kind"] == "resync":
        rs["paused"] += dt
        return
    before = rs["left"]
    rs["left"] = max(0.0, before - cfg.resync_rate_kib_s * dt)
    done = int(before) - int(rs["left"])
    src, tgt = st["nodes"][rs["src"]]["cnt"], st["nodes"][rs["tgt"]]["cnt"]
    src["dr"] += done
    if rs["kind"] == "resync":
        src["ns"] += done
        tgt["nr"] += done
        tgt["dw"] += done
    else:
        tgt["dr"] += done
    if now - rs["marks"][-1][0] >= MARK_STEP_S:
        rs["marks"] = (rs["marks"] + [[now, math.ceil(rs["left"] / 4)]])[-8:]
    if rs["left"] <= 0:
        rs["finishing"] = True  # the source's daemon copies (or compares) the data, then finish_resync()


def finish_resync(
    cfg: Config,
    st: dict[str, Any],
    rs_id: int,
    now: float,
    logs: list[tuple[str, str]],
    verify_oos_kib: int = 0,
) -> None:
    rs = st["resync"]
    if not rs or rs["id"] != rs_id or not st["link"]["up"]:
        return
    s, t = st["nodes"][rs["src"]], st["nodes"][rs["tgt"]]
    secs = max(1, int(now - rs["start"]))
    speed = rs["bits"] * 4 // max(1, int(now - rs["start"] - rs["paused"]))
    for name, n in ((rs["src"], s), (rs["tgt"], t)):
        n["cnt"]["bm"] += 1
        if rs["kind"] == "resync":
            logs.append((name, f"Resync done (total {secs} sec; paused {int(rs['paused'])} sec; {speed} K/sec)"))
            n["oos"] = 0
        else:
            logs.append((name, f"Online verify done (total {secs} sec; paused 0 sec; {speed} K/sec)"))
            n["oos"] = verify_oos_kib
            if verify_oos_kib:
                logs.append((name, f"Online verify found {verify_oos_kib // 4} 4k block out of sync!"))
    if rs["kind"] == "resync":
        t["disk"], t["cur"] = "UpToDate", s["cur"]
        s["bm"] = t["bm"] = ""
    st["resync"] = None


# ----------------------------------------------------------------------------------------------
# What one node sees


def view(cfg: Config, st: dict[str, Any], who: str, now: float) -> dict[str, Any]:
    me = st["nodes"][who]
    peer = st["nodes"][cfg.peer if who == cfg.node else cfg.node]
    link = st["link"]["up"]
    rs = st["resync"] if link else None
    v: dict[str, Any] = {
        "up": me["up"] and alive(cfg, me, now),
        "role": me["role"],
        "disk": me["disk"],
        "open": me["open"],
        "link": link,
        "user_isp": me["user_isp"],
        "peer_isp": link and peer["user_isp"],
        "proto": "C" if me["net"] else " ",
        "peer_role": peer["role"] if link else "Unknown",
        "peer_disk": peer["disk"] if link else "DUnknown",
        "cnt": dict(me["cnt"]),
        "oos": me["oos"],
        "rs": None,
        "pe": 0,
    }
    if not v["up"]:
        v["cs"] = "Unconfigured"
    elif not me["net"]:
        v["cs"] = "StandAlone"
    elif not link:
        v["cs"] = "WFConnection"
    elif rs:
        side = "S" if rs["src"] == who else "T"
        is_paused = rs["kind"] == "resync" and paused(st)
        left = rs["left"]
        if not (rs["finishing"] or is_paused):  # extrapolate between daemon ticks
            left = max(0.0, left - cfg.resync_rate_kib_s * max(0.0, now - rs["last"]))
        if rs["kind"] == "verify":
            v["cs"] = "Verify" + side
        else:
            v["cs"] = ("PausedSync" + side) if is_paused else ("SyncSource" if side == "S" else "SyncTarget")
            v["oos"] = 4 * math.ceil(left / 4)
        v["rs"] = {
            "kind": rs["kind"],
            "total_bits": rs["bits"],
            "left_bits": math.ceil(left / 4),
            "start": rs["start"],
            "paused": rs["paused"],
            "marks": rs["marks"],
            "side": side,
            "is_paused": is_paused,
        }
        v["pe"] = 0 if is_paused or left <= 0 or side == "T" else min(32, math.ceil(left / 4))
    else:
        v["cs"] = "Connected"
    v["conn9"] = {"StandAlone": "StandAlone", "WFConnection": "Connecting", "Unconfigured": "StandAlone"}.get(
        v["cs"], "Connected"
    )
    v["repl9"] = {
        "Connected": "Established",
        "StandAlone": "Off",
        "WFConnection": "Off",
        "Unconfigured": "Off",
    }.get(v["cs"], v["cs"])
    v["susp"] = ",".join(w for w, on in (("user", v["user_isp"]), ("peer", v["peer_isp"])) if on) or "no"
    return v


# ----------------------------------------------------------------------------------------------
# /proc/drbd


def grouped(v: int) -> str:
    """drbd-8.4 drbd/drbd_proc.c seq_printf_with_thousands_grouping()."""
    if v >= 1000000:
        return f"{v // 1000000},{v % 1000000 // 1000:03d},{v % 1000:03d}"
    return f"{v // 1000},{v % 1000:03d}" if v >= 1000 else str(v)


def progress_lines(cfg: Config, v: dict[str, Any], now: float) -> str:
    """drbd-8.4 drbd/drbd_proc.c drbd_get_syncer_progress() + drbd_syncer_progress();
    samples drbd84/proc_drbd-intree-8.4.11-syncsource-reconstructed.txt, -synctarget-want-."""
    rs = v["rs"]
    total, left = rs["total_bits"], rs["left_bits"]
    if left > total:
        left, permil = total, (0 if total else 1000)
    else:
        shift = 16 if total > 0xFFFFFFFF else 10
        permil = 1000 - (left >> shift) * 1000 // (1 + (total >> shift))
    x = permil // 50
    verify = rs["kind"] == "verify"
    out = "\t[" + "=" * (x - 1) + ">" + "." * (20 - x) + "] " + ("verified:" if verify else "sync'ed:")
    out += f"{permil // 10:3d}.{permil % 10}% "
    if total > (4 << (30 - 12)):
        out += f"({(left >> 10) * 4}/{(total >> 10) * 4})M\n"
    else:
        out += f"({left * 4}/{total * 4})K\n"
    marks = rs["marks"]
    mark_t, mark_left = marks[-7] if len(marks) >= 7 else marks[0]  # (rs_last_mark + 2) % DRBD_SYNC_MARKS
    dt = max(1, int(now - mark_t))
    db = max(0, mark_left - left)
    rt = dt * (left // (db // 100 + 1)) // 100
    out += f"\tfinish: {rt // 3600}:{rt % 3600 // 60:02d}:{rt % 60:02d} speed: {grouped(db // dt * 4)} ("
    dt2 = max(1, int(now - rs["start"] - rs["paused"]))
    out += grouped((total - left) // dt2 * 4) + ")"
    if v["cs"] in ("SyncTarget", "VerifyS"):
        out += " want: " + grouped(cfg.resync_rate_kib_s)
    return out + " K/sec\n"


def render_proc(cfg: Config, st: dict[str, Any], now: float) -> str:
    if not cfg.is84:  # DRBD 9 drbd/drbd_proc.c drbd_seq_show(): header + transports, no devices
        return (
            f"version: {V9_REL} (api:2/proto:118-122)\n"
            f"GIT-hash: {V9_GIT} build by root@{cfg.node}, 2024-11-18 10:00:00\n"
            f"Transports (api:21): tcp ({V9_REL})\n"
        )
    v = view(cfg, st, cfg.node, now)
    # drbd-8.4 drbd/drbd_proc.c drbd_seq_show(); in-tree buildtag "srcversion: %-24s" (trailing space)
    out = f"version: 8.4.11 (api:1/proto:86-101)\nsrcversion: {V84_SRCVERSION:<24}\n"
    if not v["up"]:
        return out
    if cfg.minor != 0:
        out += "\n"  # prev_i != i - 1
    c = {k: n & 0xFFFFFFFF for k, n in v["cnt"].items()}
    flags = "r-" + ("p" if v["peer_isp"] else "-") + ("u" if v["user_isp"] else "-") + "--"
    out += (
        f"{cfg.minor:2d}: cs:{v['cs']} ro:{v['role']}/{v['peer_role']} ds:{v['disk']}/{v['peer_disk']} "
        f"{v['proto']} {flags}\n"
        f"    ns:{c['ns']} nr:{c['nr']} dw:{c['dw']} dr:{c['dr']} al:{c['al']} bm:{c['bm']} lo:0 "
        f"pe:{v['pe']} ua:0 ap:0 ep:1 wo:f oos:{v['oos']}\n"
    )
    if v["cs"] in ("SyncSource", "SyncTarget", "VerifyS", "VerifyT"):
        out += progress_lines(cfg, v, now)
    return out


def write_proc(cfg: Config, st: dict[str, Any], now: float) -> None:
    text = render_proc(cfg, st, now)
    os.makedirs(os.path.dirname(os.path.abspath(cfg.proc_file)), exist_ok=True)
    tmp = f"{cfg.proc_file}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, cfg.proc_file)


# ----------------------------------------------------------------------------------------------
# drbdsetup status (drbd-utils user/v84/drbdsetup.c and user/v9/drbdsetup.c status_cmd() & helpers)


class Wrap:
    """drbd-utils user/shared/wrap_printf.c as of 5344208f^ (utils <= 9.31, incl. its off-by-one)."""

    def __init__(self) -> None:
        self.cols = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80
        self.col = 0
        self.out: list[str] = []

    def __call__(self, indent: int, s: str) -> None:
        n = len(s)
        if self.col + n > self.cols:
            self.out.append("\n")
            s = s.removeprefix("\n")
            self.col = 0
        if self.col == 0:
            s = s.lstrip(" ")
            self.col += indent
            self.out.append(" " * indent)
        self.out.append(s)
        self.col += len(s)
        if s.endswith("\n"):
            self.col = 0

    def text(self) -> str:
        return "".join(self.out)


def dev_stats(cfg: Config, v: dict[str, Any], verbose: bool) -> list[str]:
    c = v["cnt"]
    out = [f" size:{cfg.size_kib}"] if verbose else []
    out += [f" read:{c['dr']}", f" written:{c['dw']}"]
    if verbose:
        out += [
            f" al-writes:{c['al']}",
            f" bm-writes:{c['bm']}",
            " upper-pending:0",
            " lower-pending:0",
            " al-suspended:no",
            " blocked:no",
        ]
    return out


def peer_stats(v: dict[str, Any], verbose: bool) -> list[str]:
    c = v["cnt"]
    out = [f" received:{c['nr']}", f" sent:{c['ns']}"]
    if verbose or v["oos"]:
        out.append(f" out-of-sync:{v['oos']}")
    if verbose:
        out += [f" pending:{v['pe']}", " unacked:0"]
    return out


def sync_done(cfg: Config, v: dict[str, Any]) -> str | None:
    """DRBD 9 done: from resync details (rs_total, out-of-sync or ov_left, in sectors)."""
    rs = v["rs"]
    if not rs or not rs["total_bits"]:
        return None
    total, left = rs["total_bits"] * 8, rs["left_bits"] * 8
    return f"{100.0 * (total - left) / total:.2f}"


def status_text(cfg: Config, v: dict[str, Any], verbose: bool, stats: bool) -> str:
    """resource_status(), device_status(), connection_status(), peer_device_status() of drbd-utils
    user/v84/drbdsetup.c (8.4 compat: connection "peer", replication:Established printed) and
    user/v9/drbdsetup.c; samples drbd84/drbdadm-status-*, drbd9/drbdadm-status-*, *-verbose-*."""
    w = Wrap()
    w(0, cfg.resource)
    if verbose and not cfg.is84:
        w(4, f" node-id:{cfg.node_id}")
    w(4, f" role:{v['role']}")
    if verbose:
        w(4, " suspended:no")
        if not cfg.is84:
            w(4, " force-io-failures:no")
    if stats and verbose:
        w(4, "\n")
        w(4, " write-ordering:flush")
    w(0, "\n")
    indent = 2
    if verbose:
        w(2, "volume:0")
        indent = 6
        w(6, f" minor:{cfg.minor}")
    w(indent, f" disk:{v['disk']}")
    if verbose and not cfg.is84:
        w(indent, f" backing_dev:{cfg.backing_dir}")
        w(indent, " quorum:yes")
    if not cfg.is84 and cfg.report_open:
        w(indent, f" open:{'yes' if v['open'] else 'no'}")
    if stats:
        w(6, "\n")
        for s in dev_stats(cfg, v, verbose):
            w(6, s)
    w(6, "\n")
    linked = v["cs"] not in ("StandAlone", "WFConnection")
    w(2, "peer" if cfg.is84 else cfg.peer)
    if verbose and not cfg.is84:
        w(6, f" node-id:{cfg.peer_node_id}")
    if verbose or not linked:
        w(6, f" connection:{v['conn9']}")
    if verbose or linked:
        w(6, f" role:{v['peer_role']}")
        if verbose and not cfg.is84:
            w(6, " tls:no")
    if verbose and (linked or not cfg.is84):  # 8.4: no connection statistics while unconnected
        w(6, " congested:no")
        if not cfg.is84:
            w(6, " ap-in-flight:0")
            w(6, " rs-in-flight:0")
    w(0, "\n")
    if verbose or stats or linked:
        indent = 4
        if verbose:
            w(4, "volume:0")
            indent = 8
        # 8.4: repl > C_WF_REPORT_PARAMS ("Established" printed); 9: repl > L_ESTABLISHED
        if verbose or v["repl9"] not in (("Off",) if cfg.is84 else ("Off", "Established")):
            w(indent, f" replication:{v['repl9']}")
            indent = 8
        if verbose or stats or v["repl9"] != "Off" or v["peer_disk"] != "DUnknown":
            w(indent, f" peer-disk:{v['peer_disk']}")
            if cfg.is84 and v["cs"] in (
                "SyncSource",
                "SyncTarget",
                "VerifyS",
                "VerifyT",
                "PausedSyncS",
                "PausedSyncT",
            ):
                w(8, f" done:{100 * (1 - v['oos'] / cfg.size_kib):.2f}")
            elif not cfg.is84 and sync_done(cfg, v):
                w(8, f" done:{sync_done(cfg, v)}")
            if verbose or v["susp"] != "no":
                w(8, f" resync-suspended:{v['susp']}")
            if stats:
                w(8, "\n")
                for s in peer_stats(v, verbose):
                    w(8, s)
                if not cfg.is84 and verbose and v["rs"]:
                    rate = 0.0 if v["rs"]["is_paused"] else cfg.resync_rate_kib_s / 1024
                    eta = f"{v['rs']['left_bits'] * 4 / cfg.resync_rate_kib_s:.0f}" if rate else "nan"
                    w(8, f" dbdt1:{rate:.2f}")
                    w(8, f" eta:{eta}")
        w(0, "\n")
    w(0, "\n")
    return w.text()


def status_json(cfg: Config, v: dict[str, Any]) -> str:
    """drbd-utils user/v9/drbdsetup.c *_status_json(): its exact (irregular) layout."""

    def b(x):
        return "true" if x else "false"

    c, rs = v["cnt"], v["rs"]
    out = [
        "[\n",
        "{\n",
        f'  "name": "{cfg.resource}",\n',
        f'  "node-id": {cfg.node_id},\n',
        f'  "role": "{v["role"]}",\n',
    ]
    for k in (
        "suspended",
        "suspended-user",
        "suspended-no-data",
        "suspended-fencing",
        "suspended-quorum",
        "force-io-failures",
    ):
        out.append(f'  "{k}": false,\n')
    out.append('  "write-ordering": "flush",\n  "devices": [\n')
    out.append(
        f'    {{\n      "volume": 0,\n      "minor": {cfg.minor},\n      "disk-state": "{v["disk"]}",\n'
        f'      "client": false,\n'
        + (f'      "open": {b(v["open"])},\n' if cfg.report_open else "")
        + f'      "quorum": true,\n      "size": {cfg.size_kib},\n      "read": {c["dr"]},\n'
        f'      "written": {c["dw"]},\n      "al-writes": {c["al"]},\n      "bm-writes": {c["bm"]},\n'
        f'      "upper-pending": 0,\n      "lower-pending": 0\n    }}'
    )
    out.append(' ],\n  "connections": [\n')

    def addr(ip, port):
        return f'            "address": "{ip}",\n            "port": {port},\n            "family": "ipv4"\n'

    out.append(
        f'    {{\n      "peer-node-id": {cfg.peer_node_id},\n      "name": "{cfg.peer}",\n'
        f'      "connection-state": "{v["conn9"]}", \n      "congested": false,\n'
        f'      "peer-role": "{v["peer_role"]}",\n      "tls": false,\n'
        f'      "ap-in-flight": 0,\n      "rs-in-flight": 0,\n      "paths": [\n'
        f'        {{\n          "this_host": {{\n{addr(cfg.local_addr, cfg.port)}          }},\n'
        f'          "remote_host": {{\n{addr(cfg.peer_addr, cfg.peer_port)}          }},\n'
        f'          "established": {b(v["link"])}\n        }} ],\n      "peer_devices": [\n'
    )
    in_sync = 100 * (1 - v["oos"] / cfg.size_kib)
    out.append(
        f'        {{\n          "volume": 0,\n          "replication-state": "{v["repl9"]}",\n'
        f'          "peer-disk-state": "{v["peer_disk"]}",\n          "peer-client": false,\n'
        f'          "resync-suspended": "{v["susp"]}",\n          "received": {c["nr"]},\n'
        f'          "sent": {c["ns"]},\n          "out-of-sync": {v["oos"]},\n'
        f'          "pending": {v["pe"]},\n          "unacked": 0,\n'
        f'          "has-sync-details": {b(rs)},\n'
        f'          "has-online-verify-details": {b(rs and rs["kind"] == "verify")},\n'
        f'          "percent-in-sync": {in_sync:.2f}{"," if rs else ""}\n'
    )
    if rs:
        now = time.time()
        el = int((now - rs["start"]) * 1000)
        pms = int(rs["paused"] * 1000)
        db = 0 if rs["is_paused"] else cfg.resync_rate_kib_s * 6  # sectors per 3 s window
        out.append(
            f'          "rs-total": {rs["total_bits"] * 8},\n          "rs-dt-start-ms": {el},\n'
            f'          "rs-paused-ms": {pms},\n          "rs-dt0-ms": 3000,\n'
            f'          "rs-db0-sectors": {db},\n          "rs-dt1-ms": 3000,\n'
            f'          "rs-db1-sectors": {db},\n'
        )
        to_go = rs["left_bits"] * 8
        if rs["kind"] == "verify":
            out.append(
                f'          "ov-start-sector": 0,\n          "ov-stop-sector": {cfg.size_kib * 2},\n'
                f'          "ov-position": {rs["total_bits"] * 8 - to_go},\n'
                f'          "ov-left": {rs["left_bits"]},\n          "ov-skipped": 0,\n'
            )
        else:
            out.append('          "rs-failed": 0,\n          "rs-same-csum": 0,\n')
        mibs = db / 3000 * 1000 / 2048
        done = rs["total_bits"] * 8 - to_go
        out.append(
            f'          "want": {cfg.resync_rate_kib_s / 1024:.2f},\n'
            f'          "db0/dt0 [MiB/s]": {mibs:.2f},\n          "db1/dt1 [MiB/s]": {mibs:.2f},\n'
            f'          "estimated-seconds-to-finish": {3 * to_go / db if db else 987654321:.0f},\n'
            f'          "db/dt [MiB/s]": {done / max(1, el - pms) * 1000 / 2048:.2f},\n'
            f'          "percent-resync-done": {100.0 * done / (rs["total_bits"] * 8 or 1):.2f}\n'
        )
    out.append("        } ]\n    } ]\n}\n]\n\n")
    return "".join(out)


# ----------------------------------------------------------------------------------------------
# events2 (drbd-utils user/v84/drbdsetup.c print_notifications(); user/v9/drbdsetup_events2.c)

Obj = tuple[str, str, dict[str, str], dict[str, str]]  # kind, identity keys, state fields, statistics


def ev_objects(cfg: Config, v: dict[str, Any]) -> list[Obj]:
    """The objects of the initial dump, in the kernel's order: resource, connection, device,
    peer-device (drbd-8.4 drbd_nl.c get_initial_state()), then path on 9 (drbdsetup_events2.c
    print_changes()); keys as 8.4 event_key() / 9 print_*_changes(). Samples events2/*."""
    if not v["up"]:
        return []
    c = v["cnt"]
    res = f"name:{cfg.resource}"
    dev = f"{res} volume:0 minor:{cfg.minor}"
    conn = (
        f"{res} peer-node-id:0 conn-name:peer"
        if cfg.is84
        else f"{res} peer-node-id:{cfg.peer_node_id} conn-name:{cfg.peer}"
    )
    dstats = {
        "size": str(cfg.size_kib),
        "read": str(c["dr"]),
        "written": str(c["dw"]),
        "al-writes": str(c["al"]),
        "bm-writes": str(c["bm"]),
        "upper-pending": "0",
        "lower-pending": "0",
        "al-suspended": "no",
        "blocked": "no",
    }
    pstats = {
        "received": str(c["nr"]),
        "sent": str(c["ns"]),
        "out-of-sync": str(v["oos"]),
        "pending": str(v["pe"]),
        "unacked": "0",
    }
    if cfg.is84:
        return [
            ("resource", res, {"role": v["role"], "suspended": "no"}, {"write-ordering": "flush"}),
            ("connection", conn, {"connection": v["conn9"], "role": v["peer_role"]}, {"congested": "no"}),
            ("device", dev, {"disk": v["disk"]}, dstats),
            (
                "peer-device",
                f"{conn} volume:0",
                {"replication": v["repl9"], "peer-disk": v["peer_disk"], "resync-suspended": v["susp"]},
                pstats,
            ),
        ]
    # compute_promotion_info() in drbdsetup_events2.c (no quorum configured: quorum always yes)
    replicas = (v["disk"] == "UpToDate") + (v["peer_disk"] == "UpToDate")
    may = replicas > 0 and "Primary" not in (v["role"], v["peer_role"])
    score = (
        (10000 * (v["disk"] in ("UpToDate", "Consistent", "Inconsistent")) + 100 * (v["disk"] == "UpToDate") + replicas)
        if replicas
        else 0
    )
    dstate = {"backing_dev": cfg.backing_dir, "disk": v["disk"], "client": "no"}
    if cfg.report_open:
        dstate["open"] = "yes" if v["open"] else "no"
    dstate["quorum"] = "yes"
    if v["rs"]:
        pstats = {
            "done": sync_done(cfg, v) or "0.00",
            **pstats,
            "dbdt1": f"{0 if v['rs']['is_paused'] else cfg.resync_rate_kib_s / 1024:.2f}",
            "eta": "nan" if v["rs"]["is_paused"] else f"{v['rs']['left_bits'] * 4 / cfg.resync_rate_kib_s:.0f}",
        }
    path = f"{conn} local:ipv4:{cfg.local_addr}:{cfg.port} peer:ipv4:{cfg.peer_addr}:{cfg.peer_port}"
    return [
        (
            "resource",
            res,
            {
                "role": v["role"],
                "suspended": "no",
                "force-io-failures": "no",
                "may_promote": f"{'yes' if may else 'no'} promotion_score:{score}",
            },
            {"write-ordering": "flush"},
        ),
        (
            "connection",
            conn,
            {"connection": v["conn9"], "role": v["peer_role"]},
            {"congested": "no", "ap-in-flight": "0", "rs-in-flight": "0"},
        ),
        ("device", dev, dstate, dstats),
        (
            "peer-device",
            f"{conn} volume:0",
            {
                "replication": v["repl9"],
                "peer-disk": v["peer_disk"],
                "peer-client": "no",
                "resync-suspended": v["susp"],
            },
            pstats,
        ),
        ("path", path, {"established": "yes" if v["link"] else "no"}, {}),
    ]


ONCE_STATS = ("write-ordering", "al-suspended", "blocked", "congested")  # printed only when new/changed


def ev_line(
    cfg: Config, action: str, obj: Obj, old: Obj | None, statistics: bool, progress: bool = False
) -> str | None:
    """One events2 line, or None when nothing would be printed. 8.4: print_notifications() prints
    each changed state key and, with --statistics, the statistics. DRBD 9: print_*_changes()."""
    kind, key, state, stats = obj
    ostate, ostats = (old[2], old[3]) if old else ({}, {})
    changed = [k for k in state if ostate.get(k) != state[k]]
    if not changed and not progress:
        return None
    stats_changed = old is None or stats != ostats
    stat_parts = [
        f"{k}:{val}"
        for k, val in stats.items()
        if k != "done" and not (k in ONCE_STATS and old and ostats.get(k) == val)
    ]
    if cfg.is84:
        return " ".join([action, kind, key] + [f"{k}:{state[k]}" for k in changed] + (stat_parts if statistics else []))
    parts: list[str] = []
    if kind == "device":
        parts = [f"{k}:{val}" for k, val in state.items()] if changed else []
    elif kind == "peer-device":
        for k in ("replication", "peer-disk", "resync-suspended"):
            if k in changed or (k == "peer-disk" and "peer-client" in changed):
                parts.append(f"{k}:{state[k]}")
                if k == "peer-disk":
                    parts.append(f"peer-client:{state['peer-client']}")
        if stats_changed and "done" in stats:
            parts.append(f"done:{stats['done']}")
    else:
        parts = [f"{k}:{state[k]}" for k in changed if k != "may_promote"]
    if statistics and stats_changed:
        parts += stat_parts
    if "may_promote" in changed:
        parts.append(f"may_promote:{state['may_promote']}")
    return " ".join([action, kind, key, *parts])


def ev_stamp() -> str:
    """ "%04u-%02u-%02uT%02u:%02u:%02u.%06u%+03d:%02u " of print_event()/format_timestamp()."""
    t = datetime.datetime.now().astimezone()
    off = int(t.utcoffset().total_seconds())
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{int(off / 3600):+03d}:{abs(off) // 60 % 60:02d} "


def helper_line(cfg: Config, ev: dict[str, Any]) -> str:
    """8.4: print_notifications() + event_key() (fake peer-node-id:0, conn-name:peer, minor);
    9: print_helper(); samples events2/drbd-utils-test-events2-all-create-helper-plain.txt."""
    if cfg.is84:
        key = f"name:{cfg.resource} peer-node-id:0 conn-name:peer volume:0 minor:{cfg.minor}"
    else:
        key = f"name:{cfg.resource} peer-node-id:{cfg.peer_node_id} conn-name:{cfg.peer} volume:0"
    return f"{ev['action']} helper {key} helper:{ev['helper']}" + (" status:0" if ev["action"] == "response" else "")


def events2(cfg: Config, store: Store, now_only: bool, statistics: bool, stamps: bool, res: str) -> int:
    """``exists`` dump then ``exists -`` (--now stops there), then ``change``/``create``/``destroy``
    lines from polling the shared state every 0.2 s, helper calls as the kernel logged them."""

    def emit(lines: list[str]) -> None:
        if lines:
            pre = ev_stamp() if stamps else ""
            sys.stdout.write("".join(pre + ln + "\n" for ln in lines))
            sys.stdout.flush()

    def snapshot() -> tuple[list[Obj], list[dict[str, Any]]]:
        with store.locked() as st:
            objs = ev_objects(cfg, view(cfg, st, cfg.node, time.time()))
            return (objs if res in ("all", cfg.resource) else []), list(st["events"])

    objs, evs = snapshot()
    emit([ev_line(cfg, "exists", o, None, statistics) for o in objs] + ["exists -"])
    if now_only:
        return 0
    last_seq = max([e["seq"] for e in evs], default=0)
    last_progress = time.time()
    while True:
        time.sleep(0.2)
        new, evs = snapshot()
        lines = [helper_line(cfg, e) for e in evs if e["seq"] > last_seq and e["node"] == cfg.node]
        last_seq = max([e["seq"] for e in evs], default=last_seq)
        progress = not cfg.is84 and time.time() - last_progress >= MARK_STEP_S
        old_by = {(o[0], o[1]): o for o in objs}
        new_by = {(o[0], o[1]): o for o in new}
        for o in new:
            old = old_by.get((o[0], o[1]))
            is_prog = progress and o[0] == "peer-device" and "done" in o[3]
            ln = ev_line(cfg, "change" if old else "create", o, old, statistics, is_prog)
            if ln and not ln.endswith(f" {o[1]}"):
                lines.append(ln)
        if progress:
            last_progress = time.time()
        for o in sorted(objs, key=lambda o: ["path", "peer-device", "connection", "device", "resource"].index(o[0])):
            if (o[0], o[1]) not in new_by:
                lines.append(f"destroy {o[0]} {o[1]}")
        objs = new
        emit(lines)


# ----------------------------------------------------------------------------------------------
# Data: snapshots, copies


def snapshot(root: str) -> dict[str, list[int]]:
    snap: dict[str, list[int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            try:
                s = os.lstat(p)
            except OSError:
                continue
            snap[os.path.relpath(p, root)] = [s.st_size, s.st_mtime_ns, s.st_mode]
    return snap


def kib4(size: int) -> int:
    return max(4, 4 * math.ceil(size / 4096))


def diff_kib(old: dict[str, list[int]] | None, new: dict[str, list[int]]) -> int:
    if old is None:
        return 0
    kib = sum(kib4(v[0]) for k, v in new.items() if old.get(k) != v)
    return kib + 4 * sum(1 for k in old if k not in new)


def compare_kib(a: str, b: str) -> int:
    sa, sb = snapshot(a), snapshot(b)
    kib = 0
    for k in set(sa) | set(sb):
        if k not in sa or k not in sb:
            kib += kib4((sa.get(k) or sb[k])[0])
        elif os.path.isfile(os.path.join(a, k)) and not filecmp.cmp(
            os.path.join(a, k), os.path.join(b, k), shallow=False
        ):
            kib += kib4(max(sa[k][0], sb[k][0]))
    return kib


@contextlib.contextmanager
def copy_lock(cfg: Config) -> Iterator[None]:
    """Serialises data copies with promotions/demotions. Lock order: copy.lock, then state.lock."""
    os.makedirs(cfg.state_dir, exist_ok=True)
    with open(os.path.join(cfg.state_dir, "copy.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def mirror(src: str, dst: str, checksum: bool = False) -> bool:
    """Make dst a copy of src (rsync -a --delete; a resync compares contents). Caller holds copy_lock()."""
    os.makedirs(dst, exist_ok=True)
    if shutil.which("rsync"):
        return subprocess.run(
            [
                "rsync",
                "-a",
                "--delete",
                *(["--checksum"] if checksum else []),
                src.rstrip("/") + "/",
                dst.rstrip("/") + "/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        ).returncode in (0, 24)
    for name in os.listdir(dst):
        p = os.path.join(dst, name)
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    return True


# ----------------------------------------------------------------------------------------------
# The kernel daemon


class Kernel:
    def __init__(self, cfg: Config) -> None:
        self.cfg, self.store = cfg, Store(cfg)
        self.stop = threading.Event()
        self.jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.busy = threading.Event()
        self.heard_at = 0.0
        self.sock: socket.socket | None = None
        os.makedirs(cfg.backing_dir, exist_ok=True)
        self.last_snap = self.synced_snap = snapshot(cfg.backing_dir)
        self.replicated_snap: dict[str, list[int]] | None = None

    def heartbeat(self) -> None:
        cfg = self.cfg
        try:
            if self.sock is None:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((cfg.local_addr, cfg.port))
                s.setblocking(False)
                self.sock = s
            msg = json.dumps({"node": cfg.node, "res": cfg.resource}).encode()
            with contextlib.suppress(OSError):
                self.sock.sendto(msg, (cfg.peer_addr, cfg.peer_port))
            while True:
                data, _ = self.sock.recvfrom(4096)
                with contextlib.suppress(ValueError):
                    m = json.loads(data)
                    if m.get("node") == cfg.peer and m.get("res") == cfg.resource:
                        self.heard_at = time.time()
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # address not (yet) configured: retry next tick
            if self.sock:
                self.sock.close()
            self.sock = None

    def boot(self) -> None:
        now = time.time()
        with self.store.locked() as st:
            me = st["nodes"][self.cfg.node]
            logs: list[tuple[str, str]] = []
            if me["role"] == "Primary":  # it went down while Primary: a crashed primary
                me["crashed"], me["oos"] = True, min(self.cfg.size_kib, max(me["oos"], AL_FLOOR_KIB))
            me.update(
                role="Secondary",
                open=None,
                up=True,
                net=True,
                discard=False,
                user_isp=False,
                alive_at=0.0,
                heard_at=0.0,
            )
            if st["link"]["up"]:  # a reboot the peer did not notice yet
                drop_link(self.cfg, st, now, logs)
            me["alive_at"] = now
            write_proc(self.cfg, st, now)

    def tick(self) -> None:
        cfg, now = self.cfg, time.time()
        self.heartbeat()
        snap = snapshot(cfg.backing_dir)
        with self.store.locked() as st:
            me = st["nodes"][cfg.node]
            me["alive_at"], me["heard_at"] = now, self.heard_at
            if me["role"] == "Primary" and me["up"]:
                d = diff_kib(self.last_snap, snap)
                if d:
                    me["cnt"]["dw"] += d
                    me["cnt"]["al"] += math.ceil(d / 4096)
                diverged = diff_kib(self.synced_snap, snap)
                if not st["link"]["up"] and diverged:
                    me["oos"] = min(cfg.size_kib, max(me["oos"], AL_FLOOR_KIB + diverged))
            self.last_snap = snap
            logs = advance(cfg, st, now)
            rs = st["resync"]
            if st["link"]["up"] and not self.busy.is_set():
                if rs and rs["finishing"] and rs["src"] == cfg.node:
                    self.submit(("finish", rs["id"], rs["kind"]))
                elif me["role"] == "Primary" and snap != self.replicated_snap and not (rs and rs["tgt"] == cfg.node):
                    self.submit(("replicate", snap))
                elif me["role"] != "Primary" and not rs:
                    self.synced_snap = snap
            write_proc(cfg, st, now)
        kern_log(cfg, logs)

    def submit(self, job: tuple[Any, ...]) -> None:
        self.busy.set()
        self.jobs.put(job)

    def worker(self) -> None:
        cfg = self.cfg
        while not self.stop.is_set():
            try:
                job = self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                logs: list[tuple[str, str]] = []
                with copy_lock(cfg):  # re-check under the lock: a demotion may have happened since
                    with self.store.locked() as st:
                        rs, me = st["resync"], st["nodes"][cfg.node]
                        if job[0] == "replicate":
                            ok = me["role"] == "Primary" and not (rs and rs["tgt"] == cfg.node)
                        else:
                            ok = bool(rs and rs["id"] == job[1])
                        ok = ok and st["link"]["up"]
                    if job[0] == "replicate" and ok and mirror(cfg.backing_dir, cfg.peer_backing_dir):
                        with self.store.locked() as st:
                            base = self.synced_snap if self.replicated_snap is None else self.replicated_snap
                            kib = diff_kib(base, job[1])
                            st["nodes"][cfg.node]["cnt"]["ns"] += kib
                            st["nodes"][cfg.peer]["cnt"]["nr"] += kib
                            st["nodes"][cfg.peer]["cnt"]["dw"] += kib
                        self.replicated_snap = self.synced_snap = job[1]
                    elif job[0] == "finish" and ok:
                        if job[2] == "resync":
                            ok = mirror(cfg.backing_dir, cfg.peer_backing_dir, checksum=True)
                            self.replicated_snap = None
                        kib = 0 if job[2] == "resync" else compare_kib(cfg.backing_dir, cfg.peer_backing_dir)
                        with self.store.locked() as st:
                            if ok:
                                finish_resync(cfg, st, job[1], time.time(), logs, kib)
                kern_log(cfg, logs)
            finally:
                self.busy.clear()

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        self.boot()
        threading.Thread(target=self.worker, daemon=True).start()
        while not self.stop.is_set():
            t0 = time.time()
            try:
                self.tick()
            except Exception as e:
                err(f"drbdemu kernel: tick failed: {type(e).__name__}: {e}\n")
            self.stop.wait(max(0.0, self.cfg.tick_s - (time.time() - t0)))
        with self.store.locked() as st:  # "module unloaded": the peer drops the link at once
            st["nodes"][self.cfg.node]["alive_at"] = 0.0
            logs = advance(self.cfg, st, time.time())
        kern_log(self.cfg, logs)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.cfg.proc_file)
        return 0


# ----------------------------------------------------------------------------------------------
# Commands


class Fail(Exception):
    """A drbdsetup failure: print_config_error() in drbd-utils user/v84/drbdsetup.c (same in v9)."""

    def __init__(self, code: int, text: str, info: list[str] | None = None, obj: str | None = None) -> None:
        super().__init__(text)
        self.code, self.text, self.info, self.obj = code, text, info or [], obj

    @property
    def exit_code(self) -> int:
        if self.code > 100:
            return 10
        return {-2: 17, -16: 5, -4: 16}.get(self.code, 11)

    def message(self, obj: str) -> str:
        kind = "Failure" if self.code > 100 else "State change failed"
        lines = [f"{self.obj or obj}: {kind}: ({self.code}) {self.text}"]
        if self.info:
            lines += ["additional info from kernel:", *self.info]
        return "\n".join(lines) + "\n"


SS_84 = {
    -1: "Multiple primaries not allowed by config",
    -2: "Need access to UpToDate data",
    -8: "Can not start OV/resync since it is already active",
    -12: "Device is held open by someone",
    -15: "Need a connection to start verify or resync",
}  # drbd-utils user/v84/drbd_strings.c
SS_9 = {**SS_84, -15: "State change requires a connection"}  # drbd-headers drbd_strings.c
ERR = {
    125: "Device has a net-config (use disconnect first)",
    127: "Device minor not allocated",
    134: "Sync-pause flag is already set",
    135: "Sync-pause flag is already cleared",
    158: "Unknown resource",
    161: "Minor or volume exists already (delete it first)",
}


def sfail(cfg: Config, code: int, info: list[str] | None = None) -> Fail:
    return Fail(code, (SS_84 if cfg.is84 else SS_9).get(code) or ERR[code], info)


def setup_argv(cfg: Config, cmd: str, opts: list[str]) -> tuple[list[str], str]:
    """The drbdsetup command line drbdadm runs (for "Command '...' terminated with exit code N"),
    and the object name drbdsetup prints. Samples drbd84/drbdadm-* and drbd9/drbdadm-*."""
    res, minor, pid = cfg.resource, str(cfg.minor), str(cfg.peer_node_id)
    local, peer = f"ipv4:{cfg.local_addr}:{cfg.port}", f"ipv4:{cfg.peer_addr}:{cfg.peer_port}"
    if cfg.is84:
        args = {
            "connect": [res, local, peer, "--protocol=C"],
            "disconnect": [local, peer],
            "status": [res],
            "down": [res],
            "new-minor": [res, minor, "0"],
        }.get(cmd, [minor])
        return ["drbdsetup-84", cmd, *args, *opts], (res if args[0] in (res, local) else minor)
    args = {
        "invalidate": [minor],
        "dstate": [minor],
        "connect": [res, pid],
        "disconnect": [res, pid],
        "cstate": [res, pid],
        "new-minor": [res, minor, "0"],
    }.get(cmd)
    if args is None:
        args = [res, pid, "0"] if cmd in ("invalidate-remote", "verify", "pause-sync", "resume-sync") else [res]
    return ["drbdsetup", cmd, *args, *opts], args[0]


def mutate(
    cfg: Config, st: dict[str, Any], cmd: str, opts: list[str], now: float, logs: list[tuple[str, str]]
) -> str | None:
    """Apply a state-changing command; raise Fail like the kernel would. Returns "sync" when the
    caller must copy the data to the peer before demoting."""
    me, peer = st["nodes"][cfg.node], st["nodes"][cfg.peer]
    link, rs = st["link"]["up"], st["resync"]
    if cmd == "up":
        if me["up"]:
            raise Fail(161, ERR[161], obj=cfg.resource)
        me.update(up=True, net=True)
        return None
    if not me["up"]:
        if cmd == "down":
            return None
        if cfg.is84:
            raise Fail(127, ERR[127], ["unknown minor"])
        raise Fail(158, ERR[158], ["unknown resource"])
    if cmd in ("secondary", "down"):
        if me["open"]:
            o = me["open"]
            at = datetime.datetime.fromtimestamp(o["at"])
            info = (
                []
                if cfg.is84
                else [  # DRBD >= 9.1.17 drbd_nl.c put_device_opener_info()
                    f"{cfg.device} open_cnt:1, writable:1; list of openers follows",
                    (
                        f"drbd{cfg.minor} opened by mount (pid {o['pid']}) at "
                        f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}"
                    ),
                ]
            )
            raise Fail(-12, SS_84[-12], info, obj=cfg.resource if cmd == "down" else None)
        if me["role"] == "Primary" and link and "synced" not in opts:
            return "sync"
        me["role"] = "Secondary"
        if cmd == "down":
            me.update(up=False, net=False, discard=False, user_isp=False)
    elif cmd == "primary":
        if me["role"] == "Primary":
            return None
        if link and peer["role"] == "Primary":
            raise sfail(cfg, -1)
        if "--force" in opts and me["disk"] != "UpToDate":
            me["disk"] = "UpToDate"
            new_generation(me)
            if link:
                start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "resync")
        elif me["disk"] != "UpToDate" and not (link and peer["disk"] == "UpToDate"):
            raise sfail(cfg, -2)
        me["role"] = "Primary"
        if not link:
            new_generation(me)
    elif cmd == "connect":
        if me["net"]:
            raise Fail(125, ERR[125], obj=cfg.resource)
        me.update(net=True, discard="--discard-my-data" in opts)
    elif cmd == "disconnect":
        me.update(net=False, discard=False)
    elif cmd in ("invalidate", "invalidate-remote", "verify"):
        if rs:
            raise sfail(cfg, -8)
        if not link:
            if cmd == "invalidate" and me["role"] == "Secondary" and (not cfg.is84 or not me["net"]):
                me.update(disk="Inconsistent", oos=cfg.size_kib)  # local only: full sync on connect
                return None
            raise sfail(cfg, -2 if cmd == "invalidate" and not cfg.is84 else -15)
        if cmd == "invalidate":
            if peer["disk"] != "UpToDate":
                raise sfail(cfg, -2)
            start_resync(cfg, st, cfg.peer, cfg.node, cfg.size_kib, now, logs, "resync")
        elif cmd == "invalidate-remote":
            if me["disk"] != "UpToDate":
                raise sfail(cfg, -2)
            start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "resync")
        else:
            start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "verify")
    elif cmd in ("pause-sync", "resume-sync"):
        want = cmd == "pause-sync"
        if me["user_isp"] == want:
            raise Fail(134 if want else 135, ERR[134 if want else 135])
        me["user_isp"] = want
    return None


STATE_CMDS = (
    "up",
    "down",
    "primary",
    "secondary",
    "connect",
    "disconnect",
    "invalidate",
    "invalidate-remote",
    "verify",
    "pause-sync",
    "resume-sync",
)


def err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def run_setup(cfg: Config, cmd: str, opts: list[str], flags: list[str], adm: bool, target: str = "") -> int:
    """One drbdsetup invocation (also the body of the drbdadm commands). stdout/stderr as drbdsetup."""
    store = Store(cfg)
    argv, obj = setup_argv(cfg, "new-minor" if cmd == "up" else cmd, opts)
    if cmd == "status":
        argv = [*argv[:2], target or "all", *argv[3:]]

    def report(rc: int) -> int:
        if adm and rc >= 10:  # drbd-utils user/shared/shared_main.c m__system()
            err(f"Command '{' '.join(argv)}' terminated with exit code {rc}\n")
        return rc

    now = time.time()
    with store.locked() as st:
        up_daemon = alive(cfg, st["nodes"][cfg.node], now)
    if not up_daemon:  # no module: modprobe_drbd() in user/v84/drbdsetup.c, user/v9/drbdsetup_linux.c
        if cfg.is84:
            err(
                "Could not stat /proc/drbd: No such file or directory\n"
                "Make sure that the DRBD kernel module is installed and can be loaded!\n"
            )
        elif cmd in ("down", "secondary", "disconnect"):
            return 0
        else:
            err("Failed to modprobe drbd (No such file or directory)\n")
        return report(20)
    if cmd in STATE_CMDS:
        # role changes wait for in-flight copies (and hold them off) so no stale copy lands later
        with copy_lock(cfg) if cmd in ("primary", "secondary", "down") else contextlib.nullcontext():
            for _ in range(2):
                logs: list[tuple[str, str]] = []
                try:
                    with store.locked() as st:
                        todo = mutate(cfg, st, cmd, opts, time.time(), logs)
                        logs += advance(cfg, st, time.time())
                        write_proc(cfg, st, time.time())
                except Fail as f:
                    err(f.message(obj))
                    return report(f.exit_code)
                finally:
                    kern_log(cfg, logs)
                if todo != "sync":
                    return 0
                mirror(cfg.backing_dir, cfg.peer_backing_dir)  # final sync before demotion
                opts = [*opts, "synced"]
        return 0
    with store.locked() as st:
        v = view(cfg, st, cfg.node, time.time())
    if cmd == "status":
        if "--json" in flags and cfg.is84:
            err("drbdsetup-84 status: unrecognized option '--json'\n")
            return report(20)
        if not v["up"]:
            if target in ("all", ""):
                if not cfg.is84:
                    sys.stdout.write("# No currently configured DRBD found.\n" if "--json" not in flags else "[\n]\n\n")
                return 0
            err(f"{cfg.resource}: No such resource\n")  # status_cmd()
            return report(10)
        if "--json" in flags:
            sys.stdout.write(status_json(cfg, v))
        else:
            sys.stdout.write(status_text(cfg, v, "--verbose" in flags, "--statistics" in flags))
        return 0
    if cmd in ("role", "cstate", "dstate"):
        if not v["up"]:
            if cfg.is84:
                err(f"{obj}: Failure: (127) {ERR[127]}\nadditional info from kernel:\nunknown minor\n")
            else:
                err(
                    {
                        "role": f"{obj}: Unknown resource\n",
                        "cstate": f"{obj}: No such connection\n",
                        "dstate": f"{obj}: No such device\n",
                    }[cmd]
                )
            return report(10)
        if cmd == "role":  # v84 role_scmd(): local/peer; v9 role_cmd(): local, "res:peer" -> peer role
            print(f"{v['role']}/{v['peer_role']}" if cfg.is84 else (v["peer_role"] if "peer" in flags else v["role"]))
        elif cmd == "cstate":
            print(v["cs"] if cfg.is84 else v["conn9"])
        else:
            print(f"{v['disk']}/{v['peer_disk']}")
        return 0
    err(f"drbdsetup: unknown command '{cmd}'\n")
    return 20


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    alias = {
        "v": "--verbose",
        "s": "--statistics",
        "j": "--json",
        "T": "--timestamps",
        "n": "--now",
        "V": "-V",
    }
    flags: list[str] = []
    for a in args:
        if a.startswith("--") and a != "--":
            flags.append(a.split("=")[0])
        elif a.startswith("-") and a != "--":
            flags += [alias.get(ch, "-" + ch) for ch in a[1:]]  # combined short options: -vs
    return flags, [a for a in args if not a.startswith("-")]


def main_drbdadm(cfg: Config, args: list[str]) -> int:
    for opt in ("-c", "--config-file", "-t", "--config-to-test"):  # options with a separate value
        while opt in args[:-1]:
            i = args.index(opt)
            args = args[:i] + args[i + 2 :]
    flags, pos = split_args(args)
    if "-V" in flags or "--version" in flags:  # drbdadm_main.c case 'V'
        code = "0x08040b" if cfg.is84 else "0x09020c"
        print(
            f"DRBDADM_BUILDTAG={UTILS_BUILDTAG}\nDRBDADM_API_VERSION={1 if cfg.is84 else 2}\n"
            f"DRBD_KERNEL_VERSION_CODE={code}\n"
            + ("" if cfg.is84 else f"DRBD_KERNEL_VERSION={V9_REL}\n")
            + "DRBDADM_VERSION_CODE=0x091c00\nDRBDADM_VERSION=9.28.0"
        )
        return 0
    if not pos:
        err("USAGE: drbdadm COMMAND [OPTION...] {all|RESOURCE...}\n")
        return 20
    cmd, names = pos[0], pos[1:] or (["all"] if pos[0] == "status" else [])
    if not names:
        err("drbdadm: Missing arguments, please specify a resource name or 'all'\n")
        return 20
    for name in names:
        res, _, conn = name.partition(":")
        if res not in ("all", cfg.resource) or (conn and conn != cfg.peer):
            err(f"'{name}' not defined in your config (for this host).\n")  # drbdadm_main.c main()
            return 1
    opts = [f for f in flags if f in ("--force", "--discard-my-data")]
    if "-d" in flags or "--dry-run" in flags:  # print what would run, change nothing
        argv = setup_argv(cfg, "new-minor" if cmd == "up" else cmd, [] if cmd == "status" else opts)[0]
        print(" ".join([*argv[:2], names[0]] if cmd == "status" else argv))
        return 0
    if cmd == "status":
        return run_setup(cfg, cmd, [], flags, adm=True, target=names[0])
    return run_setup(cfg, cmd, opts, flags + (["peer"] if ":" in names[0] else []), adm=True)


def main_drbdsetup(cfg: Config, args: list[str]) -> int:
    flags, pos = split_args(args)
    if not pos:
        err("USAGE: drbdsetup command {arguments} [options]\n")
        return 20
    cmd, rest = pos[0], pos[1:]
    if cmd == "events2":
        with Store(cfg).locked() as st:
            running = alive(cfg, st["nodes"][cfg.node], time.time())
        if not running:
            return run_setup(cfg, cmd, [], flags, adm=False)
        return events2(
            cfg,
            Store(cfg),
            "--now" in flags,
            "--statistics" in flags or "--full" in flags,
            "--timestamps" in flags,
            rest[0] if rest else "all",
        )
    if cmd == "status":
        return run_setup(cfg, cmd, [], flags, adm=False, target=rest[0] if rest else "all")
    opts = [f for f in flags if f in ("--force", "--discard-my-data")]
    return run_setup(cfg, cmd, opts, flags, adm=False)


def real_tool(candidates: tuple[str, ...]) -> str:
    return next((p for p in candidates if os.path.exists(p)), candidates[0])


def main_mount(cfg: Config, args: list[str]) -> int:
    pos, i = [], 0
    while i < len(args):
        if args[i] in ("-t", "-o", "--types", "--options"):
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        elif args[i] not in ("-v", "-w", "--rw"):
            pos = []  # an option we do not emulate: hand over to the real mount
            break
        i += 1
    target = {
        1: cfg.mount_point if pos[:1] in ([cfg.device], [cfg.mount_point]) else None,
        2: pos[1] if pos[:1] == [cfg.device] else None,
    }.get(len(pos))
    real = real_tool(REAL_MOUNT)
    if not target:
        os.execv(real, [real, *args])
    store = Store(cfg)
    now = time.time()
    # util-linux 2.38.1 libmount/src/context_mount.c mnt_context_get_mount_excode() + sys-utils/mount.c
    # mk_exit_code(): "mount: <target>: <msg>." plus the dmesg hint, exit 32 (MNT_EX_FAIL)
    hint = "       dmesg(1) may have more information after failed mount system call.\n"
    with store.locked() as st:
        me = st["nodes"][cfg.node]
        if not alive(cfg, me, now):
            err(f"mount: {target}: special device {cfg.device} does not exist.\n{hint}")
            return 32
        if not me["up"]:
            err(f"mount: {target}: {cfg.device} is not a valid block device.\n{hint}")
            return 32
        if me["open"]:
            err(f"mount: {target}: {cfg.device} already mounted or mount point busy.\n{hint}")
            return 32
        if me["role"] != "Primary" and cfg.auto_promote and not cfg.is84:
            with contextlib.suppress(Fail):
                mutate(cfg, st, "primary", [], now, [])
        if me["role"] != "Primary":
            # drbd_open(): EROFS for rw, libmount retries ro -> EMEDIUMTYPE (drbd-8.4 drbd/drbd_main.c)
            err(f"mount: {target}: mount(2) system call failed: Wrong medium type.\n{hint}")
            return 32
        r = subprocess.run([real, "--bind", cfg.backing_dir, target], check=False)
        if r.returncode == 0:
            me["open"] = {"pid": os.getpid(), "at": now, "dir": os.path.abspath(target)}
            write_proc(cfg, st, now)
        return r.returncode


def main_umount(cfg: Config, args: list[str]) -> int:
    real = real_tool(REAL_UMOUNT)
    pos = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-")]
    store = Store(cfg)
    with store.locked() as st:
        me = st["nodes"][cfg.node]
        o = me["open"]
        if len(pos) != 1 or not o or (pos[0] != cfg.device and os.path.abspath(pos[0]) != o["dir"]):
            os.execv(real, [real, *args])
        r = subprocess.run([real, *flags, o["dir"]], check=False)
        if r.returncode == 0:
            me["open"] = None
            write_proc(cfg, st, time.time())
    if r.returncode == 0 and cfg.auto_promote and not cfg.is84:
        return run_setup(cfg, "secondary", [], [], adm=False)
    return r.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in ("kernel", "drbdadm", "drbdsetup", "mount", "umount"):
        err("usage: drbdemu.py {kernel|drbdadm|drbdsetup|mount|umount} [args...]  (config: $DRBDEMU_CONF)\n")
        return 2
    try:
        cfg = load_config()
    except ConfigError as e:
        err(f"drbdemu: config error: {e}\n")
        return 2
    tool, args = argv[1], argv[2:]
    try:
        if tool == "kernel":
            return Kernel(cfg).run()
        return {
            "drbdadm": main_drbdadm,
            "drbdsetup": main_drbdsetup,
            "mount": main_mount,
            "umount": main_umount,
        }[tool](cfg, args)
    except ConfigError as e:  # e.g. a state_dir left over from a pair with other node names
        err(f"drbdemu: config error: {e}\n")
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
