"""Issue 2's figures: `hatui lab up` wall time (from installed packages to a Synced 2-node Galera with
the VIP on node1) and the lab's total memory (PSS and RSS of every process in its namespaces).

    sudo python benchmarks/lab_figures.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

# a lab of its own: a benchmark never touches the demo's lab (`make demo`) or the tests'
os.environ.setdefault("HATUI_LAB_NAME", "hatuibench")
os.environ.setdefault("HATUI_LAB_SUBNET", "198.18.7.0/24")

from hatui_lab import observe, procs


def lab(*args: str) -> None:
    observe.hatui_lab(*args, check=True)


def memory_kib() -> tuple[int, int, int]:
    pids: set[int] = set()
    for ns in (n.netns for n in observe.PLAN.nodes):
        pids.update(procs.pids_in_netns(f"/run/netns/{ns}"))
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return len(pids), pss, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for i in range(args.runs + 1):
        lab("down")
        if i == 0:
            # cold: no cached MariaDB datadir (what the first `up` on a fresh machine does)
            shutil.rmtree(observe.LAB_DIR / "cache", ignore_errors=True)
        t0 = time.monotonic()
        lab("up")
        took = time.monotonic() - t0
        if i == 0:
            cold = took
            print(f"cold run (datadir initialised): lab up {cold:.1f} s")
            continue
        times.append(took)
        print(f"run {i}: lab up {times[-1]:.1f} s")
    time.sleep(5)
    n, pss, rss = memory_kib()
    print(f"lab up: cold {cold:.1f} s; then median {statistics.median(times):.1f} s, max {max(times):.1f} s "
          "(target < 60 s)")
    print(f"lab memory: {n} processes, PSS {pss / 1024:.0f} MiB, RSS {rss / 1024:.0f} MiB")
    lab("down")


if __name__ == "__main__":
    if os.geteuid() != 0:
        raise SystemExit("needs root")
    main()
