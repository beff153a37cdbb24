"""The kernel daemon (one per node, standing in for the module): heartbeats, ticks, data copies."""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import signal
import socket
import threading
import time
from typing import Any

from .config import AL_FLOOR_KIB, Config, err
from .data import compare_kib, copy_lock, diff_kib, mirror, snapshot
from .machine import advance, drop_link, finish_resync
from .proctext import write_proc
from .store import Store, kern_log


class Kernel:
    def __init__(self, cfg: Config) -> None:
        self.cfg, self.store = cfg, Store(cfg)
        self.stop = threading.Event()
        self.jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.busy = threading.Event()
        self.heard_at = 0.0
        self.sock: socket.socket | None = None
        os.makedirs(cfg.backing_dir, exist_ok=True)
        self.last_snap = self.synced_snap = snapshot(cfg.backing_dir)
        self.replicated_snap: dict[str, list[int]] | None = None

    def heartbeat(self) -> None:
        cfg = self.cfg
        try:
            if self.sock is None:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((cfg.local_addr, cfg.port))
                s.setblocking(False)
                self.sock = s
            msg = json.dumps({"node": cfg.node, "res": cfg.resource}).encode()
            with contextlib.suppress(OSError):
                self.sock.sendto(msg, (cfg.peer_addr, cfg.peer_port))
            while True:
                data, _ = self.sock.recvfrom(4096)
                with contextlib.suppress(ValueError):
                    m = json.loads(data)
                    if m.get("node") == cfg.peer and m.get("res") == cfg.resource:
                        self.heard_at = time.time()
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # address not (yet) configured: retry next tick
            if self.sock:
                self.sock.close()
            self.sock = None

    def boot(self) -> None:
        now = time.time()
        with self.store.locked() as st:
            me = st["nodes"][self.cfg.node]
            logs: list[tuple[str, str]] = []
            if me["role"] == "Primary":  # it went down while Primary: a crashed primary
                me["crashed"], me["oos"] = True, min(self.cfg.size_kib, max(me["oos"], AL_FLOOR_KIB))
            me.update(
                role="Secondary",
                open=None,
                up=True,
                net=True,
                discard=False,
                user_isp=False,
                alive_at=0.0,
                heard_at=0.0,
            )
            if st["link"]["up"]:  # a reboot the peer did not notice yet
                drop_link(self.cfg, st, now, logs)
            me["alive_at"] = now
            write_proc(self.cfg, st, now)

    def tick(self) -> None:
        cfg, now = self.cfg, time.time()
        self.heartbeat()
        snap = snapshot(cfg.backing_dir)
        with self.store.locked() as st:
            me = st["nodes"][cfg.node]
            me["alive_at"], me["heard_at"] = now, self.heard_at
            if me["role"] == "Primary" and me["up"]:
                d = diff_kib(self.last_snap, snap)
                if d:
                    me["cnt"]["dw"] += d
                    me["cnt"]["al"] += math.ceil(d / 4096)
                diverged = diff_kib(self.synced_snap, snap)
                if not st["link"]["up"] and diverged:
                    me["oos"] = min(cfg.size_kib, max(me["oos"], AL_FLOOR_KIB + diverged))
            self.last_snap = snap
            logs = advance(cfg, st, now)
            rs = st["resync"]
            if st["link"]["up"] and not self.busy.is_set():
                if rs and rs["finishing"] and rs["src"] == cfg.node:
                    self.submit(("finish", rs["id"], rs["kind"]))
                elif me["role"] == "Primary" and snap != self.replicated_snap and not (rs and rs["tgt"] == cfg.node):
                    self.submit(("replicate", snap))
                elif me["role"] != "Primary" and not rs:
                    self.synced_snap = snap
            write_proc(cfg, st, now)
        kern_log(cfg, logs)

    def submit(self, job: tuple[Any, ...]) -> None:
        self.busy.set()
        self.jobs.put(job)

    def worker(self) -> None:
        cfg = self.cfg
        while not self.stop.is_set():
            try:
                job = self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                logs: list[tuple[str, str]] = []
                with copy_lock(cfg):  # re-check under the lock: a demotion may have happened since
                    with self.store.locked() as st:
                        rs, me = st["resync"], st["nodes"][cfg.node]
                        if job[0] == "replicate":
                            ok = me["role"] == "Primary" and not (rs and rs["tgt"] == cfg.node)
                        else:
                            ok = bool(rs and rs["id"] == job[1])
                        ok = ok and st["link"]["up"]
                    if job[0] == "replicate" and ok and mirror(cfg.backing_dir, cfg.peer_backing_dir):
                        with self.store.locked() as st:
                            base = self.synced_snap if self.replicated_snap is None else self.replicated_snap
                            kib = diff_kib(base, job[1])
                            st["nodes"][cfg.node]["cnt"]["ns"] += kib
                            st["nodes"][cfg.peer]["cnt"]["nr"] += kib
                            st["nodes"][cfg.peer]["cnt"]["dw"] += kib
                        self.replicated_snap = self.synced_snap = job[1]
                    elif job[0] == "finish" and ok:
                        if job[2] == "resync":
                            ok = mirror(cfg.backing_dir, cfg.peer_backing_dir, checksum=True)
                            self.replicated_snap = None
                        kib = 0 if job[2] == "resync" else compare_kib(cfg.backing_dir, cfg.peer_backing_dir)
                        with self.store.locked() as st:
                            if ok:
                                finish_resync(cfg, st, job[1], time.time(), logs, kib)
                kern_log(cfg, logs)
            finally:
                self.busy.clear()

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        self.boot()
        threading.Thread(target=self.worker, daemon=True).start()
        while not self.stop.is_set():
            t0 = time.time()
            try:
                self.tick()
            except Exception as e:
                err(f"drbdemu kernel: tick failed: {type(e).__name__}: {e}\n")
            self.stop.wait(max(0.0, self.cfg.tick_s - (time.time() - t0)))
        with self.store.locked() as st:  # "module unloaded": the peer drops the link at once
            st["nodes"][self.cfg.node]["alive_at"] = 0.0
            logs = advance(self.cfg, st, time.time())
        kern_log(self.cfg, logs)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.cfg.proc_file)
        return 0
