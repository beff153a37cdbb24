"""Notifications (a toast and the bell) on a VIP move, a node becoming unreachable and Galera leaving
Primary, between two recorded lab snapshots; `n` and the config's `notifications:` turn them off."""

from __future__ import annotations

from dataclasses import replace

from hatui.tui.alerts import alerts
from hatui.tui.app import HatuiApp
from tests.recordings import CONFIG, recording


def shown(app: HatuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def between(app: HatuiApp, pilot, first: str, second: str) -> None:
    await pilot.pause()
    app.apply_snapshot(recording(first))
    await pilot.pause()
    app.apply_snapshot(recording(second))
    await pilot.pause()


class Bells:
    def __init__(self, app: HatuiApp) -> None:
        self.count = 0
        app.bell = self.ring  # type: ignore[method-assign]

    def ring(self) -> None:
        self.count += 1


async def test_vip_move_between_two_snapshots_notifies_and_rings():
    app = HatuiApp(CONFIG, collector=None)
    bells = Bells(app)
    async with app.run_test(size=(100, 40)) as pilot:
        await between(app, pilot, "healthy", "failover")
        assert any("VIP 198.18.0.100 moved: node1 → node2" in m for m in shown(app)), shown(app)
        assert bells.count == 1


async def test_same_snapshot_twice_says_nothing():
    app = HatuiApp(CONFIG, collector=None)
    bells = Bells(app)
    async with app.run_test(size=(100, 40)) as pilot:
        await between(app, pilot, "healthy", "healthy")
        assert shown(app) == [] and bells.count == 0


async def test_the_n_key_suppresses_them():
    app = HatuiApp(CONFIG, collector=None)
    bells = Bells(app)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("n")
        assert shown(app) == ["notifications off"]
        await between(app, pilot, "healthy", "failover")
        assert not any("moved" in m for m in shown(app)) and bells.count == 0
        await pilot.press("n")
        app.apply_snapshot(recording("healthy"))  # node2 → node1: told again
        await pilot.pause()
        assert any("VIP 198.18.0.100 moved: node2 → node1" in m for m in shown(app))


async def test_the_config_key_turns_them_off():
    app = HatuiApp(replace(CONFIG, notifications=False), collector=None)
    bells = Bells(app)
    async with app.run_test(size=(100, 40)) as pilot:
        await between(app, pilot, "healthy", "failover")
        assert shown(app) == [] and bells.count == 0


def test_unreachable_and_galera_leaving_primary():
    msgs = [a.message for a in alerts(recording("resync"), recording("node-down"), CONFIG)]
    assert any(m.startswith("node1 became unreachable") for m in msgs), msgs
    assert "node2: Galera left Primary (non-Primary)" in msgs
    # node1 unreachable is not also "Galera left Primary": it tells nothing about Galera
    assert not any(m.startswith("node1: Galera") for m in msgs)
    # the VIP stayed on node2
    assert not any("moved" in m for m in msgs)


def test_first_snapshot_is_no_change():
    assert alerts(None, recording("failover"), CONFIG) == []


def _not_polled_yet(snap):
    return replace(snap, nodes=tuple(replace(n, reachable=False, error="not polled yet", answered_at_epoch_s=None,
                                             addresses=()) for n in snap.nodes))


def test_no_vip_move_while_the_nodes_are_first_read():
    """Seen at start-up in tmux: "VIP moved: no node → node1", on the lab where the VIP had not moved — the
    snapshot before was the one in which no node had been read yet."""
    healthy = recording("healthy")
    assert not any("moved" in a.message for a in alerts(_not_polled_yet(healthy), healthy, CONFIG))
    half = replace(healthy, nodes=(healthy.nodes[0], _not_polled_yet(healthy).nodes[1]))
    assert not any("moved" in a.message for a in alerts(half, healthy, CONFIG))


def test_a_vip_holder_that_stops_answering_is_not_a_vip_move():
    """The VIP is not seen to move when its holder stops answering: that is the unreachable alert alone."""
    healthy = recording("healthy")
    gone = replace(healthy, nodes=tuple(replace(n, reachable=False, error="timed out") if n.node == "node1" else n
                                        for n in healthy.nodes))
    msgs = [a.message for a in alerts(healthy, gone, CONFIG)]
    assert any(m.startswith("node1 became unreachable") for m in msgs) and not any("moved" in m for m in msgs), msgs
    # ...but a move the survivor shows is one
    taken = recording("node-down")  # node1 unreachable, node2 holds the VIP
    assert any("moved" in a.message and "node2" in a.message for a in alerts(healthy, taken, CONFIG))


async def test_while_an_action_runs_a_change_goes_into_its_progress_not_a_toast():
    """Seen in tmux at 80x24: during a switchover the toasts ("VIP moved…", "node2 became unreachable…")
    covered half of the wizard's progress, the lines the operator must read."""
    from textual.widgets import RichLog

    from hatui.actions.switchover import plan_switchover
    from hatui.tui.wizard import ActionWizard

    app = HatuiApp(CONFIG, collector=None)
    bells = Bells(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.apply_snapshot(recording("healthy"))
        await pilot.pause()
        wizard = ActionWizard(plan_switchover(recording("healthy"), CONFIG, "node2"))
        app.push_screen(wizard)
        await pilot.pause()
        wizard.running = True  # as execute() sets it, with its progress shown
        wizard.add_class("-started")
        await pilot.pause()
        app.apply_snapshot(recording("failover"))
        await pilot.pause()
        await pilot.pause()
        assert shown(app) == []
        text = "".join(s.text for s in wizard.query_one("#progress", RichLog).lines)
        assert "(seen: VIP" in text and "moved" in text, text
        assert bells.count == 0  # a planned move is information, not an alarm
        wizard.running = False
