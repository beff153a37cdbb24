"""The live view.  On a short terminal (< 40 rows, e.g. 80x24) the first screen shows the whole pair:
the node headers, an overview (priority, DRBD, Galera, web), the findings one line each and the newest
log lines; `v` swaps the overview for the detailed panels.  On a tall one the detailed panels (VRRP,
DRBD, Galera, web) are shown and the log fills what is left.  `z` maximises the focused panel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog

from hatui.config import Config
from hatui.tui.widgets import DrbdPanel, FindingsPanel, GaleraPanel, NodeHeader, VrrpPanel, WebPanel
from hatui.tui.widgets.overview import OverviewPanel

LOG_TITLE = "failover log (both nodes, merged)"
TALL_ROWS = 40


class MainScreen(Screen[None]):
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL_ROWS, "-tall")]
    BINDINGS = [
        Binding("z", "zoom", "Zoom panel"),
        Binding("v", "details", "Details", show=False),
    ]

    def compose(self) -> ComposeResult:
        cfg: Config = self.app.config  # type: ignore[attr-defined]
        yield Header()
        with Vertical(id="body"):
            with Horizontal(id="nodes"):
                for n in cfg.nodes:
                    yield NodeHeader(n.name, id=f"node-{n.name}")
            yield OverviewPanel(cfg, id="overview", classes="panel")
            yield FindingsPanel(cfg, id="findings", classes="panel")
            with Grid(id="panels"):
                yield VrrpPanel(cfg, id="vrrp", classes="panel")
                yield DrbdPanel(cfg, id="drbd", classes="panel")
                yield GaleraPanel(cfg, id="galera", classes="panel")
                yield WebPanel(cfg, id="web", classes="panel")
            yield RichLog(id="log", classes="panel", wrap=False, max_lines=1000, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        titles = {"overview": "the pair", "findings": "findings (enter: why · e: all)", "vrrp": "VRRP",
                  "drbd": "DRBD", "galera": "Galera", "web": "web", "log": LOG_TITLE}
        for wid, title in titles.items():
            self.query_one(f"#{wid}").border_title = title
        snap = self.app.snapshot  # type: ignore[attr-defined]
        if snap is not None:  # a snapshot that arrived before the screen was composed
            self.app.apply_snapshot(snap)  # type: ignore[attr-defined]

    def on_resize(self, event: Resize) -> None:
        self.query_one(FindingsPanel).tall = event.size.height >= TALL_ROWS

    def action_zoom(self) -> None:
        """Maximise the focused panel (the findings if none is), and back."""
        if self.maximized is not None:
            self.minimize()
            return
        target = self.focused or self.query_one(FindingsPanel)
        while target is not None and not target.has_class("panel") and target.parent is not None:
            target = target.parent  # type: ignore[assignment]
        if target is not None and target.has_class("panel"):
            self.maximize(target, container=False)

    def action_details(self) -> None:
        self.toggle_class("-details")
