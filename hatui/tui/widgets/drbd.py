"""DRBD per node: roles, connection, disks, mount, out-of-sync; a progress bar with speed and ETA
while a resync or verify runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.widgets.panel import SnapshotPanel, fmt_duration, grid, nodes, word


class DrbdPanel(SnapshotPanel, Vertical, can_focus=True):
    DEFAULT_CSS = """
    DrbdPanel { height: auto; }
    DrbdPanel ProgressBar { display: none; margin-left: 11; }
    DrbdPanel.-syncing ProgressBar { display: block; }
    """

    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def compose(self) -> ComposeResult:
        yield Static(id="drbd-table")
        yield ProgressBar(total=100, show_eta=False, id="drbd-progress")
        yield Static(id="drbd-sync")

    def view(self, snap: ClusterSnapshot) -> object:
        return tuple((n.reachable, n.drbd, n.drbd_mounted) for n in snap.nodes)

    def draw(self, snap: ClusterSnapshot) -> None:
        cfg, c = self.config, self.colors
        table = grid(cfg)
        rows: dict[str, list[Text]] = {k: [] for k in ("role", "connection", "disk", "mounted", "out of sync")}
        sync_line: Text | None = None
        pct: float | None = None
        for n in nodes(cfg, snap):
            r = n.drbd_resource(cfg.drbd.resource) if n else None
            if n is None or r is None:
                for k in rows:
                    rows[k].append(word("—", c.dim))
                continue
            rows["role"].append(word(f"{r.role} (peer {r.peer_role or '?'})",
                                     c.ok if r.role in ("Primary", "Secondary") else c.warn))
            cs = r.connection_state or "?"
            rs = r.replication_state or ""
            shown = rs if rs and rs not in ("Established", "Off") else cs
            rows["connection"].append(word(shown + (" — split brain?" if r.split_brain_suspected else ""),
                                           c.ok if cs == "Connected" and shown == cs else
                                           c.bad if cs == "StandAlone" else c.warn))
            disk_ok = r.disk_state == "UpToDate"
            rows["disk"].append(word(f"{r.disk_state} (peer {r.peer_disk_state})",
                                     c.ok if disk_ok and r.peer_disk_state == "UpToDate"
                                     else c.warn if disk_ok or r.disk_state == "Inconsistent" else c.bad))
            rows["mounted"].append(word(cfg.drbd.mount_point if n.drbd_mounted else "no",
                                        c.info if n.drbd_mounted else c.dim))
            oos = r.out_of_sync_kib
            rows["out of sync"].append(word(f"{oos:,} KiB" if oos is not None else "?", c.warn if oos else c.dim))
            if r.progress_percent is not None:
                pct = r.progress_percent
                speed = f"{r.speed_kib_s:,} KiB/s" if r.speed_kib_s is not None else "? KiB/s"
                sync_line = Text(f"{n.node} {rs}: {pct:.1f} %  {speed}  ETA {fmt_duration(r.eta_s)}", style=c.warn)
        for k, v in rows.items():
            table.add_row(k, *v)
        self.query_one("#drbd-table", Static).update(table)
        self.set_class(pct is not None, "-syncing")
        if pct is not None:
            self.query_one("#drbd-progress", ProgressBar).update(progress=pct)
        self.query_one("#drbd-sync", Static).update(sync_line or "")
