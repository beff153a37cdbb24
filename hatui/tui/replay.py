"""`hatui replay`: the live view's screen on a recording.  Every action is refused, the header says
REPLAY and the recorded time; ←/→ one cycle, shift+←/→ the previous/next change, `t` a time, space
play/pause, `+`/`-` the speed.  Navigation itself is hatui.record.navigate (no screen)."""

from __future__ import annotations

import time

from textual.binding import Binding

from hatui.config import Config
from hatui.record.navigate import Navigator
from hatui.record.rebuild import Recording
from hatui.record.times import parse_time, show_time
from hatui.tui.app import HatuiApp
from hatui.tui.screens.jump import JumpScreen

PLAY_TICK_S = 0.2


class ReplayApp(HatuiApp):
    BINDINGS = [
        Binding("left", "step(-1)", "← cycle", priority=True),
        Binding("right", "step(1)", "cycle →", priority=True),
        Binding("shift+left", "change(-1)", "← change", priority=True),
        Binding("shift+right", "change(1)", "change →", priority=True),
        Binding("t", "jump", "Time"),
        Binding("space", "play", "Play/pause", priority=True),
        Binding("plus", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
    ]

    def __init__(self, config: Config, recording: Recording, start: int | None = None) -> None:
        self.recording = recording
        self.nav = Navigator(recording.times, recording.changes, start)
        super().__init__(config, collector=None, read_only=True, clock=lambda: self.nav.at, replay=True)
        self._last_tick: float | None = None

    def on_ready(self) -> None:
        # not on_mount: Textual runs HatuiApp.on_mount (its "waiting for the first poll") as well
        self.set_interval(PLAY_TICK_S, self._play_tick)
        self.show_frame()

    def show_frame(self) -> None:
        nav = self.nav
        state = "▶" if nav.playing else "paused"
        self.replay_label = f"{show_time(nav.at)} · {nav.pos + 1}/{len(nav.times)} {state} ×{nav.speed:g}"
        self.apply_snapshot(self.recording.snapshot(nav.pos))
        self._update_title()

    def action_step(self, n: int) -> None:
        if self.nav.step(n):
            self.show_frame()

    def action_change(self, direction: int) -> None:
        if self.nav.next_change(direction):
            self.show_frame()
        else:
            self.notify("no change " + ("after" if direction > 0 else "before") + " this cycle", timeout=2)

    def action_play(self) -> None:
        self.nav.toggle_play()
        self._last_tick = time.monotonic()
        self.show_frame()

    def action_speed(self, direction: int) -> None:
        self.nav.faster(direction)
        self.show_frame()

    def action_jump(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                at = parse_time(text, self.nav.times[-1])
            except ValueError as exc:
                self.notify(str(exc), severity="warning", markup=False)
                return
            self.nav.jump(at)
            self.show_frame()

        self.push_screen(JumpScreen(show_time(self.nav.at)), done)

    def _play_tick(self) -> None:
        now = time.monotonic()
        elapsed = now - (self._last_tick or now)
        self._last_tick = now
        was_playing = self.nav.playing
        if self.nav.tick(elapsed) or was_playing != self.nav.playing:
            self.show_frame()


def run_replay(config: Config, recording: Recording, start: int | None = None) -> int:
    ReplayApp(config, recording, start).run()
    return 0
