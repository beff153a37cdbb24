"""The switchover wizard: pre-checks, the exact plan, confirmation by typing the target's name,
live progress and the outcome.  It drives the same Executor as `hatui switchover`."""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, RichLog, Static

from hatui.actions.plan import Plan
from hatui.model import ClusterSnapshot


class ActionWizard(ModalScreen[None]):
    # The confirmation field has the focus (what the prompt asks for is typing the node name and enter);
    # the plan above it never takes the focus, and these keys scroll it from the field.  q reaches the
    # app's quit from this modal screen too (the confirmation Input keeps its own q): while the action
    # runs, the app's action_quit asks first, then aborts and quits after the undo.
    BINDINGS = [Binding("escape", "close", "close"), Binding("ctrl+a", "abort", "abort a running action"),
                Binding("q", "app.quit", "quit", show=False),
                Binding("pageup", "scroll_plan(-1)", "plan page up", show=False),
                Binding("pagedown", "scroll_plan(1)", "plan page down", show=False),
                Binding("up", "scroll_plan_line(-1)", show=False),
                Binding("down", "scroll_plan_line(1)", show=False)]
    DEFAULT_CSS = """
    ActionWizard { align: center middle; }
    ActionWizard > Vertical { width: 96%; max-width: 120; height: 92%; border: thick $warning; background: $surface; }
    ActionWizard #plan { height: 1fr; padding: 0 1; }
    ActionWizard #progress { height: 10; border-top: solid $primary; display: none; }
    ActionWizard.-started #progress { display: block; }
    ActionWizard Input { margin: 0 1; }
    ActionWizard #state { padding: 0 1; }
    """

    def __init__(self, plan: Plan, rebuild: Callable[[ClusterSnapshot], Plan] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.rebuild = rebuild  # the same builder, run again once the lock is taken (the executor re-checks)
        self.running = False
        self.finished = False
        self.executor = None
        self.quit_after = False  # the operator quit during the run: exit once the executor has ended it

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="plan", can_focus=False):
                yield Static(self.plan.render(), markup=False)
            if self.plan.runnable:
                target = escape(self.plan.target or "")
                yield Static(f"Nothing has been changed yet. Type [b]{target}[/b] and press enter to run "
                             "this plan, escape to cancel.", id="state")
                yield Input(placeholder=f"type {self.plan.target} to confirm", id="confirm")
            else:
                yield Static("[b red]This plan cannot run[/] (see the failed pre-checks above). Nothing was changed. "
                             "Press escape.", id="state")
            yield RichLog(id="progress", wrap=True, markup=False, min_width=20)  # wrap at its own width

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = self.plan.title
        for field in self.query("#confirm").results(Input):
            field.focus()

    def action_scroll_plan(self, pages: int) -> None:
        plan = self.query_one("#plan", VerticalScroll)
        (plan.scroll_page_down if pages > 0 else plan.scroll_page_up)(animate=False)

    def action_scroll_plan_line(self, lines: int) -> None:
        self.query_one("#plan", VerticalScroll).scroll_relative(y=lines, animate=False)

    @on(Input.Submitted, "#confirm")
    def confirmed(self, event: Input.Submitted) -> None:
        if self.running or self.finished:
            return
        if event.value.strip() != self.plan.target:
            self.query_one("#state", Static).update(
                f"[b red]{escape(repr(event.value.strip()))} is not {escape(self.plan.target or '')}[/]: nothing was "
                "changed. Type the node name exactly, or escape.")
            return
        event.input.disabled = True
        self.running = True
        self.add_class("-started")  # the progress log takes its room only once there is progress
        self.query_one("#state", Static).update("[b yellow]Running…[/] each step is checked before the next. "
                                                "ctrl+a aborts (then undoes what it can).")
        self.execute()

    def note(self, text: str) -> None:
        """A change the monitor saw while the action runs, among the progress lines."""
        self.query_one("#progress", RichLog).write(f"(seen: {text})")

    @work(exclusive=True)
    async def execute(self) -> None:
        from hatui.actions.executor import ActionRefused, Executor

        log = self.query_one("#progress", RichLog)
        app = self.app
        self.executor = Executor(app.config, app.collector, progress=log.write,  # type: ignore[attr-defined]
                                 read_only=app.read_only)  # type: ignore[attr-defined]
        try:
            outcome = await self.executor.run(self.plan, rebuild=self.rebuild)
            state = escape(outcome.state)
            text = (f"[b green]DONE[/] in {outcome.duration_s:.1f} s: {state}" if outcome.ok
                    else f"[b red]STOPPED[/] after {outcome.duration_s:.1f} s. The cluster is now: {state}")
        except ActionRefused as exc:
            text = f"[b red]Refused:[/] {escape(str(exc))}"
        except Exception as exc:
            text = (f"[b red]Error:[/] {type(exc).__name__}: {escape(str(exc))} — check the cluster state in the "
                    "main view")
        self.running = False
        self.finished = True
        self.app._quit_asked = False  # type: ignore[attr-defined]
        if self.quit_after:  # the undo is done and the end record written (executor.run has returned)
            self.app.exit()
            return
        self.query_one("#state", Static).update(text + "  (escape closes)")

    def abort_and_quit(self) -> None:
        """Abort the running action (undo) and quit the app once the executor has finished."""
        self.quit_after = True
        self.action_abort()
        self.query_one("#state", Static).update("[b yellow]Aborting, then quitting…[/] hatui quits once the "
                                                "undo is done and the end record written.")

    def action_abort(self) -> None:
        if self.running and self.executor is not None and not self.executor.abort.is_set():
            self.executor.abort.set()
            self.query_one("#progress", RichLog).write("ABORT requested: stopping at the next step or check, "
                                                       "then undoing")

    def action_close(self) -> None:
        if self.running:
            self.app.notify("the action is running: ctrl+a aborts it, or wait (each step has a timeout)",
                            severity="warning")
            return
        self.dismiss(None)


class ActionMenu(ModalScreen[str | None]):
    """A short list of actions (DRBD or Galera) with the node each applies to."""

    BINDINGS = [Binding("escape", "dismiss_none", "close")]
    DEFAULT_CSS = """
    ActionMenu { align: center middle; }
    ActionMenu > OptionList { width: 72; height: auto; max-height: 80%; border: thick $primary; }
    """

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        menu = OptionList(*[Option(label, id=key) for key, label in self.choices], markup=False)
        menu.border_title = self.title_text
        yield menu

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
