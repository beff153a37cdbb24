"""The command lines: drbdadm, drbdsetup, mount and umount wrappers, and main() (the `kernel` daemon too)."""

from __future__ import annotations

import contextlib
import os
import time

# confdump (xml.sax → urllib → http, email), subprocess and the kernel daemon (socket, threading) are
# imported by the commands that need them: a query such as `drbdsetup events2 --now`, run on every poll,
# started in 190 ms on a loaded lab machine with them and must start like the real (C) tool
from .commands import Fail, mutate, run_setup, setup_argv
from .config import REAL_MOUNT, REAL_UMOUNT, UTILS_BUILDTAG, V9_REL, Config, ConfigError, err, load_config
from .events import events2
from .proctext import write_proc
from .store import Store, alive


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    alias = {
        "v": "--verbose",
        "s": "--statistics",
        "j": "--json",
        "T": "--timestamps",
        "n": "--now",
        "V": "-V",
    }
    flags: list[str] = []
    for a in args:
        if a.startswith("--") and a != "--":
            flags.append(a.split("=")[0])
        elif a.startswith("-") and a != "--":
            flags += [alias.get(ch, "-" + ch) for ch in a[1:]]  # combined short options: -vs
    return flags, [a for a in args if not a.startswith("-")]


def main_drbdadm(cfg: Config, args: list[str]) -> int:
    for opt in ("-c", "--config-file", "-t", "--config-to-test"):  # options with a separate value
        while opt in args[:-1]:
            i = args.index(opt)
            args = args[:i] + args[i + 2 :]
    flags, pos = split_args(args)
    if "-V" in flags or "--version" in flags:  # drbdadm_main.c case 'V'
        code = "0x08040b" if cfg.is84 else "0x09020c"
        print(
            f"DRBDADM_BUILDTAG={UTILS_BUILDTAG}\nDRBDADM_API_VERSION={1 if cfg.is84 else 2}\n"
            f"DRBD_KERNEL_VERSION_CODE={code}\n"
            + ("" if cfg.is84 else f"DRBD_KERNEL_VERSION={V9_REL}\n")
            + "DRBDADM_VERSION_CODE=0x091c00\nDRBDADM_VERSION=9.28.0"
        )
        return 0
    if not pos:
        err("USAGE: drbdadm COMMAND [OPTION...] {all|RESOURCE...}\n")
        return 20
    cmd, names = pos[0], pos[1:] or (["all"] if pos[0] in ("status", "dump", "dump-xml") else [])
    if cmd in ("dump", "dump-xml"):  # the configuration only: no kernel state needed
        return dump_config(cfg, cmd, names)
    if not names:
        err("drbdadm: Missing arguments, please specify a resource name or 'all'\n")
        return 20
    for name in names:
        res, _, conn = name.partition(":")
        if res not in ("all", cfg.resource) or (conn and conn != cfg.peer):
            err(f"'{name}' not defined in your config (for this host).\n")  # drbdadm_main.c main()
            return 1
    opts = [f for f in flags if f in ("--force", "--discard-my-data")]
    if "-d" in flags or "--dry-run" in flags:  # print what would run, change nothing
        argv = setup_argv(cfg, "new-minor" if cmd == "up" else cmd, [] if cmd == "status" else opts)[0]
        print(" ".join([*argv[:2], names[0]] if cmd == "status" else argv))
        return 0
    if cmd == "status":
        return run_setup(cfg, cmd, [], flags, adm=True, target=names[0])
    return run_setup(cfg, cmd, opts, flags + (["peer"] if ":" in names[0] else []), adm=True)


def dump_config(cfg: Config, cmd: str, names: list[str]) -> int:
    """drbdadm dump / dump-xml (confdump.py): `all` with the file's header, a name without."""
    for name in names:
        if name not in ("all", cfg.resource):
            err(f"'{name}' not defined in your config (for this host).\n")  # main(): exit(E_USAGE), 1
            return 1
    header = names == ["all"]
    from .confdump import dump_text, dump_xml

    print((dump_xml if cmd == "dump-xml" else dump_text)(cfg, header), end="")
    return 0


def main_drbdsetup(cfg: Config, args: list[str]) -> int:
    flags, pos = split_args(args)
    if not pos:
        err("USAGE: drbdsetup command {arguments} [options]\n")
        return 20
    cmd, rest = pos[0], pos[1:]
    if cmd == "events2":
        with Store(cfg).locked() as st:
            running = alive(cfg, st["nodes"][cfg.node], time.time())
        if not running:
            return run_setup(cfg, cmd, [], flags, adm=False)
        return events2(
            cfg,
            Store(cfg),
            "--now" in flags,
            "--statistics" in flags or "--full" in flags,
            "--timestamps" in flags,
            rest[0] if rest else "all",
        )
    if cmd == "status":
        return run_setup(cfg, cmd, [], flags, adm=False, target=rest[0] if rest else "all")
    opts = [f for f in flags if f in ("--force", "--discard-my-data")]
    return run_setup(cfg, cmd, opts, flags, adm=False)


def real_tool(candidates: tuple[str, ...]) -> str:
    return next((p for p in candidates if os.path.exists(p)), candidates[0])


def main_mount(cfg: Config, args: list[str]) -> int:
    pos, i = [], 0
    while i < len(args):
        if args[i] in ("-t", "-o", "--types", "--options"):
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        elif args[i] not in ("-v", "-w", "--rw"):
            pos = []  # an option we do not emulate: hand over to the real mount
            break
        i += 1
    target = {
        1: cfg.mount_point if pos[:1] in ([cfg.device], [cfg.mount_point]) else None,
        2: pos[1] if pos[:1] == [cfg.device] else None,
    }.get(len(pos))
    real = real_tool(REAL_MOUNT)
    if not target:
        os.execv(real, [real, *args])
    store = Store(cfg)
    now = time.time()
    # util-linux 2.38.1 libmount/src/context_mount.c mnt_context_get_mount_excode() + sys-utils/mount.c
    # mk_exit_code(): "mount: <target>: <msg>." plus the dmesg hint, exit 32 (MNT_EX_FAIL)
    hint = "       dmesg(1) may have more information after failed mount system call.\n"
    with store.locked() as st:
        me = st["nodes"][cfg.node]
        if not alive(cfg, me, now):
            err(f"mount: {target}: special device {cfg.device} does not exist.\n{hint}")
            return 32
        if not me["up"]:
            err(f"mount: {target}: {cfg.device} is not a valid block device.\n{hint}")
            return 32
        if me["open"]:
            err(f"mount: {target}: {cfg.device} already mounted or mount point busy.\n{hint}")
            return 32
        if me["role"] != "Primary" and cfg.auto_promote and not cfg.is84:
            with contextlib.suppress(Fail):
                mutate(cfg, st, "primary", [], now, [])
        if me["role"] != "Primary":
            # drbd_open(): EROFS for rw, libmount retries ro -> EMEDIUMTYPE (drbd-8.4 drbd/drbd_main.c)
            err(f"mount: {target}: mount(2) system call failed: Wrong medium type.\n{hint}")
            return 32
        import subprocess

        r = subprocess.run([real, "--bind", cfg.backing_dir, target], check=False)
        if r.returncode == 0:
            me["open"] = {"pid": os.getpid(), "at": now, "dir": os.path.abspath(target)}
            write_proc(cfg, st, now)
        return r.returncode


def main_umount(cfg: Config, args: list[str]) -> int:
    real = real_tool(REAL_UMOUNT)
    pos = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-")]
    store = Store(cfg)
    with store.locked() as st:
        me = st["nodes"][cfg.node]
        o = me["open"]
        if len(pos) != 1 or not o or (pos[0] != cfg.device and os.path.abspath(pos[0]) != o["dir"]):
            os.execv(real, [real, *args])
        import subprocess

        r = subprocess.run([real, *flags, o["dir"]], check=False)
        if r.returncode == 0:
            me["open"] = None
            write_proc(cfg, st, time.time())
    if r.returncode == 0 and cfg.auto_promote and not cfg.is84:
        return run_setup(cfg, "secondary", [], [], adm=False)
    return r.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in ("kernel", "drbdadm", "drbdsetup", "mount", "umount"):
        err("usage: drbdemu.py {kernel|drbdadm|drbdsetup|mount|umount} [args...]  (config: $DRBDEMU_CONF)\n")
        return 2
    try:
        cfg = load_config()
    except ConfigError as e:
        err(f"drbdemu: config error: {e}\n")
        return 2
    tool, args = argv[1], argv[2:]
    try:
        if tool == "kernel":
            from .kernel import Kernel

            return Kernel(cfg).run()
        return {
            "drbdadm": main_drbdadm,
            "drbdsetup": main_drbdsetup,
            "mount": main_mount,
            "umount": main_umount,
        }[tool](cfg, args)
    except ConfigError as e:  # e.g. a state_dir left over from a pair with other node names
        err(f"drbdemu: config error: {e}\n")
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
