"""Every guided action, once: its command line, its menu entry and its plan builder.

The CLI subparsers (`hatui switchover`, `hatui drbd resync`, …), the TUI's action menus and the
command palette are all made from `ACTIONS`.  A new action is a plan builder (a pure function from a
snapshot to a Plan) plus one `ActionSpec` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hatui.actions.plan import Plan
from hatui.config import Config
from hatui.model import ClusterSnapshot

# (snapshot, config, node the operator chose, current lock owner or None) → Plan
Builder = Callable[[ClusterSnapshot, Config, str, "str | None"], Plan]


@dataclass(frozen=True)
class ActionSpec:
    command: str  # the CLI command: `hatui COMMAND [WHAT] NODE_OPTION NODE`
    what: str | None  # the sub-action word (`resync`), None for a command that is one action
    node_option: str  # --to, --node, --victim: what the chosen node means for this action
    node_help: str
    help: str  # one line for --help and the palette
    menu: str | None  # the TUI menu it is listed in ("drbd", "galera"), None: its own key
    label: str  # menu text, with {node} for the node it applies to
    build: Builder

    @property
    def key(self) -> str:
        """A stable id: `drbd:resync`, `switchover`."""
        return f"{self.command}:{self.what}" if self.what else self.command


def _switchover(snap: ClusterSnapshot, cfg: Config, node: str, lock_owner: str | None) -> Plan:
    from hatui.actions.switchover import plan_switchover

    return plan_switchover(snap, cfg, node, lock_owner=lock_owner)


def _clear(snap: ClusterSnapshot, cfg: Config, node: str, lock_owner: str | None) -> Plan:
    from hatui.actions.switchover import plan_clear_maintenance

    return plan_clear_maintenance(snap, cfg, node)


def _drbd(what: str) -> Builder:
    def build(snap: ClusterSnapshot, cfg: Config, node: str, lock_owner: str | None) -> Plan:
        from hatui.actions.drbd import plan_drbd

        return plan_drbd(snap, cfg, what, node)

    return build


def _split_brain(snap: ClusterSnapshot, cfg: Config, node: str, lock_owner: str | None) -> Plan:
    from hatui.actions.drbd import plan_split_brain

    return plan_split_brain(snap, cfg, node)


def _bootstrap(snap: ClusterSnapshot, cfg: Config, node: str, lock_owner: str | None) -> Plan:
    from hatui.actions.galera import plan_galera_bootstrap

    return plan_galera_bootstrap(snap, cfg, node)


_DRBD_NODE = "the node to act on (resync: the node whose copy is discarded and resynced)"
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("switchover", None, "--to", "the node that takes over", "guided switchover to the standby "
               "(planned failover)", None, "switch over to {node}", _switchover),
    ActionSpec("maintenance", "clear", "--node", "the node whose maintenance value is cleared",
               "clear the keepalived maintenance hook's value", None, "clear maintenance on {node}", _clear),
    ActionSpec("drbd", "resync", "--node", _DRBD_NODE, "full resync of one node's copy from its peer", "drbd",
               "resync (invalidate: full resync from the peer) on {node}", _drbd("resync")),
    ActionSpec("drbd", "connect", "--node", _DRBD_NODE, "connect DRBD to its peer", "drbd", "connect on {node}",
               _drbd("connect")),
    ActionSpec("drbd", "disconnect", "--node", _DRBD_NODE, "disconnect DRBD from its peer", "drbd",
               "disconnect on {node}", _drbd("disconnect")),
    ActionSpec("drbd", "verify", "--node", _DRBD_NODE, "online verify of both copies", "drbd",
               "online verify on {node}", _drbd("verify")),
    ActionSpec("drbd", "pause-sync", "--node", _DRBD_NODE, "pause a running resync", "drbd",
               "pause sync on {node}", _drbd("pause-sync")),
    ActionSpec("drbd", "resume-sync", "--node", _DRBD_NODE, "resume a paused resync", "drbd",
               "resume sync on {node}", _drbd("resume-sync")),
    ActionSpec("drbd", "split-brain", "--victim", "the node whose changes are discarded",
               "split-brain recovery: discard the victim's changes", "drbd",
               "split-brain recovery, discarding {node}'s changes", _split_brain),
    ActionSpec("galera", "bootstrap", "--node", "the non-Primary survivor to re-bootstrap",
               "re-bootstrap the Primary component on a non-Primary survivor", "galera",
               "re-bootstrap the Primary component on {node}", _bootstrap),
)

MENUS = {"drbd": "DRBD actions", "galera": "Galera actions"}
COMMAND_HELP = {"switchover": "guided switchover to the standby (planned failover)",
                "maintenance": "the keepalived maintenance hook", "drbd": "guided DRBD actions",
                "galera": "guided Galera actions"}


def commands() -> tuple[str, ...]:
    """The CLI commands, in order of first appearance."""
    return tuple(dict.fromkeys(a.command for a in ACTIONS))


def find(command: str, what: str | None = None) -> ActionSpec | None:
    return next((a for a in ACTIONS if a.command == command and a.what == what), None)


def by_key(key: str) -> ActionSpec | None:
    return next((a for a in ACTIONS if a.key == key), None)


def in_menu(menu: str) -> tuple[ActionSpec, ...]:
    return tuple(a for a in ACTIONS if a.menu == menu)
