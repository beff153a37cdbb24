"""What the keepalived and DRBD probes run on a node (the exact shell text, as root and through sudo) and how
the keepalived reader pipelines its dumps from cycle to cycle, with scripted outputs."""

from __future__ import annotations

import asyncio
import json

import pytest

from hatui.model import CommandResult, TrackFile, TrackScript, VrrpInstance
from hatui.privilege import Root
from hatui.probes import drbd, keepalived
from hatui.probes.keepalived import (
    DATA_FILE,
    JSON_FILE,
    KeepalivedReader,
    dump_command,
    merge_vrrp,
    parse_signums,
    signal_command,
    vrrp_from_raw,
    vrrp_key,
)

SUDO = Root("sudo")
IS_KA = 'read -r P < /run/keepalived.pid 2>/dev/null && kill -0 "$P" 2>/dev/null && read -r C < "/proc/$P/comm" ' \
        '2>/dev/null && [ "$C" = keepalived ]'
IS_KA_SUDO = 'read -r P < /run/keepalived.pid 2>/dev/null && read -r C < "/proc/$P/comm" 2>/dev/null && ' \
             '[ "$C" = keepalived ]'


def test_keepalived_commands_as_root():
    assert keepalived.is_keepalived() == IS_KA
    assert keepalived.pid_command() == IS_KA + ' && echo "$P"'
    assert dump_command(JSON_FILE) == "[ -r /tmp/keepalived.json ] && printf '%s\\n' \"$(< /tmp/keepalived.json)\""
    assert dump_command(DATA_FILE) == "[ -r /tmp/keepalived.data ] && printf '%s\\n' \"$(< /tmp/keepalived.data)\""
    assert dump_command("/var/run/my dump") == "[ -r '/var/run/my dump' ] && printf '%s\\n' \"$(< '/var/run/my dump')\""
    assert signal_command(36, 10) == (
        f"{IS_KA} && rm -f /tmp/keepalived.json /tmp/keepalived.data && kill -36 \"$P\" 2>/dev/null && "
        "kill -10 \"$P\" 2>/dev/null; true")
    assert signal_command(40, 12, pid_file="/run/ka 2.pid", dumps=("/tmp/a b",)).startswith(
        "read -r P < '/run/ka 2.pid' 2>/dev/null && kill -0")
    assert "rm -f '/tmp/a b' && kill -40" in signal_command(40, 12, dumps=("/tmp/a b",))


def test_keepalived_commands_through_sudo():
    assert keepalived.is_keepalived(root=SUDO) == IS_KA_SUDO
    assert dump_command(JSON_FILE, SUDO) == "[ -e /tmp/keepalived.json ] && sudo -n cat /tmp/keepalived.json"
    assert dump_command("/tmp/x y", SUDO) == "[ -e '/tmp/x y' ] && sudo -n cat '/tmp/x y'"
    assert signal_command(36, 10, root=SUDO) == (
        f"{IS_KA_SUDO} && sudo -n rm -f /tmp/keepalived.json /tmp/keepalived.data && "
        "sudo -n pkill --signal 36 --pidfile /run/keepalived.pid --exact keepalived && "
        "sudo -n pkill --signal 10 --pidfile /run/keepalived.pid --exact keepalived; true")
    assert signal_command(36, 10, pid_file="/run/other.pid", root=SUDO).startswith(
        "read -r P < /run/other.pid 2>/dev/null && read -r C")
    sig = keepalived.signums_command(SUDO)
    assert 'sudo -n pkill --signal "$J" --pidfile /run/keepalived.pid --exact keepalived 2>&1' in sig
    assert 'kill -"$J" "$P"' in keepalived.signums_command() and "pkill" not in keepalived.signums_command()
    assert keepalived.root_argvs((40, 12)) == [
        ("rm", "-f", JSON_FILE, DATA_FILE), ("cat", JSON_FILE), ("cat", DATA_FILE),
        ("pkill", "--signal", "40", "--pidfile", "/run/keepalived.pid", "--exact", "keepalived"),
        ("pkill", "--signal", "12", "--pidfile", "/run/keepalived.pid", "--exact", "keepalived")]


@pytest.mark.parametrize("text,nums", [("36 10\n", (36, 10)), ("40 12", (40, 12)), ("", (36, 10)), ("36", (36, 10)),
                                       ("1 2 3", (36, 10)), ("x 36 y 10", (36, 10)), ("3600 10", (36, 10)),
                                       ("34 4", (34, 4))])
def test_parse_signums(text, nums):
    assert parse_signums(text) == nums


def test_vrrp_key():
    assert vrrp_key(None) is None and vrrp_key("") is None and vrrp_key("  \n") is None
    text = json.dumps([{"data": {"iname": "VI_1", "state": 2, "effective_priority": 100, "vrid": 51}}])
    assert vrrp_key(text) == ('"VI_1"', "2", "100")


def _inst(**kw) -> VrrpInstance:
    base = dict(name="VI_1", state="MASTER", wanted_state=None, base_priority=100, effective_priority=100, vrid=51,
                vips_held=(), track_scripts=(TrackScript("chk", None, "unknown"),), last_transition=None,
                master_router=None, master_priority=None, fault_count=None)
    base.update(kw)
    return VrrpInstance(**base)


def test_merge_vrrp_takes_the_scripts_files_and_faults_from_the_data_dump():
    js = (_inst(), _inst(name="VI_2"))
    data = (_inst(track_scripts=(TrackScript("chk", -20, "BAD"),), track_files=(TrackFile("m", 1, 0),),
                  fault_count=2, effective_priority=1),)
    merged = merge_vrrp(js, data)
    assert merged[0].track_scripts == (TrackScript("chk", -20, "BAD"),) and merged[0].track_files == (
        TrackFile("m", 1, 0),) and merged[0].fault_count == 2 and merged[0].effective_priority == 100
    assert merged[1] == js[1]
    # an empty data dump's lists do not blank the JSON's; an unknown fault count keeps the JSON's
    kept = merge_vrrp((_inst(fault_count=5),), (_inst(track_scripts=(), fault_count=None),))
    assert kept[0].track_scripts == (TrackScript("chk", None, "unknown"),) and kept[0].fault_count == 5
    assert kept[0].track_files == ()
    zero = merge_vrrp((_inst(fault_count=5),), (_inst(fault_count=0),))
    assert zero[0].fault_count == 0
    assert merge_vrrp(None, data) == data and merge_vrrp((), None) == () and merge_vrrp(js, ()) == js


def test_vrrp_from_raw():
    assert vrrp_from_raw({}) == ((), False, [])
    assert vrrp_from_raw({"ka_pid": CommandResult(1, "")}) == ((), False, [])
    insts, running, notes = vrrp_from_raw({"ka_pid": CommandResult(0, "123\n"), "ka_json": CommandResult(1, "")})
    assert (insts, running) == ((), True)
    assert notes == ["keepalived: no fresh JSON dump (keepalived did not write it after being asked: busy, hung, "
                     "or built without JSON support)"]
    js = json.dumps([{"data": {"iname": "VI_1", "state": 9}}])
    insts, running, notes = vrrp_from_raw({"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, js)})
    assert [i.state for i in insts] == ["unknown"] and notes == ["VI_1: state '9' not understood"]
    insts, _, notes = vrrp_from_raw({"ka_pid": CommandResult(0, "1"), "ka_data": CommandResult(0, "junk\n")})
    assert insts == () and notes == ["no ' VRRP Instance = ' found"]


class Node:
    """Scripted outputs of one node: what each command name answers this cycle."""

    def __init__(self) -> None:
        self.more: list[dict[str, str]] = []
        self.answer: dict[str, CommandResult] = {}

    async def run_more(self, cmds: dict[str, str]) -> dict[str, CommandResult]:
        self.more.append(cmds)
        return {k: self.answer[k] for k in cmds if k in self.answer}


def _json(state: int, prio: int) -> str:
    return json.dumps([{"data": {"iname": "VI_1", "state": state, "effective_priority": prio}}])


def test_the_reader_pipelines_the_dumps():
    r = KeepalivedReader()
    first = r.commands(0)
    assert list(first) == ["signums", "ka_pid", "ka_json", "ka_data"]
    node = Node()
    res = {"signums": CommandResult(0, "40 12\n"), "ka_pid": CommandResult(0, "1"),
           "ka_json": CommandResult(0, _json(2, 100)), "ka_data": CommandResult(0, "   Password = s3cret\n")}
    asyncio.run(r.absorb(res, node.run_more))
    assert r.signums == (40, 12) and node.more == []
    assert "s3cret" not in res["ka_data"].output and res["ka_data"].exit_status == 0
    # next cycles: no signums; the signal with the learned numbers; the data dump every DATA_EVERY cycles
    assert list(r.commands(1)) == ["ka_pid", "ka_json", "ka_signal"]
    assert r.commands(1)["ka_signal"] == signal_command(40, 12)
    assert list(r.commands(3)) == ["ka_pid", "ka_json", "ka_data", "ka_signal"]
    # the JSON did not move: the data dump held is filled in, nothing fetched
    res = {"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, _json(2, 100))}
    asyncio.run(r.absorb(res, node.run_more))
    assert node.more == [] and res["ka_data"].output == r.last_data.output
    # the JSON moved (state, priority): the data dump held is stale, it is fetched at once
    node.answer = {"ka_data": CommandResult(2, "fresh\n   Password = other\n")}
    res = {"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, _json(1, 80))}
    asyncio.run(r.absorb(res, node.run_more))
    assert node.more == [{"ka_data": dump_command(DATA_FILE)}]
    assert res["ka_data"].exit_status == 2 and "other" not in res["ka_data"].output
    assert r.key_at_data == vrrp_key(_json(1, 80))
    # a fetch that brings nothing keeps the old dump, and it is asked for again next time
    node.answer, node.more = {}, []
    res = {"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, _json(2, 100))}
    asyncio.run(r.absorb(res, node.run_more))
    assert len(node.more) == 1 and "fresh" in res["ka_data"].output
    # without a JSON read this cycle the key is None: it differs, the dump is fetched
    node.more = []
    asyncio.run(r.absorb({"ka_pid": CommandResult(0, "1")}, node.run_more))
    assert len(node.more) == 1


def test_the_reader_through_sudo_and_before_any_data():
    r = KeepalivedReader(SUDO)
    assert r.commands(1)["ka_data"] == dump_command(DATA_FILE, SUDO)  # no data held yet: asked every cycle
    assert r.commands(1)["ka_pid"] == keepalived.pid_command(root=SUDO)
    node = Node()
    res = {"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, _json(2, 100))}
    asyncio.run(r.absorb(res, node.run_more))
    assert node.more == [] and "ka_data" not in res and r.last_data is None and r.key_at_data is None
    r.signums = (36, 10)
    node.answer = {"ka_data": CommandResult(0, "x")}
    r.last_data, r.key_at_data = CommandResult(0, "old"), ("k",)
    asyncio.run(r.absorb({"ka_json": CommandResult(0, _json(2, 100))}, node.run_more))
    assert node.more == [{"ka_data": dump_command(DATA_FILE, SUDO)}]


def test_drbd_commands():
    cmds = drbd.live_commands("/proc/drbd", "r0", "/mnt/drbd")
    assert cmds == {
        "drbd_proc": "DRBD_PROC=$(< /proc/drbd) 2>/dev/null; printf '%s\\n' \"$DRBD_PROC\"",
        "drbd_events": "[[ \"$DRBD_PROC\" =~ [0-9]+:\\ cs: ]] || { EV=$(drbdsetup events2 --now --statistics r0 2>&1); "
                       "EV_RC=$?; printf '%s\\n' \"$EV\"; }",
        "drbd_status": "[[ \"$DRBD_PROC\" =~ [0-9]+:\\ cs: ]] || { [ \"$EV_RC\" = 0 ] && [ -n \"$EV\" ]; } || "
                       "drbdadm status r0",
        "mounted": "M=1; while read -r _ mp _; do [ \"$mp\" = /mnt/drbd ] && M=0; done < /proc/self/mounts; [ $M = 0 ]",
    }
    sudo = drbd.live_commands("/proc/drbd", "r0", "/mnt/drbd", SUDO)
    assert sudo["drbd_status"].endswith("sudo -n drbdadm status r0")
    assert drbd.events_follow_command("/proc/drbd", "r0") == (
        "[[ \"$(< /proc/drbd)\" =~ [0-9]+:\\ cs: ]] 2>/dev/null || drbdsetup events2 r0")
    assert drbd.events_follow_command("/run/x", "r1", SUDO).endswith("|| sudo -n drbdsetup events2 r1")
    assert drbd.root_argvs("r1") == [("drbdsetup", "events2", "--now", "--statistics", "r1"),
                                     ("drbdadm", "status", "r1"), ("drbdsetup", "events2", "r1")]
    with pytest.raises(ValueError):
        drbd.live_commands("relative", "r0", "/mnt")


PROC_84 = ("version: 8.4.11 (api:1/proto:86-101)\n"
           " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
           " 1: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n")
EVENTS_9 = "exists resource name:r0 role:Secondary\nexists -\n"
STATUS_9 = "r0 role:Primary\n  disk:UpToDate\n"


def test_drbd_from_raw_picks_the_source_there_is():
    res, notes = drbd.drbd_from_raw(PROC_84, "", "/dev/drbd1", "r0")
    assert [(r.name, r.role, r.connection_state) for r in res] == [("drbd0", "Primary", "Connected"),
                                                                    ("r0", "Secondary", "Connecting")]
    assert notes == []
    header_only = "version: 9.2.4 (api:2/proto:86-122)\n"
    res, _ = drbd.drbd_from_raw(header_only, EVENTS_9, "/dev/drbd0", "r0")
    assert [(r.name, r.role, r.source) for r in res] == [("r0", "Secondary", "events2")]
    res, _ = drbd.drbd_from_raw(header_only, "", "/dev/drbd0", "r0", STATUS_9)
    assert [(r.name, r.role, r.source) for r in res] == [("r0", "Primary", "status")]
    res, notes = drbd.drbd_from_raw("", "garbage\n", "/dev/drbd0", "r0", STATUS_9)
    assert [r.source for r in res] == ["status"] and notes == ["not an events2 line: 'garbage'"]
    assert drbd.drbd_from_raw("", "", "/dev/drbd0", "r0") == (
        (), ["DRBD: no status (no /proc/drbd, and drbdsetup and drbdadm printed nothing)"])
    res, notes = drbd.drbd_from_raw("", "", "/dev/drbd0", "r0", "# No currently configured DRBD found.\n")
    assert res == () and notes == []


def test_the_first_cycle_learns_the_signals_and_waits_for_both_dumps():
    assert keepalived.signums_command() == (
        "J=$(keepalived --signum=JSON 2>/dev/null); D=$(keepalived --signum=DATA 2>/dev/null); echo $J $D; "
        f"if {IS_KA}; then "
        "M() { stat -c %.9Y /tmp/keepalived.json /tmp/keepalived.data 2>/dev/null | tr '\\n' ' '; }; "
        "B=$(M); [ -n \"$J\" ] && kill -\"$J\" \"$P\"; [ -n \"$D\" ] && kill -\"$D\" \"$P\"; "
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
        "A=$(M); [ \"$A\" != \"$B\" ] && [ $(echo $A | wc -w) -ge 2 ] && break; sleep 0.05; done; fi")
    assert keepalived.pid_command(root=SUDO) == IS_KA_SUDO + ' && echo "$P"'
    assert keepalived.pid_command("/run/k.pid").startswith("read -r P < /run/k.pid 2>/dev/null && kill -0")


def test_a_data_dump_read_this_cycle_is_not_fetched_again():
    r = KeepalivedReader()
    r.signums, r.last_data, r.key_at_data = (36, 10), CommandResult(0, "old"), ("old key",)
    node = Node()
    res = {"ka_pid": CommandResult(0, "1"), "ka_json": CommandResult(0, _json(1, 80)),
           "ka_data": CommandResult(0, "new")}
    asyncio.run(r.absorb(res, node.run_more))
    assert node.more == [] and r.last_data.output == "new" and r.key_at_data == vrrp_key(_json(1, 80))
