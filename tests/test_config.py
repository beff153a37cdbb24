"""Config loading: the example and the lab's config load; every error names file, line and key."""

from __future__ import annotations

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
