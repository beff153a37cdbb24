"""Findings, worst first, one line each; enter expands the selected one (why it matters, what to do),
`e` expands or collapses all.  On a tall screen the problems start expanded."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from hatui.config import Config
from hatui.model import ClusterSnapshot, Finding
from hatui.tui.style import SEV_WORD
from hatui.tui.widgets.panel import SnapshotPanel


def _key(f: Finding) -> tuple[str, tuple[str, ...], str]:
    return (f.code, f.nodes, f.title)


class FindingsPanel(SnapshotPanel, Widget, can_focus=True):
    BINDINGS = [
        Binding("up,k", "move(-1)", "previous", show=False),
        Binding("down,j", "move(1)", "next", show=False),
        Binding("enter", "toggle", "why / what to do"),
        Binding("e", "toggle_all", "expand all"),
    ]
    DEFAULT_CSS = "FindingsPanel { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }"

    cursor: reactive[int] = reactive(0)
    tall: reactive[bool] = reactive(False)  # set by the screen: problems start expanded

    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config
        self._text = Text()
        self._open_keys: set[tuple] = set()  # toggled by the operator
        self._shut_keys: set[tuple] = set()

    def view(self, snap: ClusterSnapshot) -> object:
        return (snap.findings, self.cursor, self.tall, frozenset(self._open_keys), frozenset(self._shut_keys),
                self.has_focus)

    def render(self) -> Text:
        return self._text

    def _expanded(self, f: Finding) -> bool:
        k = _key(f)
        return k in self._open_keys or (self.tall and f.expand and k not in self._shut_keys)

    def draw(self, snap: ClusterSnapshot) -> None:
        c = self.colors
        findings = snap.findings
        self.cursor = min(self.cursor, max(0, len(findings) - 1))
        lines: list[Text] = []
        for i, f in enumerate(findings):
            style = c.severity(f.severity)
            selected = self.has_focus and i == self.cursor
            # one line each (cut with … to the width); expanded ones wrap their why and what to do
            line = Text()
            line.append("›" if selected else " ", style=f"bold {c.info}")
            line.append(f"{SEV_WORD.get(f.severity, f.severity):4} ", style=f"bold {style}")
            line.append(f.title, style=f"{style} reverse" if selected else style)
            lines.append(line)
            if self._expanded(f):
                width = max(20, (self.content_size.width or 78) - 6)
                lines += [Text(f"      {w}") for w in textwrap.wrap(f.explanation, width)]
                lines += [Text(f"      {w}", style="italic") for w in textwrap.wrap("→ " + f.action, width)]
        text = Text("\n").join(lines)
        text.no_wrap, text.overflow = True, "ellipsis"  # one line each, cut with … to the width
        self._text = text
        self.refresh(layout=True)

    def _redraw(self) -> None:
        self._drawn = None
        self.watch_snapshot(self.snapshot)

    def watch_cursor(self) -> None:
        self._redraw()

    def watch_tall(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def on_focus(self) -> None:
        self._redraw()

    def on_blur(self) -> None:
        self._redraw()

    def action_move(self, step: int) -> None:
        if self.snapshot is not None and self.snapshot.findings:
            self.cursor = max(0, min(len(self.snapshot.findings) - 1, self.cursor + step))

    def action_toggle(self) -> None:
        if self.snapshot is None or not self.snapshot.findings:
            return
        f = self.snapshot.findings[self.cursor]
        k = _key(f)
        if self._expanded(f):
            self._open_keys.discard(k)
            self._shut_keys.add(k)
        else:
            self._shut_keys.discard(k)
            self._open_keys.add(k)
        self._redraw()

    def action_toggle_all(self) -> None:
        if self.snapshot is None:
            return
        keys = {_key(f) for f in self.snapshot.findings}
        if any(self._expanded(f) for f in self.snapshot.findings):
            self._open_keys.clear()
            self._shut_keys = keys
        else:
            self._shut_keys.clear()
            self._open_keys = keys
        self._redraw()
