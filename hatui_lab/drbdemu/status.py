"""drbdsetup status (drbd-utils user/v84/drbdsetup.c and user/v9/drbdsetup.c status_cmd() & helpers)."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any

from .config import Config


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
