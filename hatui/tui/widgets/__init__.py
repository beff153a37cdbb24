"""The live view's widgets, one per module; each takes snapshots and renders them, none talks to a node."""

from hatui.tui.widgets.drbd import DrbdPanel
from hatui.tui.widgets.findings import FindingsPanel
from hatui.tui.widgets.galera import GaleraPanel
from hatui.tui.widgets.node_header import NodeHeader
from hatui.tui.widgets.panel import SnapshotPanel
from hatui.tui.widgets.vrrp import VrrpPanel
from hatui.tui.widgets.web import WebPanel

__all__ = ["DrbdPanel", "FindingsPanel", "GaleraPanel", "NodeHeader", "SnapshotPanel", "VrrpPanel", "WebPanel"]
