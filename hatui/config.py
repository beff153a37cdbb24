"""hatui's configuration: YAML into frozen dataclasses, with errors that name file, line and key.

Looked up in --config, then $HATUI_CONFIG, then ~/.config/hatui/config.yaml.  See config.example.yaml.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path("~/.config/hatui/config.yaml")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
PATH_RE = re.compile(r"^/[A-Za-z0-9_./@+-]*$")


class ConfigError(ValueError):
    """A configuration problem, located: `file:line: key: what is wrong; what is expected`."""


@dataclass(frozen=True)
class NodeConfig:
    name: str
    host: str
    port: int = 22
    user: str = "root"
    identity_file: Path | None = None  # None: use the SSH agent
    known_hosts: Path = Path("~/.ssh/known_hosts")
    jump_host: str | None = None
    # None: `user` is root and runs everything itself; "sudo": `user` is an ordinary user, and the few
    # commands that need root run through `sudo -n`, each one exact command (`hatui sudoers`)
    become: str | None = None


@dataclass(frozen=True)
class DrbdConfig:
    resource: str = "r0"
    device: str = "/dev/drbd0"
    mount_point: str = "/mnt/drbd"
    proc_file: str = "/proc/drbd"


@dataclass(frozen=True)
class MariadbConfig:
    socket: str = "/run/mysqld/mysqld.sock"
    user: str = "root"
    password_env: str | None = None
    password_file: Path | None = None
    expected_cluster_size: int = 2

    def password(self) -> str | None:
        """Read at connect time; never stored in the config object's repr or a log."""
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return self.password_file.expanduser().read_text().strip()
        return None


@dataclass(frozen=True)
class WebConfig:
    url: str | None = None
    expect_text: str = "HA Web Service is running on node"


@dataclass(frozen=True)
class ActionsConfig:
    read_only: bool = False
    maintenance_file: str = "/etc/keepalived/maintenance"


@dataclass(frozen=True)
class Config:
    path: Path
    nodes: tuple[NodeConfig, ...]
    vip: str
    keepalived_instance: str = "VI_1"
    drbd: DrbdConfig = field(default_factory=DrbdConfig)
    mariadb: MariadbConfig = field(default_factory=MariadbConfig)
    failover_log: str = "/var/log/keepalived_failover.log"
    web: WebConfig = field(default_factory=WebConfig)
    poll_interval_s: float = 1.0
    command_timeout_s: float = 5.0
    actions: ActionsConfig = field(default_factory=ActionsConfig)

    def node(self, name: str) -> NodeConfig:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


# ---- locating values in the YAML -----------------------------------------------------------------
class _Reader:
    """Walks a composed YAML node tree so that every error can name its file and line."""

    def __init__(self, path: Path, node: yaml.Node, key: str = "") -> None:
        self.path, self.node, self.key = path, node, key

    def error(self, msg: str, node: yaml.Node | None = None) -> ConfigError:
        mark = (node or self.node).start_mark
        where = f"{self.path}:{mark.line + 1}"
        return ConfigError(f"{where}: {self.key or '(top level)'}: {msg}")

    def mapping(self, allowed: set[str]) -> dict[str, _Reader]:
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error("expected a mapping of keys to values")
        out: dict[str, _Reader] = {}
        for k, v in self.node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            full = f"{self.key}.{name}" if self.key else str(name)
            if name not in allowed:
                raise ConfigError(f"{self.path}:{k.start_mark.line + 1}: {full}: unknown key; "
                                  f"expected one of: {', '.join(sorted(allowed))}")
            if name in out:
                raise ConfigError(f"{self.path}:{k.start_mark.line + 1}: {full}: given twice")
            out[name] = _Reader(self.path, v, full)
        return out

    def sequence(self) -> list[_Reader]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error("expected a list")
        return [_Reader(self.path, v, f"{self.key}[{i}]") for i, v in enumerate(self.node.value)]

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error("expected a single value, not a list or mapping")
        if self.node.tag == "tag:yaml.org,2002:str":
            return self.node.value
        return yaml.safe_load(yaml.serialize(self.node))

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        value = self.scalar()
        if not isinstance(value, str) or not value:
            raise self.error(f"expected text{f' ({what})' if what else ''}, got {value!r}")
        if pattern and not pattern.match(value):
            raise self.error(f"{value!r} is not valid: expected {what}")
        return value

    def integer(self, lo: int, hi: int) -> int:
        value = self.scalar()
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.error(f"expected a whole number from {lo} to {hi}, got {value!r}")
        return value

    def number(self, lo: float, hi: float) -> float:
        value = self.scalar()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise self.error(f"expected a number from {lo} to {hi}, got {value!r}")
        return float(value)

    def boolean(self) -> bool:
        value = self.scalar()
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {value!r}")
        return value

    def filepath(self) -> Path:
        return Path(self.string(what="a file path")).expanduser()


def _node(r: _Reader) -> NodeConfig:
    m = r.mapping({"name", "host", "port", "user", "identity_file", "known_hosts", "jump_host", "become"})
    for required in ("name", "host"):
        if required not in m:
            raise r.error(f"missing `{required}`")
    kwargs: dict[str, Any] = {
        "name": m["name"].string(NAME_RE, "a node name: letters, digits, '.', '_' or '-'"),
        "host": m["host"].string(re.compile(r"^[A-Za-z0-9_.:\[\]-]+$"), "a host name or address"),
    }
    if "port" in m:
        kwargs["port"] = m["port"].integer(1, 65535)
    if "user" in m:
        kwargs["user"] = m["user"].string(re.compile(r"^[a-z_][a-z0-9_-]*\$?$"), "a Unix user name")
    if "identity_file" in m:
        kwargs["identity_file"] = m["identity_file"].filepath()
    if "known_hosts" in m:
        kwargs["known_hosts"] = m["known_hosts"].filepath()
    if "jump_host" in m:
        kwargs["jump_host"] = m["jump_host"].string(re.compile(r"^([^@\s]+@)?[A-Za-z0-9_.-]+(:\d+)?$"),
                                                    "[user@]host[:port]")
    if "become" in m:
        become = m["become"].scalar()
        if become not in ("sudo", None, "none"):
            raise m["become"].error(f"expected `sudo` (or `none`), got {become!r}")
        kwargs["become"] = "sudo" if become == "sudo" else None
    if kwargs.get("become") == "sudo" and kwargs.get("user", "root") == "root":
        raise m["become"].error("`become: sudo` is for an ordinary SSH user: set `user` to it (root needs no sudo)")
    return NodeConfig(**kwargs)


def _section(r: _Reader | None, cls: type, fields: dict[str, Any]) -> Any:
    if r is None:
        return cls()
    m = r.mapping(set(fields))
    return cls(**{k: fields[k](v) for k, v in m.items()})


def parse(text: str, path: Path) -> Config:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise ConfigError(f"{path}: the file is empty; see config.example.yaml")
    top = _Reader(path, root)
    m = top.mapping({"nodes", "vip", "keepalived", "drbd", "mariadb", "failover_log", "web", "poll_interval_s",
                     "command_timeout_s", "actions"})
    for required in ("nodes", "vip"):
        if required not in m:
            raise top.error(f"missing `{required}`")
    nodes = tuple(_node(n) for n in m["nodes"].sequence())
    if len(nodes) != 2:
        raise m["nodes"].error(f"expected exactly 2 nodes (an active-standby pair), got {len(nodes)}")
    if nodes[0].name == nodes[1].name:
        raise m["nodes"].error(f"both nodes are named {nodes[0].name!r}")
    vip = m["vip"].string(what="an IP address")
    try:
        ipaddress.ip_address(vip)
    except ValueError:
        raise m["vip"].error(f"{vip!r} is not an IP address") from None
    kwargs: dict[str, Any] = {"path": path, "nodes": nodes, "vip": vip}
    if "keepalived" in m:
        ka = m["keepalived"].mapping({"instance"})
        if "instance" in ka:
            kwargs["keepalived_instance"] = ka["instance"].string(NAME_RE, "a vrrp_instance name")
    def abs_path(r: _Reader) -> str:
        return r.string(PATH_RE, "an absolute path")

    kwargs["drbd"] = _section(m.get("drbd"), DrbdConfig, {
        "resource": lambda r: r.string(NAME_RE, "a DRBD resource name"),
        "device": abs_path, "mount_point": abs_path, "proc_file": abs_path,
    })
    kwargs["mariadb"] = _section(m.get("mariadb"), MariadbConfig, {
        "socket": abs_path, "user": lambda r: r.string(NAME_RE, "a MariaDB user name"),
        "password_env": lambda r: r.string(re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$"), "an environment variable name"),
        "password_file": _Reader.filepath, "expected_cluster_size": lambda r: r.integer(1, 64),
    })
    if "failover_log" in m:
        kwargs["failover_log"] = abs_path(m["failover_log"])
    kwargs["web"] = _section(m.get("web"), WebConfig, {
        "url": lambda r: r.string(re.compile(r"^https?://\S+$"), "an http:// or https:// URL"),
        "expect_text": lambda r: r.string(what="text"),
    })
    if "poll_interval_s" in m:
        kwargs["poll_interval_s"] = m["poll_interval_s"].number(0.2, 3600)
    if "command_timeout_s" in m:
        kwargs["command_timeout_s"] = m["command_timeout_s"].number(0.5, 120)
    kwargs["actions"] = _section(m.get("actions"), ActionsConfig, {
        "read_only": _Reader.boolean, "maintenance_file": abs_path,
    })
    return Config(**kwargs)


def locate(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HATUI_CONFIG")
    if env:
        return Path(env).expanduser()
    return DEFAULT_PATH.expanduser()


def load(explicit: str | None = None) -> Config:
    path = locate(explicit)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; copy config.example.yaml there, pass --config, or set "
                          "$HATUI_CONFIG (for the lab: `hatui lab config`)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, path)
