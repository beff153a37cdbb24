"""The status page through the VIP, as a client sees it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.widgets.panel import SnapshotPanel, word


class WebPanel(SnapshotPanel, Static, can_focus=True):
    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def view(self, snap: ClusterSnapshot) -> object:
        w = snap.web
        # the latency in 100 ms steps: a few ms of jitter is not worth a redraw
        return (w.ok, w.node, w.error, min(int((w.latency_ms or 0) // 100), 10)) if w else None

    def draw(self, snap: ClusterSnapshot) -> None:
        cfg, c, w = self.config, self.colors, snap.web
        if w is None:
            self.update(word("waiting for the first check…" if cfg.web.url else "no web check configured (web.url)",
                             c.dim))
            return
        t = Text()
        if w.ok:
            t.append("✓ OK ", style=f"bold {c.ok}")
            t.append(f"answered by {w.node} in {w.latency_ms:.0f} ms\n" if w.latency_ms is not None else "\n")
        else:
            t.append("✗ FAIL ", style=f"bold {c.bad}")
            t.append(f"{w.error}\n", style=c.bad)
        t.append(w.url, style=c.dim)
        self.update(t)
