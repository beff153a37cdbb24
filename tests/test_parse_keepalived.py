"""keepalived parsers on real dumps (exporter fixtures, an issue excerpt, and captures from the lab)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hatui.probes import keepalived as ka

FIX = Path(__file__).parent / "fixtures"
LAB_PASSWORD = "Zq8pW3xk"  # what the lab fixtures hold in place of the lab's generated password


def fx(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


# ---- JSON ------------------------------------------------------------------------------------------
def test_json_lab_master():
    p = ka.parse_keepalived_json(fx("lab/keepalived.json-v2.2.7-node1-lab.txt"))
    assert p.unparsed == ()
    (i,) = p.value
    assert (i.name, i.state, i.wanted_state, i.vrid) == ("VI_1", "MASTER", "MASTER", 51)
    assert (i.base_priority, i.effective_priority) == (100, 80)
    assert i.vips_held == ("198.18.0.100",) and i.vips[0].prefix_len == 24 and i.vips[0].device == "eth0"
    assert i.last_transition == 1795587636.551706
    assert i.master_priority is None and i.master_router is None
    assert (i.become_master_count, i.release_master_count, i.auth_failures) == (1, 0, 0)
    assert [s.name for s in i.track_scripts] == [
        "'/etc/keepalived/check_mysql.sh'", "'/etc/keepalived/check_galera.sh'", "'/etc/keepalived/check_drbd.sh'"]
    assert {s.status for s in i.track_scripts} == {"unknown"}  # JSON carries no script status
    assert i.interface == "eth0" and i.source == "json"


def test_json_lab_backup():
    (i,) = ka.parse_keepalived_json(fx("lab/keepalived.json-v2.2.7-node2-lab.txt")).value
    assert (i.state, i.base_priority, i.effective_priority, i.master_priority) == ("BACKUP", 90, 70, 80)
    assert i.vips_held == () and i.vips[0].installed is False


def test_json_reconstructed_sample():
    (i,) = ka.parse_keepalived_json(fx("keepalived/keepalived.json-v1-array-master-reconstructed.txt")).value
    assert (i.state, i.vrid, i.vips_held) == ("MASTER", 51, ("10.0.0.100",))


def test_json_version_2_and_state_integers():
    item = json.loads(fx("lab/keepalived.json-v2.2.7-node1-lab.txt"))[0]
    for number, name in ka.STATE_BY_NUMBER.items():
        item["data"]["state"] = number
        v2 = json.dumps({"vrrp": [item], "track_process": []})
        assert ka.parse_keepalived_json(v2).value[0].state == name
    item["data"]["state"] = 42
    odd = ka.parse_keepalived_json(json.dumps([item]))
    assert odd.value[0].state == "unknown" and odd.unparsed


@pytest.mark.parametrize("name", [f"lab/keepalived.{kind}-v2.2.7-{node}-lab.txt"
                                  for kind in ("json", "data") for node in ("node1", "node2")])
def test_password_never_reaches_the_result(name):
    text = fx(name)
    assert LAB_PASSWORD in text  # the fixture does hold it, as keepalived 2.2.7 prints it
    parse = ka.parse_keepalived_json if name.endswith(("json-v2.2.7-node1-lab.txt", "json-v2.2.7-node2-lab.txt")) \
        else ka.parse_keepalived_data
    p = parse(text)
    assert p.value
    assert LAB_PASSWORD not in repr(p) and LAB_PASSWORD not in p.raw
    # and not even when the dump is cut in the middle of the password
    cut = text[: text.index(LAB_PASSWORD) + 4]
    assert LAB_PASSWORD[:4] not in repr(parse(cut))


def test_password_of_v135_sample_is_dropped():
    p = ka.parse_keepalived_data(fx("keepalived/keepalived.data-v1.3.5-issue150-excerpt.txt"))
    assert "Password = 1111" in fx("keepalived/keepalived.data-v1.3.5-issue150-excerpt.txt")
    assert "1111" not in repr(p)


# ---- data dump -------------------------------------------------------------------------------------
def test_data_lab_master_with_script_status_and_track_file():
    p = ka.parse_keepalived_data(fx("lab/keepalived.data-v2.2.7-node1-lab.txt"))
    assert p.unparsed == ()
    (i,) = p.value
    assert (i.state, i.wanted_state, i.vrid, i.base_priority, i.effective_priority) == ("MASTER", "MASTER", 51, 100, 80)
    assert i.vips_held == ("198.18.0.100",) and i.interface == "eth0"
    assert [(s.name, s.weight, s.status) for s in i.track_scripts] == [
        ("chk_mysql", -20, "GOOD"), ("chk_galera", -20, "GOOD"), ("chk_drbd", -20, "BAD")]
    assert [(f.name, f.weight, f.value) for f in i.track_files] == [("maintenance", 1, 0)]
    assert i.last_transition == 1795587636.551706 and i.fault_count == 0


def test_data_lab_backup_names_the_master():
    (i,) = ka.parse_keepalived_data(fx("lab/keepalived.data-v2.2.7-node2-lab.txt")).value
    assert (i.state, i.master_router, i.master_priority) == ("BACKUP", "198.18.0.11", 80)
    assert i.vips_held == () and i.vips[0].address == "198.18.0.100"


def test_data_v227_exporter_header_variant():
    (i,) = ka.parse_keepalived_data(fx("keepalived/keepalived.data-v2.2.7-master-mehdy-exporter.txt")).value
    assert (i.name, i.base_priority, i.effective_priority) == ("VI_227_1", 50, 150)
    assert i.vips_held == ("10.1.0.1",)  # "Virtual IP (1):"; the excluded VIP is not a VIP
    assert [v.address for v in i.vips] == ["10.1.0.1"]
    assert i.track_scripts[0].name == "chk_script" and i.track_scripts[0].weight == 100
    assert i.track_scripts[0].status == "unknown"  # the fixture's script section names "check_script"
    assert i.last_transition == 1673674892.34836


def test_data_v2010_count_header_without_set_marker():
    p = ka.parse_keepalived_data(fx("keepalived/keepalived.data-v2.0.10-master-mehdy-exporter.txt"))
    (i,) = p.value
    assert (i.name, i.state, i.vrid, i.effective_priority) == ("VI_1", "MASTER", 52, 50)
    assert i.vips_held == ("2.2.2.2",)  # inferred from MASTER: 2.0 has no " set"
    assert any("inferred" in n for n in p.unparsed)
    assert [(s.name, s.weight, s.status) for s in i.track_scripts] == [("chk_service", 0, "GOOD")]
    assert i.last_transition == 1595875667.0


def test_data_v135_nested_script():
    (i,) = ka.parse_keepalived_data(fx("keepalived/keepalived.data-v1.3.5-issue150-excerpt.txt")).value
    assert (i.name, i.state, i.vrid, i.base_priority, i.effective_priority) == ("gql_5111", "MASTER", 100, 110, None)
    assert i.interface == "ens192" and i.vips_held == ("10.72.63.100",)
    assert [(s.name, s.weight, s.status) for s in i.track_scripts] == [("chk_nginx_service", -10, "GOOD")]


# ---- stats -----------------------------------------------------------------------------------------


# ---- ip -o addr ------------------------------------------------------------------------------------
def test_ip_addr_finds_the_vip():
    p = ka.parse_ip_addr(fx("lab/ip-o-addr-node1-lab.txt"))
    assert p.unparsed == ()


def test_ip_addr_variants():
    text = ("3: eth1@if9    inet 10.0.0.5/24 brd 10.0.0.255 scope global dynamic noprefixroute eth1:vip\\       "
            "valid_lft 86000sec preferred_lft 86000sec\n"
            "3: eth1@if9    inet6 2001:db8::5/64 scope global \\       valid_lft forever preferred_lft forever\n")
    a, _b = ka.parse_ip_addr(text).value
    assert (a.ifname, a.address, a.label, a.scope) == ("eth1", "10.0.0.5", "eth1:vip", "global")


# ---- notify FIFO and commands ----------------------------------------------------------------------


def test_dump_commands():
    first = ka.KeepalivedReader().commands(1)
    assert next(iter(first)) == "signums" and "keepalived --signum=JSON" in first["signums"]
    assert "ka_signal" not in first  # the first cycle signals inside `signums` and waits for the dumps
    reader = ka.KeepalivedReader()
    reader.signums = (36, 10)
    later = reader.commands(2)
    assert list(later)[-1] == "ka_signal" and "kill -36" in later["ka_signal"]
    assert ka.parse_signums("36 10\n") == (36, 10) and ka.parse_signums("²² 1") == ka.DEFAULT_SIGNUMS
