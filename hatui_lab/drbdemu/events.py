"""events2 (drbd-utils user/v84/drbdsetup.c print_notifications(); user/v9/drbdsetup_events2.c)."""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Any

from .config import MARK_STEP_S, Config
from .machine import view
from .status import sync_done
from .store import Store

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
    lines as the shared state changes (at most 10 ms later), helper calls as the kernel logged them."""

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

    def written() -> tuple[int, int, int] | None:
        try:
            st = os.stat(store.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    # the kernel pushes an event the moment the state changes: the state file (replaced on every write)
    # is watched every 10 ms, and read when it changed or every 0.2 s (what only time changes: progress).
    # Reading it every 0.2 s alone put 0-200 ms between a `drbdadm secondary` and its `change` line.
    seen, read_at = written(), time.monotonic()
    while True:
        time.sleep(0.01)
        now_written = written()
        if now_written == seen and time.monotonic() - read_at < 0.2:
            continue
        seen, read_at = now_written, time.monotonic()
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
