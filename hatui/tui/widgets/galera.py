"""Galera per node: cluster status, state, size, ready, last committed, queues."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.widgets.panel import SnapshotPanel, grid, nodes, word


class GaleraPanel(SnapshotPanel, Static, can_focus=True):
    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def view(self, snap: ClusterSnapshot) -> object:
        return tuple((n.reachable, n.galera) for n in snap.nodes)

    def draw(self, snap: ClusterSnapshot) -> None:
        cfg, c = self.config, self.colors
        table = grid(cfg)
        keys = ("cluster", "state", "size", "ready", "committed", "recv queue", "fc paused")
        rows: dict[str, list[Text]] = {k: [] for k in keys}
        for n in nodes(cfg, snap):
            g = n.galera if n and n.reachable else None
            if g is None:
                up = bool(n and n.reachable)
                rows["cluster"].append(word("MariaDB down" if up else "—", c.bad if up else c.dim))
                for k in keys[1:]:
                    rows[k].append(word("—", c.dim))
                continue
            rows["cluster"].append(word(g.cluster_status or "?", c.ok if g.cluster_status == "Primary" else c.bad))
            rows["state"].append(word(g.local_state_comment or "?",
                                      c.ok if g.local_state_comment == "Synced" else c.warn))
            size_ok = (g.cluster_size or 0) >= cfg.mariadb.expected_cluster_size
            rows["size"].append(word(f"{g.cluster_size} of {cfg.mariadb.expected_cluster_size}",
                                     c.ok if size_ok else c.warn))
            rows["ready"].append(word("yes" if g.ready else "NO", c.ok if g.ready else c.bad))
            rows["committed"].append(word(str(g.last_committed), c.dim))
            rows["recv queue"].append(word(str(g.recv_queue), c.warn if (g.recv_queue or 0) > 10 else c.dim))
            fc = g.flow_control_paused
            rows["fc paused"].append(word(f"{fc:.3f}" if fc is not None else "?",
                                          c.warn if (fc or 0) > 0.1 else c.dim))
        for k, v in rows.items():
            table.add_row(k, *v)
        self.update(table)
