"""Shared state (state_dir/state.json under an fcntl lock): the state both nodes share, and the kernel log."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

from .config import COUNTERS, Config, ConfigError


def new_uuid() -> str:
    return "%016X" % (secrets.randbits(64) & ~1)


def new_node(node_id: int, gen: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "alive_at": 0.0,
        "heard_at": 0.0,
        "up": True,
        "role": "Secondary",
        "disk": "UpToDate",
        "net": True,
        "discard": False,
        "open": None,
        "cur": gen,
        "bm": "",
        "oos": 0,
        "user_isp": False,
        "crashed": False,
        "cnt": dict.fromkeys(COUNTERS, 0),
    }


class Store:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.path = os.path.join(cfg.state_dir, "state.json")

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        os.makedirs(self.cfg.state_dir, exist_ok=True)
        with open(os.path.join(self.cfg.state_dir, "state.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path) as f:
                    text = f.read()
                st = json.loads(text)
            except FileNotFoundError:
                gen, text = new_uuid(), ""
                st = {
                    "nodes": {
                        self.cfg.node: new_node(self.cfg.node_id, gen),
                        self.cfg.peer: new_node(self.cfg.peer_node_id, gen),
                    },
                    "link": {"up": False},
                    "resync": None,
                    "events": [],
                    "seq": 0,
                }
            if set(st["nodes"]) != {self.cfg.node, self.cfg.peer}:
                raise ConfigError(
                    f"{self.path} holds nodes {sorted(st['nodes'])}, config says {self.cfg.node}/{self.cfg.peer}"
                )
            yield st
            new = json.dumps(st, indent=1, sort_keys=True)
            if new != text:
                tmp = f"{self.path}.{os.getpid()}.tmp"
                with open(tmp, "w") as f:
                    f.write(new)
                os.replace(tmp, self.path)


def alive(cfg: Config, n: dict[str, Any], now: float) -> bool:
    return now - n["alive_at"] < cfg.live_s


def kern_log(cfg: Config, logs: list[tuple[str, str]]) -> None:
    """Append kernel messages; prefixes as drbd-8.4 dev_printk()/conn_printk() ("block drbd0: ",
    "drbd r0: ") and DRBD 9 drbd_polymorph_printk.h ("drbd r0/0 drbd0 node2: ", "drbd r0 node2: ")."""
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="microseconds")
    for node, msg in logs:
        peer = cfg.peer if node == cfg.node else cfg.node
        conn = msg.startswith(("Handshake", "PingAck", "conn("))
        if cfg.is84:
            pre = f"drbd {cfg.resource}: " if conn else f"block drbd{cfg.minor}: "
        else:
            pre = f"drbd {cfg.resource} {peer}: " if conn else f"drbd {cfg.resource}/0 drbd{cfg.minor} {peer}: "
        with open(os.path.join(cfg.state_dir, f"kern-{node}.log"), "a") as f:
            f.write(f"{stamp} {node} kernel: {pre}{msg}\n")
