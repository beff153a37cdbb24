"""Config loading: the example and the lab's config load; every error names file, line and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hatui.config import ConfigError, load, locate, parse

ROOT = Path(__file__).resolve().parent.parent
GOOD = """\
nodes:
  - name: node1
    host: 10.0.0.1
  - name: node2
    host: 10.0.0.2
    port: 2222
vip: 10.0.0.100
"""


def test_example_config_loads():
    cfg = load(str(ROOT / "config.example.yaml"))
    assert [n.name for n in cfg.nodes] == ["node1", "node2"]
    assert cfg.keepalived_instance == "VI_1"
    assert cfg.drbd.resource == "r0" and cfg.drbd.mount_point == "/mnt/drbd"
    assert cfg.mariadb.socket == "/run/mysqld/mysqld.sock" and cfg.mariadb.password() is None
    assert cfg.actions.maintenance_file == "/etc/keepalived/maintenance"


def test_defaults_and_lookup_order(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    monkeypatch.setenv("HATUI_CONFIG", str(path))
    assert locate(None) == path
    assert locate("/x/y.yaml") == Path("/x/y.yaml")
    cfg = load()
    assert cfg.node("node2").port == 2222 and cfg.node("node1").port == 22
    assert cfg.poll_interval_s == 1.0 and cfg.failover_log == "/var/log/keepalived_failover.log"


@pytest.mark.parametrize("text, where, words", [
    ("", "c.yaml", "empty"),
    ("nodes: [", "c.yaml:1", "not valid YAML"),
    (GOOD.replace("port: 2222", "port: 70000"), "c.yaml:6", "nodes[1].port: expected a whole number"),
    (GOOD.replace("port: 2222", "port: ssh"), "c.yaml:6", "nodes[1].port"),
    (GOOD + "colour: blue\n", "c.yaml:8", "colour: unknown key"),
    (GOOD.replace("vip: 10.0.0.100", "vip: 10.0.0.300"), "c.yaml:7", "vip: '10.0.0.300' is not an IP address"),
    (GOOD.replace("name: node2", "name: node1"), "c.yaml:2", "both nodes are named"),
    (GOOD + "drbd:\n  resource: r0;reboot\n", "c.yaml:9", "drbd.resource"),
    (GOOD + "drbd:\n  mount_point: relative/dir\n", "c.yaml:9", "expected an absolute path"),
    (GOOD + "poll_interval_s: 0\n", "c.yaml:8", "poll_interval_s: expected a number"),
    (GOOD + "actions:\n  read_only: maybe\n", "c.yaml:9", "actions.read_only: expected true or false"),
    ("nodes:\n  - host: a\n  - name: b\n    host: b\nvip: 1.2.3.4\n", "c.yaml:2", "nodes[0]: missing `name`"),
    ("vip: 1.2.3.4\n", "c.yaml:1", "missing `nodes`"),
])
def test_errors_name_file_line_and_key(text, where, words):
    with pytest.raises(ConfigError) as err:
        parse(text, Path("c.yaml"))
    msg = str(err.value)
    assert msg.startswith(where), msg
    assert words in msg, msg


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match=r"no such file.*config\.example\.yaml"):
        load(str(tmp_path / "nope.yaml"))


def test_password_is_read_from_env_not_stored(tmp_path, monkeypatch):
    cfg = parse(GOOD + "mariadb:\n  user: monitor\n  password_env: HATUI_TEST_PW\n", tmp_path / "c.yaml")
    monkeypatch.setenv("HATUI_TEST_PW", "s3cret")
    assert cfg.mariadb.password() == "s3cret"
    assert "s3cret" not in repr(cfg)


# ---- P14: odd files and YAML tags are located errors, never tracebacks --------------------------------
@pytest.mark.parametrize("line, where, words", [
    ("poll_interval_s: !custom 5\n", "c.yaml:8: poll_interval_s:", "tag !custom is not accepted"),
    ("poll_interval_s: !!int 'abc'\n", "c.yaml:8: poll_interval_s:", "'abc' cannot be read as !!int"),
    ("poll_interval_s: !!timestamp 'x'\n", "c.yaml:8: poll_interval_s:", "tag !!timestamp is not accepted"),
    ("poll_interval_s: !!float 'fast'\n", "c.yaml:8: poll_interval_s:", "cannot be read as !!float"),
    ("poll_interval_s: !!bool 'x'\n", "c.yaml:8: poll_interval_s:", "cannot be read as !!bool"),
    ("web:\n  url: !!binary aGk=\n", "c.yaml:9: web.url:", "tag !!binary is not accepted"),
    ("actions: !!python/object:os.system {}\n", "c.yaml:8: actions:", "is not accepted"),
    ("failover_log: \x07/var/log/x\n", "c.yaml:8: failover_log:", "is not allowed in YAML"),
])
def test_yaml_tags_and_odd_characters_are_located_errors(line, where, words):
    with pytest.raises(ConfigError) as err:
        parse(GOOD + line, Path("c.yaml"))
    assert str(err.value).startswith(where), err.value
    assert words in str(err.value), err.value


def test_a_non_utf8_file_names_line_key_and_fix(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD.encode() + b"web:\n  expect_text: 'caf\xe9'\n")
    with pytest.raises(ConfigError) as err:
        load(str(path))
    assert str(err.value).startswith(f"{path}:9: web.expect_text: byte 0xe9 at column 20 is not UTF-8"), err.value
    assert "save the file as UTF-8" in str(err.value)


@pytest.mark.parametrize("cmd, code", [("status", 2), ("check", 3)])
@pytest.mark.parametrize("tail", [b"poll_interval_s: !custom 5\n", b"poll_interval_s: !!int 'abc'\n",
                                  b"poll_interval_s: !!timestamp 'x'\n", b"# caf\xe9\n"])
def test_cli_exit_codes_for_bad_files(tmp_path, capsys, cmd, code, tail):
    from hatui.cli import main

    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD.encode() + tail)
    assert main(["--config", str(path), cmd]) == code
    err = capsys.readouterr().err
    assert err.startswith(f"hatui: {path}:8: "), err


# ---- P7: the config accepts exactly what the probes accept --------------------------------------------
@pytest.mark.parametrize("text, where, words", [
    (GOOD + "failover_log: /var/log/../etc/shadow\n", "c.yaml:8: failover_log:", "not a valid absolute path"),
    (GOOD + "failover_log: /var/log/..\n", "c.yaml:8: failover_log:", "not a valid absolute path"),
    (GOOD + "drbd:\n  mount_point: /mnt/../etc\n", "c.yaml:9: drbd.mount_point:", "not a valid absolute path"),
    (GOOD + "mariadb:\n  socket: /run/../x.sock\n", "c.yaml:9: mariadb.socket:", "not a valid absolute path"),
    (GOOD + "actions:\n  maintenance_file: /etc/../m\n", "c.yaml:9: actions.maintenance_file:", "not a valid"),
])
def test_paths_the_probes_would_refuse_are_refused_at_load(text, where, words):
    with pytest.raises(ConfigError) as err:
        parse(text, Path("c.yaml"))
    assert str(err.value).startswith(where), err.value
    assert words in str(err.value), err.value


def test_every_config_path_and_name_passes_the_probes_validators(tmp_path):
    from hatui.probes import valid_name, valid_path

    cfg = load(str(ROOT / "config.example.yaml"))
    for p in (cfg.failover_log, cfg.drbd.device, cfg.drbd.mount_point, cfg.drbd.proc_file, cfg.mariadb.socket,
              cfg.actions.maintenance_file):
        assert valid_path(p) == p
    assert valid_name(cfg.drbd.resource) and valid_name(cfg.keepalived_instance)
    # a name the probes accept is accepted here too (one validator, not two regexes that drift)
    cfg = parse(GOOD + "drbd:\n  resource: data+logs\n", tmp_path / "c.yaml")
    assert cfg.drbd.resource == "data+logs"


# ---- P16/P7: jump hosts as ssh -J writes them; forward_agent is opt-in --------------------------------
@pytest.mark.parametrize("text, user, host, port", [
    ("bastion", None, "bastion", 22),
    ("bastion.example.com:2222", None, "bastion.example.com", 2222),
    ("admin@10.0.0.9", "admin", "10.0.0.9", 22),
    ("admin@[2001:db8::1]:2222", "admin", "2001:db8::1", 2222),
    ("[2001:db8::1]", None, "2001:db8::1", 22),
    ("2001:db8::1", None, "2001:db8::1", 22),
])
def test_jump_host_forms(tmp_path, text, user, host, port):
    cfg = parse(GOOD.replace("    port: 2222\n", f"    jump_host: '{text}'\n"), tmp_path / "c.yaml")
    jump = cfg.node("node2").jump_host
    assert (jump.user, jump.host, jump.port) == (user, host, port)


@pytest.mark.parametrize("text", ["admin@", "bastion:", "bastion:99999", "[2001:db8::1", "[2001:db8::1]x",
                                  "Bad User@h", "a@b@c", "host name", "[bastion]:22", "h:-1"])
def test_bad_jump_hosts_are_located_errors(text):
    with pytest.raises(ConfigError) as err:
        parse(GOOD.replace("    port: 2222\n", f"    jump_host: '{text}'\n"), Path("c.yaml"))
    assert str(err.value).startswith("c.yaml:6: nodes[1].jump_host:"), err.value


def test_forward_agent_is_off_unless_asked(tmp_path):
    cfg = parse(GOOD, tmp_path / "c.yaml")
    assert not cfg.node("node1").forward_agent
    cfg = parse(GOOD.replace("    port: 2222\n", "    forward_agent: true\n"), tmp_path / "c.yaml")
    assert cfg.node("node2").forward_agent and not cfg.node("node1").forward_agent


def test_ipv6_node_host_in_brackets_is_the_bare_address(tmp_path):
    cfg = parse(GOOD.replace("host: 10.0.0.2", "host: '[2001:db8::2]'"), tmp_path / "c.yaml")
    assert cfg.node("node2").host == "2001:db8::2"


# ---- config.example.yaml documents every key config.py accepts --------------------------------------
def _allowed(text: str) -> list[str]:
    """The keys of one mapping, as config.py lists them when it refuses an unknown one."""
    with pytest.raises(ConfigError) as err:
        parse(text, Path("c.yaml"))
    found = re.search(r"unknown key; expected one of: (.*)$", str(err.value))
    assert found, err.value
    return found.group(1).split(", ")


def config_keys() -> dict[str, list[str]]:
    keys = {"": _allowed(GOOD + "zzz: 1\n"),
            "nodes[]": _allowed(GOOD.replace("    port: 2222", "    port: 2222\n    zzz: 1"))}
    for section in ("keepalived", "drbd", "mariadb", "web", "actions", "record"):
        keys[section] = _allowed(GOOD + f"{section}:\n  zzz: 1\n")
    return keys


def _commented(lines: list[str], key: str) -> bool:
    """`key` appears (set, or commented out) with a comment on its line or just above it."""
    for i, line in enumerate(lines):
        m = re.match(rf"^\s*(#\s*)?(- )?{re.escape(key)}:(.*)$", line)
        if not m:
            continue
        rest = m.group(3)
        if "#" in rest:  # a comment after the value (for a commented-out key: its second #)
            return True
        above = lines[i - 1].strip() if i else ""
        if above.startswith("#") and not re.match(r"^#\s*[a-z_]+:(\s|$)", above):
            return True
    return False


def test_the_example_comments_every_key_the_config_accepts():
    lines = (ROOT / "config.example.yaml").read_text().splitlines()
    keys = config_keys()
    assert "command_timeout_s" in keys[""] and "become" in keys["nodes[]"]  # the probe above reads them all
    missing = [f"{section}.{key}" if section else key for section, names in keys.items() for key in names
               if not _commented(lines, key)]
    assert not missing, f"config.example.yaml lacks a commented line for: {', '.join(missing)}"


def test_the_example_states_the_maintenance_hook_rules():
    text = (ROOT / "config.example.yaml").read_text()
    assert "basename" in text and "track_file" in text
    assert "-50" not in text  # hatui computes the value; on the seed lab it writes -40 (tests/test_actions.py)
    assert "(see docs)" not in text


def test_notifications_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    assert load(str(path)).notifications is True  # on unless turned off
    path.write_text(GOOD + "notifications: false\n")
    assert load(str(path)).notifications is False
    path.write_text(GOOD + "notifications: maybe\n")
    with pytest.raises(ConfigError, match="notifications"):
        load(str(path))
