"""Processes the lab started, tracked by PID and start time so that only they are ever signalled.

A pid file holds "PID STARTTIME" (field 22 of /proc/PID/stat): a PID that was reused by an unrelated
process after a crash has another start time and is left alone.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    rest = stat[stat.rfind(")") + 2 :].split()
    return rest[19] if len(rest) > 19 else None


def state(pid: int) -> str | None:
    """The process's state letter (R, S, T stopped, Z, ...), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :][:1] or None


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].startswith("Z")


def record(pidfile: Path, pid: int) -> None:
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{pid} {start_time(pid) or '?'}\n")


def tracked_pid(pidfile: Path) -> int | None:
    """The PID in `pidfile` if that very process still runs, else None."""
    try:
        pid_s, started = pidfile.read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    if start_time(pid) != started or is_zombie(pid):
        return None
    return pid


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                os.waitpid(pid, os.WNOHANG)  # reap if it is our child
            except ChildProcessError:
                pass
            if start_time(pid) is None or is_zombie(pid):
                alive.remove(pid)
        if alive:
            time.sleep(0.05)
    return alive


def terminate(pids: list[int], timeout_s: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Signal `pids` (already verified as ours), escalate to SIGKILL after `timeout_s`."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    left = wait_gone(pids, timeout_s) if sig != signal.SIGKILL else wait_gone(pids, 2.0)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_gone(left, 2.0)


def ns_inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def pids_in_netns(netns_path: str) -> list[int]:
    """Every process whose network namespace is the one bound at `netns_path` (all started by the lab)."""
    inode = ns_inode(netns_path)
    if inode is None:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                found.append(int(entry))
        except OSError:
            continue
    return [p for p in found if p != os.getpid()]


def pids_in_mntns_of(holder_pid: int) -> list[int]:
    inode = ns_inode(f"/proc/{holder_pid}/ns/mnt")
    if inode is None:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/mnt").st_ino == inode:
                    found.append(int(entry))
            except OSError:
                continue
    return found
