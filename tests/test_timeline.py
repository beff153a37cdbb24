"""The timeline's change detection (pure: snapshots in, events out), its order, clock offsets, the
audit records, and the navigation a replay uses."""

from __future__ import annotations

import json

from hatui.model import NodeSnapshot
from hatui.record.navigate import Navigator
from hatui.record.rebuild import build_timeline
from hatui.record.recorder import Recorder
from hatui.record.store import RecordReader, RecordStore
from hatui.record.timeline import ChangeDetector, audit_events, in_order
from hatui.record.timeline_format import to_json, to_markdown, to_text
from tests.recordings import CONFIG, raw_poll, record_cycles, web_of

T0 = 1_795_589_000.0


def snap(name: str, node: str) -> NodeSnapshot:
    return raw_poll(name, node)[1]


def feed(det: ChangeDetector, at: float, name: str) -> list:
    out = []
    for i, node in enumerate(("node1", "node2")):
        out += det.node(at + 0.01 * i, snap(name, node))
    out += det.web(at + 0.05, web_of(name))
    return out


def test_no_event_for_a_baseline_or_an_unchanged_pair():
    det = ChangeDetector(CONFIG)
    assert feed(det, T0, "healthy") == []
    assert feed(det, T0 + 1, "healthy") == []


def test_failover_events_across_layers_in_the_order_seen():
    det = ChangeDetector(CONFIG, tolerance_s=1e9)  # these fixtures' own times are unrelated to T0
    feed(det, T0, "healthy")
    events = feed(det, T0 + 1, "failover")
    got = [(e.node, e.what, e.before, e.after) for e in events]
    assert ("node1", "mariadb", "answering", "not answering") in got
    assert ("node1", "vrrp.state", "MASTER", "BACKUP") in got
    assert ("node2", "vrrp.state", "BACKUP", "MASTER") in got
    assert ("node2", "drbd.role", "Secondary", "Primary") in got
    assert ("web", "web.node", "node1", "node2") in got
    # the pair's facts: seen through node1's answer first (nobody), then node2's
    pair = [(e.what, e.after) for e in events if e.node == "pair"]
    assert pair == [("pair.vip", "nobody"), ("pair.drbd_primary", "nobody"),
                    ("pair.vip", "node2"), ("pair.drbd_primary", "node2")]
    assert [e.at_epoch_s for e in events] == sorted(e.at_epoch_s for e in events)
    mariadb = next(e for e in events if e.what == "mariadb")
    assert "does not answer" in mariadb.text and "Lost connection" in mariadb.text


def test_unreachable_and_back_and_facts_kept_while_unknown():
    det = ChangeDetector(CONFIG)
    feed(det, T0, "healthy")
    down = feed(det, T0 + 1, "node-down")
    assert ("node1", "reachable", "yes", "no") in [(e.node, e.what, e.before, e.after) for e in down]
    assert ("pair", "pair.vip", "node1", "unknown") in [(e.node, e.what, e.before, e.after) for e in down]
    back = feed(det, T0 + 2, "healthy")
    got = [(e.node, e.what, e.after) for e in back]
    assert ("node1", "reachable", "yes") in got
    assert not any(e.node == "node1" and e.what == "vrrp.state" for e in back)  # it was MASTER before too


def test_clock_offset_noted_only_when_a_node_timestamp_cannot_be_right():
    det = ChangeDetector(CONFIG, tolerance_s=2.0)
    line = "2026-11-25 06:48:09 - Keepalived notification on VI_1: State changed to MASTER (Type: INSTANCE)"
    from datetime import datetime

    ts = datetime(2026, 11, 25, 6, 48, 9).timestamp()
    assert det.log_line(ts + 0.5, "node2", line, ts - 0.5).clock_offset_s is None  # within the window
    late = det.log_line(ts - 30, "node2", line, ts - 31)  # the node's stamp is 30 s after it was read
    assert late.clock_offset_s is not None and 29 < late.clock_offset_s < 31
    early = det.log_line(ts + 100, "node2", line, ts + 99)  # stamped before the previous read
    assert early.clock_offset_s is not None and -100 < early.clock_offset_s < -98
    assert det.log_line(ts, "node2", line, None).clock_offset_s is None  # no window: nothing said


def test_audit_records_become_events_in_range():
    lines = [json.dumps({"time": "2026-11-25T06:50:00+0000", "user": "op", "host": "ws", "action": "switchover",
                         "target": "node2", "event": "start"}),
             "not json",
             json.dumps({"time": "2026-11-25T06:50:02+0000", "user": "op", "host": "ws", "action": "switchover",
                         "target": "node2", "event": "step", "n": 1, "node": "node1", "command": "echo -50 > f",
                         "status": "ok"})]
    events = audit_events(lines)
    assert [e.what for e in events] == ["audit.start", "audit.step"]
    assert events[1].node == "node1" and "echo -50" in events[1].text and "op@ws" in events[1].text
    assert audit_events(lines, since=events[1].at_epoch_s) == [events[1]]


def test_in_order_is_stable_for_equal_times():
    det = ChangeDetector(CONFIG)
    feed(det, T0, "healthy")
    a = feed(det, T0 + 1, "failover")
    b = audit_events([json.dumps({"time": "2000-01-01T00:00:00+0000", "event": "start", "action": "x"})])
    merged = in_order(a, b)
    assert merged[0] == b[0] and merged[1:] == a


def test_timeline_from_a_recording_parses_only_changes_and_prints_three_ways(tmp_path):
    st = RecordStore(tmp_path / "r.sqlite", clock=lambda: T0)
    rec = Recorder(st, CONFIG)
    record_cycles(rec, [(T0 + i, "healthy") for i in range(5)] + [(T0 + 5 + i, "failover") for i in range(5)]
                  + [(T0 + 10 + i, "resync") for i in range(5)])
    st.close()
    reader = RecordReader(tmp_path / "r.sqlite")
    whole = build_timeline(reader, CONFIG, None, None)
    assert [e.at_epoch_s for e in whole] == sorted(e.at_epoch_s for e in whole)
    assert any(e.what == "drbd.sync" and e.after == "resyncing" for e in whole)
    # from a time inside: the state before it is the baseline, not an event
    later = build_timeline(reader, CONFIG, T0 + 7, None)
    assert later and all(e.at_epoch_s >= T0 + 7 for e in later)
    assert not any(e.what == "pair.vip" for e in later)  # it moved before T0 + 7
    assert any(e.what == "drbd.sync" for e in later)
    md = to_markdown(whole, "test", {"node2": 3.0})
    assert md.startswith("## Timeline: test") and "| time | node | source | what happened |" in md
    assert "node2's clock is off by about +3.0 s" in md
    assert len(to_text(whole).splitlines()) == len(whole)
    assert len(json.loads(to_json(whole, None, None))["events"]) == len(whole)


def test_navigation_steps_changes_jumps_and_plays():
    times = [float(t) for t in range(0, 100, 2)]  # 50 frames, 2 s apart
    nav = Navigator(times, [0, 10, 30], start=0)
    assert nav.step(1) and nav.pos == 1
    assert nav.step(-5) and nav.pos == 0  # clamped at the start
    assert not nav.step(-1)  # at the start
    assert nav.next_change(1) and nav.pos == 10
    assert nav.next_change(1) and nav.pos == 30 and not nav.next_change(1)
    assert nav.next_change(-1) and nav.pos == 10
    assert nav.next_change(-1) and nav.pos == 0 and not nav.next_change(-1)
    nav.jump(41.0)
    assert nav.pos == 20 and nav.at == 40.0
    nav.jump(-100)
    assert nav.pos == 0
    nav.jump(1e9)
    assert nav.pos == 49
    nav.jump(10)
    assert nav.toggle_play()
    assert not nav.tick(1.0) and nav.pos == 5  # 1 s of recorded time: still frame 5 (10 s)
    assert nav.tick(1.0) and nav.pos == 6  # 12 s
    assert nav.faster(1) == 2.0 and nav.faster(1) == 5.0 and nav.faster(-1) == 2.0
    nav.tick(10.0)  # 20 s of recorded time at ×2
    assert nav.at == 32.0
    nav.tick(1000)
    assert nav.pos == 49 and not nav.playing  # stops at the end
    assert nav.toggle_play() and nav.pos == 0  # play again from the start
