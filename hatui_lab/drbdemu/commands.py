"""The drbdsetup commands (also the body of the drbdadm ones): failures as the kernel reports them,
state changes, status and role/cstate/dstate queries."""

from __future__ import annotations

import contextlib
import datetime
import sys
import time
from typing import Any

from .config import Config, err
from .data import copy_lock, mirror
from .machine import advance, new_generation, start_resync, view
from .proctext import write_proc
from .status import status_json, status_text
from .store import Store, alive, kern_log


class Fail(Exception):
    """A drbdsetup failure: print_config_error() in drbd-utils user/v84/drbdsetup.c (same in v9)."""

    def __init__(self, code: int, text: str, info: list[str] | None = None, obj: str | None = None) -> None:
        super().__init__(text)
        self.code, self.text, self.info, self.obj = code, text, info or [], obj

    @property
    def exit_code(self) -> int:
        if self.code > 100:
            return 10
        return {-2: 17, -16: 5, -4: 16}.get(self.code, 11)

    def message(self, obj: str) -> str:
        kind = "Failure" if self.code > 100 else "State change failed"
        lines = [f"{self.obj or obj}: {kind}: ({self.code}) {self.text}"]
        if self.info:
            lines += ["additional info from kernel:", *self.info]
        return "\n".join(lines) + "\n"


SS_84 = {
    -1: "Multiple primaries not allowed by config",
    -2: "Need access to UpToDate data",
    -8: "Can not start OV/resync since it is already active",
    -12: "Device is held open by someone",
    -15: "Need a connection to start verify or resync",
}  # drbd-utils user/v84/drbd_strings.c
SS_9 = {**SS_84, -15: "State change requires a connection"}  # drbd-headers drbd_strings.c
ERR = {
    125: "Device has a net-config (use disconnect first)",
    127: "Device minor not allocated",
    134: "Sync-pause flag is already set",
    135: "Sync-pause flag is already cleared",
    158: "Unknown resource",
    161: "Minor or volume exists already (delete it first)",
}


def sfail(cfg: Config, code: int, info: list[str] | None = None) -> Fail:
    return Fail(code, (SS_84 if cfg.is84 else SS_9).get(code) or ERR[code], info)


def setup_argv(cfg: Config, cmd: str, opts: list[str]) -> tuple[list[str], str]:
    """The drbdsetup command line drbdadm runs (for "Command '...' terminated with exit code N"),
    and the object name drbdsetup prints. Samples drbd84/drbdadm-* and drbd9/drbdadm-*."""
    res, minor, pid = cfg.resource, str(cfg.minor), str(cfg.peer_node_id)
    local, peer = f"ipv4:{cfg.local_addr}:{cfg.port}", f"ipv4:{cfg.peer_addr}:{cfg.peer_port}"
    if cfg.is84:
        args = {
            "connect": [res, local, peer, "--protocol=C"],
            "disconnect": [local, peer],
            "status": [res],
            "down": [res],
            "new-minor": [res, minor, "0"],
        }.get(cmd, [minor])
        return ["drbdsetup-84", cmd, *args, *opts], (res if args[0] in (res, local) else minor)
    args = {
        "invalidate": [minor],
        "dstate": [minor],
        "connect": [res, pid],
        "disconnect": [res, pid],
        "cstate": [res, pid],
        "new-minor": [res, minor, "0"],
    }.get(cmd)
    if args is None:
        args = [res, pid, "0"] if cmd in ("invalidate-remote", "verify", "pause-sync", "resume-sync") else [res]
    return ["drbdsetup", cmd, *args, *opts], args[0]


def mutate(
    cfg: Config, st: dict[str, Any], cmd: str, opts: list[str], now: float, logs: list[tuple[str, str]]
) -> str | None:
    """Apply a state-changing command; raise Fail like the kernel would. Returns "sync" when the
    caller must copy the data to the peer before demoting."""
    me, peer = st["nodes"][cfg.node], st["nodes"][cfg.peer]
    link, rs = st["link"]["up"], st["resync"]
    if cmd == "up":
        if me["up"]:
            raise Fail(161, ERR[161], obj=cfg.resource)
        me.update(up=True, net=True)
        return None
    if not me["up"]:
        if cmd == "down":
            return None
        if cfg.is84:
            raise Fail(127, ERR[127], ["unknown minor"])
        raise Fail(158, ERR[158], ["unknown resource"])
    if cmd in ("secondary", "down"):
        if me["open"]:
            o = me["open"]
            at = datetime.datetime.fromtimestamp(o["at"])
            info = (
                []
                if cfg.is84
                else [  # DRBD >= 9.1.17 drbd_nl.c put_device_opener_info()
                    f"{cfg.device} open_cnt:1, writable:1; list of openers follows",
                    (
                        f"drbd{cfg.minor} opened by mount (pid {o['pid']}) at "
                        f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}"
                    ),
                ]
            )
            raise Fail(-12, SS_84[-12], info, obj=cfg.resource if cmd == "down" else None)
        if me["role"] == "Primary" and link and "synced" not in opts:
            return "sync"
        me["role"] = "Secondary"
        if cmd == "down":
            me.update(up=False, net=False, discard=False, user_isp=False)
    elif cmd == "primary":
        if me["role"] == "Primary":
            return None
        if link and peer["role"] == "Primary":
            raise sfail(cfg, -1)
        if "--force" in opts and me["disk"] != "UpToDate":
            me["disk"] = "UpToDate"
            new_generation(me)
            if link:
                start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "resync")
        elif me["disk"] != "UpToDate" and not (link and peer["disk"] == "UpToDate"):
            raise sfail(cfg, -2)
        me["role"] = "Primary"
        if not link:
            new_generation(me)
    elif cmd == "connect":
        if me["net"]:
            raise Fail(125, ERR[125], obj=cfg.resource)
        me.update(net=True, discard="--discard-my-data" in opts)
    elif cmd == "disconnect":
        me.update(net=False, discard=False)
    elif cmd in ("invalidate", "invalidate-remote", "verify"):
        if rs:
            raise sfail(cfg, -8)
        if not link:
            if cmd == "invalidate" and me["role"] == "Secondary" and (not cfg.is84 or not me["net"]):
                me.update(disk="Inconsistent", oos=cfg.size_kib)  # local only: full sync on connect
                return None
            raise sfail(cfg, -2 if cmd == "invalidate" and not cfg.is84 else -15)
        if cmd == "invalidate":
            if peer["disk"] != "UpToDate":
                raise sfail(cfg, -2)
            start_resync(cfg, st, cfg.peer, cfg.node, cfg.size_kib, now, logs, "resync")
        elif cmd == "invalidate-remote":
            if me["disk"] != "UpToDate":
                raise sfail(cfg, -2)
            start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "resync")
        else:
            start_resync(cfg, st, cfg.node, cfg.peer, cfg.size_kib, now, logs, "verify")
    elif cmd in ("pause-sync", "resume-sync"):
        want = cmd == "pause-sync"
        if me["user_isp"] == want:
            raise Fail(134 if want else 135, ERR[134 if want else 135])
        me["user_isp"] = want
    return None


STATE_CMDS = (
    "up",
    "down",
    "primary",
    "secondary",
    "connect",
    "disconnect",
    "invalidate",
    "invalidate-remote",
    "verify",
    "pause-sync",
    "resume-sync",
)


def run_setup(cfg: Config, cmd: str, opts: list[str], flags: list[str], adm: bool, target: str = "") -> int:
    """One drbdsetup invocation (also the body of the drbdadm commands). stdout/stderr as drbdsetup."""
    store = Store(cfg)
    argv, obj = setup_argv(cfg, "new-minor" if cmd == "up" else cmd, opts)
    if cmd == "status":
        argv = [*argv[:2], target or "all", *argv[3:]]

    def report(rc: int) -> int:
        if adm and rc >= 10:  # drbd-utils user/shared/shared_main.c m__system()
            err(f"Command '{' '.join(argv)}' terminated with exit code {rc}\n")
        return rc

    now = time.time()
    with store.locked() as st:
        up_daemon = alive(cfg, st["nodes"][cfg.node], now)
    if not up_daemon:  # no module: modprobe_drbd() in user/v84/drbdsetup.c, user/v9/drbdsetup_linux.c
        if cfg.is84:
            err(
                "Could not stat /proc/drbd: No such file or directory\n"
                "Make sure that the DRBD kernel module is installed and can be loaded!\n"
            )
        elif cmd in ("down", "secondary", "disconnect"):
            return 0
        else:
            err("Failed to modprobe drbd (No such file or directory)\n")
        return report(20)
    if cmd in STATE_CMDS:
        # role changes wait for in-flight copies (and hold them off) so no stale copy lands later
        with copy_lock(cfg) if cmd in ("primary", "secondary", "down") else contextlib.nullcontext():
            for _ in range(2):
                logs: list[tuple[str, str]] = []
                try:
                    with store.locked() as st:
                        todo = mutate(cfg, st, cmd, opts, time.time(), logs)
                        logs += advance(cfg, st, time.time())
                        write_proc(cfg, st, time.time())
                except Fail as f:
                    err(f.message(obj))
                    return report(f.exit_code)
                finally:
                    kern_log(cfg, logs)
                if todo != "sync":
                    return 0
                mirror(cfg.backing_dir, cfg.peer_backing_dir)  # final sync before demotion
                opts = [*opts, "synced"]
        return 0
    with store.locked() as st:
        v = view(cfg, st, cfg.node, time.time())
    if cmd == "status":
        if "--json" in flags and cfg.is84:
            err("drbdsetup-84 status: unrecognized option '--json'\n")
            return report(20)
        if not v["up"]:
            if target in ("all", ""):
                if not cfg.is84:
                    sys.stdout.write("# No currently configured DRBD found.\n" if "--json" not in flags else "[\n]\n\n")
                return 0
            err(f"{cfg.resource}: No such resource\n")  # status_cmd()
            return report(10)
        if "--json" in flags:
            sys.stdout.write(status_json(cfg, v))
        else:
            sys.stdout.write(status_text(cfg, v, "--verbose" in flags, "--statistics" in flags))
        return 0
    if cmd in ("role", "cstate", "dstate"):
        if not v["up"]:
            if cfg.is84:
                err(f"{obj}: Failure: (127) {ERR[127]}\nadditional info from kernel:\nunknown minor\n")
            else:
                err(
                    {
                        "role": f"{obj}: Unknown resource\n",
                        "cstate": f"{obj}: No such connection\n",
                        "dstate": f"{obj}: No such device\n",
                    }[cmd]
                )
            return report(10)
        if cmd == "role":  # v84 role_scmd(): local/peer; v9 role_cmd(): local, "res:peer" -> peer role
            print(f"{v['role']}/{v['peer_role']}" if cfg.is84 else (v["peer_role"] if "peer" in flags else v["role"]))
        elif cmd == "cstate":
            print(v["cs"] if cfg.is84 else v["conn9"])
        else:
            print(f"{v['disk']}/{v['peer_disk']}")
        return 0
    err(f"drbdsetup: unknown command '{cmd}'\n")
    return 20
