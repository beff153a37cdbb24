"""The action lock from the TUI's command palette: what `hatui lock show` and `hatui lock break` do.

Both read the lock on every node first (a stale one says STALE: its owner has not refreshed it);
break asks the operator to type `break`, then removes on each node only the lock that was shown, audited
like the CLI's (hatui.actions.lock.break_shown)."""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from hatui.actions.lock import ClusterLock, Shown, break_shown, held, nothing_to_break, shown_lines


class LockBreakScreen(ModalScreen[bool]):
    """The lock as read, and the confirmation: type `break` and enter; escape changes nothing."""

    BINDINGS = [Binding("escape", "cancel", "close")]
    DEFAULT_CSS = """
    LockBreakScreen { align: center middle; }
    LockBreakScreen > Vertical { width: 96%; max-width: 120; height: auto; border: thick $warning;
                                 background: $surface; padding: 0 1; }
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("\n".join(self.lines), id="lock-shown", markup=False)
            yield Static("Nothing has been changed yet. Break the lock only when no hatui runs there: type "
                         "[b]break[/b] and press enter, escape to cancel.", id="state")
            yield Input(placeholder="type break to confirm", id="confirm")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Break the action lock"
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted, "#confirm")
    def confirmed(self, event: Input.Submitted) -> None:
        if event.value.strip() == "break":
            self.dismiss(True)
            return
        self.query_one("#state", Static).update("[b red]not `break`[/]: nothing was changed. Type break, or escape.")

    def action_cancel(self) -> None:
        self.dismiss(False)


def _say(app: App, shown: Shown, title: str) -> None:
    stale = any(i.stale for i in held(shown).values())
    app.notify("\n".join(shown_lines(shown)), title=title, markup=False, timeout=20,
               severity="warning" if stale else "information")


async def _read(app: App, collector) -> Shown | None:
    try:
        return await ClusterLock(collector, "show").read()
    except Exception as exc:  # the worker must not die silently: say why nothing is shown
        app.notify(f"cannot read the action lock: {type(exc).__name__}: {exc}", severity="error", markup=False)
        return None


async def show_lock(app: App, collector) -> None:
    """Palette "Show the action lock": `hatui lock show` as a notification."""
    shown = await _read(app, collector)
    if shown is not None:
        _say(app, shown, "action lock")


async def break_lock(app: App, collector) -> None:
    """Palette "Break the action lock" (never offered in read-only mode): show, confirm, break, say."""
    shown = await _read(app, collector)
    if shown is None:
        return
    if not held(shown):
        _say(app, shown, nothing_to_break(shown))
        return
    if not await app.push_screen_wait(LockBreakScreen(shown_lines(shown))):
        app.notify("lock not broken: nothing changed", timeout=5)
        return
    ok, messages = await break_shown(collector, shown, progress=lambda m: app.notify(m, markup=False))
    app.notify("\n".join(messages), title="lock broken" if ok else "lock NOT broken everywhere", markup=False,
               severity="information" if ok else "error", timeout=30)
