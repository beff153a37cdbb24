"""`hatui doctor` on the seed's real files (tests/fixtures/seed/, PROVENANCE.md there) and on the lab's
variants: the hazards named, what the fixes remove, and no secret ever in the output."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hatui.config import Config, NodeConfig
from hatui.doctor import exit_code, hazards
from hatui.doctor_run import FIXED_COMMANDS, read_from_raw, script_commands, to_json, to_text
from hatui.model import CommandResult
from hatui.probes.confread import parse_drbd_dump, parse_drbd_dump_xml
from hatui.probes.kaconf import parse_keepalived_conf, parse_keepalived_version
from hatui.probes.scripts import parse_notify, parse_secrets
from hatui_lab import nodefiles

SEED = Path(__file__).parent / "fixtures" / "seed"
IPS = {"node1": "192.168.56.101", "node2": "192.168.56.102"}
CFG = Config(path=Path("test.yaml"), nodes=tuple(NodeConfig(n, ip) for n, ip in IPS.items()), vip="192.168.56.200")
KA_VERSION = "Keepalived v2.2.7 (01/16,2022)\n\nconfigure options: --prefix=/usr --enable-json --enable-bfd\n"
SEED_HAZARDS = {"notify-no-promote", "notify-no-stop", "notify-no-fault", "role-dependent-check",
                "galera-two-node", "maintenance-hook-missing", "vrrp-auth-pass", "script-secret",
                "drbd-policies", "preempt-after-heal", "galera-check-non-primary"}


def node_files(node: str) -> dict[str, str]:
    d = SEED / node
    return {p.name: p.read_text() for p in d.iterdir()}


PROC_84 = ("version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420 \n"
           " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n")
PROC_9 = ("version: 9.2.12 (api:2/proto:118-122)\nGIT-hash: 0 build by root@node1, 2024-11-18 10:00:00\n"
          "Transports (api:21): tcp (9.2.12)\n")


def raw_for(node: str, files: dict[str, str], version: str = KA_VERSION) -> tuple[dict, dict]:
    """What the doctor's two round trips would print on a node holding `files` (script name → text;
    "proc_drbd": the DRBD status file, 8.4's by default)."""
    ok = lambda text: CommandResult(0, text)  # noqa: E731
    first = {
        "ka_conf": ok(files["keepalived.conf"]), "ka_version": ok(version),
        "drbd_xml": ok(files["drbdadm-dump.xml"]), "drbd_text": ok(files["drbdadm-dump.txt"]),
        "galera_defaults": ok(files["galera.defaults"]), "galera_live": CommandResult(1, ""),
        "addr": ok(f"2: enp0s8    inet {IPS[node]}/24 brd 192.168.56.255 scope global enp0s8\\       valid_lft forever"
                   " preferred_lft forever\n"),
        "hostname": ok(node + "\n"), "drbd_proc": ok(files.get("proc_drbd", PROC_84)),
    }
    assert set(first) == set(FIXED_COMMANDS)
    second = {}
    for key in script_commands(first):
        name = key.split(":", 1)[1].rsplit("/", 1)[1]
        second[key] = ok(files[name]) if name in files else CommandResult(1, "head: cannot open")
    return first, second


def reads_of(per_node: dict[str, dict[str, str]], version: str = KA_VERSION):
    return [read_from_raw(n, *raw_for(n, files, version), CFG.vip) for n, files in per_node.items()]


def seed_reads(changes: dict | None = None):
    files = {n: node_files(n) for n in IPS}
    for (node, name), text in (changes or {}).items():
        files[node][name] = text
    return reads_of(files)


def codes(found) -> set[str]:
    return {h.code for h in found}


def test_seed_names_every_hazard_it_has() -> None:
    found = hazards(seed_reads(), CFG)
    assert codes(found) == SEED_HAZARDS
    assert exit_code(found) == 2  # the notify script does not promote: critical
    by = {h.code: h for h in found}
    assert "node2 runs at 70, not 90" in by["role-dependent-check"].title
    assert "margin is 30 points instead of 10" in by["role-dependent-check"].why
    assert {h.where for h in found if h.code == "script-secret"} == {("node1:/etc/keepalived/notify.sh:7",),
                                                                     ("node2:/etc/keepalived/notify.sh:7",)}
    assert "node1 stays backup" in by["preempt-after-heal"].title  # masked by chk_drbd failing as Secondary


def test_no_secret_is_ever_printed() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    notify = node_files("node1")["notify.sh"].replace("<redacted: a chat-bot token was here in the original>", token)
    conf = node_files("node1")["keepalived.conf"]
    assert "auth_pass secret123" in conf
    reads = seed_reads({("node1", "notify.sh"): notify})
    found = hazards(reads, CFG)
    for out in (to_text(reads, found), to_json(reads, found), repr(reads), repr(found)):
        assert "secret123" not in out
        assert token not in out and "AAHdqTcv" not in out
    assert "notify.sh holds a secret: line 7 (TOKEN)" in to_text(reads, found)


def test_recommended_checks_and_lab_notify_remove_what_they_fix() -> None:
    checks = nodefiles.render_checks("recommended", nodefiles.DRBD_PROC_FILE)
    lab_notify = nodefiles.render_notify()
    changes = {(n, name): body for n in IPS for name, body in checks.items()}
    found = codes(hazards(seed_reads(changes), CFG))
    assert "role-dependent-check" not in found
    assert found == SEED_HAZARDS - {"role-dependent-check", "galera-check-non-primary"}
    changes.update({(n, "notify.sh"): lab_notify for n in IPS})
    found_lab = codes(hazards(seed_reads(changes), CFG))
    # the lab's promoting script handles MASTER, BACKUP and FAULT, has no token, but no STOP (as the seed)
    assert found_lab == SEED_HAZARDS - {"role-dependent-check", "galera-check-non-primary", "notify-no-promote",
                                        "notify-no-fault", "script-secret"}
    seed_checks = nodefiles.render_checks("seed", nodefiles.DRBD_PROC_FILE)
    lab_seed = {(n, name): body for n in IPS for name, body in seed_checks.items()}
    assert "role-dependent-check" in codes(hazards(seed_reads(lab_seed), CFG))


def test_a_check_reading_proc_drbd_on_drbd_9() -> None:
    """DRBD 9's /proc/drbd has no resource lines: the seed's chk_drbd fails there on every node, always.
    The recommended one asks drbdadm (dstate) and is not flagged; nor is the seed's on 8.4."""
    on_9 = {(n, "proc_drbd"): PROC_9 for n in IPS}
    found = hazards(seed_reads(on_9), CFG)
    h = next(h for h in found if h.code == "drbd-check-proc-drbd9")
    assert h.where == ("node1:/etc/keepalived/check_drbd.sh", "node2:/etc/keepalived/check_drbd.sh")
    assert "drbd-check-proc-drbd9" not in codes(hazards(seed_reads(), CFG))
    recommended = nodefiles.render_checks("recommended", nodefiles.DRBD_PROC_FILE)
    fixed = {**on_9, **{(n, name): body for n in IPS for name, body in recommended.items()}}
    assert "drbd-check-proc-drbd9" not in codes(hazards(seed_reads(fixed), CFG))


def test_notify_states_and_promotion() -> None:
    seed = parse_notify(node_files("node1")["notify.sh"]).value
    assert seed is not None and seed.logs_only and not seed.promotes_on_master and seed.states == ()
    lab = parse_notify(nodefiles.render_notify()).value
    assert lab is not None and lab.states == ("MASTER", "BACKUP", "FAULT")
    assert lab.promotes_on_master and lab.mounts_on_master and lab.demotes
    ifs = parse_notify('#!/bin/sh\nif [ "$3" = "MASTER" ]; then\n  drbdadm primary r0 && mount /dev/drbd0 /mnt\n'
                       'elif [ "$3" == STOP ]; then\n  umount /mnt\nfi\n').value
    assert ifs is not None and ifs.states == ("MASTER", "STOP") and ifs.promotes_on_master


def test_secrets_by_line_and_name_only() -> None:
    text = "A=1\nDB_PASSWORD=$PW\nexport MY_PASS='hunter2'\nmysql -phunter2 -e x\n# TOKEN=old\nTOKEN=\n"
    found = parse_secrets(text).value
    assert found is not None
    assert [(s.line, s.what) for s in found] == [(3, "MY_PASS"), (4, "a password on a command line (-p...)")]
    assert "hunter2" not in repr(found)


def test_drift_sets_node_specific_lines_aside_and_names_the_rest() -> None:
    assert not {c for c in codes(hazards(seed_reads(), CFG)) if c.startswith("drift")}
    conf2 = node_files("node2")["keepalived.conf"]
    changed = conf2.replace("vrrp_script chk_galera {\n    script \"/etc/keepalived/check_galera.sh\"\n"
                            "    interval 3\n    weight -20", "vrrp_script chk_galera {\n    script "
                            "\"/etc/keepalived/check_galera.sh\"\n    interval 3\n    weight -30")
    assert changed != conf2
    found = hazards(seed_reads({("node2", "keepalived.conf"): changed}), CFG)
    drift = next(h for h in found if h.code == "drift-keepalived")
    assert "vrrp_script chk_galera > weight -30" in drift.why and "weight -20" in drift.why
    # a different script on node2: named by line, not shown
    check = node_files("node2")["check_galera.sh"].replace("grep Primary", "grep -q Primary")
    found = hazards(seed_reads({("node2", "check_galera.sh"): check}), CFG)
    sd = next(h for h in found if h.code == "drift-script")
    assert "(lines 2)" in sd.title and "grep" not in sd.title + sd.why


def _unicast(conf: str, src: str, peer: str) -> str:
    return conf.replace("    advert_int 1\n", f"    advert_int 1\n    unicast_src_ip {src}\n"
                                                 f"    unicast_peer {{\n        {peer}\n    }}\n")


def test_unicast_and_vrid() -> None:
    c1, c2 = node_files("node1")["keepalived.conf"], node_files("node2")["keepalived.conf"]
    good = {("node1", "keepalived.conf"): _unicast(c1, IPS["node1"], IPS["node2"]),
            ("node2", "keepalived.conf"): _unicast(c2, IPS["node2"], IPS["node1"])}
    found = codes(hazards(seed_reads(good), CFG))
    assert "unicast-mismatch" not in found and "drift-keepalived" not in found
    wrong = {**good, ("node1", "keepalived.conf"): _unicast(c1, IPS["node1"], "192.168.56.103")}
    assert "unicast-mismatch" in codes(hazards(seed_reads(wrong), CFG))
    half = {("node1", "keepalived.conf"): _unicast(c1, IPS["node1"], IPS["node2"])}
    assert "unicast-mismatch" in codes(hazards(seed_reads(half), CFG))
    vrid = {("node2", "keepalived.conf"): c2.replace("virtual_router_id 51", "virtual_router_id 52")}
    found_v = hazards(seed_reads(vrid), CFG)
    assert "vrid-mismatch" in codes(found_v) and exit_code(found_v) == 2


def test_keepalived_without_json() -> None:
    plain = "Keepalived v2.2.7 (01/16,2022)\n\nconfigure options: --prefix=/usr --enable-snmp\n"
    assert parse_keepalived_version(plain).value.json is False
    files = {n: node_files(n) for n in IPS}
    assert "keepalived-no-json" in codes(hazards(reads_of(files, plain), CFG))


def test_unreachable_node_is_critical() -> None:
    from hatui.confmodel import NodeConfigRead

    reads = [*seed_reads()[:1], NodeConfigRead("node2", False, error="node2: no answer within 20.0 s")]
    found = hazards(reads, CFG)
    assert "doctor-unreachable" in codes(found) and exit_code(found) == 2


def test_drbd_dump_text_and_xml_agree() -> None:
    files = node_files("node1")
    x = parse_drbd_dump_xml(files["drbdadm-dump.xml"]).value
    t = parse_drbd_dump(files["drbdadm-dump.txt"]).value
    assert x == t and x is not None and x[0].option("net", "protocol") == "C"
    with_policies = files["drbdadm-dump.xml"].replace(
        '<option name="protocol" value="C"/>',
        '<option name="protocol" value="C"/>\n<option name="after-sb-0pri" value="discard-zero-changes"/>'
        '<option name="after-sb-1pri" value="discard-secondary"/><option name="after-sb-2pri" value="disconnect"/>'
        '<option name="fencing" value="resource-only"/>')
    assert parse_drbd_dump_xml(with_policies).value[0].option("net", "fencing") == "resource-only"
    files2 = {n: {**node_files(n), "drbdadm-dump.xml": with_policies} for n in IPS}
    assert "drbd-policies" not in codes(hazards(reads_of(files2), CFG))
    assert parse_drbd_dump_xml('<!DOCTYPE x [<!ENTITY a "b">]><config/>').value is None


def test_keepalived_conf_parser() -> None:
    conf = parse_keepalived_conf(node_files("node1")["keepalived.conf"]).value
    assert conf is not None
    inst = conf.instance("VI_1")
    assert inst is not None and (inst.vrid, inst.priority, inst.advert_int_s, inst.auth_type) == (51, 100, 1.0, "PASS")
    assert [n for n, _ in inst.track_scripts] == ["chk_mysql", "chk_galera", "chk_drbd"]
    assert {s.name: (s.interval_s, s.weight, s.fall, s.rise) for s in conf.scripts.values()} == {
        "chk_mysql": (3.0, -20, 1, 1), "chk_galera": (3.0, -20, 1, 1), "chk_drbd": (3.0, -20, 1, 1)}
    lab = parse_keepalived_conf(nodefiles.KEEPALIVED_CONF.format(
        node="node1", state="MASTER", priority=100, auth_pass="x", vip="10.0.0.1", prefixlen=24,
        maintenance=nodefiles.MAINTENANCE_FILE)).value
    assert lab is not None and lab.track_files["maintenance"].file == nodefiles.MAINTENANCE_FILE
    assert not re.search("auth_pass x", repr(lab))


@pytest.mark.parametrize("as_json", [False, True])
def test_output_renders(as_json: bool) -> None:
    reads = seed_reads()
    found = hazards(reads, CFG)
    out = to_json(reads, found) if as_json else to_text(reads, found)
    if as_json:
        doc = json.loads(out)
        assert doc["exit"] == 2 and {h["code"] for h in doc["hazards"]} == SEED_HAZARDS
    else:
        assert out.startswith("hatui doctor: 2 of 2 nodes read; 1 critical")


def test_emulator_dump_xml_follows_drbd_utils() -> None:
    """The emulator's dump-xml: one <config> with the resource, hosts and net section, as
    user/v84/drbdadm_main.c adm_dump_xml() prints it; the fixture is what it printed for the seed."""
    root = ET.fromstring(node_files("node1")["drbdadm-dump.xml"])
    assert root.tag == "config" and root.get("file") == "/etc/drbd.conf"
    res = root.find("resource")
    assert res is not None and res.get("conf-file-line") == "/etc/drbd.d/r0.res:1"
    assert [h.get("name") for h in res.findall("host")] == ["node1", "node2"]
    text = node_files("node1")["drbdadm-dump.txt"]
    assert "        protocol           C;\n" in text  # printA: name padded to 16 at indent 2, value %3s
    assert "        address          ipv4 192.168.56.101:7789;\n" in text  # IPV4FMT


def test_a_maintenance_hook_under_another_name_is_a_hazard() -> None:
    """The live switchover finds the hook by the basename of actions.maintenance_file (keepalived's data
    dump names track_files, not files): a hook on the right file under another name is refused there."""
    from hatui_lab.netplan import plan

    def reads(rename: bool):
        out = []
        for n in ("node1", "node2"):
            conf = nodefiles.render_keepalived(plan(), n, "pw")
            if rename:
                conf = conf.replace("track_file maintenance {", "track_file pin {").replace(
                    "        maintenance\n", "        pin\n")
            files = {**node_files(n), "keepalived.conf": conf}
            out.append(read_from_raw(n, *raw_for(n, files), CFG.vip))
        return out

    assert "maintenance-hook-name" not in codes(hazards(reads(False), CFG))
    found = {h.code: h for h in hazards(reads(True), CFG)}
    assert "maintenance-hook-missing" not in found
    h = found["maintenance-hook-name"]
    assert h.nodes == ("node1", "node2") and "not named maintenance" in h.title
    assert "`pin` on node1" in h.why and "Rename the track_file to maintenance" in h.fix
