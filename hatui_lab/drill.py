"""`hatui lab drill`: for each fault, hatui's prediction taken just before (`hatui status --json`,
its `fault_predictions`), the fault injected, the outcome measured from the namespaces and daemons
(nsenter into each node, HTTP through the VIP; never through hatui), then heal and wait for a healthy
pair.  Prints predicted beside measured, agreement per field and in total, and writes the markdown
table docs/faults.md shows.

What "seen" means on both sides: a node that is powered and whose link is up, i.e. one the
workstation can reach; an isolated node may hold the VIP on its island, nobody else sees it."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hatui_lab import faults, observe, services
from hatui_lab.lab import Lab
from hatui_lab.node import Node
from hatui_lab.settings import LabSettings, sh

FIELDS = ("vip", "drbd_primary", "mounted", "web", "galera", "when")
DEFAULT_FAULTS = ("kill-mariadb", "stop-mariadb", "stop-keepalived", "cut-link", "power-off", "drbd-disconnect",
                  "split-brain", "hang-sshd")
SAMPLE_S = 0.5
SETTLE_S = 4.0  # after a change, how long the outcome must hold before the sampling stops
HEALTHY_TIMEOUT_S = 150.0


@dataclass
class Row:
    fault: str
    node: str
    predicted: dict[str, str]
    window: tuple[float, float]
    measured: dict[str, str] = field(default_factory=dict)
    last_change_s: float = 0.0
    note: str = ""

    def agree(self) -> dict[str, bool]:
        if not self.predicted:  # no prediction: nothing agrees
            return dict.fromkeys(FIELDS, False)
        out = {f: self.predicted.get(f) == self.measured.get(f) for f in FIELDS if f != "when"}
        lo, hi = self.window
        out["when"] = lo - SAMPLE_S <= self.last_change_s <= hi
        return out


def _linked(lab: Lab, node: Node) -> bool:
    """The node's link is up (what `cut-link` and `power-off` take down), seen from the host side."""
    res = sh(["ip", "-o", "link", "show", node.addr.veth_host], check=False)
    flags = re.search(r"<([^>]*)>", res.stdout) if res.returncode == 0 else None
    return bool(flags and "UP" in flags.group(1).split(","))


def node_facts(lab: Lab, node: Node) -> dict[str, str] | None:
    """What the node itself says (nsenter), or None when it is not seen (powered off or cut off)."""
    if node.holder_pid() is None or not _linked(lab, node):
        return None
    try:
        res = node.sh(observe.FACTS_SCRIPT.replace("VIPADDR", lab.netplan().vip), timeout_s=10)
    except subprocess.TimeoutExpired:
        return {}
    return dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)


def measure(lab: Lab) -> dict[str, str]:
    facts = {n.name: node_facts(lab, n) for n in lab.nodes()}
    seen = {n: f for n, f in facts.items() if f is not None}
    page = observe.web() or ""
    galera = []
    for n, f in facts.items():
        if f is None:
            galera.append(f"{n}:unreachable")
        else:
            galera.append(f"{n}:{f.get('wsrep_cluster_status') or 'down'}")
    return {
        "vip": ",".join(n for n, f in seen.items() if f.get("vip") == "1") or "none",
        "drbd_primary": ",".join(n for n, f in seen.items() if f.get("role", "").split("/")[0] == "Primary") or "none",
        "mounted": ",".join(n for n, f in seen.items() if f.get("mounted") == "1") or "none",
        "web": page.rsplit(" ", 1)[-1] if page.startswith("HA Web Service") else "none",
        "galera": " ".join(galera),
    }


def healthy(lab: Lab) -> bool:
    facts = [node_facts(lab, n) for n in lab.nodes()]
    if any(f is None or not f for f in facts):
        return False
    vips = [f for f in facts if f and f.get("vip") == "1"]
    return (len(vips) == 1 and observe.web() is not None
            and all(f and f.get("cstate") == "Connected" and f.get("dstate") == "UpToDate/UpToDate"
                    and f.get("wsrep_cluster_status") == "Primary" and f.get("wsrep_local_state_comment") == "Synced"
                    for f in facts))


def prediction(fault: str) -> dict | None:
    res = observe.hatui_cli("status", "--json", timeout_s=60)
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        return None
    return next((p for p in doc.get("fault_predictions", []) if p["fault"] == fault), None)


def _fields(p: dict) -> dict[str, str]:
    return {"vip": ",".join(p["vip"]) or "none", "drbd_primary": ",".join(p["drbd_primary"]) or "none",
            "mounted": ",".join(p["mounted"]) or "none", "web": p["web"],
            "galera": " ".join(f"{n}:{s}" for n, s in p["galera"])}


def drill_one(lab: Lab, fault: str, out=print) -> Row:
    p = prediction(fault)
    for _ in range(15):  # a preempt after the last heal may still be under way: hatui predicts from a settled pair
        if p is not None:
            break
        time.sleep(2.0)
        p = prediction(fault)
    if p is None:
        return Row(fault, "?", {}, (0, 0), note="hatui made no prediction (is the pair healthy?)")
    row = Row(fault, p["node"], _fields(p), (p["after_s"][0], p["after_s"][1]))
    out(f"{fault} on {row.node}: predicted {row.predicted} in {row.window[0]:.0f}-{row.window[1]:.0f} s")
    faults.inject(lab, fault, row.node)
    t0 = time.monotonic()
    last = measure(lab)
    changed_at = 0.0
    horizon = max(row.window[1] + SETTLE_S, 8.0)
    while True:
        time.sleep(SAMPLE_S)
        now = time.monotonic() - t0
        cur = measure(lab)
        if cur != last:
            last, changed_at = cur, now
            horizon = max(horizon, now + SETTLE_S)
        if now >= horizon or now > 60:
            break
    row.measured, row.last_change_s = last, round(changed_at, 1)
    out(f"  measured {row.measured}, last change {row.last_change_s} s")
    for line in faults.heal(lab, row.node):
        out(f"  {line}")
    try:
        services.wait_for("a healthy pair", lambda: healthy(lab), 60, interval_s=1.0)
    except services.WaitTimeout:
        # e.g. both were DRBD Primary while disconnected: a split brain on reconnect.  Heal the
        # secondary too: it is the victim (`connect --discard-my-data`), as an operator would choose
        primaries = measure(lab)["drbd_primary"].split(",")
        victim = next((n.name for n in lab.nodes() if n.name not in primaries), row.node)
        row.note = f"heal of {row.node} left the pair unhealthy; {victim} healed as the split-brain victim"
        out(f"  {row.note}")
        for line in faults.heal(lab, victim):
            out(f"  {line}")
        try:
            services.wait_for("a healthy pair", lambda: healthy(lab), HEALTHY_TIMEOUT_S, interval_s=1.0)
        except services.WaitTimeout as exc:
            row.note += f"; still not healthy: {exc}"
    time.sleep(SETTLE_S)  # every check has run once since: the next prediction reads settled statuses
    return row


def revision() -> str:
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         check=False)
    return res.stdout.strip() or "unknown"


def _cell(fields: dict[str, str], when: str) -> str:
    return (f"VIP {fields.get('vip')}; DRBD primary {fields.get('drbd_primary')}, mounted {fields.get('mounted')}; "
            f"web {fields.get('web')}; Galera {fields.get('galera')}; {when}")


def table(rows: list[Row], settings: LabSettings) -> str:
    ok = sum(sum(r.agree().values()) for r in rows)
    total = sum(len(r.agree()) for r in rows)
    lines = [f"Drill of {time.strftime('%Y-%m-%d %H:%M')} at revision {revision()}: `hatui lab drill --checks "
             f"{settings.checks} --notify {settings.notify}` (DRBD {settings.drbd}).", "",
             "| fault | predicted by hatui just before | measured | agreement |", "|---|---|---|---|"]
    for r in rows:
        agree = r.agree()
        wrong = [f for f, a in agree.items() if not a]
        lines.append(f"| `{r.fault} {r.node}` | {_cell(r.predicted, f'{r.window[0]:.0f}-{r.window[1]:.0f} s')} | "
                     f"{_cell(r.measured, f'{r.last_change_s} s')} | {sum(agree.values())}/{len(agree)}"
                     f"{' (' + ', '.join(wrong) + ')' if wrong else ''}{' ' + r.note if r.note else ''} |")
    pct = 100.0 * ok / total if total else 0.0
    lines += ["", f"Agreement: {ok}/{total} fields ({pct:.1f} %)."]
    return "\n".join(lines) + "\n"


def run(lab: Lab, settings: LabSettings, kinds: list[str], out_file: Path | None, keep: bool, out=print) -> int:
    current = lab.settings()
    started = False
    if current is None or (current.checks, current.notify, current.drbd) != (settings.checks, settings.notify,
                                                                                settings.drbd):
        if current is not None:
            lab.down()
        lab.up(settings)
        started = True
    observe.use(lab.name, lab.settings().subnet, lab.root)  # type: ignore[union-attr]
    rows: list[Row] = []
    try:
        services.wait_for("a healthy pair", lambda: healthy(lab), HEALTHY_TIMEOUT_S, interval_s=1.0)
        time.sleep(SETTLE_S)
        for kind in kinds:
            rows.append(drill_one(lab, kind, out))
    finally:
        if started and not keep:
            lab.down()
    text = table(rows, settings)
    print(text)
    if out_file is not None:
        out_file.write_text(text)
    return 0 if all(all(r.agree().values()) for r in rows) else 1
