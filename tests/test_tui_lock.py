"""Read-only mode in the TUI shows no action key; the palette offers every action of the registry and
the action lock (show, and break after typing `break`); a stale lock says STALE wherever it is shown."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json

import pytest

from hatui.actions import registry
from hatui.tui.app import HatuiApp
from hatui.tui.wizard import ActionWizard
from tests.recordings import CONFIG, recording
from tests.fakes import FakeCollector, take_lock


class LiveFake(FakeCollector):
    """The executor tests' fake nodes (the lock's shell really runs, in a directory) as a live collector."""

    paused = False
    on_snapshot = None

    async def run(self) -> None:
        await asyncio.Event().wait()

    def refresh_now(self) -> None:
        pass


@pytest.fixture
def local_audit(tmp_path, monkeypatch):
    path = tmp_path / "local" / "audit.log"
    monkeypatch.setattr(importlib.import_module("hatui.actions.audit"), "LOCAL_AUDIT", path)
    return path


def app_for(collector, read_only: bool = False) -> HatuiApp:
    snap = recording("healthy")
    return HatuiApp(CONFIG, collector=collector, read_only=read_only, clock=lambda: snap.taken_at_epoch_s + 1)


async def started(pilot) -> None:
    await pilot.pause()
    pilot.app.apply_snapshot(recording("healthy"))
    await pilot.pause()


def footer_keys(app: HatuiApp) -> set[str]:
    """The keys the footer draws (Footer.compose reads the screen's active bindings, shown ones)."""
    return {key for key, b in app.screen.active_bindings.items() if b.binding.show}


async def wait_for(pilot, condition, tries: int = 60) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


async def test_read_only_shows_no_action_key_and_ignores_them(tmp_path):
    app = app_for(LiveFake(tmp_path), read_only=True)
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        assert not footer_keys(app) & {"s", "d", "g"}, footer_keys(app)
        assert {"r", "p", "f", "q"} <= footer_keys(app)
        for key in "sdg":
            await pilot.press(key)
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ActionWizard) and len(app.screen_stack) == 1
        assert app.sub_title.startswith("READ-ONLY · ")


async def test_the_default_footer_still_shows_the_action_keys(tmp_path):
    app = app_for(LiveFake(tmp_path))
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        assert {"s", "d", "g", "r", "p", "f", "q"} <= footer_keys(app)
        assert "READ-ONLY" not in app.sub_title


def titles(app: HatuiApp) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


async def test_the_palette_offers_every_action_of_the_registry_and_the_lock(tmp_path):
    app = app_for(LiveFake(tmp_path))
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        names = titles(app)
        for spec in registry.ACTIONS:
            for n in CONFIG.nodes:
                label = spec.label.format(node=n.name)
                assert label[0].upper() + label[1:] in names, (spec.key, names)
        assert "Clear maintenance on node1" in names
        assert "Show the action lock" in names and "Break the action lock" in names


async def test_read_only_palette_offers_the_lock_read_but_no_action(tmp_path):
    app = app_for(LiveFake(tmp_path), read_only=True)
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        names = titles(app)
        assert "Show the action lock" in names
        assert "Break the action lock" not in names and "Clear maintenance on node1" not in names
        assert not any(n.startswith("Switch over") for n in names)


async def test_lock_show_from_the_palette_flags_a_stale_lock(tmp_path):
    fake = LiveFake(tmp_path)
    take_lock(fake.transports["node1"], "alice@ws1 pid 7 switchover", age_s=120)
    app = app_for(fake, read_only=True)
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        app.action_lock_show()
        assert await wait_for(pilot, lambda: any("STALE" in str(n.message) for n in app._notifications)), \
            [str(n.message) for n in app._notifications]
        said = next(n for n in app._notifications if "STALE" in str(n.message))
        assert "node1: alice@ws1 pid 7 switchover — STALE: not refreshed for 12" in str(said.message)
        assert "node2: no lock" in str(said.message) and said.severity == "warning"


async def test_lock_break_from_the_palette_asks_then_breaks_and_audits(tmp_path, local_audit):
    from hatui.tui.lock import LockBreakScreen

    fake = LiveFake(tmp_path)
    n1 = fake.transports["node1"]
    take_lock(n1, "alice@ws1 pid 7 switchover", age_s=120)
    app = app_for(fake)
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        app.action_lock_break()
        assert await wait_for(pilot, lambda: isinstance(app.screen, LockBreakScreen))
        assert "STALE" in str(app.screen.query_one("#lock-shown").render())
        await pilot.press(*"brake", "enter")  # not the word: nothing happens
        await pilot.pause(0.1)
        assert isinstance(app.screen, LockBreakScreen) and n1.lock.exists()
        app.screen.query_one("#confirm").value = ""
        await pilot.press(*"break", "enter")
        assert await wait_for(pilot, lambda: not n1.lock.exists())
        assert await wait_for(pilot, lambda: any("lock broken" == n.title for n in app._notifications))
    events = [json.loads(x)["event"] for x in local_audit.read_text().splitlines()]
    assert events == ["start", "end"], events
    assert [r["event"] for r in n1.audit()] == ["start", "end"]


async def test_lock_break_from_the_palette_escape_changes_nothing(tmp_path, local_audit):
    from hatui.tui.lock import LockBreakScreen

    fake = LiveFake(tmp_path)
    take_lock(fake.transports["node1"], "alice@ws1 pid 7 switchover")
    app = app_for(fake)
    async with app.run_test(size=(110, 46)) as pilot:
        await started(pilot)
        app.action_lock_break()
        assert await wait_for(pilot, lambda: isinstance(app.screen, LockBreakScreen))
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: any("not broken" in str(n.message) for n in app._notifications))
        assert fake.transports["node1"].lock.exists() and not local_audit.exists()


def lock_cli(monkeypatch, fake, what: str, capsys) -> tuple[int, str]:
    import hatui.collector
    from hatui.actions import cli

    monkeypatch.setattr(hatui.collector, "Collector", lambda cfg, **kw: fake)
    rc = asyncio.run(cli._run(argparse.Namespace(cmd="lock", what=what, yes=True), CONFIG, False))
    return rc, capsys.readouterr().out


@pytest.mark.parametrize("what", ["show", "break"])
def test_lock_show_and_break_flag_a_stale_lock(tmp_path, monkeypatch, capsys, local_audit, what):
    fake = FakeCollector(tmp_path)
    take_lock(fake.transports["node1"], "alice@ws1 pid 7 switchover", age_s=120)
    take_lock(fake.transports["node2"], "alice@ws1 pid 7 switchover", age_s=2)
    rc, out = lock_cli(monkeypatch, fake, what, capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("node1: alice@ws1 pid 7 switchover — STALE: not refreshed for 12"), out
    assert lines[1].startswith("node2: alice@ws1 pid 7 switchover, refreshed ") and "STALE" not in lines[1], out


def test_the_help_lists_no_action_key_in_read_only_mode():
    """The footer hid s/d/g under --read-only, the `?` help still offered them (issue 16's review)."""
    from hatui.tui.screens.help import KEYS, help_text

    normal, ro = help_text(False), help_text(True)
    assert all(f"| `{k}` |" in normal for k, _ in KEYS)
    for key in ("s", "d", "g"):
        assert f"| `{key}` |" in normal and f"| `{key}` |" not in ro
    assert "Read-only" in ro and "| `r` |" in ro


def test_every_key_the_help_names_is_bound():
    from hatui.tui.app import HatuiApp
    from hatui.tui.screens.help import KEYS
    from hatui.tui.screens.main import MainScreen
    from hatui.tui.widgets.findings import FindingsPanel

    bound = {k.strip() for cls in (HatuiApp, MainScreen, FindingsPanel) for b in cls.BINDINGS
             for k in (b.key if hasattr(b, "key") else b[0]).split(",")}
    named = {k.strip() for key, _ in KEYS for part in key.split(",") for k in part.split("/")}
    alias = {"?": "question_mark"}
    missing = {k for k in named if alias.get(k, k) not in bound and k != "ctrl+p"}
    assert not missing, missing
