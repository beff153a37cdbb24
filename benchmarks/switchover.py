"""Issue 4's figures: switchover wall time on the lab (pre-checks to verified, as the CLI reports it)
and how long the VIP did not answer, measured from the workstation side by an HTTP probe every 20 ms.
Then (issue 10, S1) a switchover and a switch back started at once after it, with no wait: both times
and the VIP's unanswered time over the pair.

    sudo HATUI_LAB_NAME=x HATUI_LAB_SUBNET=198.18.N.0/24 python benchmarks/switchover.py
"""

from __future__ import annotations

import threading
import time
import urllib.request

from hatui_lab import observe


def probe(stop: threading.Event, samples: list[tuple[float, str | None]]) -> None:
    while not stop.is_set():
        t = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{observe.VIP}/", timeout=0.2) as r:
                who = r.read().decode().strip().rsplit(" ", 1)[-1]
        except OSError:
            who = None
        samples.append((t, who))
        time.sleep(0.02)


def longest_gap(samples: list[tuple[float, str | None]]) -> float:
    gap, start = 0.0, None
    for t, who in samples:
        if who is None and start is None:
            start = t
        elif who is not None and start is not None:
            gap, start = max(gap, t - start), None
    return gap


def switch(*targets: str) -> None:
    """Switch over to each of `targets` in turn, the next started as soon as the previous returned."""
    samples: list[tuple[float, str | None]] = []
    stop = threading.Event()
    th = threading.Thread(target=probe, args=(stop, samples), daemon=True)
    th.start()
    time.sleep(1)
    lines = []
    for to in targets:
        t0 = time.monotonic()
        res = observe.hatui_cli("switchover", "--to", to, "--yes")
        wall = time.monotonic() - t0
        reported = [line for line in res.stdout.splitlines() if line.startswith(("OK after", "FAILED after"))]
        lines.append(f"switchover to {to}: {reported[0] if reported else res.stdout[-300:]}; "
                     f"command wall time {wall:.1f} s")
    time.sleep(1)
    stop.set()
    th.join()
    answered_by = sorted({w for _, w in samples if w})
    print("\n".join(lines) + ("\n  (back to back, no wait) " if len(targets) > 1 else "; ") +
          f"VIP unanswered for at most {longest_gap(samples) * 1000:.0f} ms "
          f"({sum(1 for _, w in samples if w is None)} of {len(samples)} probes failed; answered by {answered_by})")


def main() -> None:
    observe.hatui_lab("down")
    observe.hatui_lab("up", check=True)
    try:
        time.sleep(6)  # let the checks settle after boot
        switch("node2")
        time.sleep(4)
        switch("node1")
        time.sleep(4)
        switch("node2", "node1")  # S1: the switch back started at once
    finally:
        observe.hatui_lab("down")


if __name__ == "__main__":
    main()
