"""The TUI on recorded lab polls: behaviour with Pilot, looks with SVG snapshots.

Fixtures in tests/fixtures/snapshots/ were recorded from the real lab by scripts/record_fixtures.py
(raw command output per node); replaying them runs the same parsers and diagnosis as a live poll.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import RichLog

from hatui.tui.app import FilterScreen, HatuiApp, HelpScreen
from hatui.tui.widgets import DrbdPanel, FindingsPanel, NodeHeader
from tests.recordings import CONFIG, recording


def app_with(name: str) -> HatuiApp:
    snap = recording(name)
    return HatuiApp(CONFIG, collector=None, clock=lambda: snap.taken_at_epoch_s + 1)


def text_of(widget) -> str:
    return str(widget.render())


async def show(pilot, name: str) -> None:
    await pilot.pause()
    pilot.app.apply_snapshot(recording(name))
    await pilot.pause()


async def test_healthy_pair_is_shown():
    app = app_with("healthy")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        n1 = text_of(app.screen.query_one("#node-node1", NodeHeader))
        n2 = text_of(app.screen.query_one("#node-node2", NodeHeader))
        assert "MASTER" in n1 and "VIP" in n1
        assert "BACKUP" in n2 and "VIP" not in n2
        findings = text_of(app.screen.query_one(FindingsPanel))
        assert "standby node2 runs 20 points down" in findings  # the seed's chk_drbd on a healthy standby
        assert "CRIT" not in findings
        assert "VIP 198.18.0.100 on node1" in app.sub_title


async def test_failover_is_shown():
    app = app_with("failover")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "failover")
        assert "VIP" in text_of(app.screen.query_one("#node-node2", NodeHeader))
        findings = text_of(app.screen.query_one(FindingsPanel))
        assert "MariaDB not answering on node1" in findings
        log = app.screen.query_one("#log", RichLog)
        assert any("VI_1 → MASTER" in line.text for line in log.lines)


async def test_resync_shows_progress():
    app = app_with("resync")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "resync")
        panel = app.screen.query_one(DrbdPanel)
        assert panel.has_class("-syncing")
        bar = panel.query_one("#drbd-progress")
        assert 0 < bar.progress < 100
        assert "ETA" in text_of(panel.query_one("#drbd-sync"))


async def test_node_down_is_marked_and_other_node_still_shown():
    app = app_with("node-down")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "node-down")
        n1 = text_of(app.screen.query_one("#node-node1", NodeHeader))
        assert "UNREACHABLE" in n1
        assert "up" in text_of(app.screen.query_one("#node-node2", NodeHeader))
        assert "node1 unreachable" in text_of(app.screen.query_one(FindingsPanel))


async def test_keys_help_filter_and_wrong_time_keys():
    app = app_with("failover")
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, "failover")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f")
        assert isinstance(app.screen, FilterScreen)
        await pilot.press(*"MASTER", "enter")
        await pilot.pause()
        log = app.screen.query_one("#log", RichLog)
        assert log.lines and all("MASTER" in line.text for line in log.lines)
        # r and p without a live connection say so instead of failing
        await pilot.press("r", "p")
        await pilot.pause()
        assert any("no live connection" in str(n.message) for n in app._notifications)
        # keys pressed on the help screen do not leak into the main screen
        await pilot.press("question_mark", "f", "f")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_lists_actions():
    app = app_with("healthy")
    async with app.run_test(size=(100, 30)) as pilot:
        await show(pilot, "healthy")
        names = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Refresh now", "Pause / resume polling", "Filter the failover log", "Help"):
            assert wanted in names


@pytest.mark.parametrize("name", ["healthy", "failover", "resync", "node-down"])
def test_snapshot_svg(snap_compare, name):
    async def before(pilot):
        await show(pilot, name)

    assert snap_compare(app_with(name), terminal_size=(100, 40), run_before=before)


def test_snapshot_svg_80x24(snap_compare):
    async def before(pilot):
        await show(pilot, "healthy")

    assert snap_compare(app_with("healthy"), terminal_size=(80, 24), run_before=before)


async def test_switchover_key_without_live_connection_says_so():
    app = app_with("healthy")
    async with app.run_test(size=(100, 30)) as pilot:
        await show(pilot, "healthy")
        await pilot.press("s")
        await pilot.pause()
        assert any("no live connection" in str(n.message) for n in app._notifications)


async def test_switchover_refused_in_read_only_mode():
    snap = recording("healthy")
    app = HatuiApp(CONFIG, collector=None, read_only=True, clock=lambda: snap.taken_at_epoch_s)
    async with app.run_test(size=(100, 30)) as pilot:
        await show(pilot, "healthy")
        await pilot.press("s")
        await pilot.pause()
        assert any("read-only" in str(n.message) for n in app._notifications)
        assert "Switchover" not in [c.title for c in app.get_system_commands(app.screen)]


async def test_wizard_shows_plan_and_wants_the_exact_name():
    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    app = app_with("healthy")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        plan = plan_switchover(recording("healthy"), CONFIG, "node2")
        app.push_screen(ActionWizard(plan))
        await pilot.pause()
        wizard = app.screen
        assert isinstance(wizard, ActionWizard)
        await pilot.click("#confirm")
        await pilot.press(*"node1", "enter")  # the wrong node: nothing runs
        await pilot.pause()
        assert "is not node2" in str(wizard.query_one("#state").render()) and not wizard.running
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionWizard)


async def test_wizard_for_an_unrunnable_plan_offers_no_confirmation():
    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    app = app_with("failover")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "failover")
        app.push_screen(ActionWizard(plan_switchover(recording("failover"), CONFIG, "node1")))
        await pilot.pause()
        assert not app.screen.query("#confirm")
        assert "cannot run" in str(app.screen.query_one("#state").render())


async def test_drbd_and_galera_menus_lead_to_a_plan():
    from hatui.tui.wizard import ActionMenu, ActionWizard

    snap = recording("resync")

    class IdleCollector:  # the menus need a live connection; nothing is polled or run in this test
        paused = False
        on_snapshot = None
        transports: dict = {}  # no node: the lock has no owner

        async def run(self) -> None:
            await asyncio.Event().wait()

        async def fresh(self):
            return snap

        async def close(self) -> None:
            pass

    app = HatuiApp(CONFIG, collector=IdleCollector(), clock=lambda: snap.taken_at_epoch_s + 1)
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "resync")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ActionMenu)
        await pilot.press("enter")  # the first entry: resync on node1
        await pilot.pause()
        assert isinstance(app.screen, ActionWizard)
        assert app.screen.plan.action == "drbd-resync" and not app.screen.plan.runnable  # a resync is running
        await pilot.press("escape")
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, ActionMenu)
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionMenu)


async def test_wizard_typing_goes_to_the_confirmation_and_page_keys_scroll_the_plan():
    """Issue 14: what the prompt says — type the node name, press enter — works without Tab or a click."""
    from textual.containers import VerticalScroll
    from textual.widgets import Input

    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    app = app_with("healthy")
    async with app.run_test(size=(110, 24)) as pilot:  # short: the plan does not fit, so it can scroll
        await show(pilot, "healthy")
        app.push_screen(ActionWizard(plan_switchover(recording("healthy"), CONFIG, "node2")))
        await pilot.pause()
        wizard = app.screen
        assert isinstance(app.focused, Input) and app.focused.id == "confirm"
        plan_view = wizard.query_one("#plan", VerticalScroll)
        assert plan_view.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.wait_for_scheduled_animations()  # the scroll animates: a loaded machine needs the wait
        assert plan_view.scroll_y > 0  # the plan scrolls while the typing stays in the field
        await pilot.press(*"node1", "enter")  # the wrong node: refused, nothing runs
        await pilot.pause()
        assert "is not node2" in str(wizard.query_one("#state").render()) and not wizard.running
        assert app.focused is wizard.query_one("#confirm", Input)
        await pilot.press("pageup")
        await pilot.wait_for_scheduled_animations()
        assert plan_view.scroll_y == 0


def test_snapshot_svg_200x60(snap_compare):
    async def before(pilot):
        await show(pilot, "resync")

    assert snap_compare(app_with("resync"), terminal_size=(200, 60), run_before=before)


async def test_80x24_shows_the_whole_pair_on_the_first_screen():
    from hatui.tui.widgets.overview import OverviewPanel

    app = app_with("failover")
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, "failover")
        screen = app.screen
        visible = {w.id for w in screen.query(".panel") if w.display and w.region.height > 0
                   and w.region.bottom <= 24}
        assert {"overview", "findings", "log"} <= visible, visible
        overview = "\n".join(line.text for line in screen.query_one(OverviewPanel).render_lines(
            screen.query_one(OverviewPanel).region.reset_offset))
        for wanted in ("40 of 100", "90 of 90", "Secondary UpToDate", "Primary UpToDate mounted", "MariaDB down",
                       "Primary Synced 1/2", "answered by node2"):
            assert wanted in overview, wanted
        findings = screen.query_one(FindingsPanel)
        assert text_of(findings).splitlines()[0].strip().startswith("CRIT MariaDB not answering on node1")
        assert len(text_of(findings).splitlines()) == len(app.snapshot.findings)  # one line each
        log = screen.query_one("#log", RichLog)
        assert log.region.height >= 5 and any("→ MASTER" in line.text for line in log.lines)


async def test_enter_expands_a_finding_and_z_maximises_the_panel():
    app = app_with("failover")
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, "failover")
        findings = app.screen.query_one(FindingsPanel)
        findings.focus()
        await pilot.pause()
        before = len(text_of(findings).splitlines())
        await pilot.press("enter")
        await pilot.pause()
        text = text_of(findings)
        assert len(text.splitlines()) > before and "→ Check mariadb on node1" in text
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is findings
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None


class BlockingExecutor:
    """An executor whose step blocks until it is aborted; then it undoes (slowly) and writes its end record."""

    events: list[str] = []

    def __init__(self, config, collector, progress=print, read_only=False) -> None:
        self.abort = asyncio.Event()
        self.progress = progress

    async def run(self, plan, rebuild=None):
        from hatui.actions.executor import Outcome

        self.events.append("start")
        await self.abort.wait()  # step 1 runs until the operator aborts
        self.events.append("abort")
        await asyncio.sleep(0.3)  # the undo takes a while
        self.events.append("undo")
        self.events.append("end")
        return Outcome(False, "VIP on node1, DRBD primary node1, /mnt/drbd mounted on node1")


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_during_an_action_asks_then_aborts_and_quits_after_the_undo(monkeypatch, key):
    """S6: quitting while a plan runs never leaves it half-done without its undo and end record."""
    import hatui.actions.executor
    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    events: list[str] = []
    monkeypatch.setattr(BlockingExecutor, "events", events)
    monkeypatch.setattr(hatui.actions.executor, "Executor", BlockingExecutor)
    app = app_with("healthy")
    real_exit = app.exit
    monkeypatch.setattr(app, "exit", lambda *a, **k: (events.append("exit"), real_exit(*a, **k)))
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        app.push_screen(ActionWizard(plan_switchover(recording("healthy"), CONFIG, "node2")))
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.press(*"node2", "enter")
        await pilot.pause()
        assert app.screen.running and events == ["start"]
        await pilot.press(key)  # the first quit only asks
        await pilot.pause(0.2)
        assert events == ["start"] and app.is_running
        assert any("q again to abort it and quit after the undo" in str(n.message) for n in app._notifications), \
            ([str(n.message) for n in app._notifications], app.focused, events)
        await pilot.press(key)  # the second aborts; the app quits once the undo and the end record are done
        for _ in range(40):
            if "exit" in events:
                break
            await asyncio.sleep(0.05)
    assert events == ["start", "abort", "undo", "end", "exit"], events


async def test_quit_without_a_running_action_quits_at_once(monkeypatch):
    app = app_with("healthy")
    exits: list[int] = []
    real_exit = app.exit
    monkeypatch.setattr(app, "exit", lambda *a, **k: (exits.append(1), real_exit(*a, **k)))
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        await pilot.press("q")
        await pilot.pause()
    assert exits == [1]


async def test_switchover_key_builds_the_plan_with_the_current_lock_owner():
    """S10: `s` reads the lock before building the plan: another operator's lock fails the pre-check."""
    from hatui.transport import CommandResult
    from hatui.tui.wizard import ActionWizard

    snap = recording("healthy")

    class LockedNode:  # answers the lock's read (`cat /run/hatui-action.lock/owner`, its age) with bob's lock
        async def exec(self, command: str, timeout_s: float | None = None) -> CommandResult:
            if "/owner" in command:
                return CommandResult(0, "@@held\n@@owner bob@ws2 pid 9 drbd-resync\n@@age 3\n")
            return CommandResult(0, "")

    class LockedCollector:
        paused = False
        on_snapshot = None
        transports = {"node1": LockedNode(), "node2": LockedNode()}

        async def run(self) -> None:
            await asyncio.Event().wait()

        async def fresh(self):
            return snap

        async def close(self) -> None:
            pass

    app = HatuiApp(CONFIG, collector=LockedCollector(), clock=lambda: snap.taken_at_epoch_s + 1)
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        await pilot.press("s")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, ActionWizard):
                break
        assert isinstance(app.screen, ActionWizard)
        plan = app.screen.plan
        check = next(c for c in plan.prechecks if c.name == "no other action running")
        assert not check.ok and "bob@ws2 pid 9 drbd-resync" in check.why and not plan.runnable
        assert not app.screen.query("#confirm")


async def test_a_snapshot_that_changes_nothing_repaints_nothing(monkeypatch):
    """The live view gets ~3 snapshots a second (each node's poll, the web check) that mostly change
    nothing: none of them may repaint a widget (the log's title, set again on each, repainted the whole
    log 3 times a second: 12 ms a frame, a third of the TUI's CPU)."""
    from textual.widget import Widget

    app = app_with("healthy")
    async with app.run_test(size=(110, 46)) as pilot:
        await show(pilot, "healthy")
        await pilot.pause(0.2)
        repainted: list[str] = []
        original = Widget.refresh

        def refresh(self, *args, **kwargs):
            repainted.append(f"{type(self).__name__}#{self.id}")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", refresh)
        app.apply_snapshot(recording("healthy"))
        await pilot.pause()
        assert repainted == []


async def test_the_wizards_progress_wraps_at_its_own_width_on_80_columns():
    """Seen in tmux at 80x24: the progress lines were wrapped at RichLog's default minimum of 78 columns,
    wider than the wizard's log, so the end of each long line ("… `hatui lock break` once it ans") was cut."""
    from textual.widgets import RichLog

    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    app = app_with("healthy")
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, "healthy")
        wizard = ActionWizard(plan_switchover(recording("healthy"), CONFIG, "node2"))
        app.push_screen(wizard)
        await pilot.pause()
        wizard.add_class("-started")
        await pilot.pause()
        log = wizard.query_one("#progress", RichLog)
        words = "lock: node2 kept the lock (root@vm pid 6504 switchover) — `hatui lock break` once it answers"
        log.write(words)
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert all(strip.cell_length <= width for strip in log.lines), (width, [s.text for s in log.lines])
        assert "answers" in "".join(s.text for s in log.lines)
