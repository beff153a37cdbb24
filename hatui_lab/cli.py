"""`hatui lab [--name NAME] [--dir DIR] up | down | status | fault KIND NODE | heal NODE | config`.

Registered as `hatui lab` through the entry-point group hatui.commands (pyproject.toml); also
`python3 -m hatui_lab`.  The top of the lab's layering: nothing of the lab imports it."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from hatui_lab.drill import DEFAULT_FAULTS as DRILL_FAULTS
from hatui_lab.faults import FAULTS, FaultError, heal, inject
from hatui_lab.lab import Lab
from hatui_lab.netplan import LabNetError
from hatui_lab.node import NodeError
from hatui_lab.services import WaitTimeout
from hatui_lab.settings import (DEFAULT_NAME, DEFAULT_SUBNET, LabError, LabSettings, check_name, default_dir,
                                require_root)
from hatui_lab.status import lab_status, render


def add_parser(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="the rehearsal lab: a real HA pair on this machine (root)")
    name_help = (f"the lab's name: prefixes its namespaces (NAME-node1), bridge (NAME-br0), veths (NAME-n1) "
                 f"and its directory; labs with different names share nothing (default {DEFAULT_NAME}, "
                 "the demo's lab)")
    lab.add_argument("--name", default=None, help=name_help)
    lab.add_argument("--dir", type=Path, default=None,
                     help=f"lab state directory (default {default_dir()} for the lab {DEFAULT_NAME}, "
                          "/var/lib/hatui-lab-NAME for another)")
    lsub = lab.add_subparsers(dest="lab_cmd", required=True)
    up = lsub.add_parser("up", help="start the lab (idempotent)")
    up.add_argument("--name", default=argparse.SUPPRESS, help=name_help)
    up.add_argument("--subnet", default=DEFAULT_SUBNET, help=f"lab subnet (default {DEFAULT_SUBNET})")
    up.add_argument("--drbd", choices=["84", "9", "real"], default="84",
                    help="DRBD version the emulator mimics (84, 9); `real` is refused with the reason")
    up.add_argument("--checks", choices=["seed", "recommended"], default="seed",
                    help="keepalived health checks: the seed's as written (default), or fixed ones: chk_drbd "
                         "passes on any UpToDate disk (DRBD 8.4 and 9), chk_galera never on non-Primary "
                         "(docs/lab.md)")
    up.add_argument("--notify", choices=["lab", "seed"], default="lab",
                    help="keepalived notify script: the lab's, which promotes DRBD and mounts (default), or the "
                         "seed's own, which only logs and posts a chat message (to a closed local port)")
    up.add_argument("--resync-rate", type=int, default=40960, metavar="KIB_S",
                    help="emulated DRBD resync rate in KiB/s (default 40960)")
    up.add_argument("--ssh-user", default=None, metavar="USER",
                    help="hatui logs in as this ordinary user (become: sudo) instead of root: the lab makes it on "
                         "both nodes, installs the sudoers snippet `hatui sudoers` prints and a MariaDB login")
    lsub.add_parser("down", help="stop everything the lab started and remove what it created")
    st = lsub.add_parser("status", help="what runs where")
    st.add_argument("--json", action="store_true")
    fault = lsub.add_parser("fault", help="inject a fault: " + ", ".join(FAULTS))
    fault.add_argument("kind", choices=list(FAULTS))
    fault.add_argument("node", choices=["node1", "node2"])
    hl = lsub.add_parser("heal", help="bring a node back the way an operator would")
    hl.add_argument("node", choices=["node1", "node2"])
    lsub.add_parser("config", help="print the hatui config for the lab (written by `up`)")
    dr = lsub.add_parser("drill", help="per fault: hatui's prediction, the fault, the measured outcome, heal; "
                                       "the agreement table (docs/faults.md)")
    dr.add_argument("--subnet", default=DEFAULT_SUBNET,
                    help=f"lab subnet if the drill starts it (default {DEFAULT_SUBNET})")
    dr.add_argument("--checks", choices=["seed", "recommended"], default="seed")
    dr.add_argument("--notify", choices=["lab", "seed"], default="lab")
    dr.add_argument("--drbd", choices=["84", "9"], default="84")
    dr.add_argument("--faults", default=",".join(DRILL_FAULTS),
                    help=f"comma-separated, in order (default all: {','.join(DRILL_FAULTS)})")
    dr.add_argument("--out", type=Path, default=None, help="also write the markdown table to this file")
    dr.add_argument("--keep", action="store_true", help="leave the lab up at the end if the drill started it")


def open_lab(name: str | None, lab_dir: Path | None) -> Lab:
    """The lab `--name` and `--dir` designate: the directory follows the name unless given; a given
    directory knows its lab's name (lab.json), and a --name that contradicts it is refused."""
    lab = Lab(lab_dir or default_dir(check_name(name or DEFAULT_NAME)), name=check_name(name or DEFAULT_NAME))
    recorded = lab.settings()
    if recorded is not None:
        if name is not None and recorded.name != name:
            raise LabError(f"{lab.root} holds the lab {recorded.name!r}, not {name!r}")
        lab = Lab(lab.root, name=recorded.name)
    return lab


def run(args: argparse.Namespace) -> int:
    try:
        if args.lab_cmd == "up" and args.drbd == "real":
            raise LabError(real_drbd_refusal())
        lab = open_lab(args.name, args.dir)
        require_root()
        if args.lab_cmd == "up":
            if args.ssh_user is not None and (args.ssh_user == "root" or not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}",
                                                                                             args.ssh_user)):
                raise LabError(f"--ssh-user {args.ssh_user!r}: an ordinary Unix user name (not root)")
            lab.up(LabSettings(name=lab.name, subnet=args.subnet, drbd=args.drbd, checks=args.checks,
                               notify=args.notify, resync_rate_kib_s=args.resync_rate,
                               ssh_user=args.ssh_user))
        elif args.lab_cmd == "drill":
            from hatui_lab import drill

            kinds = [k for k in args.faults.split(",") if k]
            unknown = [k for k in kinds if k not in FAULTS]
            if unknown:
                raise LabError(f"--faults: unknown {', '.join(unknown)}; one of {', '.join(FAULTS)}")
            return drill.run(lab, LabSettings(name=lab.name, subnet=args.subnet, drbd=args.drbd, checks=args.checks,
                                              notify=args.notify), kinds, args.out, args.keep)
        elif args.lab_cmd == "down":
            lab.down()
        elif args.lab_cmd == "status":
            if lab.settings() is None:
                print(f"the lab {lab.name} is not up (`hatui lab up` starts it)")
                return 3
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
        # (LabNetError is a LabError; WaitTimeout a NodeError: listed for the reader)
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
