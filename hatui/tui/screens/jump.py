"""`t` in a replay: jump to a time."""

from __future__ import annotations

from hatui.tui.screens.prompt import LinePrompt


class JumpScreen(LinePrompt):
    INPUT_ID = "jump"
    PLACEHOLDER = "jump to: 2026-11-25 06:48:05, 06:48, or 5m (before the end)"
