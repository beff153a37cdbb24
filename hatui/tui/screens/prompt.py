"""A one-line prompt at the bottom of the screen: enter answers, escape cancels (the filter, the jump)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class LinePrompt(ModalScreen[str | None]):
    """Dismissed with the text typed (stripped), or None on escape.  Subclasses name the input and say
    what it asks; EMPTY is what an empty answer means ("" for "no filter", None for "nothing")."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    LinePrompt { align: center bottom; }
    LinePrompt > Input { width: 70; margin-bottom: 2; }
    """
    INPUT_ID: ClassVar[str] = "prompt"
    PLACEHOLDER: ClassVar[str] = ""
    EMPTY: ClassVar[str | None] = None

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        yield Input(value=self.current, placeholder=self.PLACEHOLDER, id=self.INPUT_ID)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or self.EMPTY)

    def action_cancel(self) -> None:
        self.dismiss(None)
