"""What a lab is called and how it runs: its name (from which every host-side name of the lab is made),
its subnet and its options, plus the two helpers every layer above uses (root check, `sh`).

The bottom of the lab's layering: it imports nothing of the lab.  Two labs with different names
share nothing on the host: see netplan.plan() for the names, default_dir() for the state directory.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The lab `make demo` starts: namespaces hatui-node1/2, bridge hatui-br0, state in /var/lib/hatui-lab.
DEFAULT_NAME = "hatui"
DEFAULT_SUBNET = "198.18.0.0/24"
# Linux interface names have at most 15 characters (IFNAMSIZ 16 with the NUL); the longest name made
# from a lab name is the bridge, NAME + "-br0", so a name has at most 11.
IFNAME_MAX = 15
NAME_MAX = IFNAME_MAX - len("-br0")
_NAME = re.compile(r"^[a-z][a-z0-9]*$")


class LabError(RuntimeError):
    pass


def check_name(name: str) -> str:
    """`name` if it can prefix the lab's namespaces, interfaces and directories, else LabError.
    Letters and digits only: a '-' would let one lab's names be another's (`a-n1` + `-n1`)."""
    if not _NAME.match(name) or len(name) > NAME_MAX:
        raise LabError(f"--name {name!r}: a lab name is 1 to {NAME_MAX} lower-case letters and digits, starting "
                       f"with a letter (it prefixes interface names, which Linux limits to {IFNAME_MAX} characters)")
    return name


def default_dir(name: str = DEFAULT_NAME) -> Path:
    """The state directory of lab `name`: $HATUI_LAB_DIR for the default lab, else /var/lib/hatui-lab
    (so README and `make demo` stay true); /var/lib/hatui-lab-NAME for any other."""
    if name == DEFAULT_NAME:
        return Path(os.environ.get("HATUI_LAB_DIR", "/var/lib/hatui-lab"))
    return Path(f"/var/lib/hatui-lab-{check_name(name)}")


@dataclass(frozen=True)
class LabSettings:
    name: str = DEFAULT_NAME
    subnet: str = DEFAULT_SUBNET
    drbd: str = "84"  # "84" | "9" | "real"
    checks: str = "seed"  # "seed" | "recommended"
    notify: str = "lab"  # "lab" (promotes DRBD and mounts) | "seed" (the seed's own: logs and posts only)
    resync_rate_kib_s: int = 40960
    drbd_size_kib: int = 1048576
    # an ordinary SSH user (with `become: sudo`) instead of root: made on both nodes with the sudoers
    # snippet `hatui sudoers` prints, and a MariaDB login by unix_socket (`hatui lab up --ssh-user hatui`)
    ssh_user: str | None = None


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("hatui lab needs root (it creates network namespaces and starts daemons): run it with sudo")


def sh(argv: list[str], check: bool = True, timeout_s: float = 30.0) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if check and res.returncode != 0:
        raise LabError(f"`{' '.join(argv)}` failed ({res.returncode}): {res.stderr.strip()}")
    return res
