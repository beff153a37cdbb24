"""The hatui configuration that points at the lab (`hatui lab config`)."""

from __future__ import annotations

from pathlib import Path

from hatui_lab import nodefiles
from hatui_lab.netplan import NetPlan

TEMPLATE = """\
# hatui configuration for the rehearsal lab (written by `hatui lab up`; see config.example.yaml)
nodes:
{nodes}
vip: {vip}
keepalived:
  instance: VI_1
drbd:
  resource: r0
  device: /dev/drbd0
  mount_point: /mnt/drbd
  # the lab's kernel has no DRBD: its emulator keeps the /proc/drbd text here
  proc_file: {proc_file}
mariadb:
  socket: /run/mysqld/mysqld.sock
  user: {mysql_user}
  expected_cluster_size: 2
failover_log: {log}
web:
  url: http://{vip}/
  expect_text: "HA Web Service is running on node"
poll_interval_s: 1.0
actions:
  maintenance_file: {maintenance}
"""

NODE = """\
  - name: {name}
    host: {ip}
    port: 22
    user: {user}{become}
    identity_file: {key}
    known_hosts: {known_hosts}"""


def render_config(ssh: Path, netplan: NetPlan, ssh_user: str | None = None) -> str:
    """The config for the lab of `netplan`, whose keys are in the directory `ssh`; with `ssh_user`, hatui
    logs in as that ordinary user and gets root through sudo."""
    become = "\n    become: sudo" if ssh_user else ""
    nodes = "\n".join(
        NODE.format(name=n.name, ip=n.ip, key=ssh / "id_ed25519", known_hosts=ssh / "known_hosts",
                    user=ssh_user or "root", become=become)
        for n in netplan.nodes
    )
    return TEMPLATE.format(nodes=nodes, vip=netplan.vip, proc_file=nodefiles.DRBD_PROC_FILE,
                           log=nodefiles.NOTIFY_LOG, maintenance=nodefiles.MAINTENANCE_FILE,
                           mysql_user=ssh_user or "root")


def write_config(path: Path, ssh: Path, netplan: NetPlan, ssh_user: str | None = None) -> None:
    path.write_text(render_config(ssh, netplan, ssh_user))
