"""The failover log as the live loop reads it, run with real bash on a real file: every line once,
rotation, and (issue 9, P1) a burst of megabytes between two polls caught up in capped reads, or
skipped with a note, while the node stays readable."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hatui.probes.failover_log import FailoverLogReader

LINE = "2026-12-01 03:12:{:02d} - Keepalived notification on VI_1: State changed to {} (Type: INSTANCE)\n"


def line(i: int) -> str:
    return LINE.format(i % 60, "MASTER" if i % 2 else "BACKUP")


def cycle(reader: FailoverLogReader, n: int) -> tuple[list[str], int]:
    """One poll: run the reader's command in bash as the node would, feed it back."""
    out = subprocess.run(["bash", "--noprofile", "--norc", "-c", reader.command(n)], capture_output=True,
                         timeout=30).stdout.decode("utf-8", errors="surrogateescape")
    return [e.raw for e in reader.absorb(out)], len(out.encode("utf-8", errors="surrogateescape"))


def test_every_line_once_and_rotation(tmp_path: Path) -> None:
    log = tmp_path / "failover.log"
    log.write_text("".join(line(i) for i in range(3)))
    reader = FailoverLogReader("node1", str(log))
    seen, _ = cycle(reader, 1)
    for i in range(3, 25):
        with log.open("a") as f:
            f.write(line(i))
        got, _ = cycle(reader, i)
        seen += got
    assert seen == [line(i).rstrip("\n") for i in range(25)]
    log.write_text(line(99))  # rotated: smaller than what was read
    for n in range(30, 42):
        seen += cycle(reader, n)[0]
    assert seen[-1] == line(99).rstrip("\n")


def test_a_burst_of_30000_lines_arrives_in_capped_reads(tmp_path: Path) -> None:
    log = tmp_path / "failover.log"
    log.write_text(line(0))
    reader = FailoverLogReader("node1", str(log))
    cycle(reader, 1)
    with log.open("a") as f:
        f.write("".join(line(i) for i in range(1, 30001)))
    assert log.stat().st_size > 2 * 1024 * 1024  # more than the SSH channel's window: one read would fail
    seen: list[str] = []
    for n in range(2, 200):
        got, size = cycle(reader, n)
        assert size <= reader.MAX_READ_BYTES + 64, "every read stays under the cap"
        seen += got
        if len(seen) >= 30000:
            break
    assert seen == [line(i).rstrip("\n") for i in range(1, 30001)]
    assert reader.skipped_bytes == 0


def test_a_flood_too_far_behind_is_skipped_and_said(tmp_path: Path) -> None:
    log = tmp_path / "failover.log"
    log.write_text(line(0))
    reader = FailoverLogReader("node1", str(log))
    cycle(reader, 1)
    with log.open("a") as f:
        f.write("x" * 200 + "\n")
        f.write(("flood " * 20 + "\n") * 60000)  # ~7 MB
        f.write(line(7))
    seen: list[str] = []
    for n in range(10, 40):  # a size-reading cycle first
        seen += cycle(reader, n)[0]
    skipped = [s for s in seen if s.startswith("[hatui] skipped")]
    assert len(skipped) == 1 and reader.skipped_bytes > 4 * 1024 * 1024
    assert seen[-1] == line(7).rstrip("\n")  # and the newest line still arrives
    with log.open("a") as f:
        f.write(line(8))
    assert cycle(reader, 41)[0] == [line(8).rstrip("\n")]


def test_bytes_that_are_not_utf8_keep_the_offset_exact(tmp_path: Path) -> None:
    log = tmp_path / "failover.log"
    log.write_bytes(line(0).encode())
    reader = FailoverLogReader("node1", str(log))
    cycle(reader, 1)
    with log.open("ab") as f:
        f.write(b"\xff\xfe junk \xc3\n")
        f.write(line(1).encode())
    got, _ = cycle(reader, 2)
    assert got[-1] == line(1).rstrip("\n") and len(got) == 2
    with log.open("ab") as f:
        f.write(line(2).encode())
    assert cycle(reader, 3)[0] == [line(2).rstrip("\n")]


def test_undecodable_bytes_never_reach_the_screen_as_surrogates() -> None:
    from hatui.probes.failover_log import parse_failover_line

    ev = parse_failover_line("junk \udcff\udcfe here", "node1").value
    assert ev is not None and "\ufffd" in ev.raw
    ev.raw.encode("utf-8")  # printable on any UTF-8 terminal
