"""What the screen says must be true (issue 9): each test here failed on the code before its fix."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from hatui.collector import Collector
from hatui.diagnosis import diagnose
from hatui.model import WebCheck
from hatui.report import summary, to_text, vip_words
from hatui.transport import HostKeyError
from tests.recordings import CONFIG, recording, with_node


def codes(snap) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in diagnose(snap, CONFIG):
        found.setdefault(f.code, []).append(f)
    return found


# ---- P2: NOBODY only when both nodes were read and neither holds the VIP ---------------------------------
def test_vip_unknown_when_the_holder_cannot_be_seen():
    snap = with_node(recording("healthy"), "node1", reachable=False, error="no answer within 5.0 s")
    snap = replace(snap, web=WebCheck(url="http://198.18.0.100/", ok=True, node="node1", latency_ms=3.0))
    words = vip_words(snap, CONFIG)
    assert "NOBODY" not in words and "nobody" not in to_text(snap, CONFIG)
    assert words == ("VIP 198.18.0.100: unknown — node1 not reachable, node2 does not hold it; "
                     "the VIP answers as node1")


def test_vip_nobody_when_both_nodes_were_read():
    snap = recording("healthy")
    snap = with_node(snap, "node1", addresses=tuple(a for a in snap.node("node1").addresses
                                                    if a.address != CONFIG.vip))
    assert vip_words(snap, CONFIG) == "VIP 198.18.0.100 on NOBODY"


def test_vip_unknown_when_nothing_could_be_read():
    snap = recording("healthy")
    for name in ("node1", "node2"):
        snap = with_node(snap, name, reachable=False, error="refused")
    snap = replace(snap, web=None)
    assert vip_words(snap, CONFIG) == "VIP 198.18.0.100: unknown — node1, node2 not reachable"


# ---- P3: a host key that does not verify is a security event, not "unreachable" ---------------------------
def test_host_key_mismatch_has_its_own_critical_finding():
    snap = with_node(recording("healthy"), "node1", reachable=False, error_kind="host-key",
                     error="node1 (198.18.0.11): host key not verified against known_hosts")
    found = codes(snap)
    assert "node-unreachable" not in found
    (f,) = found["host-key-mismatch"]
    assert f.severity == "critical" and "man-in-the-middle" in f.title
    assert "out of band" in f.action and "known_hosts" in f.action


class HostKeyRefused:
    """A node whose host key does not verify: every connection attempt is refused."""

    def __init__(self) -> None:
        self.attempts = 0

    async def batch(self, commands, timeout_s=None):
        self.attempts += 1
        raise HostKeyError("node1 (198.18.0.11): host key not verified against /x/known_hosts: "
                           "Host key is not trusted")

    async def mysql_port(self, socket):
        raise HostKeyError("host key")

    async def close(self):
        pass


async def test_host_key_refusal_is_not_retried_in_a_silent_loop():
    col = Collector(CONFIG)
    fake = HostKeyRefused()
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    col._loops["node2"].transport = fake  # type: ignore[assignment]
    col.start()
    try:
        await asyncio.sleep(4.0)  # backoff would have retried at 1, 2 (+1), 4 s: 3+ attempts per node
    finally:
        await col.close()
    assert fake.attempts == 2, f"{fake.attempts} connection attempts: the loop kept reconnecting"
    assert col.latest is None or "host-key-mismatch" in {f.code for f in col.snapshot().findings}


# ---- P6: a refused login is not "MariaDB not answering" ---------------------------------------------------
def test_login_refused_says_how_to_configure_it():
    snap = with_node(recording("healthy"), "node2", galera=None,
                     mysql_error="MariaDB: Access denied for user 'root'@'localhost'")
    found = codes(snap)
    assert "mariadb-down" not in found
    (f,) = found["mariadb-login-refused"]
    assert "refused hatui's login" in f.title
    assert "unix_socket" in f.action and "password_env" in f.action and "password_file" in f.action


# ---- P7: a loop that meets an error that is not a TransportError stays alive and says so -------------------
class Crashing:
    def __init__(self) -> None:
        self.calls = 0

    async def batch(self, commands, timeout_s=None):
        self.calls += 1
        raise ValueError("invalid literal for int() with base 10: '²'")

    async def mysql_port(self, socket):
        raise ValueError("no")

    async def close(self):
        pass


async def test_a_poll_error_keeps_the_loop_alive_and_is_a_finding():
    col = Collector(CONFIG)
    fake = Crashing()
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    col._loops["node2"].transport = fake  # type: ignore[assignment]
    col.start()
    try:
        await asyncio.wait_for(col.fresh(), 10)
        await asyncio.wait_for(col.fresh(), 10)  # a second cycle: the loops are still there
        assert not any(t.done() for t in col._tasks)
        snap = col.snapshot()
    finally:
        await col.close()
    assert fake.calls >= 4
    n1 = snap.node("node1")
    assert not n1.reachable and n1.error_kind == "hatui"
    found = {f.code: f for f in snap.findings}
    assert "poll-error" in found and "ValueError" in found["poll-error"].title
    assert summary(snap, CONFIG)["status"] == "critical"


async def test_live_means_the_node_itself_answered_within_two_intervals():
    from hatui.tui.app import HatuiApp
    from hatui.tui.widgets import NodeHeader

    snap = recording("healthy")
    # node1's loop stopped answering 10 s ago; node2 keeps the merged snapshot coming
    snap = with_node(snap, "node1", answered_at_epoch_s=snap.taken_at_epoch_s - 10)
    snap = with_node(snap, "node2", answered_at_epoch_s=snap.taken_at_epoch_s)
    app = HatuiApp(CONFIG, collector=None, clock=lambda: snap.taken_at_epoch_s + 0.5)
    async with app.run_test(size=(110, 46)) as pilot:
        await pilot.pause()
        app.apply_snapshot(snap)
        await pilot.pause()
        n1 = str(app.screen.query_one("#node-node1", NodeHeader).render())
        n2 = str(app.screen.query_one("#node-node2", NodeHeader).render())
    assert "live" not in n1 and "last poll 10 s ago" in n1
    assert "live" in n2


# ---- P8: a stale keepalived pid file must not make hatui signal another process ---------------------------
def test_stale_pid_file_is_not_signalled(tmp_path):
    import subprocess
    import time

    from hatui.probes import keepalived as ka

    victim = subprocess.Popen(["sleep", "30"])  # signal 36 or 10 would terminate it
    try:
        pid_file = tmp_path / "keepalived.pid"
        pid_file.write_text(f"{victim.pid}\n")
        dumps = (str(tmp_path / "keepalived.json"), str(tmp_path / "keepalived.data"))
        for f in dumps:
            Path(f).write_text("an old dump\n")
        script = "; ".join([ka.signal_command(36, 10, pid_file=str(pid_file), dumps=dumps),
                            ka.pid_command(str(pid_file)) + " || echo not-keepalived"])
        out = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], capture_output=True, text=True,
                             timeout=10).stdout
        time.sleep(0.2)
        assert victim.poll() is None, "hatui signalled a process that is not keepalived"
        assert out.strip() == "not-keepalived"  # and does not call it a running keepalived
    finally:
        victim.kill()
        victim.wait()
