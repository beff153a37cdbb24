"""Replay navigation over recorded frames: one cycle, the previous/next change, a time, playback at a
speed.  Pure (the screen calls `tick()` with the wall time that passed), so it is tested without a
terminal."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class Navigator:
    """`times`: every frame's recorded time, ascending; `changes`: the frames where something the
    timeline tracks moved, ascending."""

    def __init__(self, times: Sequence[float], changes: Sequence[int], start: int | None = None) -> None:
        if not times:
            raise ValueError("a replay needs at least one recorded cycle")
        self.times = times
        self.changes = changes
        self.pos = len(times) - 1 if start is None else max(0, min(start, len(times) - 1))
        self.playing = False
        self.speed = 1.0
        self._clock_at: float | None = None  # the recorded time playback has reached

    @property
    def at(self) -> float:
        return self.times[self.pos]

    def _go(self, pos: int) -> bool:
        pos = max(0, min(pos, len(self.times) - 1))
        moved = pos != self.pos
        self.pos = pos
        self._clock_at = None
        return moved

    def step(self, n: int) -> bool:
        """n cycles on (or back); False at either end."""
        return self._go(self.pos + n)

    def next_change(self, direction: int) -> bool:
        """To the next (direction > 0) or previous change; False when there is none that way."""
        if direction > 0:
            i = bisect.bisect_right(self.changes, self.pos)
            return i < len(self.changes) and self._go(self.changes[i])
        i = bisect.bisect_left(self.changes, self.pos) - 1
        return i >= 0 and self._go(self.changes[i])

    def jump(self, at: float) -> bool:
        """To the last frame at or before `at` (the first one if `at` is before the recording)."""
        return self._go(bisect.bisect_right(self.times, at) - 1)

    def toggle_play(self) -> bool:
        if not self.playing and self.pos == len(self.times) - 1:
            self._go(0)  # play from the start when at the end
        self.playing = not self.playing
        self._clock_at = None
        return self.playing

    def faster(self, direction: int) -> float:
        i = bisect.bisect_left(SPEEDS, self.speed)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + (1 if direction > 0 else -1)))]
        return self.speed

    def tick(self, elapsed_s: float) -> bool:
        """While playing: advance the recorded time by elapsed × speed; True when the frame moved.
        Stops at the end."""
        if not self.playing:
            return False
        clock = (self.at if self._clock_at is None else self._clock_at) + elapsed_s * self.speed
        pos = max(self.pos, bisect.bisect_right(self.times, clock) - 1)
        moved = pos != self.pos
        self.pos = pos
        self._clock_at = clock
        if self.pos == len(self.times) - 1:
            self.playing = False
        return moved
