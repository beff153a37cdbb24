"""`hatui replay`: the live view's screen on a recording made from the recorded lab polls; keys with
Pilot, looks with an SVG snapshot."""

from __future__ import annotations


import pytest

from hatui.record.rebuild import Recording
from hatui.record.recorder import Recorder
from hatui.record.store import RecordReader, RecordStore
from hatui.record.times import show_time
from hatui.tui.replay import ReplayApp
from hatui.tui.screens.jump import JumpScreen
from hatui.tui.widgets import NodeHeader
from tests.recordings import CONFIG, record_cycles

T0 = 1_795_589_000.0




@pytest.fixture
def recording(tmp_path, utc) -> Recording:
    st = RecordStore(tmp_path / "r.sqlite", clock=lambda: T0)
    rec = Recorder(st, CONFIG)
    record_cycles(rec, [(T0 + i, "healthy") for i in range(4)] + [(T0 + 4 + i, "failover") for i in range(4)]
                  + [(T0 + 8 + i, "node-down") for i in range(2)])
    st.close()
    return Recording(RecordReader(tmp_path / "r.sqlite"), CONFIG)


def header(app, node: str) -> str:
    return str(app.screen.query_one(f"#node-{node}", NodeHeader).render())


async def test_replay_keys_move_through_the_recording_and_actions_are_refused(recording):
    app = ReplayApp(CONFIG, recording, start=0)
    async with app.run_test(size=(110, 46)) as pilot:
        await pilot.pause()
        assert app.sub_title.startswith(f"REPLAY {show_time(T0)} · 1/{len(recording)} paused")
        assert "MASTER" in header(app, "node1")
        await pilot.press("right")
        assert app.nav.pos == 1
        await pilot.press("shift+right")  # the next change: node1's answer in the failover
        assert recording.times[app.nav.pos] == T0 + 4
        await pilot.press("shift+right")
        assert recording.times[app.nav.pos] == T0 + 4.01  # node2's answer
        assert "VIP" in header(app, "node2") and "VIP 198.18.0.100 on node2" in app.sub_title
        await pilot.press("shift+left", "shift+left")  # back to the first change; none before it
        assert recording.times[app.nav.pos] == T0 + 4
        assert any("no change before" in str(n.message) for n in app._notifications)
        # every action refused, none offered
        await pilot.press("s", "d", "g")
        await pilot.pause()
        assert sum("replay: actions are disabled" in str(n.message) for n in app._notifications) == 3
        assert "Switchover" not in [c.title for c in app.get_system_commands(app.screen)]
        # t: a time
        await pilot.press("t")
        assert isinstance(app.screen, JumpScreen)
        app.screen.query_one("#jump").value = show_time(T0 + 9)
        await pilot.press("enter")
        await pilot.pause()
        assert recording.times[app.nav.pos] == T0 + 9  # the last cycle at or before that time
        assert "UNREACHABLE" in header(app, "node1")
        await pilot.press("left")
        assert "UNREACHABLE" in header(app, "node1")
        # space plays, + and - change the speed
        await pilot.press("plus", "plus")
        assert app.nav.speed == 5.0
        await pilot.press("minus")
        assert app.nav.speed == 2.0
        await pilot.press("space")
        assert app.nav.playing and "▶ ×2" in app.sub_title
        await pilot.pause(1.0)
        assert app.nav.pos == len(recording) - 1 and not app.nav.playing  # played to the end
        assert "paused" in app.sub_title


def test_replay_screen_svg(snap_compare, recording):
    async def before(pilot):
        await pilot.pause()
        await pilot.press("shift+right", "shift+right")  # the failover, as both nodes answered it

    assert snap_compare(ReplayApp(CONFIG, recording, start=0), terminal_size=(100, 40), run_before=before)
