"""What this test process listens on, read from /proc (not a test module: tests import it)."""

from __future__ import annotations

import os
from pathlib import Path


def tcp_listening_ports_of_this_process() -> set[int]:
    """Ports of the TCP sockets in LISTEN state (/proc/net/tcp{,6} state 0A) whose inode is one of this
    process's open fds."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:  # no IPv6 in this kernel
            continue
        for line in lines:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # 0A: TCP_LISTEN
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports
