"""The text of /proc/drbd (8.4 with its device line and resync progress; 9 its header only)."""

from __future__ import annotations

import os
from typing import Any

from .config import V9_GIT, V9_REL, V84_SRCVERSION, Config
from .machine import view


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
