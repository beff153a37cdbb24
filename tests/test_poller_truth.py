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

    async def mysql_socket(self, socket):
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

    async def mysql_socket(self, socket):
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


# ---- P4: each point of a penalised standby attributed to its source ----------------------------------------
def _standby_after_switchover(maintenance_value: int, script_status: dict[str, str]):
    """node1 as the standby after a switchover: its checks and the maintenance track file as given."""
    from hatui.model import TrackFile

    snap = recording("healthy")
    n2 = snap.node("node2")
    n1 = snap.node("node1")
    inst = n1.vrrp_instance(CONFIG.keepalived_instance)
    scripts = tuple(replace(s, status=script_status.get(s.name, "GOOD")) for s in inst.track_scripts)
    files = (TrackFile("maintenance", 1, maintenance_value),)
    down = sum(-(s.weight or 0) for s in scripts if s.status == "BAD") - maintenance_value
    inst1 = replace(inst, state="BACKUP", effective_priority=(inst.base_priority or 0) - down, track_scripts=scripts,
                    track_files=files)
    i2 = n2.vrrp_instance(CONFIG.keepalived_instance)
    inst2 = replace(i2, state="MASTER", effective_priority=i2.base_priority,  # Primary now: chk_drbd passes
                    track_scripts=tuple(replace(s, status="GOOD") for s in i2.track_scripts))
    vip = next(a for a in n1.addresses if a.address == CONFIG.vip)
    snap = with_node(snap, "node1", vrrp=(inst1,), addresses=tuple(a for a in n1.addresses if a != vip),
                     maintenance_since_epoch_s=1764560000, maintenance_set_by="alice@ws1 (switchover to node2, t)")
    snap = with_node(snap, "node2", vrrp=(inst2,), addresses=(*n2.addresses, vip))
    return snap


def test_penalty_points_are_attributed_to_checks_and_track_files():
    snap = _standby_after_switchover(-40, {"chk_drbd": "BAD"})
    (f,) = codes(snap)["standby-penalised"]
    assert "node1 runs 60 points down" in f.title
    assert "chk_drbd -20" in f.title and "maintenance -40" in f.title


def test_a_check_that_fails_for_a_real_reason_is_not_by_design():
    # chk_galera fails because MariaDB refused the check's login, while Galera is Synced here
    snap = recording("healthy")
    n2 = snap.node("node2")
    inst = n2.vrrp_instance(CONFIG.keepalived_instance)
    scripts = tuple(replace(s, status="BAD") if s.name == "chk_galera" else s for s in inst.track_scripts)
    snap = with_node(snap, "node2", vrrp=(replace(inst, track_scripts=scripts, effective_priority=50),))
    (f,) = codes(snap)["standby-penalised"]
    galera_part = f.explanation.split("chk_galera (-20):", 1)[1].split(".", 1)[0]
    assert "by design" not in galera_part and "the check itself fails" in galera_part
    assert "by design" in f.explanation.split("chk_drbd (-20):", 1)[1]  # the seed's chk_drbd wants Primary


# ---- P5: a maintenance value left standing is a pin, with who, since when, what it blocks and the fix -------
def test_maintenance_pin_finding():
    snap = _standby_after_switchover(-40, {"chk_drbd": "BAD"})
    (f,) = codes(snap)["maintenance-pin"]
    assert f.nodes == ("node1",) and "value -40" in f.title and "alice@ws1" in f.title and " since " in f.title
    assert "cannot take the VIP back" in f.explanation
    assert "hatui maintenance clear --node node1" in f.action
    # clearing: 100 - 20 (chk_drbd) = 80 < node2's 90 → no preempt
    assert "does not move the VIP" in f.explanation
    snap = _standby_after_switchover(-40, {})
    (f,) = codes(snap)["maintenance-pin"]
    assert "PREEMPT" in f.explanation  # 100 > 90


def test_role_unknown_on_the_vip_holder_is_not_called_secondary():
    snap = recording("healthy")
    n1 = snap.node("node1")
    res = replace(n1.drbd[0], role="Unknown")
    found = codes(with_node(snap, "node1", drbd=(res,)))
    assert "vip-not-drbd-primary" not in found and "drbd-role-unknown" in found


def test_maintenance_mark_parser():
    from hatui.probes.maintenance import parse_mark

    rec = ('{"time": "2026-12-01T03:12:00+0000", "user": "alice", "host": "ws1", "action": "switchover", '
           '"target": "node2", "event": "step"}')
    mark = parse_mark(f"1764560000\n{rec}\n").value
    assert mark.since_epoch_s == 1764560000 and mark.by == "alice@ws1 (switchover to node2, 2026-12-01T03:12:00+0000)"
    assert parse_mark("").value is None
    assert parse_mark("1764560000\nnot json\n").unparsed


# ---- P12: remote and typed text is data, never markup or terminal control ----------------------------------
async def test_markup_in_typed_text_and_errors_does_not_crash_the_wizard():
    from hatui.actions.plan import Plan
    from hatui.actions.switchover import plan_switchover
    from hatui.tui.app import HatuiApp
    from hatui.tui.wizard import ActionMenu, ActionWizard

    snap = recording("healthy")
    app = HatuiApp(CONFIG, collector=None, clock=lambda: snap.taken_at_epoch_s + 1)
    async with app.run_test(size=(110, 46)) as pilot:
        await pilot.pause()
        app.apply_snapshot(snap)
        app.push_screen(ActionWizard(plan_switchover(snap, CONFIG, "node2")))
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.press(*"[/]x[b]", "enter")
        await pilot.pause()
        assert "'[/]x[b]' is not node2" in str(app.screen.query_one("#state").render())
        await pilot.press("escape")
        refused = Plan("x", "t", "node2", (), (), refusal="lock owner [/] says [b]hi")
        app.push_screen(ActionWizard(refused))
        await pilot.pause()
        await pilot.press("escape")
        app.push_screen(ActionMenu("menu", [("a@node1", "odd [/] label")]))
        await pilot.pause()
        assert isinstance(app.screen, ActionMenu)


async def test_escape_sequences_in_the_web_page_never_reach_the_screen(tmp_path):
    from hatui.probes.web import fetch_web

    async def serve(reader, writer):
        await reader.read(1024)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nHA Web Service is running on node \x1b]52;c;ZWNobyBoaQ==\x07node1\x1b[2J")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        w = await fetch_web(f"http://127.0.0.1:{port}/", "HA Web Service is running on node", 3)
    assert w.ok and w.node == "node1" and "\x1b" not in w.body


def test_every_finding_code_is_documented():
    import re

    root = Path(__file__).parents[1]
    codes_in_rules = set(re.findall(r'_f\("[a-z]+", "([a-z0-9-]+)"', (root / "hatui" / "diagnosis.py").read_text()))
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", (root / "docs" / "findings.md").read_text(), re.M))
    assert codes_in_rules and codes_in_rules <= documented, codes_in_rules - documented
