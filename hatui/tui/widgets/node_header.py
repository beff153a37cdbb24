"""One line per node: reachable, VRRP role, VIP, and how fresh the data is."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from hatui.config import Config
from hatui.model import NodeSnapshot
from hatui.tui.style import palette
from hatui.tui.widgets.panel import fmt_duration


class NodeHeader(Widget):
    """Redrawn by the app on every snapshot and every second (the age of the data), so it is given the
    clock's time rather than reading one."""

    DEFAULT_CSS = "NodeHeader { width: 1fr; height: 3; border: round $primary; padding: 0 1; }"

    def __init__(self, node: str, **kw) -> None:
        super().__init__(**kw)
        self.node = node
        self.border_title = node
        self._shown = Text("waiting for the first poll…")

    def render(self) -> Text:
        return self._shown

    def _set(self, text: Text) -> None:
        if text != self._shown:  # most calls change nothing: no repaint (and never a re-layout)
            self._shown = text
            self.refresh()

    def show(self, cfg: Config, n: NodeSnapshot | None, last_ok: float | None, now: float) -> None:
        c = palette(self)
        if n is None:
            self._set(Text("waiting for the first poll…", style=c.dim))
            return
        t = Text()
        age = max(0.0, now - last_ok) if last_ok else None
        if not n.reachable:
            since = fmt_duration(now - n.since_epoch_s) if n.since_epoch_s else "?"
            t.append("✗ UNREACHABLE", style=f"bold {c.bad}")
            t.append(f" for {since} · last data {f'{age:.0f} s ago' if age is not None else 'never'}", style=c.bad)
            self.set_class(True, "-bad")
            self._set(t)
            return
        self.set_class(False, "-bad")
        t.append("● up ", style=c.ok)
        inst = n.vrrp_instance(cfg.keepalived_instance)
        if n.keepalived_running is False:
            t.append("  keepalived DOWN", style=f"bold {c.bad}")
        elif inst is not None:
            style = c.ok if inst.state in ("MASTER", "BACKUP") else c.bad
            t.append(f"  {inst.state}", style=f"bold {style}")
        if n.holds_vip(cfg.vip):
            t.append("  ◆ VIP", style=f"bold {c.info}")
        if n.stream and n.stream not in ("up", "starting"):
            t.append("  stream restarting", style=c.warn)
        # "live": the node answered within the last two intervals; only stale data shows its age
        if age is not None and age <= 2 * cfg.poll_interval_s + 0.5:
            t.append("  live", style=c.dim)
        else:
            t.append(f"  last poll {age:.0f} s ago", style=f"bold {c.warn}")
        self._set(t)
