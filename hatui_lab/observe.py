"""Observing the lab from the workstation side, the way an operator would: real SSH, real HTTP.

Used by the end-to-end tests and by benchmarks/fault_matrix.py.  Which lab: the one use() names, by
default $HATUI_LAB_NAME / $HATUI_LAB_SUBNET / $HATUI_LAB_DIR, else the demo's lab; its addresses come
from netplan.plan(), the same plan `hatui lab up` builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from hatui_lab import procs
from hatui_lab.netplan import NetPlan, plan
from hatui_lab.settings import DEFAULT_NAME, DEFAULT_SUBNET, default_dir

# hatui run by this interpreter (no reliance on a console script being on PATH)
HATUI = (sys.executable, "-m", "hatui")
# `hatui lab`, without needing hatui's entry points registered (tests/test_lab_cli.py checks that route)
HATUI_LAB = (sys.executable, "-m", "hatui_lab")
# The lab observed (set by use()); read at call time, so use() redirects every helper below.
NAME = DEFAULT_NAME
SUBNET = DEFAULT_SUBNET
LAB_DIR = default_dir()
PLAN: NetPlan = plan()
NODE_IP: dict[str, str] = {}
VIP = ""


def use(name: str = DEFAULT_NAME, subnet: str = DEFAULT_SUBNET, lab_dir: Path | None = None) -> NetPlan:
    """Observe the lab `name` (in `subnet`, state in `lab_dir`, default derived from the name)."""
    global NAME, SUBNET, LAB_DIR, PLAN, NODE_IP, VIP
    NAME, SUBNET = name, subnet
    LAB_DIR = lab_dir or default_dir(name)
    PLAN = plan(subnet, name)
    NODE_IP = {n.name: n.ip for n in PLAN.nodes}
    VIP = PLAN.vip
    return PLAN


use(os.environ.get("HATUI_LAB_NAME", DEFAULT_NAME), os.environ.get("HATUI_LAB_SUBNET", DEFAULT_SUBNET),
    Path(os.environ["HATUI_LAB_DIR"]) if os.environ.get("HATUI_LAB_DIR") else None)

T = TypeVar("T")

FACTS_SCRIPT = r"""
echo "vip=$(ip -o -4 addr show dev eth0 | grep -c ' VIPADDR/')"
echo "role=$(drbdadm role r0 2>/dev/null)"
echo "cstate=$(drbdadm cstate r0 2>/dev/null)"
echo "dstate=$(drbdadm dstate r0 2>/dev/null)"
if mountpoint -q /mnt/drbd; then echo mounted=1; else echo mounted=0; fi
mysql --connect-timeout=2 -N -B -e "SHOW GLOBAL STATUS WHERE Variable_name IN \
  ('wsrep_cluster_size','wsrep_cluster_status','wsrep_local_state_comment','wsrep_ready')" 2>/dev/null | tr '\t' '='
"""


def ssh(node: str, command: str, lab_dir: Path | None = None,
        timeout_s: float = 15) -> subprocess.CompletedProcess[str]:
    ssh_dir = (lab_dir or LAB_DIR) / "ssh"
    argv = [
        "ssh", "-i", str(ssh_dir / "id_ed25519"),
        "-o", f"UserKnownHostsFile={ssh_dir / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-o", "GlobalKnownHostsFile=/dev/null",
        f"root@{NODE_IP[node]}", command,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)


@dataclass
class NodeFacts:
    node: str
    reachable: bool
    vip: bool = False
    role: str = ""
    cstate: str = ""
    dstate: str = ""
    mounted: bool = False
    galera: dict[str, str] = field(default_factory=dict)

    @property
    def drbd_local_role(self) -> str:
        return self.role.split("/")[0]

    @property
    def drbd_local_disk(self) -> str:
        return self.dstate.split("/")[0]


def facts(node: str, lab_dir: Path | None = None) -> NodeFacts:
    try:
        res = ssh(node, FACTS_SCRIPT.replace("VIPADDR", VIP), lab_dir, timeout_s=8)
    except subprocess.TimeoutExpired:
        return NodeFacts(node, reachable=False)
    if res.returncode == 255:
        return NodeFacts(node, reachable=False)
    kv = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    galera = {k: v for k, v in kv.items() if k.startswith("wsrep_")}
    return NodeFacts(node, True, vip=kv.get("vip") == "1", role=kv.get("role", ""), cstate=kv.get("cstate", ""),
                     dstate=kv.get("dstate", ""), mounted=kv.get("mounted") == "1", galera=galera)


def web() -> str | None:
    try:
        with urllib.request.urlopen(f"http://{VIP}/", timeout=2) as resp:
            return resp.read().decode().strip()
    except OSError:
        return None


def wait_until(what: str, probe: Callable[[], T], ok: Callable[[T], bool], timeout_s: float,
               interval_s: float = 0.5) -> tuple[T, float]:
    """Poll `probe` until `ok(value)`; return the value and the time it took. Fails with the last value."""
    t0 = time.monotonic()
    while True:
        value = probe()
        if ok(value):
            return value, time.monotonic() - t0
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last: {value!r}")
        time.sleep(interval_s)


def hatui_lab(*args: str, timeout_s: float = 180, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`hatui lab --name NAME --dir LAB_DIR ARGS` (`up` gets --subnet SUBNET unless given); with check, a
    failure raises with what the lab printed."""
    if args and args[0] == "up" and "--subnet" not in args:
        args = ("up", "--subnet", SUBNET, *args[1:])
    res = subprocess.run([*HATUI_LAB, "--name", NAME, "--dir", str(LAB_DIR), *args], capture_output=True, text=True,
                         timeout=timeout_s)
    if check and res.returncode != 0:
        raise RuntimeError(f"hatui lab {' '.join(args)} failed:\n{res.stdout}{res.stderr}")
    return res


def hatui_argv(*args: str, config: Path | None = None) -> list[str]:
    """`hatui --config <the lab's config> ARGS`, run by this interpreter."""
    return [*HATUI, "--config", str(config or LAB_DIR / "hatui-lab.yaml"), *args]


def hatui_cli(*args: str, config: Path | None = None, env_extra: dict[str, str] | None = None,
              timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    """Run hatui against the lab to its end (no terminal: stdin is /dev/null)."""
    return subprocess.run(hatui_argv(*args, config=config), capture_output=True, text=True, timeout=timeout_s,
                          env={**os.environ, **(env_extra or {})}, stdin=subprocess.DEVNULL)


def effective_priorities(status_doc: dict) -> list[int | None]:
    """Each node's effective VRRP priority from a `hatui status --json` document (None: no VRRP data)."""
    return [n["vrrp"][0]["effective_priority"] if n["vrrp"] else None for n in status_doc["nodes"]]


def check_statuses(status_doc: dict) -> dict[str, dict[str, str]]:
    """node → track script → GOOD/BAD, as keepalived reports them (`hatui status --json`)."""
    return {n["node"]: {s["name"]: s["status"] for s in n["vrrp"][0]["track_scripts"]}
            for n in status_doc["nodes"] if n.get("vrrp")}


def status_json() -> dict:
    res = hatui_cli("status", "--json", timeout_s=60)
    return json.loads(res.stdout) if res.stdout.strip().startswith("{") else {"nodes": []}


def maintenance_values() -> dict[str, str]:
    """Each node's maintenance track_file value, as written."""
    return {n: ssh(n, "cat /etc/keepalived/maintenance").stdout.strip() for n in NODE_IP}


def sshd_pids(node: str) -> list[int]:
    """Every sshd of the node (its listener and the sessions it serves)."""
    found = []
    for pid in procs.pids_in_netns(f"/run/netns/{PLAN.node(node).netns}"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "sshd":
                    found.append(pid)
        except OSError:
            continue
    return found


def failover_log(node: str) -> list[str]:
    res = ssh(node, "cat /var/log/keepalived_failover.log")
    return res.stdout.splitlines()


@dataclass(frozen=True)
class Outcome:
    """Who holds what, as seen from the workstation side."""

    vip: tuple[str, ...]
    drbd_primary: tuple[str, ...]
    mounted: tuple[str, ...]
    web: str  # node named by the page through the VIP, or "none"
    galera: tuple[tuple[str, str], ...]  # (node, "Primary/Synced" | "non-Primary/..." | "down" | "unreachable")
    drbd_cstate: tuple[tuple[str, str], ...]

    def galera_of(self, node: str) -> str:
        return dict(self.galera)[node]

    def cstate_of(self, node: str) -> str:
        return dict(self.drbd_cstate)[node]


def outcome() -> Outcome:
    all_facts = [facts(n) for n in ("node1", "node2")]
    page = web() or ""
    galera = []
    for f in all_facts:
        if not f.reachable:
            galera.append((f.node, "unreachable"))
        elif not f.galera:
            galera.append((f.node, "down"))
        else:
            g = f.galera
            galera.append((f.node, f"{g.get('wsrep_cluster_status')}/{g.get('wsrep_local_state_comment')}"))
    return Outcome(
        vip=tuple(f.node for f in all_facts if f.vip),
        drbd_primary=tuple(f.node for f in all_facts if f.drbd_local_role == "Primary"),
        mounted=tuple(f.node for f in all_facts if f.mounted),
        web=page.rsplit(" ", 1)[-1] if page.startswith("HA Web Service") else "none",
        galera=tuple(galera),
        drbd_cstate=tuple((f.node, f.cstate if f.reachable else "unreachable") for f in all_facts),
    )


def stays(what: str, probe: Callable[[], T], ok: Callable[[T], bool], duration_s: float,
          interval_s: float = 1.0) -> T:
    """Assert `ok(probe())` holds for the whole of `duration_s` (for outcomes where nothing moves)."""
    t0 = time.monotonic()
    value = probe()
    while True:
        if not ok(value):
            raise AssertionError(f"{what} did not hold after {time.monotonic() - t0:.1f} s: {value!r}")
        if time.monotonic() - t0 > duration_s:
            return value
        time.sleep(interval_s)
        value = probe()
