"""State machine (drbd_sync_handshake()/drbd_uuid_compare() in drbd-8.4 drbd/drbd_receiver.c, reduced);
and what one node sees of it (view)."""

from __future__ import annotations

import math
from typing import Any

from .config import MARK_STEP_S, Config
from .store import alive, new_uuid


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
