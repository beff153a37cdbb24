"""`hatui init`'s pure part: config values derived from what the nodes print, and the YAML it writes.

The keepalived dumps are the lab's recorded ones (tests/fixtures/lab, see PROVENANCE.md); the notify and
check scripts are the lab's own (hatui_lab/nodefiles.py, the seed deployment's scripts)."""

from __future__ import annotations

from pathlib import Path

from hatui.config import parse
from hatui.init_config import (
    NodeAnswers,
    derive,
    drbd_from_notify,
    failover_log,
    galera_size,
    known_hosts_line,
    render,
)
from hatui_lab import nodefiles

LAB = Path(__file__).parent / "fixtures" / "lab"
GALERA = "[galera]\nwsrep_on = ON\nwsrep_cluster_address = gcomm://198.18.0.11,198.18.0.12\n"


def answers(node: str, host: str, **changes) -> NodeAnswers:
    checks = nodefiles.render_checks("seed", nodefiles.DRBD_PROC_FILE)
    files = {"/etc/keepalived/notify.sh": nodefiles.render_notify(),
             **{f"/etc/keepalived/{n}": t for n, t in checks.items()}}
    a = NodeAnswers(host=host, ka_json=(LAB / f"keepalived.json-v2.2.7-{node}-lab.txt").read_text(),
                    ka_data=(LAB / f"keepalived.data-v2.2.7-{node}-lab.txt").read_text(), hostname=node,
                    files=files, galera_cnf=GALERA)
    for k, v in changes.items():
        setattr(a, k, v)
    return a


def test_a_lab_pair_gives_every_value_and_a_config_that_loads(tmp_path: Path):
    # the standby answers first: init still puts the active node (higher base priority) first
    d = derive([answers("node2", "198.18.0.12"), answers("node1", "198.18.0.11")],
               {"http://198.18.0.100/": True})
    assert [n for n, _a, _p in d.nodes] == ["node1", "node2"]
    got = {k: f.value for k, f in d.values.items()}
    assert got == {"vip": "198.18.0.100", "keepalived.instance": "VI_1", "failover_log": NOTIFY_LOG,
                   "drbd.resource": "r0", "drbd.device": "/dev/drbd0", "drbd.mount_point": "/mnt/drbd",
                   "drbd.proc_file": nodefiles.DRBD_PROC_FILE,
                   "actions.maintenance_file": "/etc/keepalived/maintenance",
                   "mariadb.expected_cluster_size": 2, "web.url": "http://198.18.0.100/"}
    text = render(d, "hatui", Path("/k/id"), tmp_path / "kh", "sudo")
    assert "# ?" not in text.split("\n", 2)[2]  # no question left
    cfg = parse(text, tmp_path / "c.yaml")
    assert cfg.vip == "198.18.0.100" and cfg.drbd.proc_file == nodefiles.DRBD_PROC_FILE
    assert [(n.name, n.host, n.user, n.become) for n in cfg.nodes] == [("node1", "198.18.0.11", "hatui", "sudo"),
                                                                       ("node2", "198.18.0.12", "hatui", "sudo")]
    assert cfg.mariadb.user == "hatui" and cfg.web.url == "http://198.18.0.100/"


NOTIFY_LOG = nodefiles.NOTIFY_LOG


def test_what_is_not_found_is_a_commented_question(tmp_path: Path):
    bare = [answers(n, h, files={}, galera_cnf="", ka_data="")
            for n, h in (("node1", "10.0.0.1"), ("node2", "10.0.0.2"))]
    d = derive(bare, {"http://198.18.0.100/": False})
    text = render(d, "root", None, tmp_path / "kh", None)
    for key in ("resource", "device", "mount_point", "expected_cluster_size", "url", "maintenance_file"):
        assert f"# ? {key}:" in text, key
    assert "# ? failover_log:" in text and "vip: 198.18.0.100" in text
    assert "did not answer from this workstation" in text
    cfg = parse(text, tmp_path / "c.yaml")  # questions are comments: the rest loads, with defaults
    assert cfg.drbd.resource == "r0" and cfg.web.url is None and cfg.nodes[0].user == "root"


def test_no_keepalived_dump_leaves_the_vip_a_question(tmp_path: Path):
    d = derive([answers("node1", "10.0.0.1", ka_json="", ka_data=""), answers("node2", "10.0.0.2", ka_json="")])
    text = render(d, "root", None, tmp_path / "kh", None)
    assert "# ? vip:" in text and "# ? instance:" in text
    assert [n for n, _a, _p in d.nodes] == ["node1", "node2"]  # the data dump's Router ID, else the host name


def test_readers_of_scripts_and_configs():
    assert failover_log('LOG=/var/log/ka.log\necho "$(date) $STATE" >> "$LOG"\nfoo >> /var/log/other.log\n') == \
        "/var/log/ka.log"
    assert failover_log("echo hi >> relative.log\n") is None
    assert drbd_from_notify("drbdadm primary --force data\nmount -o noatime /dev/drbd1 /srv\n") == \
        {"resource": "data", "device": "/dev/drbd1", "mount_point": "/srv"}
    assert galera_size("wsrep_cluster_address = \"gcomm://a,b,c\"\n") == 3
    assert galera_size("wsrep_cluster_address=gcomm://\n") is None


def test_known_hosts_line_as_openssh_writes_it():
    assert known_hosts_line("198.18.0.11", 22, "ssh-ed25519 AAAAC3Nz host") == "198.18.0.11 ssh-ed25519 AAAAC3Nz\n"
    assert known_hosts_line("h", 2222, "ssh-ed25519 AAAA") == "[h]:2222 ssh-ed25519 AAAA\n"


# ---- the host-key question, against an in-process SSH server on loopback ----------------------------------
async def _server():
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key])
    return server, key, server.sockets[0].getsockname()[1]


async def test_a_host_key_is_written_only_after_yes_and_a_changed_one_is_refused(tmp_path: Path):
    from hatui.init_cli import trust_host_key

    server, key, port = await _server()
    said: list[str] = []
    known = tmp_path / "ssh" / "known_hosts"
    try:
        assert not await trust_host_key("127.0.0.1", port, known, lambda q: "y", said.append)
        assert not known.exists()  # only a full `yes` trusts, as OpenSSH
        assert key.get_fingerprint() in "\n".join(said)
        assert await trust_host_key("127.0.0.1", port, known, lambda q: "yes", said.append)
        assert known.read_text() == f"[127.0.0.1]:{port} {key.export_public_key().decode().split()[0]} " \
                                    f"{key.export_public_key().decode().split()[1]}\n"
        assert known.stat().st_mode & 0o777 == 0o600
        asked: list[str] = []
        assert await trust_host_key("127.0.0.1", port, known, lambda q: asked.append(q) or "no", said.append)
        assert asked == []  # known now: not asked again
    finally:
        server.close()
    other, _key2, port2 = await _server()
    try:
        known.write_text(known.read_text().replace(f"]:{port} ", f"]:{port2} "))  # the old key under the new port
        assert not await trust_host_key("127.0.0.1", port2, known, lambda q: "yes", said.append)
        assert "differs" in said[-1] and known.read_text().count("\n") == 1
    finally:
        other.close()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path):
    from hatui.cli import main

    out = tmp_path / "config.yaml"
    out.write_text("mine\n")
    assert main(["init", "--output", str(out), "--node1", "127.0.0.1", "--node2", "127.0.0.2"]) == 2
    assert out.read_text() == "mine\n"
