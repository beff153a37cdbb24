"""DRBD parsers on real and reconstructed samples (tests/fixtures/PROVENANCE.md says which is which)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.probes import drbd

FIX = Path(__file__).parent / "fixtures"


def fx(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8", errors="replace")


def by_name(resources, name):
    return next(r for r in resources if r.name == name)


# ---- /proc/drbd ------------------------------------------------------------------------------------
def test_proc_drbd_intree_syncsource_tab_lines_and_mib_units():
    p = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-intree-8.4.11-syncsource-reconstructed.txt"))
    assert p.unparsed == ()
    assert p.value.version == "8.4.11" and p.value.api == "1" and p.value.proto == "86-101"
    assert p.value.build == "srcversion: 211FB288A383ED945B83420"  # trailing space of %-24s stripped
    (r,) = p.value.resources
    assert (r.name, r.role, r.peer_role) == ("drbd0", "Primary", "Secondary")
    assert (r.connection_state, r.replication_state) == ("Connected", "SyncSource")
    assert (r.disk_state, r.peer_disk_state) == ("UpToDate", "Inconsistent")
    assert r.sync_percent == 38.3
    assert r.speed_kib_s == 44972  # "44,972": thousands separator stripped
    assert r.eta_s == 144  # finish: 0:02:24
    assert r.out_of_sync_kib == 6480000
    pd = r.connections[0].peer_devices[0]
    assert pd.average_speed_kib_s == 42118 and pd.want_kib_s is None  # no want: on SyncSource
    assert pd.sync_total_kib == 10240 * 1024  # "(6328/10240)M"
    assert r.connections[0].state_84 == "SyncSource" and r.connections[0].protocol == "C"
    assert r.source == "/proc/drbd" and not r.split_brain_suspected


def test_proc_drbd_synctarget_want():
    (r,) = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-intree-8.4.11-synctarget-want-reconstructed.txt")).value.resources
    assert r.replication_state == "SyncTarget" and r.sync_percent == 40.1 and r.eta_s == 70
    assert r.speed_kib_s == 44800 and r.connections[0].peer_devices[0].want_kib_s == 102400


def test_proc_drbd_multi_minor_blank_lines_unconfigured_and_three_spaces():
    p = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-ganeti-emptyfirst-8.4.2.txt"))
    assert p.unparsed == ()
    res = p.value.resources
    assert [r.name for r in res] == ["drbd1", "drbd2", "drbd4", "drbd6", "drbd8"]
    assert by_name(res, "drbd2").unconfigured and not by_name(res, "drbd2").split_brain_suspected
    wf = by_name(res, "drbd4")
    assert (wf.connection_state, wf.connections[0].state_84, wf.peer_role) == ("Connecting", "WFConnection", "Unknown")
    assert wf.out_of_sync_kib == 1048320
    assert by_name(res, "drbd6").disk_state == "Diskless"
    sa = by_name(res, "drbd8")  # "ds:UpToDate/DUnknown   r-----": no protocol letter
    assert sa.connection_state == "StandAlone" and sa.connections[0].protocol is None
    assert sa.volumes[0].io_flags == "r-----" and sa.split_brain_suspected


def test_proc_drbd_ganeti_sync_eight_space_indent_and_congestion_flag():
    res = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-ganeti-syncsource-standalone-8.4.2.txt")).value.resources
    r5 = by_name(res, "drbd5")
    assert (r5.role, r5.peer_role, r5.replication_state) == ("Secondary", "Secondary", "SyncSource")
    assert r5.sync_percent == 68.5 and r5.speed_kib_s == 64800 and r5.eta_s == 5
    assert r5.volumes[0].io_flags == "r---n-"
    assert r5.connections[0].peer_devices[0].sync_total_kib == 1048576  # K units
    assert by_name(res, "drbd0").split_brain_suspected


def test_proc_drbd_83_m_units_and_nul_flag():
    p = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-ganeti-synctarget-M-units-8.3.1.txt"))
    assert p.unparsed == ()
    r3 = by_name(p.value.resources, "drbd3")
    assert r3.sync_percent == 34.9 and r3.speed_kib_s == 59392
    assert r3.connections[0].peer_devices[0].sync_total_kib == 524288 * 1024


def test_proc_drbd_dual_primary_counters():
    (r,) = drbd.parse_proc_drbd(fx("drbd84/proc_drbd-node_exporter-fixture-8.4.3.txt")).value.resources
    assert (r.name, r.role, r.peer_role) == ("drbd1", "Primary", "Primary")
    v, pd = r.volumes[0], r.connections[0].peer_devices[0]
    assert (v.written_kib, v.read_kib, pd.sent_kib, pd.received_kib) == (28263521, 118696670, 17324442, 10961011)
    assert r.out_of_sync_kib == 12349


def test_proc_drbd_9_header_only():
    text = ("version: 9.2.8 (api:2/proto:86-122)\nGIT-hash: 0123456789abcdef0123456789abcdef01234567 build by "
            "root@host, 2024-03-01 10:00:00\nTransports (api:20): tcp (9.2.8)\n")
    p = drbd.parse_proc_drbd(text)
    assert p.value.drbd9_header_only and p.value.resources == () and p.unparsed == ()


def test_proc_drbd_stalled_and_proc_details():
    text = (" 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n"
            "    ns:0 nr:1 dw:1 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:100\n"
            "\t[>....................] sync'ed:  0.1% (100/104)K\n"
            "\tfinish: 123:04:05 speed: 1,024,000 (1 -- 2) want: 3 K/sec (stalled)\n"
            "\t 12% sector pos: 1/2\n")
    p = drbd.parse_proc_drbd(text)
    (r,) = p.value.resources
    pd = r.connections[0].peer_devices[0]
    assert p.unparsed == () and r.sync_percent == 0.1 and r.eta_s == 123 * 3600 + 4 * 60 + 5
    assert pd.speed_kib_s == 1024000 and pd.average_speed_kib_s == 2 and pd.want_kib_s == 3 and pd.stalled


# ---- drbdadm status (text) -------------------------------------------------------------------------
def test_status_9_healthy_primary():
    (r,) = drbd.parse_drbdadm_status(fx("drbd9/drbdadm-status-2node-primary-healthy-reconstructed.txt")).value
    assert (r.name, r.role, r.disk_state) == ("r0", "Primary", "UpToDate")
    assert (r.connections[0].name, r.peer_role, r.connection_state) == ("node2", "Secondary", "Connected")
    assert (r.replication_state, r.peer_disk_state) == ("Established", "UpToDate")  # omitted when Established


def test_status_9_open_and_client_keys():
    text = fx("drbd9/drbdadm-status-2node-primary-healthy-utils929-open-reconstructed.txt")
    (r,) = drbd.parse_drbdadm_status(text).value
    assert r.volumes[0].open == "yes"
    (d,) = drbd.parse_drbdadm_status(fx("drbd9/drbdadm-status-local-diskless-nontty-reconstructed.txt")).value
    assert d.disk_state == "Diskless" and d.volumes[0].client is False


@pytest.mark.parametrize("name, cstate, split", [
    ("drbd9/drbdadm-status-peer-down-connecting-reconstructed.txt", "Connecting", False),
    ("drbd9/drbdadm-status-splitbrain-standalone-reconstructed.txt", "StandAlone", True),
    ("drbd84/drbdadm-status-kernel84-wfconnection-reconstructed.txt", "Connecting", False),
    ("drbd84/drbdadm-status-kernel84-standalone-reconstructed.txt", "StandAlone", True),
])
def test_status_disconnected(name, cstate, split):
    p = drbd.parse_drbdadm_status(fx(name))
    (r,) = p.value
    assert p.unparsed == ()
    assert r.connection_state == cstate and r.peer_disk_state == "DUnknown" and r.replication_state == "Off"
    assert r.split_brain_suspected is split


def test_status_quorum_lost():
    (r,) = drbd.parse_drbdadm_status(fx("drbd9/drbdadm-status-quorum-lost-reconstructed.txt")).value
    assert r.volumes[0].quorum is False and r.role == "Secondary"


@pytest.mark.parametrize("name, repl, done", [
    ("drbd9/drbdadm-status-syncsource-done-reconstructed.txt", "SyncSource", 45.67),
    ("drbd9/drbdadm-status-synctarget-done-reconstructed.txt", "SyncTarget", 12.30),
    ("drbd84/drbdadm-status-kernel84-syncsource-reconstructed.txt", "SyncSource", 45.69),
    ("drbd84/drbdadm-status-kernel84-synctarget-reconstructed.txt", "SyncTarget", 12.31),
])
def test_status_resync_done(name, repl, done):
    (r,) = drbd.parse_drbdadm_status(fx(name)).value
    assert r.replication_state == repl and r.sync_percent == done


def test_status_synctarget_without_done_three_nodes():
    (r,) = drbd.parse_drbdadm_status(fx("drbd9/drbdadm-status-synctarget-3node-diskless-peer.txt")).value
    assert r.name == "one-vm-9120-disk-0" and r.disk_state == "Inconsistent"
    assert [c.name for c in r.connections] == ["m14c19", "m14c36"]
    assert r.replication_state == "SyncTarget" and r.sync_percent is None
    assert r.connections[1].peer_role == "Primary" and r.connections[1].peer_devices[0].peer_disk_state == "Diskless"


def test_status_84_compat_peer_named_peer_and_established_printed():
    (r,) = drbd.parse_drbdadm_status(fx("drbd84/drbdadm-status-utils9-kernel84-primary.txt")).value
    assert r.connections[0].name == "peer" and r.replication_state == "Established" and r.peer_role == "Secondary"


def test_status_verbose_statistics_80_column_wrap():
    p = drbd.parse_drbdadm_status(fx("drbd9/drbdsetup-status-verbose-statistics-syncsource-80col-reconstructed.txt"))
    (r,) = p.value
    assert p.unparsed == ()
    assert r.suspended == "no" and r.volumes[0].size_kib == 10485760 and r.volumes[0].backing_dev == "/dev/vg0/r0"
    c = r.connections[0]
    assert (c.name, c.peer_node_id, c.congested) == ("node2", 1, False)
    assert r.sync_percent == 45.67 and r.out_of_sync_kib == 5690432
    assert r.speed_kib_s == round(98.52 * 1024) and r.eta_s == 57  # dbdt1 is MiB/s


def test_status_doc_linebroken_three_peers_old_disk_key():
    p = drbd.parse_drbdadm_status(fx("drbd9/drbdsetup-status-verbose-statistics-ug9-linebroken.txt"))
    (r,) = p.value
    assert p.unparsed == ()
    assert [c.name for c in r.connections] == ["nina", "nino", "nono"]
    assert [c.connection_state for c in r.connections] == ["Connected", "Connected", "Connecting"]
    assert r.connections[0].peer_devices[0].peer_disk_state == "UpToDate"  # "disk:" in the old guide
    assert r.connections[0].peer_devices[0].received_kib == 1048412


def test_status_84_verbose_statistics_doc():
    (r,) = drbd.parse_drbdadm_status(fx("drbd84/drbdsetup-status-verbose-statistics-ug84.txt")).value
    assert r.name == "home" and r.volumes[0].size_kib == 5033792 and r.out_of_sync_kib == 0


def test_status_no_resources_and_errors():
    p = drbd.parse_drbdadm_status("# No currently configured DRBD found.\n")
    assert p.value == () and p.unparsed == ()
    bad = drbd.parse_drbdadm_status("r0: No such resource\n")
    assert bad.value is None and bad.unparsed


def test_status_colour_escapes_are_ignored():
    text = ("r0 role:\x1b[1;36mPrimary\x1b[0m\n  disk:\x1b[1;32mUpToDate\x1b[0m\n"
            "  node2 role:Secondary\n    peer-disk:UpToDate\n")
    (r,) = drbd.parse_drbdadm_status(text).value
    assert r.role == "Primary" and r.disk_state == "UpToDate"


# ---- drbdsetup status --json -----------------------------------------------------------------------


# ---- events2 ---------------------------------------------------------------------------------------
def test_events2_create_change_plain():
    p = drbd.parse_events2(fx("events2/drbd-utils-test-events2-all-create-change-plain.txt"))
    assert p.unparsed == () and p.value.initial_state_done and len(p.value.events) == 13
    (r,) = p.value.resources
    assert (r.name, r.role, r.disk_state, r.peer_role) == ("some-resource", "Primary", "UpToDate", "Secondary")
    assert (r.connection_state, r.replication_state, r.peer_disk_state) == ("Connected", "Established", "UpToDate")
    assert r.volumes[0].minor == 1000 and r.volumes[0].backing_dev == "/dev/sda"


def test_events2_diff_and_colour_give_the_same_state():
    plain = drbd.parse_events2(fx("events2/drbd-utils-test-events2-all-create-change-plain.txt")).value.resources
    diff = drbd.parse_events2(fx("events2/drbd-utils-test-events2-all-create-change-diff.txt")).value.resources
    # The fixture went through `cat -v`; turn its "^[" back into the real ESC drbdsetup prints.
    colour_text = fx("events2/drbd-utils-test-events2-all-create-change-color.txt").replace("^[", "\x1b")
    colour = drbd.parse_events2(colour_text).value.resources
    assert diff == plain == colour


def test_events2_timestamps():
    p = drbd.parse_events2(fx("events2/drbdtop-bench-timestamps-statistics-2019.txt"))
    assert p.unparsed == ()
    first = p.value.events[0]
    assert first.timestamp.isoformat() == "2019-05-07T13:50:23.973595-07:00"
    (r,) = p.value.resources
    assert r.volumes[0].size_kib == 515948 and r.connections[0].name == "kubelet-b"
    # The drbd-utils tests replace times with "TIME": understood as a timestamp slot, noted.
    t = drbd.parse_events2(fx("events2/drbd-utils-test-events2-all-create-change-timestamps.txt"))
    assert t.value.resources[0].role == "Primary" and t.unparsed == ("timestamp not understood: 'TIME' (×13)",)


def test_events2_sync_done_and_84_computed_percent():
    (r,) = drbd.parse_events2(fx("events2/drbd-utils-test-events2-sync-plain.txt")).value.resources
    assert r.replication_state == "SyncSource" and r.sync_percent == 37.5
    text84 = fx("events2/kernel84-events2-now-statistics-syncsource-reconstructed.txt")
    (r84,) = drbd.parse_events2(text84).value.resources
    assert r84.connections[0].name == "peer" and r84.connections[0].peer_node_id == 0
    assert r84.sync_percent == round(100 * (1 - 6480000 / 10485404), 2)  # no done: on 8.4


def test_events2_split_brain_helper():
    p = drbd.parse_events2(fx("events2/drbd9-events2-splitbrain-sequence-reconstructed.txt"))
    assert p.value.split_brain_resources == ("r0",)
    (r,) = p.value.resources
    assert r.split_brain_suspected and r.connection_state == "StandAlone"
    helper = [e for e in p.value.events if e.object == "helper" and e.action == "call"]
    assert [e.get("helper") for e in helper] == ["initial-split-brain", "split-brain"]


@pytest.mark.parametrize("name", ["events2/ug84-events2-now-linebroken.txt", "events2/ug9-events2-now-linebroken.txt",
                                  "events2/ug84-events2-statistics-now-linebroken.txt",
                                  "events2/ug9-events2-statistics-now-linebroken.txt"])
def test_events2_doc_linebroken(name):
    p = drbd.parse_events2(fx(name))
    assert p.unparsed == () and len(p.value.events) == 7
    (r,) = p.value.resources
    assert [v.minor for v in r.volumes] == [7, 8]
    assert [pd.peer_disk_state for pd in r.connections[0].peer_devices] == ["UpToDate", "UpToDate"]


def test_events2_destroy_and_no_resources():
    assert drbd.parse_events2(fx("events2/drbd-utils-test-events2-all-create-destroy-plain.txt")).value.resources == ()
    p = drbd.parse_events2(fx("events2/drbd-utils-test-events2-no-resources-plain.txt"))
    assert p.value.initial_state_done and p.value.resources == ()


def test_events2_quorum_lost():
    (r,) = drbd.parse_events2(fx("events2/drbd-utils-test-events2-may-promote-quorum-plain.txt")).value.resources
    assert r.volumes[0].quorum is False


# ---- role / cstate / dstate ------------------------------------------------------------------------


# ---- errors ----------------------------------------------------------------------------------------
SC, FAIL = "state-change", "failure"


@pytest.mark.parametrize("name, kind, code, reason, rc, obj", [
    ("drbd84/drbdadm-secondary-device-in-use-utils9.11-kernel84.txt", SC, -12, "device-held-open", 11, "1"),
    ("drbd84/drbdadm-primary-peer-is-primary-kernel84-reconstructed.txt", SC, -1, "peer-is-primary", 11, "0"),
    ("drbd84/drbdadm-invalidate-kernel84-not-connected-reconstructed.txt", SC, -15, "need-connection", 11, "0"),
    ("drbd84/drbdadm-connect-already-connected-kernel84-reconstructed.txt", FAIL, 125, "already-connected", 10, "r0"),
    ("drbd84/drbdadm-errors-minor-not-allocated-8.4.3.txt", FAIL, 127, "minor-not-allocated", 10, "0"),
    ("drbd84/drbdadm-connect-discard-my-data-unknown-resource-8.4.3.txt", FAIL, 162, "invalid-config-request", 10,
     "r0"),
    ("drbd9/drbdadm-invalidate-no-uptodate-peer-reconstructed.txt", SC, -2, "no-uptodate-data", 17, "0"),
    ("drbd9/drbdadm-primary-peer-is-primary-reconstructed.txt", SC, -1, "peer-is-primary", 11, "r0"),
    ("drbd9/drbdadm-secondary-in-use-openers-reconstructed.txt", SC, -12, "device-held-open", 11, "r0"),
])
def test_drbd_errors(name, kind, code, reason, rc, obj):
    p = drbd.parse_drbd_error(fx(name))
    e = p.value
    assert p.unparsed == ()
    assert (e.kind, e.code, e.reason, e.exit_code, e.object_name) == (kind, code, reason, rc, obj)


def test_drbd_error_details():
    e = drbd.parse_drbd_error(fx("drbd9/drbdadm-secondary-in-use-openers-reconstructed.txt")).value
    assert e.text == "Device is held open by someone" and e.command == "drbdsetup secondary r0"
    assert e.additional_info[1] == "drbd0 opened by mount (pid 4711) at 2024-05-06 10:11:12.345"
    j = drbd.parse_drbd_error(fx("drbd9/journal-primary-refused-multiple-primaries-drbd-reactor8.txt"), exit_code=11)
    assert (j.value.object_name, j.value.reason, j.value.exit_code) == ("linstor_db", "peer-is-primary", 11)
    assert drbd.parse_drbd_error("", 0).value is None  # success: nothing failed
    unknown = drbd.parse_drbd_error("something odd\n", 20)
    assert unknown.value.reason == "other" and unknown.value.exit_code == 20 and unknown.unparsed


# ---- commands --------------------------------------------------------------------------------------
def test_commands_quote_and_validate():
    cmds = drbd.live_commands("/proc/drbd", "r0", "/mnt/drbd")
    assert "drbdsetup events2 --now --statistics r0 2>&1" in cmds["drbd_events"]
    assert cmds["drbd_status"].endswith("|| drbdadm status r0")
    assert "= /mnt/drbd ]" in cmds["mounted"]
    with pytest.raises(ValueError):
        drbd.live_commands("/proc/drbd", "r0; reboot", "/mnt/drbd")
    with pytest.raises(ValueError):
        drbd.live_commands("/proc/drbd", "-r0", "/mnt/drbd")
    with pytest.raises(ValueError):
        drbd.live_commands("/proc/../etc/shadow", "r0", "/mnt/drbd")


def test_where_events2_now_fails_drbdadm_status_is_read(tmp_path):
    """A drbd-utils whose drbdsetup has no `events2 --now`: the live commands fall back to
    `drbdadm status`, and the same cycle still gives the resource (real bash, stand-in tools)."""
    import subprocess

    (tmp_path / "drbdsetup").write_text("#!/bin/sh\necho 'drbdsetup: unknown option --now' >&2; exit 20\n")
    (tmp_path / "drbdadm").write_text("#!/bin/sh\nprintf 'r0 role:Primary\\n  disk:UpToDate\\n"
                                      "  peer role:Secondary\\n    peer-disk:UpToDate\\n'\n")
    for f in ("drbdsetup", "drbdadm"):
        (tmp_path / f).chmod(0o755)
    cmds = drbd.live_commands("/nonexistent/proc_drbd", "r0", "/mnt/drbd")
    script = "; ".join(f"echo '@@{k}'; {v}" for k, v in cmds.items())
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout
    parts = dict(chunk.partition("\n")[::2] for chunk in out.split("@@")[1:])
    (r,), _notes = drbd.drbd_from_raw(parts["drbd_proc"], parts["drbd_events"], "/dev/drbd0", "r0",
                                      parts["drbd_status"])
    assert (r.role, r.connection_state, r.disk_state, r.peer_disk_state) == ("Primary", "Connected", "UpToDate",
                                                                            "UpToDate")


def test_a_role_change_from_the_events2_stream_is_applied_to_the_last_poll():
    """drbd-utils' own events2 sample: the state before its last line, then that line from the stream."""
    lines = fx("events2/drbd-utils-test-events2-all-create-change-plain.txt").splitlines()
    (before,) = drbd.parse_events2("\n".join(lines[:-1])).value.resources
    assert before.role == "Secondary"
    (after,) = drbd.apply_role_event((before,), lines[-1])  # change resource ... role:Primary
    assert after.role == "Primary" and after.peer_role == before.peer_role
    (peer,) = drbd.apply_role_event((after,), "change connection name:some-resource peer-node-id:1 "
                                              "conn-name:some-peer role:Primary")
    assert peer.peer_role == "Primary" and peer.connections[0].peer_role == "Primary" and peer.role == "Primary"
    # not a role change, another resource, or not events2: left to the poll
    assert drbd.apply_role_event((after,), lines[6]) is None  # may_promote only
    assert drbd.apply_role_event((after,), "change resource name:other role:Secondary") is None
    assert drbd.apply_role_event((after,), "garbage") is None
