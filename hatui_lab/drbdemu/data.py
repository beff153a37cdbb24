"""The replicated data: snapshots of a backing directory, what differs, copies to the peer."""

from __future__ import annotations

import contextlib
import fcntl
import filecmp
import math
import os
import shutil
from collections.abc import Iterator

from .config import Config


def snapshot(root: str) -> dict[str, list[int]]:
    snap: dict[str, list[int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            try:
                s = os.lstat(p)
            except OSError:
                continue
            snap[os.path.relpath(p, root)] = [s.st_size, s.st_mtime_ns, s.st_mode]
    return snap


def kib4(size: int) -> int:
    return max(4, 4 * math.ceil(size / 4096))


def diff_kib(old: dict[str, list[int]] | None, new: dict[str, list[int]]) -> int:
    if old is None:
        return 0
    kib = sum(kib4(v[0]) for k, v in new.items() if old.get(k) != v)
    return kib + 4 * sum(1 for k in old if k not in new)


def compare_kib(a: str, b: str) -> int:
    sa, sb = snapshot(a), snapshot(b)
    kib = 0
    for k in set(sa) | set(sb):
        if k not in sa or k not in sb:
            kib += kib4((sa.get(k) or sb[k])[0])
        elif os.path.isfile(os.path.join(a, k)) and not filecmp.cmp(
            os.path.join(a, k), os.path.join(b, k), shallow=False
        ):
            kib += kib4(max(sa[k][0], sb[k][0]))
    return kib


@contextlib.contextmanager
def copy_lock(cfg: Config) -> Iterator[None]:
    """Serialises data copies with promotions/demotions. Lock order: copy.lock, then state.lock."""
    os.makedirs(cfg.state_dir, exist_ok=True)
    with open(os.path.join(cfg.state_dir, "copy.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def mirror(src: str, dst: str, checksum: bool = False) -> bool:
    """Make dst a copy of src (rsync -a --delete; a resync compares contents). Caller holds copy_lock()."""
    os.makedirs(dst, exist_ok=True)
    if shutil.which("rsync"):
        import subprocess  # here: a query command of the emulator must start fast

        return subprocess.run(
            [
                "rsync",
                "-a",
                "--delete",
                *(["--checksum"] if checksum else []),
                src.rstrip("/") + "/",
                dst.rstrip("/") + "/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        ).returncode in (0, 24)
    for name in os.listdir(dst):
        p = os.path.join(dst, name)
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    return True
