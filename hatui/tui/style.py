"""Colours from the app's theme (`$success`, `$warning`, `$error`, …), for the Rich text the panels
draw: the words carry the meaning, the colours follow the operator's theme (palette: "Theme")."""

from __future__ import annotations

from dataclasses import dataclass

from textual.color import Color
from textual.dom import DOMNode


@dataclass(frozen=True)
class Palette:
    ok: str
    warn: str
    bad: str
    dim: str
    info: str  # VIP marks, informational findings, MASTER in the log

    def severity(self, severity: str) -> str:
        return {"ok": self.ok, "info": self.info, "warning": self.warn, "critical": self.bad}.get(severity, "")


SEV_WORD = {"ok": "OK", "info": "INFO", "warning": "WARN", "critical": "CRIT"}


_BY_THEME: dict[str, Palette] = {}


def palette(node: DOMNode) -> Palette:
    """The current theme's colours as Rich style strings (opaque: muted colours blended on the background).
    Computed once per theme: every panel asks on every snapshot, and the app's variables cost ~0.3 ms."""
    theme = node.app.theme
    if theme not in _BY_THEME:
        _BY_THEME[theme] = _palette(node.app.get_css_variables())
    return _BY_THEME[theme]


def _palette(variables: dict[str, str]) -> Palette:
    background = Color.parse(variables.get("background", "#000000"))

    def colour(name: str, fallback: str) -> str:
        try:
            c = Color.parse(variables.get(name, fallback))
        except Exception:  # a theme with an odd value: fall back rather than fail to draw
            c = Color.parse(fallback)
        return (background + c).hex if c.a < 1 else c.hex

    return Palette(ok=colour("success", "green"), warn=colour("warning", "yellow"), bad=colour("error", "red"),
                   dim=colour("foreground-muted", "grey50"), info=colour("primary-lighten-2", "cyan"))
