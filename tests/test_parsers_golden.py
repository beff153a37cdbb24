"""The DRBD and keepalived parsers on every recorded output in tests/fixtures (and a few crafted edge cases): the
exact state each yields (every field of the parsed value) and the exact notes, kept in
tests/fixtures/parsed.json.  What an operator sees of a node — its role, disk, connection, resync progress, VRRP
state, priorities, track scripts — is what these values hold.  A change shows here as a diff: review it, then
rewrite the file with `HATUI_UPDATE_PARSED=1 python3 -m pytest tests/test_parsers_golden.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hatui.probes import drbd, keepalived

FIX = Path(__file__).parent / "fixtures"
PARSED_FILE = FIX / "parsed.json"


def _parsers_for(path: Path):
    """The parsers that read this kind of output (by the fixture's name)."""
    name = path.name
    if path.parent.name == "events2":
        return {"events2": drbd.parse_events2}  # (its events: each line through parse_event_line)
    if name.startswith("proc_drbd"):
        return {"proc": drbd.parse_proc_drbd}
    if name.startswith(("drbdadm-status", "drbdsetup-status-verbose")):
        return {"status": drbd.parse_drbdadm_status}
    if name.startswith(("drbdadm-connect", "drbdadm-primary", "drbdadm-secondary", "drbdadm-invalidate",
                        "drbdadm-errors", "journal-primary")):
        return {"error": drbd.parse_drbd_error, "error exit 10": lambda t: drbd.parse_drbd_error(t, 10)}
    if name.startswith("keepalived.json"):
        return {"json": keepalived.parse_keepalived_json}
    if name.startswith("keepalived.data"):
        return {"data": keepalived.parse_keepalived_data}
    if name.startswith("ip-o-addr"):
        return {"ip": keepalived.parse_ip_addr}
    return {}


def _fixtures() -> list[Path]:
    dirs = ("drbd84", "drbd9", "events2", "keepalived", "lab")
    return sorted(p for d in dirs for p in (FIX / d).glob("*.txt") if _parsers_for(p))


# crafted inputs for what no recorded output shows
CRAFTED = {
    "status: peer device keys": ("status", (
        "r0 role:Primary suspended:user\n"
        "  volume:0 disk:UpToDate\n"
        "  volume:1 disk:Inconsistent\n"
        "  peer node-id:1 role:Secondary congested:yes\n"
        "    volume:0 replication:Established peer-disk:UpToDate peer-client:no resync-suspended:dependency\n"
        "        received:10 sent:20 out-of-sync:0\n"
        "    volume:1 replication:SyncSource peer-disk:Inconsistent done:12.5 dbdt1:2.5 eta:33 sent:99\n")),
    "status: connecting peer without keys": ("status", "r0 role:Secondary\n  disk:UpToDate\n"
                                                       "  peer connection:Connecting\n    volume:0\n"),
    "status: unknown words": ("status", "r0 role:Primary colour:blue\n  disk:Shiny\n  peer role:Boss\n"
                                        "    replication:Wandering peer-disk:Sad done:150\n"),
    "status: cut peer": ("status", "r0 role:Secondary\n  disk:UpToDate\n  peer\n"),
    "status: old disk key": ("status", "r0 role:Secondary\n  disk:UpToDate\n  peer role:Primary\n    disk:UpToDate\n"),
    "status: not a resource": ("status", "r0: role:Primary\nx=1 role:Primary\n  indented\n"),
    "status: twice the same": ("status", "r0 role:Primary\n  disk:UpToDate\nr0 role:Primary\n  disk:UpToDate\n"),
    "status: twice differing": ("status", "r0 role:Primary\n  disk:UpToDate\nr0 role:Secondary\n  disk:UpToDate\n"),
    "events2: resync from oos": ("events2", (
        "exists resource name:r0 role:Secondary suspended:no\n"
        "exists device name:r0 volume:0 minor:0 disk:Inconsistent size:1000\n"
        "exists connection name:r0 peer-node-id:1 conn-name:peer connection:Connected role:Primary\n"
        "exists peer-device name:r0 peer-node-id:1 conn-name:peer volume:0 replication:SyncTarget "
        "peer-disk:UpToDate out-of-sync:250\n"
        "exists -\n"
        "change peer-device name:r0 peer-node-id:1 conn-name:peer volume:0 out-of-sync:100 received:5\n")),
    "events2: oos larger than the device": ("events2", (
        "exists device name:r0 volume:0 minor:0 disk:Inconsistent size:100\n"
        "exists peer-device name:r0 conn-name:peer volume:0 replication:SyncTarget out-of-sync:250\n"
        "exists resource name:r0 role:Secondary\nexists -\n")),
    "events2: split brain": ("events2", (
        "exists resource name:r0 role:Primary\nexists connection name:r0 conn-name:peer connection:StandAlone\n"
        "exists -\ncall helper name:r0 conn-name:peer helper:split-brain\n")),
    "events2: split brain resolved": ("events2", (
        "exists resource name:r0 role:Primary\nexists connection name:r0 conn-name:peer connection:StandAlone\n"
        "exists -\ncall helper name:r0 conn-name:peer helper:split-brain\n"
        "change connection name:r0 conn-name:peer connection:Connected\n"
        "change peer-device name:r0 conn-name:peer volume:0 replication:SyncSource\n")),
    "events2: rename and destroy": ("events2", (
        "exists resource name:r0 role:Secondary\nexists device name:r0 volume:0 disk:UpToDate\n"
        "exists connection name:r0 conn-name:p connection:Connected role:Primary\n"
        "exists peer-device name:r0 conn-name:p volume:0 replication:Established peer-disk:UpToDate\n"
        "exists -\nrename resource name:r0 new_name:r1\n"
        "destroy peer-device name:r1 conn-name:p volume:0\ndestroy device name:r1 volume:0\n"
        "destroy connection name:r1 conn-name:p\n"
        "create resource name:r2 role:Primary\ndestroy resource name:r2\n- skipped 3 events\n"
        "2026-01-01T00:00:00.000000+00:00 change resource name:r1 role:Primary\n"
        "2026-13-01T00:00:00 change resource name:r1 role:Primary\nnotastamp change resource name:r1 role:x\n"
        "change resource name:r1 bare\nchange resource role:Primary\n")),
    "events2: progress at the edges": ("events2", "".join(
        f"exists device name:r{i} volume:0 disk:Inconsistent size:{size}\n"
        f"exists peer-device name:r{i} conn-name:peer volume:0 replication:SyncTarget out-of-sync:{oos}\n"
        f"exists resource name:r{i} role:Secondary\n"
        for i, (size, oos) in enumerate(((1, 0), (3, 1), (5, 5), (0, 0), (8, 0)))) + "exists -\n"),
    "events2: split brain kept until replicating": ("events2", (
        "exists resource name:r0 role:Primary\nexists connection name:r0 conn-name:peer connection:Connecting\n"
        "exists -\ncall helper name:r0 conn-name:peer helper:split-brain\n"
        "change peer-device name:r0 conn-name:peer volume:0 out-of-sync:4096\n"
        "change peer-device name:r0 conn-name:peer volume:0 replication:Off\n")),
    "events2: unknown names renamed or destroyed": ("events2", (
        "exists resource name:r0 role:Primary\nexists -\nrename resource name:rX new_name:rY\n"
        "destroy resource name:zz\n")),
    "events2: a peer device destroyed alone": ("events2", (
        "exists resource name:r0 role:Primary\n"
        "exists connection name:r0 conn-name:p connection:Connected role:Secondary\n"
        "exists peer-device name:r0 conn-name:p volume:0 replication:Established peer-disk:UpToDate\n"
        "exists peer-device name:r0 conn-name:p volume:1 replication:Established peer-disk:UpToDate\n"
        "exists -\ndestroy peer-device name:r0 conn-name:p volume:1\n")),
    "events2: a peer device without replication, odd words": ("events2", (
        "exists resource name:r0 role:Primary\n\n"
        "exists connection name:r0 conn-name:p connection:Weird role:Boss\n"
        "exists connection name:r0 conn-name:q connection:Connected role:Secondary\n"
        "exists peer-device name:r0 conn-name:q volume:0 peer-disk:UpToDate\nexists -\n")),
    "events2: second dump": ("events2", ("exists resource name:r0 role:Primary\nexists -\n"
                                         "exists resource name:r1 role:Secondary\nexists -\n")),
    "events2: nothing": ("events2", "garbage\n"),
    "proc: cut and odd": ("proc", ("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected\n"
                                   " 1: cs:Weird ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
                                   " 2: cs:Unconfigured\n 3: cs:SyncSource ro:Primary/Secondary ds:Odd/Inconsistent\n"
                                   "\t[=>..] sync'ed: 150.5% (10/100)M\n\tfinish: 1:02:03 speed: 1,024 (2,048) K/sec\n"
                                   " 4: cs:Connected ro:Primary/Secondary garbage\n"
                                   "version: 8.4.11 (api:1/proto:86-101)\nwhat\n")),
    "proc: drbd9 header": ("proc", "version: 9.2.4 (api:2/proto:86-122)\nTransports (api:18): tcp (9.2.4)\n"),
    "proc: transports only": ("proc", "Transports (api:18): tcp (9.2.4)\n"),
    "proc: empty": ("proc", "\n"),
    "proc: synctarget stalled": ("proc", (
        "version: 8.4.11 (api:1/proto:86-101)\n"
        " 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n"
        "    ns:0 nr:100 dw:100 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:50\n"
        "\t[=====>..............] sync'ed: 33.3% (50/75)K\n"
        "\tfinish: 0:00:10 speed: 5 (7 -- 6) want: 8 K/sec (stalled)\n"
        "\t 33% sector pos: 0/0\n")),
    "error: command line": ("error", (
        "0: State change failed: (-2) Need access to UpToDate data\n"
        "Command 'drbdsetup-84 primary 0' terminated with exit code 17\n"
        "additional info from kernel:\nsome detail\n")),
    "error: failure": ("error", "r0: Failure: (158) Unknown resource\n"),
    "error: no such": ("error", "r9: No such resource\n"),
    "error: no 8.4 support": ("error", "drbdadm was built without support for drbd kernel code 8.4\n"),
    "error: noise only": ("error exit 3", "DRBD module version: 9.2\nuserland version: 9.20\nsomething broke\n"),
    "error: nothing": ("error", ""),
    "error: nested command": ("error", (
        "Command 'x' terminated with exit code 1' terminated with exit code 2\n")),
    "error: long exit code": ("error", "Command 'x' terminated with exit code 1234567890123\n"),
    "error: words after the exit code": ("error", "Command 'x' terminated with exit code 17 more words\n"),
    "error: two command heads": ("error", "Command 'a Command 'b' terminated with exit code 1\n"),
    "error: tail before the head": ("error", "' terminated with exit code 5 Command 'x\n"),
    "error: object with a colon": ("error", "a:b: State change failed: (-1) Multiple primaries not allowed\n"),
    "error: no object": ("error", ": State change failed: (-12) Device is held open by someone\n"),
    "error: command without a number": ("error", "Command 'x' terminated with exit code zz\n"),
    "json: odd items": ("json", json.dumps({"vrrp": [
        {"data": {"iname": "VI_1", "state": 7, "wantstate": 2, "base_priority": 100.0, "effective_priority": True,
                  "vrid": 51, "vips": ["10.0.0.100/24 dev eth0 scope global"], "vipset": True,
                  "track_script": ["chk_a", 5], "last_transition": 0, "master_priority": 90,
                  "ifp_ifname": "eth0"},
         "stats": {"become_master": 2, "release_master": 1, "auth_failure": 3}},
        {"data": {"iname": "VI_2", "state": 1, "master_priority": 90, "last_transition": 1700000000.5,
                  "vips": ["10.0.0.101/33", "not-an-ip", "10.0.0.102 dev eth1 set"]},
         "stats": {"invalid_authtype": 1, "authtype_mismatch": 2}},
        {"stats": {}}, 5]})),
    "json: twice differing, full": ("json", json.dumps([
        {"data": {"iname": "VI_1", "state": 1, "wantstate": 2, "effective_priority": 90, "master_priority": 100,
                  "vips": ["10.0.0.100/24 dev eth0 scope global set"], "vrid": 51}},
        {"data": {"iname": "VI_1", "state": 1, "wantstate": 1, "effective_priority": 80, "master_priority": 100,
                  "vips": ["10.0.0.100/24 dev eth0 scope global set"], "vrid": 51}}])),
    "data: twice differing": ("data", (
        "------< VRRP Topology >------\n VRRP Instance = VI_1\n   State = BACKUP\n   Master router = 10.0.0.1\n"
        "   Master priority = 100\n   Wantstate = BACKUP\n   Effective priority = 90\n"
        " VRRP Instance = VI_1\n   State = BACKUP\n   Master router = 10.0.0.2\n   Master priority = 100\n")),
    "json: not a list": ("json", "{\"a\": 1}"),
    "json: twice differing": ("json", json.dumps([{"data": {"iname": "VI_1", "state": 2}},
                                                  {"data": {"iname": "VI_1", "state": 1}},
                                                  {"data": {"iname": "VI_3", "state": 1}},
                                                  {"data": {"iname": "VI_3", "state": 1}}])),
    "json: not json": ("json", "{"),
    "ip: odd lines": ("ip", ("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
                             "2: eth0@if5    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0\n"
                             "2: eth0    inet 10.0.0.100/24 scope global secondary eth0:vip\n"
                             "2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever\n"
                             "2: eth0    link/ether 00:00:00:00:00:00\n"
                             "3: eth1    inet 10.0.0.300/24 scope global eth1\n"
                             "4: eth2    inet 10.0.0.5/40\nnonsense\n")),
    "ip: empty": ("ip", ""),
}


def _run(kind: str, text: str):
    parser = {"status": drbd.parse_drbdadm_status, "events2": drbd.parse_events2, "proc": drbd.parse_proc_drbd,
              "error": drbd.parse_drbd_error, "error exit 3": lambda t: drbd.parse_drbd_error(t, 3),
              "json": keepalived.parse_keepalived_json, "data": keepalived.parse_keepalived_data,
              "ip": keepalived.parse_ip_addr}[kind]
    return parser(text)


def _record(result) -> dict:
    return {"value": repr(result.value), "notes": list(result.unparsed)}


def test_every_parsed_state_and_note():
    got: dict[str, dict] = {}
    for path in _fixtures():
        text = path.read_text()
        key = str(path.relative_to(FIX))
        got[key] = {name: _record(fn(text)) for name, fn in sorted(_parsers_for(path).items())}
    for name, (kind, text) in CRAFTED.items():
        got[name] = {kind: _record(_run(kind, text))}
    if os.environ.get("HATUI_UPDATE_PARSED"):
        PARSED_FILE.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    want = json.loads(PARSED_FILE.read_text())
    assert sorted(got) == sorted(want)
    for key in got:
        assert got[key] == want[key], key
