"""`?`: the keys, what the colours mean, how reachability is shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

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
| `z` | maximise the focused panel, and back |
| `n` | notifications on / off: a toast and the bell on a VIP move, a node unreachable, Galera not Primary |
| `?` | this help |
| `q` | quit |
| `ctrl+p` | command palette: every action by name, and the colour theme |

Colours carry meaning and the words say it too: **green** healthy, **yellow** degraded, **red** failed
(in the theme's own shades: "Theme" in the palette changes them).
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
