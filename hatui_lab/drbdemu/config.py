"""The emulator's config ($DRBDEMU_CONF, a JSON object) and the constants every part uses."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any

AL_FLOOR_KIB = 4096  # one activity-log extent
MARK_STEP_S = 3.0  # DRBD_SYNC_MARK_STEP (drbd-8.4 drbd/drbd_int.h), also DRBD 9's progress report step
COUNTERS = ("ns", "nr", "dw", "dr", "al", "bm")
REAL_MOUNT = ("/usr/bin/mount", "/bin/mount")
REAL_UMOUNT = ("/usr/bin/umount", "/bin/umount")
# Debian/Ubuntu in-tree module: sample drbd84/proc_drbd-intree-8.4.11-*; srcversion is 23 hex chars.
V84_SRCVERSION = "211FB288A383ED945B83420"
# drbd-9.2.12 tag: drbd/linux/drbd_config.h (proto 118-122), drbd-headers drbd_transport.h (api 21).
V9_REL = "9.2.12"
V9_GIT = "2da6f528dc4ab3fd25c511f7b03531100e54ab08"
# drbdadm --version, sample drbd84/drbdadm-version-utils9.28-kernel8.4.11.txt (drbd-utils 9.28.0).
UTILS_BUILDTAG = (
    r"GIT-hash:\ ba2ce9037989b6141222c7901d1219cf852949f1\ build\ by\ buildd@lcy02-amd64-093\,"
    r"\ 2024-05-06\ 09:10:38"
)


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Config:
    node: str
    peer: str
    node_id: int
    version: str  # "84" or "9"
    state_dir: str
    backing_dir: str
    peer_backing_dir: str
    local_addr: str
    peer_addr: str
    proc_file: str
    resource: str = "r0"
    minor: int = 0
    device: str = ""
    port: int = 7789
    peer_port: int = 0  # 0: same as port
    size_kib: int = 1048576
    resync_rate_kib_s: int = 51200
    ping_timeout_s: float = 1.5
    mount_point: str = "/mnt/drbd"
    tick_s: float = 0.25
    report_open: bool = False  # DRBD 9: print open: like drbd-utils >= 9.29 (default: 9.28, no open:)
    auto_promote: bool = False  # DRBD 9: mount on a Secondary tries to promote, umount demotes
    # What the resource file says (answered by `drbdadm dump` / `dump-xml`, confdump.py).  The lab
    # has no block device: res_disk is the disk the seed names; the data lives in backing_dir.
    res_disk: str = "/dev/sdb"
    res_file: str = "/etc/drbd.d/r0.res"
    net_options: tuple[tuple[str, str], ...] = (("protocol", "C"),)  # in file order; "" value: a flag
    disk_options: tuple[tuple[str, str], ...] = ()
    handlers: tuple[tuple[str, str], ...] = ()

    @property
    def is84(self) -> bool:
        return self.version == "84"

    @property
    def peer_node_id(self) -> int:
        return 1 - self.node_id

    @property
    def live_s(self) -> float:
        """A heartbeat older than this means the peer is gone (detected within ping_timeout_s)."""
        return max(2.2 * self.tick_s, self.ping_timeout_s - self.tick_s)


def load_config(path: str | None = None) -> Config:
    path = path or os.environ.get("DRBDEMU_CONF")
    if not path:
        raise ConfigError("DRBDEMU_CONF is not set (path of the emulator's JSON config)")
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be an object")
    fields = {f.name: f for f in dataclasses.fields(Config)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(unknown)}")
    kw: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{path}: missing key '{name}'")
            continue
        want = {"int": int, "float": (int, float), "bool": bool}.get(str(f.type), str)
        val = raw[name]
        if str(f.type).startswith("tuple"):  # [[name, value], ...]
            if not (isinstance(val, list) and all(isinstance(p, list) and len(p) == 2
                                                  and all(isinstance(x, str) for x in p) for p in val)):
                raise ConfigError(f"{path}: key '{name}' must be a list of [name, value] string pairs")
            kw[name] = tuple((a, b) for a, b in val)
            continue
        if not isinstance(val, want) or (want is int and isinstance(val, bool)):
            raise ConfigError(f"{path}: key '{name}' must be {f.type}, got {val!r}")
        kw[name] = float(val) if f.type == "float" else val
    cfg = Config(**kw)
    if cfg.version not in ("84", "9"):
        raise ConfigError(f'{path}: key \'version\' must be "84" or "9", got {cfg.version!r}')
    if cfg.node_id not in (0, 1) or cfg.node == cfg.peer:
        raise ConfigError(f"{path}: node_id must be 0 or 1 and node differ from peer")
    if cfg.size_kib < 4 or cfg.resync_rate_kib_s <= 0 or cfg.ping_timeout_s <= 0 or cfg.tick_s <= 0:
        raise ConfigError(f"{path}: size_kib, resync_rate_kib_s, ping_timeout_s, tick_s must be positive")
    return dataclasses.replace(cfg, device=cfg.device or f"/dev/drbd{cfg.minor}", peer_port=cfg.peer_port or cfg.port)


def err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()
