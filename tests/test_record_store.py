"""The recording's store: changes only, retention by age and size, one writer, corrupt and locked
files, secrets never written.  Real SQLite files in tmp_path; polls are the recorded lab polls."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hatui.collector import Collector
from hatui.model import CommandResult
from hatui.transport import TransportError
from hatui.record.rebuild import Recording
from hatui.record.recorder import Recorder
from hatui.record.store import PERIOD_S, RecordError, RecordReader, RecordStore
from tests.recordings import CONFIG, raw_poll, record_cycles

T0 = 1_795_589_000.0
LAB = Path(__file__).parent / "fixtures" / "lab"


class DumpTransport:
    """Answers every batch with the lab's real keepalived dumps (its VRRP password in clear text)."""

    def __init__(self) -> None:
        self.json = (LAB / "keepalived.json-v2.2.7-node1-lab.txt").read_text()
        self.data = (LAB / "keepalived.data-v2.2.7-node1-lab.txt").read_text()

    async def batch(self, commands: dict[str, str], timeout_s: float | None = None) -> dict[str, CommandResult]:
        out = {"ka_json": self.json, "ka_data": self.data, "signums": "36 10", "ka_pid": "123", "log": "0\n"}
        return {k: CommandResult(0, out.get(k, "")) for k in commands}

    async def mysql_socket(self, socket: str) -> int:
        raise TransportError("no MariaDB in this test")


def store(path, **kw) -> RecordStore:
    return RecordStore(path, clock=lambda: T0, **kw)


def test_identical_cycles_cost_a_row_reference_and_changes_are_deltas(tmp_path):
    st = store(tmp_path / "r.sqlite")
    rec = Recorder(st, CONFIG)
    record_cycles(rec, [(T0 + i, "healthy") for i in range(20)] + [(T0 + 20 + i, "failover") for i in range(3)])
    rows = st.db.execute("SELECT node, base, same_as, length(data) FROM cycles WHERE kind = 'node' "
                         "ORDER BY id").fetchall()
    node1 = [r for r in rows if r[0] == "node1"]
    keyframe = node1[0][3]
    assert node1[0][1] is None and node1[0][2] is None and keyframe > 2000  # a keyframe, compressed
    assert all(r[2] == 1 and r[3] is None for r in node1[1:20])  # identical: no data, a reference
    assert node1[20][1] == 1 and node1[20][3] < keyframe / 4  # the failover: a delta against the keyframe
    assert node1[21][2] is not None and node1[21][3] is None
    st.close()
    # and every cycle reads back as what was written
    reader = RecordReader(tmp_path / "r.sqlite")
    ids = [i for (i,) in reader.db.execute("SELECT id FROM cycles WHERE node = 'node1' ORDER BY id")]
    assert reader.doc(ids[5])["batch"] == raw_poll("healthy", "node1")[0]["batch"]
    assert reader.doc(ids[21])["batch"] == raw_poll("failover", "node1")[0]["batch"]


def test_keyframe_at_least_every_period(tmp_path):
    st = store(tmp_path / "r.sqlite")
    rec = Recorder(st, CONFIG)
    record_cycles(rec, [(T0 + i * 60, "healthy") for i in range(int(PERIOD_S / 60) * 2 + 1)])
    keyframes = st.db.execute("SELECT at FROM cycles WHERE node = 'node1' AND base IS NULL AND same_as IS NULL "
                              "ORDER BY at").fetchall()
    assert len(keyframes) == 3
    refs = st.db.execute("SELECT c.at - r.at FROM cycles c JOIN cycles r ON r.id = coalesce(c.same_as, c.base)"
                         ).fetchall()
    assert refs and max(d for (d,) in refs) < PERIOD_S


def test_retention_by_age_keeps_what_later_rows_refer_to(tmp_path):
    st = store(tmp_path / "r.sqlite", retention_days=1.0)
    rec = Recorder(st, CONFIG)
    day = 86400.0
    # 30 h of a cycle every 10 min (rows refer back to their keyframe), then the retention runs
    end = record_cycles(rec, [(T0 + i * 600, "healthy" if i % 7 else "failover") for i in range(180)])
    st.enforce_retention(end)
    oldest = st.db.execute("SELECT min(at) FROM cycles").fetchone()[0]
    assert end - day - 2 * PERIOD_S <= oldest
    st.close()
    recording = Recording(RecordReader(tmp_path / "r.sqlite"), CONFIG)
    for frame in range(len(recording)):  # nothing kept refers to a row deleted
        recording.snapshot(frame)
    assert recording.times[-1] - recording.times[0] < day + 1


def test_retention_by_size(tmp_path):
    st = store(tmp_path / "r.sqlite", max_mb=0.3)
    rec = Recorder(st, CONFIG)
    names = ["healthy", "failover", "resync", "node-down"]
    # every cycle different (keyframes each PERIOD_S apart): far more than 0.3 MB unchecked
    record_cycles(rec, [(T0 + i * PERIOD_S, names[i % 4]) for i in range(200)])
    st.enforce_retention(T0 + 200 * PERIOD_S)
    assert st.used_bytes() <= 0.3 * 1024 * 1024
    count = st.db.execute("SELECT count(*) FROM cycles").fetchone()[0]
    assert 0 < count < 600
    newest = st.db.execute("SELECT max(at) FROM cycles").fetchone()[0]
    assert newest >= T0 + 199 * PERIOD_S  # the newest are the ones kept


def test_a_second_recorder_is_refused_with_who_holds_it(tmp_path):
    db = tmp_path / "r.sqlite"
    first = store(db)
    with pytest.raises(RecordError, match=r"another recorder is writing it .*pid"):
        store(db)
    # in another process too (flock is per open file: the same error)
    code = textwrap.dedent(f"""
        from pathlib import Path
        from hatui.record.store import RecordStore, RecordError
        try:
            RecordStore(Path({str(db)!r}))
        except RecordError as exc:
            print(exc)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "another recorder is writing it" in out
    first.close()
    store(db).close()  # the first one closed: free again


def test_a_corrupt_database_is_a_clear_error(tmp_path):
    db = tmp_path / "r.sqlite"
    db.write_bytes(b"this is not SQLite at all, just bytes" * 200)
    with pytest.raises(RecordError, match="not a usable hatui recording"):
        store(db)
    with pytest.raises(RecordError, match="not a usable hatui recording"):
        RecordReader(db)


def test_a_locked_database_is_a_clear_error_and_a_recorder_that_fails_stops_quietly(tmp_path):
    db = tmp_path / "r.sqlite"
    st = store(db)
    errors: list[str] = []
    rec = Recorder(st, CONFIG, clock=lambda: T0, on_error=errors.append)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    raw, snap = raw_poll("healthy", "node1")
    rec.node("node1", raw, snap)  # must not raise (it runs inside the collector's cycle)
    assert errors and "locked" in errors[0] and rec.error == errors[0]
    rec.node("node1", raw, snap)  # stopped: no second error
    assert len(errors) == 1
    other.execute("ROLLBACK")


def test_the_recorder_sees_keepalived_dumps_already_redacted(tmp_path):
    """The collector redacts in KeepalivedReader.absorb before its recorder hook: the VRRP password
    (in the lab's real dumps) is in no recorded byte."""
    secret = "Zq8pW3xk"
    col = Collector(CONFIG)
    fake = DumpTransport()
    assert secret in fake.json and secret in fake.data
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    st = store(tmp_path / "r.sqlite")
    Recorder(st, CONFIG).attach(col)
    import asyncio

    async def cycles() -> None:
        for _ in range(4):
            await col._poll("node1")

    asyncio.run(cycles())
    st.close()
    reader = RecordReader(tmp_path / "r.sqlite")
    ids = [i for (i,) in reader.db.execute("SELECT id FROM cycles")]
    assert len(ids) == 4
    texts = [str(reader.doc(i)) for i in ids]
    assert all(secret not in t for t in texts)
    assert any("auth_data" in t for t in texts) and any("Password = " in t for t in texts)  # recorded, redacted
    assert secret.encode() not in (tmp_path / "r.sqlite").read_bytes()


def test_unreachable_cycles_are_recorded_with_their_error(tmp_path):
    st = store(tmp_path / "r.sqlite")
    rec = Recorder(st, CONFIG)
    record_cycles(rec, [(T0, "healthy"), (T0 + 1, "node-down"), (T0 + 2, "node-down")])
    rows = st.db.execute("SELECT reachable, error, data IS NULL, changed FROM cycles WHERE node = 'node1' "
                         "ORDER BY id").fetchall()
    assert rows[0][0] == 1 and rows[1][0] == 0 and rows[1][1] and rows[1][2] == 1
    assert [r[3] for r in rows] == [1, 1, 0]
