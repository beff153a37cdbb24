"""Measure what each lab fault really does, and what `heal` brings back.

For every fault: a fresh lab, the fault injected on the active node (split-brain: on the standby),
the outcome sampled from the workstation side every 0.5 s for OBSERVE_S seconds, then `heal` and the
outcome once it settles.  Prints a Markdown table (docs/faults.md quotes it).

    sudo python benchmarks/fault_matrix.py [--checks seed|recommended] [--only FAULT ...]
"""

from __future__ import annotations

import os
import argparse
import subprocess
import sys
import time
from pathlib import Path

# a lab of its own: a benchmark never touches the demo's lab (`make demo`) or the tests'
os.environ.setdefault("HATUI_LAB_NAME", "hatuibench")
os.environ.setdefault("HATUI_LAB_SUBNET", "198.18.7.0/24")

from hatui_lab import observe

OBSERVE_S = 20.0
FAULT_NODE = {"split-brain": "node2"}


def fmt(o: observe.Outcome) -> str:
    def names(t: tuple[str, ...]) -> str:
        return "+".join(t) if t else "none"

    galera = ", ".join(f"{n} {s}" for n, s in o.galera)
    cstate = ", ".join(f"{n} {s}" for n, s in o.drbd_cstate)
    return (f"VIP {names(o.vip)}; DRBD primary {names(o.drbd_primary)}, mounted {names(o.mounted)} ({cstate}); "
            f"web {o.web}; Galera {galera}")


def lab(*args: str) -> subprocess.CompletedProcess[str]:
    res = observe.hatui_lab(*args)
    if res.returncode != 0:
        print(f"hatui lab {' '.join(args)} failed:\n{res.stdout}{res.stderr}", file=sys.stderr)
    return res


def measure(fault: str, checks: str) -> tuple[str, float | None, str, str]:
    node = FAULT_NODE.get(fault, "node1")
    lab("down")
    if lab("up", "--checks", checks).returncode != 0:
        return fault, None, "lab up failed", ""
    before = observe.outcome()
    t0 = time.monotonic()
    lab("fault", fault, node)
    last, last_change = before, None
    while time.monotonic() - t0 < OBSERVE_S:
        now = observe.outcome()
        if now != last:
            last, last_change = now, time.monotonic() - t0
        time.sleep(0.5)
    heal = lab("heal", node, )
    healed = observe.outcome()
    deadline = time.monotonic() + 60
    stable_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - stable_since < 8:
        time.sleep(1)
        now = observe.outcome()
        if now != healed:
            healed, stable_since = now, time.monotonic()
    heal_note = "" if heal.returncode == 0 else f" (heal failed: {heal.stderr.strip()})"
    return f"{fault} {node}", last_change, fmt(last), fmt(healed) + heal_note


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", choices=["seed", "recommended"], default="seed")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    faults = args.only or ["kill-mariadb", "stop-mariadb", "stop-keepalived", "cut-link", "power-off",
                           "drbd-disconnect", "split-brain"]
    rows = []
    try:
        for fault in faults:
            row = measure(fault, args.checks)
            rows.append(row)
            print(f"| {row[0]} | {'-' if row[1] is None else f'{row[1]:.1f} s'} | {row[2]} | {row[3]} |", flush=True)
    finally:
        lab("down")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
