"""`?`: the keys, what the colours mean, how reachability is shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

KEYS = (
    ("r", "refresh now (poll both nodes at once)"),
    ("p", "pause / resume polling"),
    ("f", "filter the failover log (empty filter shows all)"),
    ("s", "guided switchover to the standby: pre-checks, the plan, confirm by typing the node name"),
    ("d", "DRBD actions: resync, connect/disconnect, verify, pause/resume, split-brain recovery"),
    ("g", "Galera actions: re-bootstrap a non-Primary survivor"),
    ("z", "maximise the focused panel, and back"),
    ("v", "on a short terminal (under 40 rows): the detailed panels instead of the overview, and back"),
    ("up/down, j/k", "move between findings"),
    ("enter", "on a finding: expand it (why it matters, what to do)"),
    ("e", "expand every finding, and back"),
    ("n", "notifications on / off: a toast and the bell on a VIP move, a node unreachable, Galera not Primary"),
    ("?", "this help"),
    ("q", "quit"),
    ("ctrl+p", "command palette: every action by name, the lock, and the colour theme"),
)
ACTION_KEYS = ("s", "d", "g")


def help_text(read_only: bool = False) -> str:
    """The keys as they work now: in read-only mode (or a replay) the action keys are off, and said so."""
    rows = [f"| `{k}` | {what} |" for k, what in KEYS if not (read_only and k in ACTION_KEYS)]
    head = "# hatui — keys\n\n" + ("**Read-only:** the action keys (s, d, g) are off; the palette offers no action.\n\n"
                                  if read_only else "")
    return head + "| key | action |\n|---|---|\n" + "\n".join(rows) + "\n" + HELP


HELP = """\

Colours carry meaning and the words say it too: **green** healthy, **yellow** degraded, **red** failed
(in the theme's own shades: "Theme" in the palette changes them).
Findings are sorted by severity; each says why it matters and what to do.

The panels show the latest poll of each node.  A node that stops answering is marked UNREACHABLE with
the time since; hatui reconnects with backoff while the other node keeps updating.  A node whose host
key does not match is not retried on its own: a critical finding says so, and `r` tries again once the key
is fixed.

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

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_text(self.read_only))
