"""What every panel shares: it is given the whole ClusterSnapshot (a reactive), decides itself
whether what it shows changed, and only then redraws; it never talks to a node."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from hatui.config import Config
from hatui.model import ClusterSnapshot, NodeSnapshot
from hatui.tui.style import Palette, palette


class SnapshotPanel:
    """Mixin for a Widget: set `snapshot`; `view(snap)` is the part of it this panel shows, and
    `draw(snap)` runs only when that part changed (most polls change nothing but timings).  The
    theme's colours are `self.colors`; a theme change redraws."""

    snapshot: reactive[ClusterSnapshot | None] = reactive(None, init=False, always_update=True, layout=False,
                                                         repaint=False)
    config: Config

    _drawn: object = object()

    def view(self, snap: ClusterSnapshot) -> object:
        return snap

    def draw(self, snap: ClusterSnapshot) -> None:
        raise NotImplementedError

    @property
    def colors(self) -> Palette:
        return palette(self)  # type: ignore[arg-type]

    def watch_snapshot(self, snap: ClusterSnapshot | None) -> None:
        if snap is None:
            return
        key = (self.view(snap), self.colors)
        if key != self._drawn:
            self._drawn = key
            self.draw(snap)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)  # type: ignore[attr-defined]

    def _theme_changed(self, _theme: object) -> None:
        self.watch_snapshot(self.snapshot)


def word(text: str, style: str) -> Text:
    return Text(text, style=style)


def grid(cfg: Config) -> Table:
    """Label column plus one column per node, in config order."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=True, min_width=11)
    for n in cfg.nodes:
        table.add_column(header=n.name, ratio=2, overflow="fold")
    return table


def nodes(cfg: Config, snap: ClusterSnapshot) -> list[NodeSnapshot | None]:
    return [snap.node(n.name) for n in cfg.nodes]


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
