"""Issue 10's proof: every plan × every step × every fault on the lab, judged from inside the nodes.

For each plan (switchover, switch back, DRBD resync, split-brain recovery, Galera bootstrap), after each
of its steps, one of: the target's SSH sessions dropped, its sshd hung (SIGSTOP) past the step timeout,
the target powered off, an operator abort (SIGINT), an operator quit (SIGTERM), the local audit log
unwritable.  hatui_lab/actionfaults.py runs and judges each case; this prints the table and writes it
into docs/actions.md (between the markers) with the date and the code revision.

    sudo HATUI_LAB_NAME=x HATUI_LAB_SUBNET=198.18.N.0/24 python benchmarks/action_faults.py [--plan NAME]
        [--fault NAME] [--no-docs]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

# a lab of its own: a benchmark never touches the demo's lab (`make demo`) or the tests'
os.environ.setdefault("HATUI_LAB_NAME", "hatuimat")
os.environ.setdefault("HATUI_LAB_SUBNET", "198.18.9.0/24")

from hatui_lab import actionfaults as af
from hatui_lab import observe

DOCS = Path(__file__).resolve().parent.parent / "docs" / "actions.md"
BEGIN, END = "<!-- action-faults: begin -->", "<!-- action-faults: end -->"


def write_docs(text: str) -> None:
    doc = DOCS.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## A fault at every step (`benchmarks/action_faults.py`)\n\n" + block + "\n"
    DOCS.write_text(doc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", action="append", help="only these plans (by name)")
    ap.add_argument("--fault", action="append", choices=af.FAULTS, help="only these faults")
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    args = ap.parse_args()
    plans = [p for p in af.PLANS if not args.plan or p.name in args.plan]
    faults = args.fault or list(af.FAULTS)
    results: list[af.Result] = []
    t0 = time.monotonic()
    try:
        for plan in plans:
            af.fresh_lab(af.lab())
            steps = max(1, af.step_count(plan, {}) if plan.name != "switch back" else 4)
            for step in range(1, steps + 1):
                for fault in faults:
                    r = af.run_case(plan, step, fault)
                    results.append(r)
                    print(af.table([r]).splitlines()[-1], flush=True)
    finally:
        observe.hatui_lab("down")
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=DOCS.parent).stdout.strip()
    unsafe = [r for r in results if not r.safe]
    head = (f"Run on {time.strftime('%Y-%m-%d')} at revision `{rev}` ({len(results)} runs, "
            f"{(time.monotonic() - t0) / 60:.0f} min; {len(unsafe)} not safe).  \"hatui's end\": what the CLI "
            "reported (OK, FAILED with the state named, refused); \"safe\": every judgement of "
            "hatui_lab/actionfaults.py held.")
    text = head + "\n\n" + af.table(results)
    print(text)
    if not args.no_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
