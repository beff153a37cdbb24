"""hatui's live view: renders the latest ClusterSnapshot; never opens SSH itself.

The collector runs as a Textual worker (`exit_on_error=False`: a polling loop that dies is shown, the
app stays); each snapshot it publishes arrives as a `SnapshotReady` message that replaces an older
one still waiting, so a busy screen only ever draws the newest."""

from __future__ import annotations

import time
from pathlib import Path
from collections.abc import Callable, Iterable

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import RichLog
from textual.worker import Worker, WorkerState

from hatui.actions import registry
from hatui.config import Config
from hatui.model import ClusterSnapshot, FailoverEvent
from hatui.tui.alerts import Alert, alerts
from hatui.tui.screens.filter import FilterScreen
from hatui.tui.screens.help import HelpScreen
from hatui.tui.screens.main import LOG_TITLE, MainScreen
from hatui.tui.style import palette
from hatui.tui.widgets import NodeHeader, SnapshotPanel

__all__ = ["FilterScreen", "HatuiApp", "HelpScreen", "MainScreen", "SnapshotReady", "run_tui"]


class SnapshotReady(Message):
    """A new snapshot from the collector.  Replaces one still pending: only the newest is drawn."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


# the keys that open an action: hidden from the footer (and refused) in read-only mode and in a replay
ACTION_KEYS = frozenset({"switchover", "drbd_menu", "galera_menu"})


class HatuiApp(App[None]):
    TITLE = "hatui"
    CSS_PATH = Path(__file__).with_name("hatui.tcss")  # absolute: subclasses elsewhere find it too
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("p", "pause", "Pause"),
        Binding("f", "filter", "Filter log"),
        Binding("s", "switchover", "Switchover"),
        Binding("d", "drbd_menu", "DRBD"),
        Binding("g", "galera_menu", "Galera"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("n", "notifications", "Notifications", show=False),
    ]

    def __init__(self, config: Config, collector=None, read_only: bool = False,
                 clock: Callable[[], float] = time.time, replay: bool = False) -> None:
        super().__init__()
        # a replay (hatui/tui/replay.py): every action refused, the header says REPLAY and when
        self.replay = replay
        self.replay_label = ""  # the recorded time and the replay's position, set by the replay
        self.record_notice: str | None = None  # why this live view is not recorded, when it should be
        self.clock = clock  # tests freeze it so that "N s ago" renders the same every run
        self.config = config
        self.collector = collector
        self.read_only = read_only
        self.snapshot: ClusterSnapshot | None = None
        self.last_ok: dict[str, float] = {}
        self.log_filter = ""
        self._shown_events: list[FailoverEvent] = []
        self.first_frame_at: float | None = None
        self.collector_error: str | None = None
        self._panel_cache: tuple[object, list[SnapshotPanel]] = (None, [])
        self._quit_asked = False  # quit was pressed once while an action ran (see action_quit)
        # a toast and the bell on a VIP move, a node unreachable, Galera leaving Primary (n toggles)
        self.notifications = config.notifications

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """False hides a binding from the footer and ignores its key: read-only mode shows no action key."""
        if action in ACTION_KEYS and (self.read_only or self.replay):
            return False
        return True

    def on_key(self, event) -> None:
        """An action key in read-only mode (hidden, its binding off) still says why nothing happens."""
        if (self.read_only or self.replay) and event.key in ("s", "d", "g") and isinstance(self.screen, MainScreen):
            self._can_act()

    def _running_wizard(self):
        from hatui.tui.wizard import ActionWizard

        return next((s for s in self.screen_stack if isinstance(s, ActionWizard) and s.running), None)

    async def action_quit(self) -> None:
        """q, ctrl+q and the palette's Quit.  While an action runs, quitting would leave it half-done with
        no undo and no end record: the first quit asks, the second aborts it, and the app quits only once
        the executor has undone what it could and written its end record (the wizard calls exit then)."""
        wizard = self._running_wizard()
        if wizard is None:
            self.exit()
            return
        if wizard.quit_after:
            self.notify("aborting the action: hatui quits once its undo is done and its end record written",
                        severity="warning")
        elif not self._quit_asked:
            self._quit_asked = True
            self.notify("an action is running: q again to abort it and quit after the undo", severity="warning",
                        timeout=10)
        else:
            wizard.abort_and_quit()

    def get_default_screen(self) -> Screen:
        return MainScreen()

    def on_mount(self) -> None:
        self.sub_title = f"VIP {self.config.vip} · waiting for the first poll"
        self.set_interval(1.0, self._tick)
        if self.record_notice:
            self.recording_stopped(self.record_notice)
        if self.collector is not None:
            self.collector.on_snapshot = lambda snap: self.post_message(SnapshotReady(snap))
            self.run_worker(self.collector.run(), name="collector", group="collector", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self.collector is not None:
            await self.collector.close()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.apply_snapshot(message.snapshot)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "collector" or event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        self.collector_error = f"{type(err).__name__}: {err}"
        self.notify(f"polling stopped: {self.collector_error} — the data shown is no longer live",
                    severity="error", timeout=30, markup=False)
        self._update_title()

    # ---- rendering --------------------------------------------------------------------------
    def apply_snapshot(self, snap: ClusterSnapshot) -> None:
        """Show `snap` (on every collector update; tests call it with recorded snapshots)."""
        prev, self.snapshot = self.snapshot, snap
        if self.notifications and not self.replay:  # a replay is browsed, its changes are no news
            found = alerts(prev, snap, self.config)
            if found:  # after the frame that shows the change: a toast's mount must not delay it
                self.call_after_refresh(self._alert, found)
        for n in snap.nodes:
            if n.reachable:
                self.last_ok[n.node] = snap.taken_at_epoch_s
        screen = self.get_screen_main()
        # the DOM asked, not the panel cache: a snapshot can arrive while the screen is being torn down
        if screen is None or not screen.is_mounted or not screen.query("#findings"):
            return  # drawn by MainScreen.on_mount
        self._update_headers(screen)
        for panel in self._panels(screen):  # each panel redraws only if what it shows changed
            panel.snapshot = snap
        self._update_log(snap.failover_events)
        self._update_title()
        if self.first_frame_at is None and all(n.reachable for n in snap.nodes) and snap.web is not None:
            self.first_frame_at = time.monotonic()

    def _alert(self, found: list[Alert]) -> None:
        wizard = self._running_wizard()
        if wizard is not None:
            # an action is running: its progress is what the operator reads, and a toast would cover it (80
            # columns); the change goes into that progress, in order, and only an error rings
            wizard.note("; ".join(a.message for a in found))
            if any(a.severity == "error" for a in found):
                self.bell()
            return
        for a in found:
            self.notify(a.message, severity=a.severity, timeout=10, markup=False)
        if found:
            self.bell()

    def _panels(self, screen: MainScreen) -> list[SnapshotPanel]:
        """The screen's panels, found once (the DOM is walked only when the screen is new)."""
        if self._panel_cache[0] is not screen or not self._panel_cache[1]:  # none yet: not composed yet
            self._panel_cache = (screen, [w for w in screen.walk_children() if isinstance(w, SnapshotPanel)])
        return self._panel_cache[1]

    def get_screen_main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _update_headers(self, screen: MainScreen) -> None:
        if self.snapshot is None:
            return
        for n in self.config.nodes:
            node = self.snapshot.node(n.name)
            # "live" is this node's own last answer, not the time the merged snapshot was published
            answered = node.answered_at_epoch_s if node is not None and node.answered_at_epoch_s else None
            last = answered or self.last_ok.get(n.name)
            for header in screen.query(f"#node-{n.name}").results(NodeHeader):  # none while torn down
                header.show(self.config, node, last, self.clock())

    def _update_title(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        from hatui.report import summary, vip_words

        s = summary(snap, self.config)
        paused = " · PAUSED" if self.collector is not None and self.collector.paused else ""
        stopped = " · POLLING STOPPED" if self.collector_error else ""
        unrecorded = " · NOT RECORDING" if self.record_notice else ""
        replay = f"REPLAY {self.replay_label} · " if self.replay else ""
        read_only = "READ-ONLY · " if self.read_only and not self.replay else ""
        title = (f"{replay}{read_only}{s['status'].upper()} · {vip_words(snap, self.config)}"
                 f"{paused}{stopped}{unrecorded}")
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
        c = palette(self)
        for ev in new:
            if self.log_filter and self.log_filter.lower() not in ev.raw.lower() and \
                    self.log_filter.lower() not in ev.node.lower():
                continue
            style = {"MASTER": f"bold {c.info}", "BACKUP": "", "FAULT": f"bold {c.bad}",
                     "STOP": c.warn}.get(ev.state or "", c.dim)
            line = Text(f"{ev.node:>6} ", style=c.dim)
            if ev.timestamp is not None and ev.state:  # the notify line, short: the state must fit
                line.append(f"{ev.timestamp:%Y-%m-%d %H:%M:%S} ", style=c.dim)
                line.append(f"{ev.name} → {ev.state}", style=style or "bold")
                line.append(f" ({ev.type})", style=c.dim)
            else:
                line.append(ev.raw, style=style)
            log.write(line)
        self._shown_events = events
        title = f"{LOG_TITLE} — filter: {escape(repr(self.log_filter))}" if self.log_filter else LOG_TITLE
        if log.border_title != title:  # setting it repaints the whole log, even to the same text (3 times a second)
            log.border_title = title

    def _tick(self) -> None:
        """Keep 'last poll N s ago' honest between snapshots."""
        screen = self.get_screen_main()
        if screen is not None:
            self._update_headers(screen)

    def recording_stopped(self, why: str) -> None:
        """The recording could not be opened or written: say so; the live view goes on."""
        self.record_notice = why
        self.notify(f"not recording: {why}", severity="error", timeout=30, markup=False)
        self._update_title()

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

    def action_notifications(self) -> None:
        self.notifications = not self.notifications
        self.notify("notifications on: VIP moves, unreachable nodes, Galera leaving Primary" if self.notifications
                    else "notifications off", timeout=3)

    def _can_act(self) -> bool:
        if self.replay:
            self.notify("replay: actions are disabled (this is a recording, not the cluster)", severity="warning")
            return False
        if self.read_only:
            self.notify("read-only mode: actions are disabled", severity="warning")
            return False
        if self.collector is None or self.snapshot is None:
            self.notify("no live connection: actions need the cluster", severity="warning")
            return False
        return isinstance(self.screen, MainScreen)

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def open_plan(self, key: str, node: str) -> None:
        """Build the chosen action's plan on a fresh snapshot, with the lock's current owner (a plan
        must not say "lock free" without having looked), and show it in the wizard."""
        from hatui.actions.executor import ClusterLock
        from hatui.tui.wizard import ActionWizard

        spec = registry.by_key(key)
        if spec is None or self.collector is None:
            return
        try:
            snap = await self.collector.fresh()
            owner = await ClusterLock(self.collector, "check").holder()
        except Exception as exc:  # the nodes could not be read: say so, build nothing
            self.notify(f"cannot build the plan: {type(exc).__name__}: {exc}", severity="error", markup=False)
            return
        # the executor rebuilds it once the lock is taken (no owner then: the lock is its own), see S2
        self.push_screen(ActionWizard(spec.build(snap, self.config, node, owner),
                                      rebuild=lambda s: spec.build(s, self.config, node, None)))

    def _menu(self, menu: str) -> None:
        from hatui.tui.wizard import ActionMenu

        choices = [(f"{a.key}@{n.name}", a.label.format(node=n.name))
                   for a in registry.in_menu(menu) for n in self.config.nodes]

        def chosen(choice: str | None) -> None:
            if choice is not None:
                key, _, node = choice.rpartition("@")
                self.open_plan(key, node)

        self.push_screen(ActionMenu(registry.MENUS[menu], choices), chosen)

    def action_drbd_menu(self) -> None:
        if self._can_act():
            self._menu("drbd")

    def action_galera_menu(self) -> None:
        if self._can_act():
            self._menu("galera")

    def action_switchover(self) -> None:
        if not self._can_act() or self.snapshot is None:
            return
        holders = self.snapshot.vip_holders(self.config.vip)
        target = next((n.name for n in self.config.nodes if n.name not in holders), self.config.nodes[1].name)
        self.open_plan("switchover", target)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(read_only=self.read_only or self.replay))

    def action_filter(self) -> None:
        def done(value: str | None) -> None:
            if value is None:
                return
            self.log_filter = value
            self._update_log(self.snapshot.failover_events if self.snapshot else (), force=True)

        if isinstance(self.screen, MainScreen):
            self.push_screen(FilterScreen(self.log_filter), done)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)  # Textual's own, the theme picker among them
        yield SystemCommand("Refresh now", "Poll both nodes immediately (r)", self.action_refresh)
        yield SystemCommand("Pause / resume polling", "Stop or restart polling (p)", self.action_pause)
        yield SystemCommand("Filter the failover log", "Show only lines containing a text (f)", self.action_filter)
        yield SystemCommand("Notifications on / off", "A toast and the bell on a VIP move, a node unreachable, "
                            "Galera leaving Primary (n)", self.action_notifications)
        yield SystemCommand("Help", "Keys and what the colours mean (?)", self.action_help)
        if not self.read_only and not self.replay:
            yield SystemCommand("Switchover", "Guided switchover to the standby (s)", self.action_switchover)
            yield SystemCommand("DRBD actions", "Resync, connect, verify, split-brain recovery (d)",
                                self.action_drbd_menu)
            yield SystemCommand("Galera actions", "Re-bootstrap a non-Primary survivor (g)", self.action_galera_menu)
            for spec in registry.ACTIONS:  # every action of the registry, for each node
                for n in self.config.nodes:
                    label = spec.label.format(node=n.name)
                    yield SystemCommand(label[0].upper() + label[1:], spec.help,
                                        lambda k=spec.key, node=n.name: self._palette_action(k, node))
        if self.collector is not None:  # `hatui lock show`: a read, offered in read-only mode too
            yield SystemCommand("Show the action lock", "Who holds the cluster-wide action lock, if anyone "
                                "(hatui lock show)", self.action_lock_show)
            if not self.read_only and not self.replay:
                yield SystemCommand("Break the action lock", "Remove a lock whose owner is gone, after "
                                    "confirmation (hatui lock break)", self.action_lock_break)

    def action_lock_show(self) -> None:
        from hatui.tui.lock import show_lock

        if self.collector is not None:
            self.run_worker(show_lock(self, self.collector), group="lock", exclusive=True, exit_on_error=False)

    def action_lock_break(self) -> None:
        from hatui.tui.lock import break_lock

        if self._can_act():
            self.run_worker(break_lock(self, self.collector), group="lock", exclusive=True, exit_on_error=False)

    def _palette_action(self, key: str, node: str) -> None:
        if self._can_act():
            self.open_plan(key, node)


def run_tui(config: Config, read_only: bool = False, collector=None, recorder=None,
            record_notice: str | None = None) -> int:
    """The live view; `recorder` (hatui.record.recorder) tells the screen when it stops."""
    from hatui.collector import Collector

    app = HatuiApp(config, collector or Collector(config), read_only=read_only)
    app.record_notice = record_notice
    if recorder is not None:
        recorder.on_error = app.recording_stopped
    app.run()
    return 0
