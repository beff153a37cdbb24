"""Lays out each node's files (configs, keys, datadir, DRBD emulator wiring) before anything starts."""

from __future__ import annotations

import json
import pwd
import shlex
import shutil
import subprocess
from pathlib import Path

from hatui_lab import labconfig, nodefiles
from hatui_lab.drbdemu.bundle import build_zipapp
from hatui_lab.netplan import NetPlan
from hatui_lab.node import BIND_MOUNTS, OWN_ETC, Node, node_python
from hatui_lab.settings import LabError
from hatui_lab.settings import LabSettings
from hatui_lab.state import LabState

MYSQL_DIRS_OWNED = ("var-lib-mysql",)


def _chown_mysql(path: Path) -> None:
    user = pwd.getpwnam("mysql")
    shutil.chown(path, user.pw_uid, user.pw_gid)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def ssh_material(lab: LabState, netplan: NetPlan) -> None:
    ssh = lab.ssh_dir
    ssh.mkdir(parents=True, exist_ok=True)
    ssh.chmod(0o700)
    key = ssh / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{netplan.name}-lab", "-f", str(key)],
                       check=True)
    (ssh / "authorized_keys").write_text((ssh / "id_ed25519.pub").read_text())
    known = []
    for node in netplan.nodes:
        hostkey = ssh / node.name / "ssh_host_ed25519_key"
        hostkey.parent.mkdir(exist_ok=True)
        if not hostkey.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{node.name}-host",
                            "-f", str(hostkey)], check=True)
        pub = (ssh / node.name / "ssh_host_ed25519_key.pub").read_text().split()
        known.append(f"{node.ip} {pub[0]} {pub[1]}")
    (ssh / "known_hosts").write_text("\n".join(known) + "\n")


def mysql_template(lab: LabState) -> Path:
    """An initialised MariaDB datadir (root via unix_socket), made once and copied to each node."""
    template = lab.cache_dir / "mysql-datadir"
    if (template / "mysql").is_dir():
        return template
    tmp = template.with_name("mysql-datadir.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _chown_mysql(tmp)
    res = subprocess.run(
        ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={tmp}",
         "--auth-root-authentication-method=socket", "--skip-test-db"],
        capture_output=True, text=True,
    )
    if res.returncode != 0:
        raise RuntimeError(f"mariadb-install-db failed: {res.stderr.strip() or res.stdout.strip()}")
    tmp.rename(template)
    return template


def drbd_wiring(lab: LabState, netplan: NetPlan, settings: LabSettings) -> None:
    install_drbdemu(lab)
    drbd_state = lab.root / "drbd"
    drbd_state.mkdir(exist_ok=True)
    for i, node in enumerate(lab.nodes(netplan)):
        peer = netplan.nodes[1 - i]
        backing = drbd_state / f"disk-{node.name}"
        backing.mkdir(exist_ok=True)
        conf = {
            "node": node.name, "peer": peer.name, "node_id": i, "resource": "r0", "minor": 0,
            "device": "/dev/drbd0", "version": settings.drbd, "state_dir": str(drbd_state),
            "backing_dir": str(backing), "peer_backing_dir": str(drbd_state / f"disk-{peer.name}"),
            "local_addr": node.addr.ip, "peer_addr": peer.ip, "port": 7789,
            "size_kib": settings.drbd_size_kib, "resync_rate_kib_s": settings.resync_rate_kib_s,
            "proc_file": nodefiles.DRBD_PROC_FILE, "ping_timeout_s": 1.5, "mount_point": "/mnt/drbd",
        }
        conf_path = node.root / "drbdemu.json"
        conf_path.write_text(json.dumps(conf, indent=1))
        for tool in ("drbdadm", "drbdsetup", "mount", "umount"):
            _write(
                node.dir("sbin") / tool,
                "#!/bin/sh\n# DRBD emulator of the hatui lab (this kernel has no DRBD)\n"
                f"DRBDEMU_CONF={shlex.quote(str(conf_path))} exec {shlex.quote(node_python())} "
                f"{shlex.quote(str(lab.drbdemu_path()))} {tool} \"$@\"\n",
                0o755,
            )


def install_drbdemu(lab: LabState) -> None:
    """The emulator, as one file, where the nodes can run it."""
    build_zipapp(lab.drbdemu_path())


def prepare(lab: LabState, netplan: NetPlan, settings: LabSettings) -> None:
    ssh_material(lab, netplan)
    template = mysql_template(lab)
    auth_pass = lab.auth_pass()
    for node in lab.nodes(netplan):
        fresh = not node.root.exists()
        for key, _target in BIND_MOUNTS:
            node.dir(key).mkdir(parents=True, exist_ok=True)
        node.dir("tmp").chmod(0o1777)
        run = node.dir("run")
        (run / "mysqld").mkdir(exist_ok=True)
        _chown_mysql(run / "mysqld")
        (run / "sshd").mkdir(exist_ok=True)
        (run / "sshd").chmod(0o755)
        (run / "hatui-lab").mkdir(exist_ok=True)
        (node.dir("var-log") / "mysql").mkdir(exist_ok=True)
        _chown_mysql(node.dir("var-log") / "mysql")
        # /etc/mysql: Debian's own tree, plus the seed's Galera settings
        etc_mysql = node.dir("etc-mysql")
        if fresh or not (etc_mysql / "my.cnf").exists():
            shutil.copytree("/etc/mysql", etc_mysql, dirs_exist_ok=True, symlinks=True)
        _write(etc_mysql / "mariadb.conf.d" / "60-galera.cnf", nodefiles.render_galera(netplan, node.name))
        datadir = node.dir("var-lib-mysql")
        if not (datadir / "mysql").is_dir():
            subprocess.run(["cp", "-a", f"{template}/.", str(datadir)], check=True)
        _chown_mysql(datadir)
        # keepalived: the seed's configuration and scripts
        etc_ka = node.dir("etc-keepalived")
        _write(etc_ka / "keepalived.conf", nodefiles.render_keepalived(netplan, node.name, auth_pass), 0o640)
        for name, body in nodefiles.render_checks(settings.checks, nodefiles.DRBD_PROC_FILE).items():
            _write(etc_ka / name, body, 0o755)
        _write(etc_ka / "notify.sh", nodefiles.render_notify(settings.notify), 0o755)
        # no systemd in the lab: the seed's check_mysql.sh asks this one (first on the node's PATH)
        _write(node.dir("sbin") / "systemctl", nodefiles.render_systemctl(), 0o755)
        _write(node.dir("var-www-html") / "index.html", nodefiles.WEB_INDEX.format(node=node.name))
        (node.dir("var-log") / "keepalived_failover.log").touch()
        ssh_dir = lab.ssh_dir
        authorized = ssh_dir / "authorized_keys"
        if settings.ssh_user:
            # sshd reads authorized_keys as the user: not from the lab's private (0700) ssh directory
            authorized = node.root / "authorized_keys"
            _write(authorized, (ssh_dir / "authorized_keys").read_text())
        _write(
            node.root / "sshd_config",
            nodefiles.render_sshd(netplan, node.name, str(ssh_dir / node.name / "ssh_host_ed25519_key"),
                                  str(authorized)),
        )
    drbd_wiring(lab, netplan, settings)
    labconfig.write_config(lab.config_path(), lab.ssh_dir, netplan, settings.ssh_user)
    for node in lab.nodes(netplan):
        own = node.dir(OWN_ETC)
        shutil.rmtree(own, ignore_errors=True)
        if settings.ssh_user:
            ssh_user_files(lab, node, settings.ssh_user)


def _free_id(taken: set[int], start: int = 64100) -> int:
    n = start
    while n in taken:
        n += 1
    return n


def sudoers_snippet(lab: LabState, node: Node) -> str:
    """What `hatui sudoers` prints for the lab's config, with the programs where this node has them (the
    DRBD emulator's drbdadm, drbdsetup, mount and umount in /usr/local/sbin)."""
    from hatui import privilege
    from hatui.config import load

    config = load(str(lab.config_path()))
    paths: dict[str, str] = {}
    for argv in privilege.root_commands(config):
        name = argv[0]
        if (node.dir("sbin") / name).exists():
            paths[name] = f"/usr/local/sbin/{name}"
        elif found := shutil.which(name, path=privilege.SECURE_PATH):
            paths[name] = found
    return privilege.sudoers(config, {n.name: paths for n in config.nodes})


def ssh_user_files(lab: LabState, node: Node, user: str) -> None:
    """The node's own /etc/passwd, shadow, group (the host's plus `user`), hosts (its name resolves: sudo
    asks) and sudoers.d (the snippet): bind-mounted over /etc inside the node only, so the host and the
    other labs never see the user."""
    if not shutil.which("sudo") or not Path("/etc/sudoers.d").is_dir():
        raise LabError("--ssh-user needs sudo on this machine (apt-get install sudo): the nodes use its binary")
    own = node.dir(OWN_ETC)
    own.mkdir(parents=True)
    passwd = [ln for ln in Path("/etc/passwd").read_text().splitlines() if not ln.startswith(f"{user}:")]
    group = [ln for ln in Path("/etc/group").read_text().splitlines() if not ln.startswith(f"{user}:")]
    shadow = [ln for ln in Path("/etc/shadow").read_text().splitlines() if not ln.startswith(f"{user}:")]
    uid = _free_id({int(ln.split(":")[2]) for ln in passwd if ln.count(":") >= 3})
    gid = _free_id({int(ln.split(":")[2]) for ln in group if ln.count(":") >= 3}, uid)
    # home /tmp: the node's own; password `*`: no password login, and not locked (`!`), which sshd refuses
    _write(own / "passwd", "\n".join([*passwd, f"{user}:x:{uid}:{gid}:hatui lab SSH user:/tmp:/bin/bash"]) + "\n")
    _write(own / "group", "\n".join([*group, f"{user}:x:{gid}:"]) + "\n")
    _write(own / "shadow", "\n".join([*shadow, f"{user}:*:20000:0:99999:7:::"]) + "\n", 0o640)
    hosts = Path("/etc/hosts").read_text()
    _write(own / "hosts", hosts + ("" if hosts.endswith("\n") else "\n") + f"127.0.1.1 {node.name}\n")
    sudoers_d = own / "sudoers.d"
    sudoers_d.mkdir(mode=0o755)
    _write(sudoers_d / "hatui", sudoers_snippet(lab, node), 0o440)
    res = subprocess.run(["visudo", "-cf", str(sudoers_d / "hatui")], capture_output=True, text=True)
    if res.returncode != 0:
        raise LabError(f"the sudoers snippet for {node.name} does not parse: {res.stdout.strip()} {res.stderr.strip()}")
