"""The configuration, table by table: every key read into its field, every limit on both sides, and the exact
error an operator reads for each mistake (file:line: key: what is wrong; what is expected)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatui.config import (
    ConfigError,
    JumpHost,
    check_private_file,
    load,
    parse,
    parse_host,
    parse_jump_host,
)

P = Path("c.yaml")
BASE = """\
nodes:
  - name: node1
    host: 10.0.0.1
  - name: node2
    host: 10.0.0.2
vip: 10.0.0.100
"""


def error(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse(text, P)
    return str(err.value)


FULL = """\
nodes:
  - name: node1
    host: 10.0.0.1
    port: 2222
    user: admin
    identity_file: /keys/id
    known_hosts: /keys/known
    jump_host: ops@bastion:2200
    forward_agent: true
    become: sudo
  - name: node2
    host: "[2001:db8::2]"
    become: none
vip: 10.0.0.100
keepalived:
  instance: VI_9
drbd:
  resource: r7
  device: /dev/drbd7
  mount_point: /srv/data
  proc_file: /tmp/proc_drbd
mariadb:
  socket: /tmp/my.sock
  user: monitor
  password_env: HATUI_PW
  password_file: /keys/pw
  expected_cluster_size: 3
failover_log: /tmp/failover.log
web:
  url: https://10.0.0.100/status
  expect_text: "up on"
poll_interval_s: 2.5
command_timeout_s: 7
streams: false
actions:
  read_only: true
  maintenance_file: /etc/keepalived/maint
record:
  enabled: false
  path: /tmp/rec.sqlite
  retention_days: 2
  max_mb: 50
"""


def test_every_key_is_read_into_its_field():
    cfg = parse(FULL, P)
    n1, n2 = cfg.nodes
    assert (n1.name, n1.host, n1.port, n1.user) == ("node1", "10.0.0.1", 2222, "admin")
    assert (n1.identity_file, n1.known_hosts) == (Path("/keys/id"), Path("/keys/known"))
    assert n1.jump_host == JumpHost("bastion", 2200, "ops") and n1.forward_agent is True and n1.become == "sudo"
    assert (n2.host, n2.port, n2.user, n2.become, n2.forward_agent) == ("2001:db8::2", 22, "root", None, False)
    assert n2.identity_file is None and n2.known_hosts == Path("~/.ssh/known_hosts") and n2.jump_host is None
    assert cfg.vip == "10.0.0.100" and cfg.keepalived_instance == "VI_9"
    assert (cfg.drbd.resource, cfg.drbd.device, cfg.drbd.mount_point, cfg.drbd.proc_file) == (
        "r7", "/dev/drbd7", "/srv/data", "/tmp/proc_drbd")
    m = cfg.mariadb
    assert (m.socket, m.user, m.password_env, m.password_file, m.expected_cluster_size) == (
        "/tmp/my.sock", "monitor", "HATUI_PW", Path("/keys/pw"), 3)
    assert cfg.failover_log == "/tmp/failover.log"
    assert (cfg.web.url, cfg.web.expect_text) == ("https://10.0.0.100/status", "up on")
    assert (cfg.poll_interval_s, cfg.command_timeout_s, cfg.streams) == (2.5, 7.0, False)
    assert isinstance(cfg.command_timeout_s, float)
    assert (cfg.actions.read_only, cfg.actions.maintenance_file) == (True, "/etc/keepalived/maint")
    r = cfg.record
    assert (r.enabled, r.path, r.retention_days, r.max_mb, r.db_path()) == (
        False, Path("/tmp/rec.sqlite"), 2.0, 50.0, Path("/tmp/rec.sqlite"))
    assert cfg.node("node2") is n2
    with pytest.raises(KeyError):
        cfg.node("node3")


def test_the_defaults():
    cfg = parse(BASE, P)
    assert cfg.keepalived_instance == "VI_1" and cfg.streams is True and cfg.command_timeout_s == 5.0
    assert cfg.poll_interval_s == 1.0 and cfg.failover_log == "/var/log/keepalived_failover.log"
    assert (cfg.drbd.resource, cfg.drbd.device, cfg.drbd.mount_point, cfg.drbd.proc_file) == (
        "r0", "/dev/drbd0", "/mnt/drbd", "/proc/drbd")
    assert (cfg.mariadb.user, cfg.mariadb.expected_cluster_size, cfg.mariadb.password()) == ("root", 2, None)
    assert (cfg.web.url, cfg.web.expect_text) == (None, "HA Web Service is running on node")
    assert (cfg.actions.read_only, cfg.actions.maintenance_file) == (False, "/etc/keepalived/maintenance")
    assert (cfg.record.enabled, cfg.record.path, cfg.record.retention_days, cfg.record.max_mb) == (
        True, None, 14.0, 500.0)
    assert parse(BASE + "keepalived: {}\n", P).keepalived_instance == "VI_1"


def test_the_record_path_defaults_beside_the_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert parse(BASE, P).record.db_path() == tmp_path / "hatui" / "record.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert parse(BASE, P).record.db_path() == Path("~/.local/state").expanduser() / "hatui" / "record.sqlite"


def node2(extra: str) -> str:
    """BASE with `extra` (indented key lines) added to node2."""
    return BASE.replace("    host: 10.0.0.2\n", "    host: 10.0.0.2\n" + extra)


# (text, the exact error)
ERRORS = [
    (node2("    port: 0\n"), "c.yaml:6: nodes[1].port: expected a whole number from 1 to 65535, got 0"),
    (node2("    port: 65536\n"), "c.yaml:6: nodes[1].port: expected a whole number from 1 to 65535, got 65536"),
    (node2("    port: true\n"), "c.yaml:6: nodes[1].port: expected a whole number from 1 to 65535, got True"),
    (node2("    user: Root!\n"), "c.yaml:6: nodes[1].user: 'Root!' is not valid: expected a Unix user name"),
    (node2("    user: ''\n"), "c.yaml:6: nodes[1].user: expected text (a Unix user name), got ''"),
    (node2("    jump_host: a@b:c\n"),
     "c.yaml:6: nodes[1].jump_host: 'c' is not a port number (1-65535); expected [user@]host[:port] or "
     "[user@][IPv6]:port"),
    (node2("    forward_agent: 1\n"), "c.yaml:6: nodes[1].forward_agent: expected true or false, got 1"),
    (node2("    become: doas\n"), "c.yaml:6: nodes[1].become: expected `sudo` (or `none`), got 'doas'"),
    (node2("    become: sudo\n"),
     "c.yaml:6: nodes[1].become: `become: sudo` is for an ordinary SSH user: set `user` to it (root needs no sudo)"),
    (node2("    user: root\n    become: sudo\n"),
     "c.yaml:7: nodes[1].become: `become: sudo` is for an ordinary SSH user: set `user` to it (root needs no sudo)"),
    (node2("    identity_file: ''\n"), "c.yaml:6: nodes[1].identity_file: expected text (a file path), got ''"),
    (node2("    known_hosts: 5\n"), "c.yaml:6: nodes[1].known_hosts: expected text (a file path), got 5"),
    (BASE.replace("name: node2", "name: -node2"),
     "c.yaml:4: nodes[1].name: '-node2' is not valid: expected a node name: letters, digits, '.', '_' or '-'"),
    (BASE.replace("host: 10.0.0.2", "host: 'a b'"),
     "c.yaml:5: nodes[1].host: 'a b' is not a host name or address; expected a host name or address"),
    (BASE.replace("  - name: node2\n    host: 10.0.0.2\n", ""),
     "c.yaml:2: nodes: expected exactly 2 nodes (an active-standby pair), got 1"),
    (BASE.replace("name: node2", "name: node1"), "c.yaml:2: nodes: both nodes are named 'node1'"),
    (BASE.replace("    host: 10.0.0.2\n", ""), "c.yaml:4: nodes[1]: missing `host`"),
    (BASE.replace("vip: 10.0.0.100\n", ""), "c.yaml:1: (top level): missing `vip`"),
    (BASE.replace("vip: 10.0.0.100", "vip: ''"), "c.yaml:6: vip: expected text (an IP address), got ''"),
    (BASE.replace("vip: 10.0.0.100", "vip: fe80::1::2"), "c.yaml:6: vip: 'fe80::1::2' is not an IP address"),
    (BASE + "keepalived:\n  instance: 'VI 1'\n",
     "c.yaml:8: keepalived.instance: 'VI 1' is not a valid name: expected letters, digits and _.+- "
     "(max 128); expected a vrrp_instance name"),
    (BASE + "keepalived:\n  name: VI_1\n", "c.yaml:8: keepalived.name: unknown key; expected one of: instance"),
    (BASE + "drbd:\n  resource: 'r 0'\n",
     "c.yaml:8: drbd.resource: 'r 0' is not a valid name: expected letters, digits and _.+- (max 128); "
     "expected a DRBD resource name"),
    (BASE + "drbd:\n  device: dev/drbd0\n",
     "c.yaml:8: drbd.device: 'dev/drbd0' is not a valid absolute path; expected an absolute path without `..`"),
    (BASE + "mariadb:\n  user: 'a b'\n", "c.yaml:8: mariadb.user: 'a b' is not valid: expected a MariaDB user name"),
    (BASE + "mariadb:\n  password_env: 1PW\n",
     "c.yaml:8: mariadb.password_env: '1PW' is not valid: expected an environment variable name"),
    (BASE + "mariadb:\n  password_env: pw\n", None),
    (BASE + "mariadb:\n  expected_cluster_size: 0\n",
     "c.yaml:8: mariadb.expected_cluster_size: expected a whole number from 1 to 64, got 0"),
    (BASE + "mariadb:\n  expected_cluster_size: 65\n",
     "c.yaml:8: mariadb.expected_cluster_size: expected a whole number from 1 to 64, got 65"),
    (BASE + "failover_log: log.txt\n",
     "c.yaml:7: failover_log: 'log.txt' is not a valid absolute path; expected an absolute path "
     "without `..`"),
    (BASE + "web:\n  url: ftp://x/\n",
     "c.yaml:8: web.url: 'ftp://x/' is not valid: expected an http:// or https:// URL"),
    (BASE + "web:\n  expect_text: ''\n", "c.yaml:8: web.expect_text: expected text (text), got ''"),
    (BASE + "poll_interval_s: 0.19\n", "c.yaml:7: poll_interval_s: expected a number from 0.2 to 3600, got 0.19"),
    (BASE + "poll_interval_s: 3600.5\n", "c.yaml:7: poll_interval_s: expected a number from 0.2 to 3600, got 3600.5"),
    (BASE + "poll_interval_s: true\n", "c.yaml:7: poll_interval_s: expected a number from 0.2 to 3600, got True"),
    (BASE + "command_timeout_s: 0.4\n", "c.yaml:7: command_timeout_s: expected a number from 0.5 to 120, got 0.4"),
    (BASE + "command_timeout_s: 120.5\n",
     "c.yaml:7: command_timeout_s: expected a number from 0.5 to 120, got 120.5"),
    (BASE + "streams: 'no'\n", "c.yaml:7: streams: expected true or false, got 'no'"),
    (BASE + "actions:\n  maintenance_file: /etc/../x\n",
     "c.yaml:8: actions.maintenance_file: '/etc/../x' is not a valid absolute path; expected an absolute path "
     "without `..`"),
    (BASE + "record:\n  retention_days: 0.001\n",
     "c.yaml:8: record.retention_days: expected a number from 0.01 to 3650, got 0.001"),
    (BASE + "record:\n  retention_days: 3651\n",
     "c.yaml:8: record.retention_days: expected a number from 0.01 to 3650, got 3651"),
    (BASE + "record:\n  max_mb: 0.5\n", "c.yaml:8: record.max_mb: expected a number from 1 to 1000000, got 0.5"),
    (BASE + "record:\n  max_mb: 1000001\n",
     "c.yaml:8: record.max_mb: expected a number from 1 to 1000000, got 1000001"),
    (BASE + "record:\n  enabled: 0\n", "c.yaml:8: record.enabled: expected true or false, got 0"),
    (BASE + "record:\n  colour: red\n",
     "c.yaml:8: record.colour: unknown key; expected one of: enabled, max_mb, path, retention_days"),
    (BASE + "vip: 10.0.0.101\n", "c.yaml:7: vip: given twice"),
    (BASE + "drbd: [a]\n", "c.yaml:7: drbd: expected a mapping of keys to values"),
    (BASE.replace("nodes:\n", "nodes: !!set\n"), "c.yaml:1: nodes: the YAML tag !!set is not accepted here"),
    ("nodes: {a: 1}\nvip: 10.0.0.1\n", "c.yaml:1: nodes: expected a list"),
    ("- a\n", "c.yaml:1: (top level): expected a mapping of keys to values"),
    (BASE + "poll_interval_s: [1]\n", "c.yaml:7: poll_interval_s: expected a single value, not a list or mapping"),
    (BASE + "poll_interval_s: !!binary aGk=\n",
     "c.yaml:7: poll_interval_s: the YAML tag !!binary is not accepted here: write the value plainly (quote it to "
     "make it text)"),
    (BASE + "poll_interval_s: !custom 1\n",
     "c.yaml:7: poll_interval_s: the YAML tag !custom is not accepted here: write the value plainly (quote it to "
     "make it text)"),
    (BASE + "poll_interval_s: !!int abc\n", "c.yaml:7: poll_interval_s: 'abc' cannot be read as !!int: ValueError"),
    (BASE + "drbd: !!omap {}\n", "c.yaml:7: drbd: the YAML tag !!omap is not accepted here"),
    (BASE.replace("nodes:\n", "nodes: !mylist\n"), "c.yaml:1: nodes: the YAML tag !mylist is not accepted here"),
    ("", "c.yaml: the file is empty; see config.example.yaml"),
    ("nodes: [\n", "c.yaml:2: not valid YAML: expected the node content, but found '<stream end>'"),
    ("a: b: c\n", "c.yaml:1: not valid YAML: mapping values are not allowed here"),
    (BASE + "web:\n  url: \"http://x/\x07\"\n",
     "c.yaml:8: web.url: the control character U+0007 is not allowed in YAML: remove it"),
    ("\x01" + BASE, "c.yaml:1: (top level): the control character U+0001 is not allowed in YAML: remove it"),
    ("\n" + BASE + "web:\n  url: \"http://x/\x07\"\n",
     "c.yaml:9: web.url: the control character U+0007 is not allowed in YAML: remove it"),
    (BASE.replace("host: 10.0.0.2", "host: ''"),
     "c.yaml:5: nodes[1].host: expected text (a host name or address), got ''"),
    # a key that is not a plain value (a YAML complex key) has no name to give
    ("? [a]\n: 1\n", "c.yaml:1: None: unknown key; expected one of: actions, command_timeout_s, drbd, failover_log, "
                    "keepalived, mariadb, nodes, notifications, poll_interval_s, record, streams, vip, web"),
    ("[" * 1000, "c.yaml: not valid YAML: nested too deeply"),
]


@pytest.mark.parametrize("text,message", ERRORS)
def test_each_mistake_and_its_exact_error(text, message):
    if message is None:  # lower-case is a valid variable name
        assert parse(text, P).mariadb.password_env == "pw"
        return
    assert error(text) == message


@pytest.mark.parametrize("text", [
    node2("    port: 1\n"), node2("    port: 65535\n"), BASE + "mariadb:\n  expected_cluster_size: 1\n",
    BASE + "mariadb:\n  expected_cluster_size: 64\n", BASE + "poll_interval_s: 0.2\n", BASE + "poll_interval_s: 3600\n",
    BASE + "command_timeout_s: 0.5\n", BASE + "command_timeout_s: 120\n", BASE + "record:\n  retention_days: 0.01\n",
    BASE + "record:\n  retention_days: 3650\n", BASE + "record:\n  max_mb: 1\n", BASE + "record:\n  max_mb: 1000000\n",
    node2("    become: null\n"), node2("    user: admin$\n"), BASE + "poll_interval_s: !!float 2\n",
    BASE + "web:\n  expect_text: !!str 12\n",
])
def test_the_limits_themselves_are_accepted(text):
    parse(text, P)


def test_load_reads_the_file_and_says_what_is_wrong_with_it(tmp_path):
    missing = tmp_path / "none.yaml"
    with pytest.raises(ConfigError) as err:
        load(str(missing))
    assert str(err.value) == (f"{missing}: no such file; copy config.example.yaml there, pass --config, or set "
                              "$HATUI_CONFIG (for the lab: `hatui lab config`)")
    with pytest.raises(ConfigError) as err:
        load(str(tmp_path))
    assert str(err.value) == f"{tmp_path}: cannot read: Is a directory"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(BASE.encode() + b"web:\n  expect_text: caf\xe9\n")
    with pytest.raises(ConfigError) as err:
        load(str(latin))
    assert str(err.value) == (f"{latin}:8: web.expect_text: byte 0xe9 at column 19 is not UTF-8: save the file as "
                              "UTF-8 (e.g. `iconv -f latin1 -t utf-8`)")
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    assert load(str(good)).path == good


@pytest.mark.parametrize("text,host", [
    ("10.0.0.1", "10.0.0.1"), ("db-1.example.org", "db-1.example.org"), ("2001:db8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"), ("[2001:DB8:0::1]", "2001:db8::1"), ("_svc", "_svc"), ("a" * 253, "a" * 253),
])
def test_parse_host(text, host):
    assert parse_host(text) == host


@pytest.mark.parametrize("text", ["a" * 254, "[db1]", "-a", "a b", "", "[10.0.0.1]", "a/b", "[::1", "::1]"])
def test_parse_host_refuses(text):
    with pytest.raises(ValueError) as err:
        parse_host(text)
    assert str(err.value) == f"{text!r} is not a host name or address"


@pytest.mark.parametrize("text,jump", [
    ("bastion", JumpHost("bastion", 22, None)),
    ("ops@bastion", JumpHost("bastion", 22, "ops")),
    ("ops@bastion:2200", JumpHost("bastion", 2200, "ops")),
    ("bastion:1", JumpHost("bastion", 1, None)),
    ("bastion:65535", JumpHost("bastion", 65535, None)),
    ("2001:db8::1", JumpHost("2001:db8::1", 22, None)),
    ("[2001:db8::1]", JumpHost("2001:db8::1", 22, None)),
    ("admin@[2001:db8::1]:2222", JumpHost("2001:db8::1", 2222, "admin")),
])
def test_parse_jump_host(text, jump):
    assert parse_jump_host(text) == jump


@pytest.mark.parametrize("text,message", [
    ("Ops@b", "'Ops' is not a Unix user name"),
    ("@b", "'' is not a Unix user name"),
    ("[2001:db8::1", "'[2001:db8::1': expected [IPv6 address] or [IPv6 address]:port"),
    ("[2001:db8::1]x", "'[2001:db8::1]x': expected [IPv6 address] or [IPv6 address]:port"),
    ("[2001:db8::1]:", "'[2001:db8::1]:': no port after ':'"),
    ("b:", "'b:': no port after ':'"),
    ("b:0", "'0' is not a port number (1-65535)"),
    ("b:65536", "'65536' is not a port number (1-65535)"),
    ("b:123456", "'123456' is not a port number (1-65535)"),
    ("b:+22", "'+22' is not a port number (1-65535)"),
    ("[2001:db8::1]:0", "'0' is not a port number (1-65535)"),
])
def test_parse_jump_host_refuses(text, message):
    with pytest.raises(ValueError) as err:
        parse_jump_host(text)
    assert str(err.value) == message


@pytest.mark.parametrize("jump,text", [
    (JumpHost("bastion"), "bastion"), (JumpHost("bastion", 2200, "ops"), "ops@bastion:2200"),
    (JumpHost("2001:db8::1", 22, "a"), "a@[2001:db8::1]"), (JumpHost("2001:db8::1", 23), "[2001:db8::1]:23"),
])
def test_a_jump_host_prints_as_ssh_j_takes_it(jump, text):
    assert str(jump) == text
    assert parse_jump_host(text) == jump


def test_private_files(tmp_path):
    f = tmp_path / "pw"
    f.write_text("s3cret\n")
    f.chmod(0o600)
    assert check_private_file(f, "MariaDB password file", secret=True) == f
    f.chmod(0o640)
    with pytest.raises(PermissionError) as err:
        check_private_file(f, "MariaDB password file", secret=True)
    assert str(err.value) == (f"MariaDB password file {f} has mode 0640: it can be read or written by group or "
                              f"others, so hatui refuses it (as OpenSSH does); fix: chmod 600 {f}")
    assert check_private_file(f, "known_hosts", secret=False) == f  # readable by the group: fine when not secret
    f.chmod(0o620)
    with pytest.raises(PermissionError) as err:
        check_private_file(f, "known_hosts", secret=False)
    assert str(err.value) == (f"known_hosts {f} has mode 0620: it can be written by group or others, so hatui "
                              f"refuses it (as OpenSSH does); fix: chmod 600 {f}")
    f.chmod(0o604)
    with pytest.raises(PermissionError):
        check_private_file(f, "x", secret=True)
    f.chmod(0o602)
    with pytest.raises(PermissionError):
        check_private_file(f, "x", secret=False)


def test_the_password_is_read_at_connect_time(tmp_path, monkeypatch):
    monkeypatch.setenv("HATUI_PW", "from-env")
    cfg = parse(BASE + "mariadb:\n  password_env: HATUI_PW\n", P)
    assert cfg.mariadb.password() == "from-env"
    f = tmp_path / "pw"
    f.write_text("  from-file \n")
    f.chmod(0o600)
    cfg = parse(BASE + f"mariadb:\n  password_file: {f}\n", P)
    assert cfg.mariadb.password() == "from-file"


TOP = "vip: 1\nnodes:\n  - name: a\n    host: b\n  - name: c\n    host: d\nweb:\n  url: x\n"
FOLDED = "web:\n  expect_text: >\n    one\n    two\n  url: x\nvip: 1\n"
LIST = "nodes:\n  - a\n  -\n    b\n  - c\nx: 1\n"


@pytest.mark.parametrize("text,keys", [
    (TOP, ["(top level)", "vip", "nodes", "nodes[0].name", "nodes[0].host", "nodes[1].name", "nodes[1].host", "web",
           "web.url", "web", "(top level)"]),
    (FOLDED, ["(top level)", "web", "web.expect_text", "web.expect_text", "web.expect_text", "web.url", "vip",
              "(top level)"]),
    (LIST, ["(top level)", "nodes", "nodes[0]", "nodes", "nodes[1]", "nodes[2]", "x", "(top level)"]),
    ("[", ["(top level)"] * 3), ("? [a]\n: 1\n", ["(top level)"] * 3),
])
def test_the_key_named_for_a_line_of_a_file_that_cannot_be_read_whole(text, keys):
    """What an encoding or control-character error names as its place: the innermost key whose value spans the
    line (lines counted from 1; 0 and past the end: the top level)."""
    from hatui.config import _key_at_line

    assert [_key_at_line(text, line) for line in range(len(keys))] == keys


def test_a_bad_byte_is_located_in_a_list_item(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_bytes(BASE.replace("host: 10.0.0.2", "host: h\xe9st").encode("latin1"))
    with pytest.raises(ConfigError) as err:
        load(str(f))
    assert str(err.value) == (f"{f}:5: nodes[1].host: byte 0xe9 at column 12 is not UTF-8: save the file as UTF-8 "
                              "(e.g. `iconv -f latin1 -t utf-8`)")


def test_a_jump_host_with_a_stray_bracket():
    with pytest.raises(ValueError) as err:
        parse_jump_host("[::1]]:22")
    assert str(err.value) == "'[::1]]:22': expected [IPv6 address] or [IPv6 address]:port"


def test_a_private_file_owned_by_another_user_is_refused(tmp_path):
    f = tmp_path / "key"
    f.write_text("k")
    f.chmod(0o600)
    try:
        os.chown(f, 1, -1)  # needs root (the lab's machine); elsewhere the owner cannot be changed
    except PermissionError:
        pytest.skip("changing a file's owner needs root")
    with pytest.raises(PermissionError) as err:
        check_private_file(f, "SSH key", secret=True)
    assert str(err.value) == (f"SSH key {f} is owned by uid 1, not by you (uid {os.getuid()}): refused; fix: chown "
                              f"{os.getuid()} {f}")


def test_only_group_or_other_write_matters_for_a_file_that_is_not_secret(tmp_path):
    f = tmp_path / "known_hosts"
    f.write_text("x")
    for mode in (0o644, 0o645, 0o654, 0o755):
        f.chmod(mode)
        assert check_private_file(f, "known_hosts", secret=False) == f, oct(mode)


def test_a_bad_byte_after_a_leading_empty_line(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_bytes(b"\n" + BASE.replace("vip: 10.0.0.100", "vip: 10.0.0.1\xe9").encode("latin1"))
    with pytest.raises(ConfigError) as err:
        load(str(f))
    assert str(err.value) == (f"{f}:7: vip: byte 0xe9 at column 14 is not UTF-8: save the file as UTF-8 "
                              "(e.g. `iconv -f latin1 -t utf-8`)")
    f.write_bytes(b"\n\xe9")
    with pytest.raises(ConfigError) as err:
        load(str(f))
    assert str(err.value).startswith(f"{f}:2: (top level): byte 0xe9 at column 1 is not UTF-8")
