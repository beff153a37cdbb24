"""The notify script's failover log: parsing, merging two nodes, following it incrementally."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hatui.probes import failover_log as fl

FIX = Path(__file__).parent / "fixtures"


def fx(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


def test_parse_lab_log():
    p = fl.parse_failover_log(fx("lab/keepalived_failover.log-node1-lab.txt"), "node1")
    assert p.unparsed == ()
    a, b = p.value
    assert (a.timestamp, a.node, a.name, a.state, a.type) == (datetime(2026, 11, 25, 6, 20, 32), "node1", "VI_1",
                                                              "BACKUP", "INSTANCE")
    assert b.state == "MASTER" and b.raw.endswith("(Type: INSTANCE)")


def test_unparseable_lines_are_kept_raw():
    text = ("garbage line\n"
            "2026-11-25 06:20:36 - Keepalived notification on VG_1: State changed to FAULT (Type: GROUP)\n\n")
    p = fl.parse_failover_log(text, "node2")
    bad, good = p.value
    assert bad.raw == "garbage line" and bad.timestamp is None and bad.node == "node2"
    assert (good.name, good.state, good.type) == ("VG_1", "FAULT", "GROUP")
    assert len(p.unparsed) == 1 and "garbage" in p.unparsed[0]
    assert fl.parse_failover_line("2026-13-45 99:99:99 - Keepalived notification on X: State changed to "
                                  "MASTER (Type: INSTANCE)", "n").value.timestamp is None


def test_merge_in_time_order_and_stable():
    n1 = fl.parse_failover_log(fx("lab/keepalived_failover.log-node1-lab.txt"), "node1").value
    n2 = fl.parse_failover_log(fx("lab/keepalived_failover.log-node2-lab.txt"), "node2").value
    merged = fl.merge_failover_events(n1, n2)
    assert [(e.node, e.state) for e in merged] == [("node1", "BACKUP"), ("node1", "MASTER"), ("node2", "BACKUP")]
    # same second on both nodes: the order of the arguments decides, every time
    assert [e.node for e in fl.merge_failover_events(n2, n1)] == ["node1", "node2", "node1"]


def test_merge_keeps_raw_lines_next_to_their_neighbour():
    n1 = fl.parse_failover_log("2026-01-01 10:00:05 - Keepalived notification on VI_1: State changed to MASTER "
                               "(Type: INSTANCE)\nnoise\n", "node1").value
    n2 = fl.parse_failover_log("2026-01-01 10:00:01 - Keepalived notification on VI_1: State changed to BACKUP "
                               "(Type: INSTANCE)\n2026-01-01 10:00:09 - Keepalived notification on VI_1: State changed "
                               "to FAULT (Type: INSTANCE)\n", "node2").value
    assert [e.raw[:5] if e.state is None else e.state for e in fl.merge_failover_events(n1, n2)] == \
        ["BACKUP", "MASTER", "noise", "FAULT"]


LINE = "2026-11-25 06:20:36 - Keepalived notification on VI_1: State changed to MASTER (Type: INSTANCE)\n"


def test_tail_reader_chunks_ending_mid_line_and_mid_character():
    tail = fl.FailoverLogTail("node1")
    data = (LINE + LINE.replace("VI_1", "VI_é")).encode()
    got = []
    for i in range(0, len(data), 7):  # 7-byte chunks split lines and the 2-byte "é"
        got.extend(tail.feed(data[i:i + 7]))
    assert [e.name for e in got] == ["VI_1", "VI_é"]
    assert tail.pending == "" and tail.bytes_consumed == len(data) and tail.unparsed == []


def test_tail_reader_never_rereads_and_flushes_the_last_partial_line():
    tail = fl.FailoverLogTail("node2")
    assert tail.feed(LINE[:30]) == ()
    (ev,) = tail.feed(LINE[30:] + LINE[:10])
    assert ev.state == "MASTER" and tail.pending == LINE[:10]
    assert tail.feed("") == ()
    (rest,) = tail.flush()
    assert rest.raw == LINE[:10] and rest.timestamp is None and tail.unparsed
    assert tail.bytes_consumed == len(LINE) + 10


def test_tail_reader_rotation_and_overlong_line():
    tail = fl.FailoverLogTail("n", max_line_chars=100)
    tail.feed(LINE.encode())
    assert tail.rotated(file_size_bytes=10) and not tail.rotated(file_size_bytes=len(LINE))
    tail.reset()
    assert tail.bytes_consumed == 0
    (ev,) = tail.feed("x" * 500)  # no newline for too long: emitted as raw, not buffered forever
    assert ev.raw == "x" * 500 and tail.pending == ""


def test_read_from_output_and_commands():
    assert fl.split_read_from_output("192\n" + LINE) == (192, LINE)
    assert fl.split_read_from_output("garbage") == (None, "garbage")
    cmd = fl.read_from_command(offset_bytes=10)
    assert cmd.endswith("tail -c +11 /var/log/keepalived_failover.log 2>/dev/null || true")
