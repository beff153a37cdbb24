"""`hatui lab up | down | status | fault KIND NODE | heal NODE | config`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from hatui_lab.faults import FAULTS, FaultError, heal, inject
from hatui_lab.lab import DEFAULT_DIR, Lab, LabError, LabSettings, require_root
from hatui_lab.netplan import DEFAULT_SUBNET, LabNetError
from hatui_lab.node import NodeError
from hatui_lab.services import WaitTimeout


def add_parser(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="the rehearsal lab: a real HA pair on this machine (root)")
    lab.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"lab state directory (default {DEFAULT_DIR})")
    lsub = lab.add_subparsers(dest="lab_cmd", required=True)
    up = lsub.add_parser("up", help="start the lab (idempotent)")
    up.add_argument("--subnet", default=DEFAULT_SUBNET, help=f"lab subnet (default {DEFAULT_SUBNET})")
    up.add_argument("--drbd", choices=["84", "9", "real"], default="84",
                    help="DRBD version the emulator mimics (84, 9); `real` is refused with the reason")
    up.add_argument("--checks", choices=["seed", "recommended"], default="seed",
                    help="keepalived health checks: the seed's (default) or ones that fail over correctly")
    up.add_argument("--resync-rate", type=int, default=40960, metavar="KIB_S",
                    help="emulated DRBD resync rate in KiB/s (default 40960)")
    lsub.add_parser("down", help="stop everything the lab started and remove what it created")
    st = lsub.add_parser("status", help="what runs where")
    st.add_argument("--json", action="store_true")
    fault = lsub.add_parser("fault", help="inject a fault: " + ", ".join(FAULTS))
    fault.add_argument("kind", choices=list(FAULTS))
    fault.add_argument("node", choices=["node1", "node2"])
    hl = lsub.add_parser("heal", help="bring a node back the way an operator would")
    hl.add_argument("node", choices=["node1", "node2"])
    lsub.add_parser("config", help="print the hatui config for the lab (written by `up`)")


def run(args: argparse.Namespace) -> int:
    lab = Lab(args.dir)
    try:
        if args.lab_cmd == "up" and args.drbd == "real":
            raise LabError(real_drbd_refusal())
        require_root()
        if args.lab_cmd == "up":
            lab.up(LabSettings(subnet=args.subnet, drbd=args.drbd, checks=args.checks,
                               resync_rate_kib_s=args.resync_rate))
        elif args.lab_cmd == "down":
            lab.down()
        elif args.lab_cmd == "status":
            if lab.settings() is None:
                print("the lab is not up (`hatui lab up` starts it)")
                return 3
            from hatui_lab.status import lab_status, render

            facts = lab_status(lab)
            print(json.dumps(facts, indent=2) if args.json else render(lab, facts))
        elif args.lab_cmd == "fault":
            _need_up(lab)
            print(inject(lab, args.kind, args.node))
        elif args.lab_cmd == "heal":
            _need_up(lab)
            for line in heal(lab, args.node):
                print(line)
        elif args.lab_cmd == "config":
            path = lab.config_path()
            if not path.exists():
                print("no lab config yet: run `hatui lab up` first", file=sys.stderr)
                return 1
            print(f"# {path}")
            print(path.read_text(), end="")
        return 0
    except (LabError, LabNetError, NodeError, FaultError, WaitTimeout) as exc:
        print(f"hatui lab {args.lab_cmd}: {exc}", file=sys.stderr)
        return 1


def real_drbd_refusal() -> str:
    """Why `--drbd real` does not start: the kernel has no DRBD, or (where it has) the lab does not
    drive a real DRBD on loop devices yet.  Checked before anything is created."""
    if Path("/proc/drbd").exists():
        found = "this kernel has DRBD (/proc/drbd exists)"
    else:
        try:
            res = subprocess.run(["modprobe", "-n", "drbd"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "timed out"
            return _no_drbd_module(f"modprobe cannot run ({why})")
        if res.returncode != 0:
            return _no_drbd_module(
                f"`modprobe -n drbd` says: {(res.stderr or res.stdout).strip() or f'exit {res.returncode}'}")
        found = "this kernel has DRBD (`modprobe -n drbd` found the module)"
    return (f"{found}, but this version of the lab does not drive a real DRBD on loop devices; "
            "use --drbd 84 or --drbd 9 (the emulator).")


def _no_drbd_module(probe: str) -> str:
    return (f"--drbd real needs the kernel's DRBD module: /proc/drbd does not exist and {probe}. "
            "Use the emulator: --drbd 84 (Debian's stock module prints this format) or --drbd 9.")


def _need_up(lab: Lab) -> None:
    if lab.settings() is None:
        raise LabError("the lab is not up: run `hatui lab up` first")
