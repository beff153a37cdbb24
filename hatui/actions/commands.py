"""The shell text of every action step, undo, lock and audit write, for the node's privilege.

As root each is the command it always was.  With `become: sudo` every part that needs root is one exact
command through `sudo -n` (a file write is `printf ... | sudo -n tee FILE`, so the value travels on stdin
and the sudoers line stays exact), the rest (tests like `mountpoint -q`, reading the lock) runs as the
user.  `root_argvs()` lists those exact commands for `hatui sudoers`: a command built here and missing
there would be refused on a least-privilege node (tests/test_privilege.py checks they agree)."""

from __future__ import annotations

import shlex

from hatui.config import Config
from hatui.privilege import Root, root_of

NODE_AUDIT = "/var/log/hatui-audit.log"  # where the executor appends its records on each node
LOCK_DIR = "/run/hatui-action.lock"
DRBD_SUBCOMMANDS = ("primary", "secondary", "connect", "disconnect", "invalidate", "verify", "pause-sync",
                    "resume-sync")
BOOTSTRAP_SQL = "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"


def root_on(cfg: Config, node: str) -> Root:
    try:
        return root_of(cfg.node(node))
    except KeyError:
        return Root()


def write_file(root: Root, path: str, text: str, append: bool = False) -> str:
    """`text` (a line or lines) into `path`: shell redirection as root, `tee` through sudo."""
    q = shlex.quote(path)
    if not root.unprivileged:
        return f"printf '%s\\n' {text} {'>>' if append else '>'} {q}"
    tee = root("tee", *(("-a",) if append else ()), path)
    return f"printf '%s\\n' {text} | {tee} >/dev/null"


def maintenance_value(cfg: Config, node: str, value: int) -> str:
    return write_file(root_on(cfg, node), cfg.actions.maintenance_file, str(int(value)))


def drbdadm(cfg: Config, node: str, sub: str, *flags: str) -> str:
    return root_on(cfg, node)("drbdadm", sub, *flags, cfg.drbd.resource)


def release_drbd(cfg: Config, node: str) -> str:
    """Unmount (if mounted) and demote: the notify script's BACKUP branch."""
    mp = shlex.quote(cfg.drbd.mount_point)
    umount = root_on(cfg, node)("umount", cfg.drbd.mount_point)
    return f"if mountpoint -q {mp}; then {umount}; fi; {drbdadm(cfg, node, 'secondary')}"


def take_drbd(cfg: Config, node: str) -> str:
    """Promote and mount: the notify script's MASTER branch."""
    return f"{drbdadm(cfg, node, 'primary')} && {root_on(cfg, node)('mount', cfg.drbd.device, cfg.drbd.mount_point)}"


def retake_drbd(cfg: Config, node: str) -> str:
    """Promote, and mount unless mounted: undoes release_drbd (primary on a Primary is a no-op for drbdadm)."""
    mp = shlex.quote(cfg.drbd.mount_point)
    mount = root_on(cfg, node)("mount", cfg.drbd.device, cfg.drbd.mount_point)
    return f"{drbdadm(cfg, node, 'primary')} && {{ mountpoint -q {mp} || {mount}; }}"


def galera_bootstrap(cfg: Config, node: str) -> str:
    root = root_on(cfg, node)
    # MariaDB's root logs in by unix_socket: the OS user root, hence sudo for an unprivileged SSH user
    return root("mysql", "-e", BOOTSTRAP_SQL) if root.unprivileged else f'mysql -e "{BOOTSTRAP_SQL}"'


# ---- lock and audit primitives -------------------------------------------------------------------------
def lock_mkdir(root: Root) -> str:
    return root("mkdir", LOCK_DIR) if root.unprivileged else f"mkdir {shlex.quote(LOCK_DIR)}"


def lock_owner_write(root: Root, token: str) -> str:
    return write_file(root, f"{LOCK_DIR}/owner", shlex.quote(token))


def lock_touch(root: Root) -> str:
    return root("touch", f"{LOCK_DIR}/heartbeat") if root.unprivileged else f"touch {shlex.quote(LOCK_DIR)}/heartbeat"


def lock_remove(root: Root) -> str:
    return root("rm", "-rf", LOCK_DIR) if root.unprivileged else f"rm -rf {shlex.quote(LOCK_DIR)}"


def audit_append(root: Root, lines: list[str]) -> str:
    return write_file(root, NODE_AUDIT, " ".join(shlex.quote(x) for x in lines), append=True)


def root_argvs(cfg: Config) -> list[tuple[str, ...]]:
    """The exact commands the actions, the lock and the audit run as root through sudo."""
    res = cfg.drbd.resource
    out: list[tuple[str, ...]] = [
        ("tee", cfg.actions.maintenance_file),
        ("tee", "-a", NODE_AUDIT),
        ("mkdir", LOCK_DIR), ("tee", f"{LOCK_DIR}/owner"), ("touch", f"{LOCK_DIR}/heartbeat"), ("rm", "-rf", LOCK_DIR),
        ("umount", cfg.drbd.mount_point), ("mount", cfg.drbd.device, cfg.drbd.mount_point),
    ]
    out += [("drbdadm", sub, res) for sub in DRBD_SUBCOMMANDS]
    out.append(("drbdadm", "connect", "--discard-my-data", res))
    out.append(("mysql", "-e", BOOTSTRAP_SQL))
    return out
