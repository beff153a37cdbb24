"""`f`: the failover log's filter text."""

from __future__ import annotations

from hatui.tui.screens.prompt import LinePrompt


class FilterScreen(LinePrompt):
    DEFAULT_CSS = "FilterScreen > Input { width: 60; }"
    INPUT_ID = "filter"
    PLACEHOLDER = "show log lines containing… (empty: all)"
    EMPTY = ""  # an empty filter shows every line
