"""The live view: a header per node, findings, the VRRP/DRBD/Galera/web panels and the merged log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog

from hatui.config import Config
from hatui.tui.widgets import DrbdPanel, FindingsPanel, GaleraPanel, NodeHeader, VrrpPanel, WebPanel

LOG_TITLE = "failover log (both nodes, merged)"


class MainScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        cfg: Config = self.app.config  # type: ignore[attr-defined]
        yield Header()
        with Horizontal(id="nodes"):
            for n in cfg.nodes:
                yield NodeHeader(n.name, id=f"node-{n.name}")
        with VerticalScroll(id="main"):
            yield FindingsPanel(cfg, id="findings", classes="panel")
            with Grid(id="panels"):
                yield VrrpPanel(cfg, id="vrrp", classes="panel")
                yield DrbdPanel(cfg, id="drbd", classes="panel")
                yield GaleraPanel(cfg, id="galera", classes="panel")
                yield WebPanel(cfg, id="web", classes="panel")
            yield RichLog(id="log", classes="panel", wrap=False, max_lines=1000, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        titles = {"findings": "findings", "vrrp": "VRRP", "drbd": "DRBD", "galera": "Galera", "web": "web",
                  "log": LOG_TITLE}
        for wid, title in titles.items():
            self.query_one(f"#{wid}").border_title = title
        snap = self.app.snapshot  # type: ignore[attr-defined]
        if snap is not None:  # a snapshot that arrived before the screen was composed
            self.app.apply_snapshot(snap)  # type: ignore[attr-defined]
