"""Findings, worst first: each with why it matters and what to do when it is worth saying unasked."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.style import SEV_WORD
from hatui.tui.widgets.panel import SnapshotPanel


class FindingsPanel(SnapshotPanel, Static):
    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def view(self, snap: ClusterSnapshot) -> object:
        return snap.findings

    def draw(self, snap: ClusterSnapshot) -> None:
        c = self.colors
        t = Text()
        for i, f in enumerate(snap.findings):
            if i:
                t.append("\n")
            style = c.severity(f.severity)
            t.append(f"{SEV_WORD.get(f.severity, f.severity):4} ", style=f"bold {style}")
            t.append(f.title, style=style)
            if f.expand:
                t.append(f"\n     {f.explanation}", style="default")
                t.append(f"\n     → {f.action}", style="italic")
        self.update(t)
