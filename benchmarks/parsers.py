"""Parser speed on 1 MB of pathological input, one line per parser (issue 9, P9: ≤ 0.2 s per MB).

Every parser gets the generic worst cases (blank lines, one line of spaces, one long word, escape
introducers, ...) and the inputs that were super-linear before the fix for it (events2 continuation
lines, `Command '` runs, `: State changed to ` runs, ...); the line shows the slowest of them.

    python3 benchmarks/parsers.py [--mb 1] [--only NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hatui.probes import drbd, failover_log, galera, keepalived, redact_secrets

TARGET_S_PER_MB = 0.2


def fill(unit: str, size: int, head: str = "") -> str:
    """`head` then `unit` repeated to `size` characters."""
    return (head + unit * ((size - len(head)) // max(1, len(unit)) + 1))[:size]


def generic(size: int) -> dict[str, str]:
    return {
        "blank lines": "\n" * size,
        "one line of spaces": " " * size,
        "lines of 4000 spaces": fill(" " * 4000 + "\n", size),
        "one long word": "a" * size,
        "digits": "1" * size,
        "colons": ":" * size,
        "CR line ends": fill("x\r", size),
        "OSC introducers": "\x1b]" * (size // 2),
        "CSI introducers": "\x1b[" * (size // 2),
        "password lines, NEL ends": fill("   Password = secret\x85", size),
    }


ROLE_LINE = "r0 role:Primary\n"
SPECIFIC: dict[str, Callable[[int], dict[str, str]]] = {
    "proc_drbd": lambda n: {
        "ns: then a long word": fill("a", n, " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
                                           "    ns: "),
        "cut device lines": fill(" 0: cs:Connected\n", n),
        "state line of spaces": fill(" ", n, " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate"),
        "finish digits": fill("1", n, "\tfinish: 0:00:01 speed: ("),
    },
    "drbdadm_status": lambda n: {
        "continuation lines": fill("  disk:UpToDate\n", n, ROLE_LINE),
        "bare peer names": fill("  peer\n", n, ROLE_LINE),
        "one wrapped token soup": fill(" role:Sec", n, "r0"),
    },
    "drbdsetup_status_json": lambda n: {
        "deep nesting": "[" * (n // 2) + "]" * (n // 2),
        "many resources": "[" + fill('{"name":"r0","role":"Sec"},', n - 2)[:-1].rsplit("}", 1)[0] + "}]",
    },
    "events2": lambda n: {
        "continuation lines": fill("  x:y\n", n, "exists resource name:r0\n"),
        "one event, many keys": fill(" role:Prim", n, "exists resource name:r0"),
        "many events": fill("change peer-device name:r0 conn-name:p volume:0 replication:SyncSource "
                            "out-of-sync:99999999\n", n, "exists device name:r0 volume:0 size:4056\n"),
    },
    "role": lambda n: {"slashes": "/" * n, "roles": fill("Primary/", n)},
    "cstate": lambda n: {"states": fill("Connected\n", n)},
    "dstate": lambda n: {"slashes": "/" * n, "states": fill("UpToDate/", n)},
    "drbd_error": lambda n: {
        "Command ' runs": "Command '" * (n // 9),
        "tails without a number": fill("' terminated with exit code x", n, "Command '"),
        "State change failed runs": fill("State change failed: (", n),
    },
    "keepalived_json": lambda n: {
        "deep nesting": "[" * (n // 2) + "]" * (n // 2),
        "auth_data runs": fill('"auth_data":"', n),
        "unterminated secret": fill("x", n, '[{"data":{"auth_data":"'),
    },
    "keepalived_data": lambda n: {
        "indented spaces": fill(" ", n, " "),
        "section dashes": fill("-", n, "-<"),
        "key without =": fill("a", n, "   "),
        "header runs": fill(" a", n, "   Virtual IP ("),
        "VIP lines": fill("     1" * 40 + "\n", n, " VRRP Instance = VI_1\n   Virtual IP :\n"),
    },
    "keepalived_stats": lambda n: {"headings": fill("  a:\n", n, "VRRP Instance: VI_1\n")},
    "ip_addr": lambda n: {
        "ifname@ runs": fill("b", n, "1: a@"),
        "address runs": fill("1", n, "1: lo    inet "),
    },
    "notify_fifo": lambda n: {"quotes": fill('"', n, 'INSTANCE "')},
    "wsrep_status": lambda n: {
        "table borders": fill("-", n, "+"),
        "row stars": fill("*", n),
        "tabs": fill("wsrep_x\t", n),
    },
    "grastate": lambda n: {"keys without colon": fill("a", n)},
    "recovered_position": lambda n: {"position runs": fill("WSREP: Recovered position ", n)},
    "failover_log": lambda n: {
        "': State changed to ' runs": fill(": State changed to X (Type: ", n,
                                           "2026-11-25 06:20:36 - Keepalived notification on "),
        "valid lines": fill("2026-11-25 06:20:36 - Keepalived notification on VI_1: State changed to MASTER "
                            "(Type: INSTANCE)\n", n),
    },
}

PARSERS: dict[str, Callable[[str], Any]] = {
    "redact": redact_secrets,
    "proc_drbd": drbd.parse_proc_drbd,
    "drbdadm_status": drbd.parse_drbdadm_status,
    "events2": drbd.parse_events2,
    "event_line": drbd.parse_event_line,
    "drbd_error": lambda t: drbd.parse_drbd_error(t, 11),
    "keepalived_json": keepalived.parse_keepalived_json,
    "keepalived_data": keepalived.parse_keepalived_data,
    "vip": keepalived.parse_vip,
    "ip_addr": keepalived.parse_ip_addr,
    "wsrep_status": galera.parse_wsrep_status,
    "grastate": galera.parse_grastate,
    "failover_line": lambda t: failover_log.parse_failover_line(t, "node1"),
    "failover_log": lambda t: failover_log.parse_failover_log(t, "node1"),
}
SPECIFIC["failover_line"] = SPECIFIC["failover_log"]
SPECIFIC["event_line"] = SPECIFIC["events2"]
SPECIFIC["vip"] = lambda n: {"address runs": fill("1", n), "colon": ":" * n}


def inputs(name: str, size: int) -> dict[str, str]:
    return {**generic(size), **SPECIFIC.get(name, lambda n: {})(size)}


def worst(name: str, size: int) -> tuple[str, float]:
    parse = PARSERS[name]
    slowest = ("", 0.0)
    for label, text in inputs(name, size).items():
        t0 = time.perf_counter()
        parse(text)
        dt = time.perf_counter() - t0
        if dt > slowest[1]:
            slowest = (label, dt)
    return slowest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1.0, help="input size in MB (10^6 characters, ASCII)")
    ap.add_argument("--only", help="one parser")
    args = ap.parse_args()
    size = int(args.mb * 1_000_000)
    names = [args.only] if args.only else list(PARSERS)
    print(f"{'parser':24} {'worst input (of ' + str(len(generic(10))) + ' generic + specific)':44} "
          f"{'s/MB':>7} {'MB/s':>8}  target ≤ {TARGET_S_PER_MB} s/MB")
    failed = 0
    for name in names:
        label, dt = worst(name, size)
        s_per_mb = dt / (size / 1e6)
        ok = s_per_mb <= TARGET_S_PER_MB
        failed += not ok
        print(f"{name:24} {label:44} {s_per_mb:7.3f} {1 / s_per_mb if s_per_mb else float('inf'):8.1f}"
              f"  {'ok' if ok else 'SLOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
