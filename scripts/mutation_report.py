#!/usr/bin/env python3
"""The per-file table of the last `mutmut run` (`make mutation`, docs/testing.md): killed / all mutants.

Reads mutmut's results (mutants/<file>.meta) for each file of [tool.mutmut] only_mutate in pyproject.toml,
and the equivalent mutants listed in docs/testing.md (a table row whose first cell is a mutant's name in
backquotes): those are counted apart, not as survivors.  Prints a Markdown table headed with the date and the
git revision, and the surviving mutants not on that list (with `--survivors`), each a `mutmut show NAME` away.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # killed, pytest's internal error, timeouts, type check
SURVIVED = {0}
NO_TESTS = {5, 33}
_EQUIV_RE = re.compile(r"^\|\s*`(?P<name>[^`]+__mutmut_\d+)`\s*\|")


def equivalent_mutants(doc: Path) -> set[str]:
    if not doc.exists():
        return set()
    return {m["name"] for line in doc.read_text().splitlines() if (m := _EQUIV_RE.match(line))}


def revision(where: Path) -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--survivors", action="store_true", help="list the surviving mutants not marked equivalent")
    ap.add_argument("--dir", type=Path, default=ROOT, help="the checkout mutmut ran in (default: this one)")
    ap.add_argument("--revision", help="name the revision (a copy without .git)")
    ap.add_argument("--rerun", type=Path, action="append", default=[],
                    help="a later run of some of the same mutants (`mutmut run NAME...` with newer tests, the code "
                         "unchanged): its results replace these")
    args = ap.parse_args()
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    equivalent = equivalent_mutants(ROOT / "docs" / "testing.md")
    rows, survivors = [], []
    for f in files:
        meta = args.dir / "mutants" / f"{f}.meta"
        if not meta.exists():
            print(f"{meta}: no results (run `make mutation` first)", file=sys.stderr)
            return 1
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        for later in args.rerun:
            again = json.loads((later / "mutants" / f"{f}.meta").read_text())["exit_code_by_key"]
            codes.update({k: v for k, v in again.items() if v is not None and k in codes})
        eq = {k for k in codes if k in equivalent}
        counted = {k: v for k, v in codes.items() if k not in eq}
        killed = sum(1 for v in counted.values() if v in KILLED)
        total = len(counted)
        left = sorted(k for k, v in counted.items() if v not in KILLED)
        survivors += [(k, counted[k]) for k in left]
        no_tests = sum(1 for v in counted.values() if v in NO_TESTS)
        unchecked = sum(1 for v in counted.values() if v is None)
        pct = 100 * killed / total if total else 100.0
        rows.append(f"| {f} | {killed} / {total} = {pct:.0f} % | {len(eq)} | {no_tests} | {unchecked} |")
    rev = args.revision or revision(args.dir)
    print(f"Mutation score, {datetime.date.today().isoformat()}, revision {rev} (mutmut, non-lab tests):\n")
    print("| file | killed / all mutants | equivalent (not counted) | no test reaches | not run |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    if args.survivors:
        print(f"\n{len(survivors)} not killed (`python3 -m mutmut show NAME`):")
        for k, v in survivors:
            print(f"  {k}  (exit {v})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
