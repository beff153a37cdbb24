"""hatui's configuration: YAML into frozen dataclasses, with errors that name file, line and key.

Looked up in --config, then $HATUI_CONFIG, then ~/.config/hatui/config.yaml.  See config.example.yaml.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hatui.probes import valid_name, valid_path

DEFAULT_PATH = Path("~/.config/hatui/config.yaml")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]*\$?$")
HOST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # a DNS name or an IPv4 address; IPv6 is checked apart
# the tags a plain YAML value may carry (explicitly or implied); anything else (`!custom`, `!!binary`,
# `!!timestamp`, `!!python/...`) is refused rather than constructed
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")}


class ConfigError(ValueError):
    """A configuration problem, located: `file:line: key: what is wrong; what is expected`."""


@dataclass(frozen=True)
class JumpHost:
    host: str  # a name or an address (IPv6 without brackets)
    port: int = 22
    user: str | None = None  # None: as OpenSSH would (ssh_config `User`, else the local user)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user + '@' if self.user else ''}{host}{':' + str(self.port) if self.port != 22 else ''}"


def parse_host(text: str) -> str:
    """A host name, an IPv4 address, or an IPv6 address (bare or in brackets) → the name or bare address."""
    bracketed = text.startswith("[") and text.endswith("]")
    try:
        return str(ipaddress.IPv6Address(text[1:-1] if bracketed else text))
    except ValueError:
        pass
    if not bracketed and HOST_RE.match(text) and len(text) <= 253:
        return text
    raise ValueError(f"{text!r} is not a host name or address")


def parse_jump_host(text: str) -> JumpHost:
    """`[user@]host[:port]`, with an IPv6 address in brackets when a port follows: `admin@[2001:db8::1]:2222`
    (ssh -J's syntax).  Raises ValueError saying what is wrong."""
    user, at, rest = text.rpartition("@")
    if at and not USER_RE.match(user):
        raise ValueError(f"{user!r} is not a Unix user name")
    port_text = ""
    if rest.startswith("["):
        inside, close, after = rest[1:].partition("]")
        if not close or (after and not after.startswith(":")):
            raise ValueError(f"{rest!r}: expected [IPv6 address] or [IPv6 address]:port")
        host, port_text = f"[{inside}]", after[1:]
        if after and not port_text:
            raise ValueError(f"{rest!r}: no port after ':'")
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
        if not port_text:
            raise ValueError(f"{rest!r}: no port after ':'")
    else:
        host = rest  # a name, an IPv4 address or a bare IPv6 address (then no port)
    if port_text and (not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535):
        raise ValueError(f"{port_text!r} is not a port number (1-65535)")
    return JumpHost(parse_host(host), int(port_text) if port_text else 22, user or None)


@dataclass(frozen=True)
class NodeConfig:
    name: str
    host: str
    port: int = 22
    user: str = "root"
    identity_file: Path | None = None  # None: the SSH agent and ~/.ssh/config's IdentityFile / default keys
    known_hosts: Path = Path("~/.ssh/known_hosts")
    jump_host: JumpHost | None = None
    forward_agent: bool = False  # never inherited from ~/.ssh/config's ForwardAgent
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
            return check_private_file(self.password_file, "MariaDB password file", secret=True).read_text().strip()
        return None


def check_private_file(path: Path, what: str, secret: bool) -> Path:
    """OpenSSH's rule for the files it trusts: owned by this user (or root) and not writable by group or
    others; a `secret` (a private key, a password) not readable by them either.  Raises PermissionError
    (FileNotFoundError if missing) with the fix; returns the expanded path."""
    path = path.expanduser()
    st = path.stat()
    if st.st_uid not in (os.getuid(), 0):
        raise PermissionError(f"{what} {path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}): "
                              f"refused; fix: chown {os.getuid()} {path}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & (0o077 if secret else 0o022):
        who = "read or written" if secret else "written"
        raise PermissionError(f"{what} {path} has mode {mode:04o}: it can be {who} by group or others, so hatui "
                              f"refuses it (as OpenSSH does); fix: chmod 600 {path}")
    return path


@dataclass(frozen=True)
class WebConfig:
    url: str | None = None
    expect_text: str = "HA Web Service is running on node"


@dataclass(frozen=True)
class ActionsConfig:
    read_only: bool = False
    maintenance_file: str = "/etc/keepalived/maintenance"


def default_record_path() -> Path:
    """$XDG_STATE_HOME/hatui/record.sqlite (~/.local/state/hatui/record.sqlite): beside the audit log."""
    return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "hatui" / "record.sqlite"


@dataclass(frozen=True)
class RecordConfig:
    """The live view's recording (hatui/record/): every cycle's raw outputs, changes only."""

    enabled: bool = True
    path: Path | None = None  # None: default_record_path()
    retention_days: float = 14.0
    max_mb: float = 500.0

    def db_path(self) -> Path:
        return self.path or default_record_path()


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
    streams: bool = True  # follow each node's changes (VIP, failover log, DRBD 9) on one long-lived channel
    notifications: bool = True  # the TUI's toast and bell on a VIP move, a node unreachable, Galera not Primary
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    record: RecordConfig = field(default_factory=RecordConfig)

    def node(self, name: str) -> NodeConfig:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


# ---- locating values in the YAML -----------------------------------------------------------------
class _Reader:
    """Walks a composed YAML node tree so that every error can name its file and line."""

    def __init__(self, path: Path, node: yaml.Node, key: str = "") -> None:
        self.path, self.node, self.key = path, node, key

    def error(self, msg: str, node: yaml.Node | None = None) -> ConfigError:
        mark = (node or self.node).start_mark
        where = f"{self.path}:{mark.line + 1}"
        return ConfigError(f"{where}: {self.key or '(top level)'}: {msg}")

    def _plain_tag(self, kind: str) -> None:
        if self.node.tag != f"tag:yaml.org,2002:{kind}":
            raise self.error(f"the YAML tag {_tag(self.node.tag)} is not accepted here")

    def mapping(self, allowed: set[str]) -> dict[str, _Reader]:
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error("expected a mapping of keys to values")
        self._plain_tag("map")
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
        self._plain_tag("seq")
        return [_Reader(self.path, v, f"{self.key}[{i}]") for i, v in enumerate(self.node.value)]

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error("expected a single value, not a list or mapping")
        if self.node.tag == "tag:yaml.org,2002:str":
            return self.node.value
        if self.node.tag not in _PLAIN_TAGS:
            raise self.error(f"the YAML tag {_tag(self.node.tag)} is not accepted here: write the value plainly"
                             " (quote it to make it text)")
        try:
            return yaml.safe_load(yaml.serialize(self.node))
        except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # an explicit tag on a value that does not fit it: `!!int 'abc'`, `!!bool 'x'`
            raise self.error(f"{self.node.value!r} cannot be read as {_tag(self.node.tag)}: "
                             f"{type(exc).__name__}") from None

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

    def checked(self, validator: Any, what: str) -> Any:
        """A text value passed through `validator` (the probes' own: what the config accepts, the probes
        accept); its ValueError becomes a located ConfigError."""
        value = self.string(what=what)
        try:
            return validator(value)
        except ValueError as exc:
            raise self.error(f"{exc}; expected {what}") from None


def _node(r: _Reader) -> NodeConfig:
    m = r.mapping({"name", "host", "port", "user", "identity_file", "known_hosts", "jump_host", "forward_agent",
                   "become"})
    for required in ("name", "host"):
        if required not in m:
            raise r.error(f"missing `{required}`")
    kwargs: dict[str, Any] = {
        "name": m["name"].string(NAME_RE, "a node name: letters, digits, '.', '_' or '-'"),
        "host": m["host"].checked(parse_host, "a host name or address"),
    }
    if "port" in m:
        kwargs["port"] = m["port"].integer(1, 65535)
    if "user" in m:
        kwargs["user"] = m["user"].string(USER_RE, "a Unix user name")
    if "identity_file" in m:
        kwargs["identity_file"] = m["identity_file"].filepath()
    if "known_hosts" in m:
        kwargs["known_hosts"] = m["known_hosts"].filepath()
    if "jump_host" in m:
        kwargs["jump_host"] = m["jump_host"].checked(parse_jump_host, "[user@]host[:port] or [user@][IPv6]:port")
    if "forward_agent" in m:
        kwargs["forward_agent"] = m["forward_agent"].boolean()
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
    except yaml.reader.ReaderError as exc:  # a control character the YAML reader refuses
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        key = _key_at_line(yaml.reader.Reader.NON_PRINTABLE.sub(" ", text), line)
        raise ConfigError(f"{path}:{line}: {key}: the control character U+{char:04X} is not allowed in YAML: "
                          "remove it") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if root is None:
        raise ConfigError(f"{path}: the file is empty; see config.example.yaml")
    top = _Reader(path, root)
    m = top.mapping({"nodes", "vip", "keepalived", "drbd", "mariadb", "failover_log", "web", "poll_interval_s",
                     "command_timeout_s", "actions", "streams", "notifications", "record"})
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
            kwargs["keepalived_instance"] = ka["instance"].checked(valid_name, "a vrrp_instance name")

    def abs_path(r: _Reader) -> str:
        return r.checked(valid_path, "an absolute path without `..`")

    kwargs["drbd"] = _section(m.get("drbd"), DrbdConfig, {
        "resource": lambda r: r.checked(valid_name, "a DRBD resource name"),
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
    if "streams" in m:
        kwargs["streams"] = m["streams"].boolean()
    if "notifications" in m:
        kwargs["notifications"] = m["notifications"].boolean()
    kwargs["actions"] = _section(m.get("actions"), ActionsConfig, {
        "read_only": _Reader.boolean, "maintenance_file": abs_path,
    })
    kwargs["record"] = _section(m.get("record"), RecordConfig, {
        "enabled": _Reader.boolean, "path": _Reader.filepath,
        "retention_days": lambda r: r.number(0.01, 3650), "max_mb": lambda r: r.number(1, 1_000_000),
    })
    return Config(**kwargs)


def locate(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HATUI_CONFIG")
    if env:
        return Path(env).expanduser()
    return DEFAULT_PATH.expanduser()


def _key_at_line(text: str, line: int) -> str:
    """The dotted key whose value spans `line` (1-based) of `text`, as well as a file that is not fully
    readable lets us tell: the innermost mapping entry that starts at or before the line."""
    try:
        root = yaml.compose(text)
    except (yaml.YAMLError, RecursionError):
        return "(top level)"
    key, node = "", root
    while True:
        inner = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.start_mark.line + 1 <= line and (
                        line <= v.end_mark.line + 1 or line == k.start_mark.line + 1):
                    inner = (f"{key}.{k.value}" if key else str(k.value), v)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                if v.start_mark.line + 1 <= line <= v.end_mark.line + 1:
                    inner = (f"{key}[{i}]", v)
        if inner is None:
            return key or "(top level)"
        key, node = inner


def load(explicit: str | None = None) -> Config:
    path = locate(explicit)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; copy config.example.yaml there, pass --config, or set "
                          "$HATUI_CONFIG (for the lab: `hatui lab config`)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        key = _key_at_line(data.decode("utf-8", errors="replace"), line)
        raise ConfigError(f"{path}:{line}: {key}: byte {data[exc.start]:#04x} at column {column} is not UTF-8: "
                          "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)") from None
    return parse(text, path)
