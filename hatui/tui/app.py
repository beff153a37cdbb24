"""hatui's live view: renders the latest ClusterSnapshot; never opens SSH itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, Markdown, RichLog

from hatui.config import Config
from hatui.model import ClusterSnapshot, FailoverEvent
from hatui.tui.widgets import (
    BAD,
    DIM,
    WARN,
    DrbdPanel,
    FindingsPanel,
    GaleraPanel,
    NodeHeader,
    VrrpPanel,
    WebPanel,
)

HELP = """\
# hatui — keys

| key | action |
|---|---|
| `r` | refresh now (poll both nodes at once) |
| `p` | pause / resume polling |
| `f` | filter the failover log (empty filter shows all) |
| `s` | guided switchover to the standby: pre-checks, the plan, confirm by typing the node name |
| `d` | DRBD actions: resync, connect/disconnect, verify, pause/resume, split-brain recovery |
| `g` | Galera actions: re-bootstrap a non-Primary survivor |
| `?` | this help |
| `q` | quit |
| `ctrl+p` | command palette: every action by name |

Colours carry meaning and the words say it too: **green** healthy, **yellow** degraded, **red** failed.
Findings are sorted by severity; each says why it matters and what to do.

The panels show the latest poll of each node.  A node that stops answering is marked UNREACHABLE with
the time since; hatui reconnects with backoff while the other node keeps updating.

Press `escape` or `?` to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80%; max-width: 90; height: 80%; border: thick $primary; background: $surface;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)


class FilterScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    FilterScreen { align: center bottom; }
    FilterScreen > Input { width: 60; margin-bottom: 2; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        yield Input(value=self.current, placeholder="show log lines containing… (empty: all)", id="filter")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class MainScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        cfg: Config = self.app.config  # type: ignore[attr-defined]
        yield Header()
        with Horizontal(id="nodes"):
            for n in cfg.nodes:
                yield NodeHeader(n.name, id=f"node-{n.name}")
        with VerticalScroll(id="main"):
            yield FindingsPanel(id="findings", classes="panel")
            with Grid(id="panels"):
                yield VrrpPanel(id="vrrp", classes="panel")
                yield DrbdPanel(id="drbd", classes="panel")
                yield GaleraPanel(id="galera", classes="panel")
                yield WebPanel(id="web", classes="panel")
            yield RichLog(id="log", classes="panel", wrap=False, max_lines=1000, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        titles = {"findings": "findings", "vrrp": "VRRP", "drbd": "DRBD", "galera": "Galera", "web": "web",
                  "log": "failover log (both nodes, merged)"}
        for wid, title in titles.items():
            self.query_one(f"#{wid}").border_title = title
        app: HatuiApp = self.app  # type: ignore[assignment]
        if app.snapshot is not None:  # a snapshot that arrived before the screen was composed
            app._drawn.clear()
            app.apply_snapshot(app.snapshot)


class HatuiApp(App[None]):
    TITLE = "hatui"
    CSS = """
    #nodes { height: 3; }
    .panel { border: round $primary-darken-1; padding: 0 1; height: auto; }
    #panels { grid-size: 2; grid-gutter: 0 1; height: auto; grid-rows: auto; }
    #log { height: 12; min-height: 6; }
    NodeHeader.-bad { border: round $error; }
    """
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("p", "pause", "Pause"),
        Binding("f", "filter", "Filter log"),
        Binding("s", "switchover", "Switchover"),
        Binding("d", "drbd_menu", "DRBD"),
        Binding("g", "galera_menu", "Galera"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, config: Config, collector=None, read_only: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.clock = clock  # tests freeze it so that "N s ago" renders the same every run
        self.config = config
        self.collector = collector
        self.read_only = read_only
        self.snapshot: ClusterSnapshot | None = None
        self.last_ok: dict[str, float] = {}
        self.log_filter = ""
        self._shown_events: list[FailoverEvent] = []
        self.first_frame_at: float | None = None
        self._drawn: dict[type, object] = {}

    def get_default_screen(self) -> Screen:
        return MainScreen()

    def on_mount(self) -> None:
        self.sub_title = f"VIP {self.config.vip} · waiting for the first poll"
        self.set_interval(1.0, self._tick)
        if self.collector is not None:
            self.collector.on_snapshot = self.apply_snapshot
            self.collector.start()

    async def on_unmount(self) -> None:
        if self.collector is not None:
            await self.collector.close()

    # ---- rendering --------------------------------------------------------------------------
    def apply_snapshot(self, snap: ClusterSnapshot) -> None:
        """Show `snap` (called by the collector on every update; tests call it with recorded snapshots)."""
        self.snapshot = snap
        for n in snap.nodes:
            if n.reachable:
                self.last_ok[n.node] = snap.taken_at_epoch_s
        screen = self.screen if isinstance(self.screen, MainScreen) else self.get_screen_main()
        if screen is None:
            return
        if not screen.is_mounted or not screen.query("#findings"):
            return  # rendered by MainScreen.on_mount
        cfg = self.config
        for n in cfg.nodes:
            screen.query_one(f"#node-{n.name}", NodeHeader).show(cfg, snap.node(n.name), self.last_ok.get(n.name),
                                                                 self.clock())
        # redraw a panel only when what it shows changed: most polls change nothing but timings
        nodes = snap.nodes
        inputs = {
            FindingsPanel: snap.findings,
            VrrpPanel: tuple((n.reachable, n.keepalived_running, n.vrrp, n.addresses) for n in nodes),
            DrbdPanel: tuple((n.reachable, n.drbd, n.drbd_mounted) for n in nodes),
            GaleraPanel: tuple((n.reachable, n.galera) for n in nodes),
            WebPanel: (snap.web.ok, snap.web.node, snap.web.error, min(int((snap.web.latency_ms or 0) // 100), 10))
            if snap.web else None,
        }
        for panel, key in inputs.items():
            if self._drawn.get(panel) != key:
                screen.query_one(panel).show(cfg, snap)
                self._drawn[panel] = key
        self._update_log(snap.failover_events)
        self._update_title()
        if self.first_frame_at is None and all(n.reachable for n in snap.nodes) and snap.web is not None:
            self.first_frame_at = time.monotonic()

    def get_screen_main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _update_title(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        from hatui.report import summary

        s = summary(snap, self.config)
        holders = ", ".join(s["vip_holders"]) or "NOBODY"
        paused = " · PAUSED" if self.collector is not None and self.collector.paused else ""
        title = f"{s['status'].upper()} · VIP {self.config.vip} on {holders}{paused}"
        if title != self.sub_title:
            self.sub_title = title

    def _update_log(self, events: Iterable[FailoverEvent], force: bool = False) -> None:
        events = list(events)
        screen = self.get_screen_main()
        if screen is None:
            return
        log = screen.query_one("#log", RichLog)
        shown = self._shown_events
        # append only what is new (the merged list only grows at its end, except when a node's
        # older line arrives late: then redraw)
        if not force and events[: len(shown)] == shown:
            new = events[len(shown):]
        else:
            log.clear()
            new = events
        for ev in new:
            if self.log_filter and self.log_filter.lower() not in ev.raw.lower() and \
                    self.log_filter.lower() not in ev.node.lower():
                continue
            style = {"MASTER": "bold cyan", "BACKUP": "", "FAULT": f"bold {BAD}", "STOP": WARN}.get(ev.state or "", DIM)
            line = Text(f"{ev.node:>6} ", style=DIM)
            line.append(ev.raw, style=style)
            log.write(line)
        self._shown_events = events
        title = "failover log (both nodes, merged)"
        log.border_title = f"{title} — filter: {self.log_filter!r}" if self.log_filter else title

    def _tick(self) -> None:
        """Keep 'last poll N s ago' honest between snapshots."""
        if self.snapshot is None:
            return
        screen = self.get_screen_main()
        if screen is None:
            return
        for n in self.config.nodes:
            screen.query_one(f"#node-{n.name}", NodeHeader).show(self.config, self.snapshot.node(n.name),
                                                                 self.last_ok.get(n.name), self.clock())

    # ---- actions --------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        if self.collector is None:
            self.notify("no live connection (recorded snapshot)", severity="warning")
            return
        self.collector.refresh_now()
        self.notify("refreshing both nodes…", timeout=1.5)

    def action_pause(self) -> None:
        if self.collector is None:
            self.notify("no live connection (recorded snapshot)", severity="warning")
            return
        self.collector.paused = not self.collector.paused
        self.notify("polling paused: the data shown gets old" if self.collector.paused else "polling resumed",
                    severity="warning" if self.collector.paused else "information")
        self._update_title()

    def _can_act(self) -> bool:
        if self.read_only:
            self.notify("read-only mode: actions are disabled", severity="warning")
            return False
        if self.collector is None or self.snapshot is None:
            self.notify("no live connection: actions need the cluster", severity="warning")
            return False
        return isinstance(self.screen, MainScreen)

    def _menu(self, title: str, choices: list[tuple[str, str]]) -> None:
        from hatui.tui.wizard import ActionMenu, ActionWizard

        def chosen(key: str | None) -> None:
            if key is None or self.snapshot is None:
                return
            kind, what, node = key.split(":")
            if kind == "drbd":
                from hatui.actions.drbd import plan_drbd, plan_split_brain

                plan = (plan_split_brain(self.snapshot, self.config, node) if what == "split-brain"
                        else plan_drbd(self.snapshot, self.config, what, node))
            else:
                from hatui.actions.galera import plan_galera_bootstrap

                plan = plan_galera_bootstrap(self.snapshot, self.config, node)
            self.push_screen(ActionWizard(plan))

        self.push_screen(ActionMenu(title, choices), chosen)

    def action_drbd_menu(self) -> None:
        if not self._can_act():
            return
        from hatui.actions.drbd import DRBD_ACTIONS

        labels = {"resync": "resync (invalidate: full resync from the peer)", "connect": "connect",
                  "disconnect": "disconnect", "verify": "online verify", "pause-sync": "pause sync",
                  "resume-sync": "resume sync"}
        choices = [(f"drbd:{a}:{n.name}", f"{labels[a]} on {n.name}") for a in DRBD_ACTIONS for n in self.config.nodes]
        choices += [(f"drbd:split-brain:{n.name}", f"split-brain recovery, discarding {n.name}'s changes")
                    for n in self.config.nodes]
        self._menu("DRBD actions", choices)

    def action_galera_menu(self) -> None:
        if not self._can_act():
            return
        self._menu("Galera actions", [(f"galera:bootstrap:{n.name}", f"re-bootstrap the Primary component on {n.name}")
                                      for n in self.config.nodes])

    def action_switchover(self) -> None:
        if not self._can_act():
            return
        from hatui.actions.switchover import plan_switchover
        from hatui.tui.wizard import ActionWizard

        holders = self.snapshot.vip_holders(self.config.vip)
        target = next((n.name for n in self.config.nodes if n.name not in holders), self.config.nodes[1].name)
        self.push_screen(ActionWizard(plan_switchover(self.snapshot, self.config, target)))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        def done(value: str | None) -> None:
            if value is None:
                return
            self.log_filter = value
            self._update_log(self.snapshot.failover_events if self.snapshot else (), force=True)

        if isinstance(self.screen, MainScreen):
            self.push_screen(FilterScreen(self.log_filter), done)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll both nodes immediately (r)", self.action_refresh)
        yield SystemCommand("Pause / resume polling", "Stop or restart polling (p)", self.action_pause)
        yield SystemCommand("Filter the failover log", "Show only lines containing a text (f)", self.action_filter)
        yield SystemCommand("Help", "Keys and what the colours mean (?)", self.action_help)
        if not self.read_only:
            yield SystemCommand("Switchover", "Guided switchover to the standby (s)", self.action_switchover)
            yield SystemCommand("DRBD actions", "Resync, connect, verify, split-brain recovery (d)",
                                self.action_drbd_menu)
            yield SystemCommand("Galera actions", "Re-bootstrap a non-Primary survivor (g)", self.action_galera_menu)


def run_tui(config: Config, read_only: bool = False) -> int:
    from hatui.collector import Collector

    app = HatuiApp(config, Collector(config), read_only=read_only)
    app.run()
    return 0
