"""The whole pair in a few lines, for small terminals: priority, DRBD, Galera per node and the web
answer.  (The node headers above it say reachable, VRRP role, VIP and how fresh the data is.)"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.widgets.panel import SnapshotPanel, fmt_duration, grid, nodes, word


class OverviewPanel(SnapshotPanel, Static, can_focus=True):
    DEFAULT_CSS = "OverviewPanel { height: auto; }"

    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def view(self, snap: ClusterSnapshot) -> object:
        w = snap.web
        return (tuple((n.reachable, n.vrrp, n.drbd, n.drbd_mounted, n.galera) for n in snap.nodes),
                (w.ok, w.node, w.error, min(int((w.latency_ms or 0) // 100), 10)) if w else None)

    def draw(self, snap: ClusterSnapshot) -> None:
        cfg, c = self.config, self.colors
        table: Table = grid(cfg)
        rows: dict[str, list[Text]] = {"priority": [], "DRBD": [], "Galera": []}
        for n in nodes(cfg, snap):
            if n is None or not n.reachable:
                for k in rows:
                    rows[k].append(word("—", c.dim))
                continue
            inst = n.vrrp_instance(cfg.keepalived_instance)
            if inst is None:
                rows["priority"].append(word("keepalived down" if n.keepalived_running is False else "no dump", c.bad))
            else:
                down = (inst.base_priority or 0) - (inst.effective_priority or 0)
                rows["priority"].append(word(f"{inst.effective_priority} of {inst.base_priority}"
                                             + (f" (−{down})" if down > 0 else ""), c.warn if down > 0 else c.ok))
            r = n.drbd_resource(cfg.drbd.resource)
            if r is None:
                rows["DRBD"].append(word("no status", c.warn))
            else:
                t = Text()
                t.append(r.role, style=c.ok if r.role in ("Primary", "Secondary") else c.warn)
                t.append(f" {r.disk_state}", style=c.ok if r.disk_state == "UpToDate" else c.warn)
                cs = r.connection_state or "?"
                if cs != "Connected":  # the healthy case goes without saying on a small screen
                    t.append(f" {cs}", style=c.bad if cs == "StandAlone" else c.warn)
                if r.progress_percent is not None:
                    t.append(f" {r.replication_state} {r.progress_percent:.1f} % ETA {fmt_duration(r.eta_s)}",
                             style=c.warn)
                if n.drbd_mounted:
                    t.append(" mounted", style=c.info)
                rows["DRBD"].append(t)
            g = n.galera
            if g is None:
                rows["Galera"].append(word("MariaDB down", c.bad))
            else:
                t = Text()
                t.append(g.cluster_status or "?", style=c.ok if g.cluster_status == "Primary" else c.bad)
                synced = g.local_state_comment == "Synced"
                t.append(f" {g.local_state_comment or '?'}", style=c.ok if synced else c.warn)
                size_ok = (g.cluster_size or 0) >= cfg.mariadb.expected_cluster_size
                t.append(f" {g.cluster_size}/{cfg.mariadb.expected_cluster_size}", style=c.ok if size_ok else c.warn)
                rows["Galera"].append(t)
        w = snap.web
        web = Text()
        if w is None:
            web.append("waiting…" if cfg.web.url else "not configured", style=c.dim)
        elif w.ok:
            web.append("✓ answered by ", style=c.ok)
            web.append(str(w.node), style=f"bold {c.info}")
            web.append(f" in {w.latency_ms:.0f} ms" if w.latency_ms is not None else "", style=c.dim)
        else:
            web.append(f"✗ {w.error}", style=f"bold {c.bad}")
        rows["web"] = [web] + [Text()] * (len(cfg.nodes) - 1)
        for k, v in rows.items():
            table.add_row(k, *v)
        self.update(table)
