"""Record through a real failover and heal (`stop-mariadb` on node1), then read it back: the
timeline lists what happened in order, and the replay at the VIP's move shows what was true then."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from hatui.config import load
from hatui.record.rebuild import Recording
from hatui.record.store import RecordReader
from hatui_lab import observe as helpers
from hatui_lab.observe import Outcome, outcome, wait_until

pytestmark = pytest.mark.lab


def moved_to_node2(o: Outcome) -> bool:
    return o.vip == ("node2",) and o.drbd_primary == ("node2",) and o.mounted == ("node2",)


def healed(o: Outcome) -> bool:
    return (moved_to_node2(o) and o.cstate_of("node1") == "Connected"
            and o.galera_of("node1") == "Primary/Synced" and o.galera_of("node2") == "Primary/Synced")


def first(events: list[dict], cond) -> int:
    for i, e in enumerate(events):
        if cond(e):
            return i
    raise AssertionError("no such event in the timeline:\n" + "\n".join(
        f"{e['time']} {e['node']} {e['what']} {e['before']} → {e['after']}" for e in events))


def test_record_failover_and_heal_then_timeline_and_replay(fresh_lab, tmp_path):
    db = tmp_path / "record.sqlite"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}  # the audit log read: this test's own
    rec = subprocess.Popen(helpers.hatui_argv("record", "--db", str(db)), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(6)  # a baseline of healthy cycles
        assert rec.poll() is None, rec.communicate()
        res = helpers.hatui_lab("fault", "stop-mariadb", "node1")
        assert res.returncode == 0, res.stdout + res.stderr
        wait_until("VIP, DRBD primary and mount on node2", outcome, moved_to_node2, timeout_s=15)
        time.sleep(3)
        res = helpers.hatui_lab("heal", "node1")
        assert res.returncode == 0, res.stdout + res.stderr
        wait_until("node1 back as a synced backup", outcome, healed, timeout_s=90)
        time.sleep(3)
    finally:
        rec.send_signal(signal.SIGTERM)
        out, err = rec.communicate(timeout=30)
    assert rec.returncode == 0, out + err
    assert "node cycles recorded" in out

    tl = helpers.hatui_cli("timeline", "--format", "json", "--db", str(db), env_extra=env)
    assert tl.returncode == 0, tl.stderr
    events = json.loads(tl.stdout)["events"]
    mariadb_down = first(events, lambda e: e["node"] == "node1" and e["what"] == "mariadb"
                         and e["after"] == "not answering")
    vip_moved = first(events, lambda e: e["what"] == "pair.vip" and e["after"] == "node2")
    drbd_moved = first(events, lambda e: e["what"] == "pair.drbd_primary" and e["after"] == "node2")
    log_backup = first(events, lambda e: e["source"] == "failover-log" and e["node"] == "node1"
                       and "BACKUP" in (e["after"] or "") and "recording started" not in e["text"])
    log_master = first(events, lambda e: e["source"] == "failover-log" and e["node"] == "node2"
                       and "MASTER" in (e["after"] or "") and "recording started" not in e["text"])
    node1_back = first(events, lambda e: e["node"] == "node1" and e["what"] == "mariadb" and e["after"] == "answering")
    assert mariadb_down < vip_moved <= drbd_moved < node1_back
    assert mariadb_down < log_backup < node1_back and mariadb_down < log_master < node1_back
    times = [e["at_epoch_s"] for e in events]
    assert times == sorted(times)

    # the replay at the VIP's move: what hatui saw at that moment, rebuilt from the raw outputs
    recording = Recording(RecordReader(db), load(str(helpers.LAB_DIR / "hatui-lab.yaml")))
    vip_at, drbd_at = events[vip_moved]["at_epoch_s"], events[drbd_moved]["at_epoch_s"]
    frame = recording.times.index(vip_at)
    snap = recording.snapshot(frame)
    codes = {f.code for f in snap.findings}
    assert snap.vip_holders(recording.config.vip) == ("node2",)
    if vip_at < drbd_at:  # the VIP arrived before the promotion: node2 was not yet Primary
        assert "node2" not in snap.drbd_primaries(recording.config.drbd.resource)
        assert "vip-not-drbd-primary" in codes, codes
    else:
        assert snap.drbd_primaries(recording.config.drbd.resource) == ("node2",)
        assert "vip-not-drbd-primary" not in codes, codes
    # and at the end: node1 is back, the pair healthy again on node2
    end = recording.snapshot(len(recording) - 1)
    assert end.node("node1").galera is not None and end.vip_holders(recording.config.vip) == ("node2",)
