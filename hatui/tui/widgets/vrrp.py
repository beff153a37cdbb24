"""VRRP per node: state, effective and base priority, each track script, VIP, last change, counters."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from hatui.config import Config
from hatui.model import ClusterSnapshot
from hatui.tui.widgets.panel import SnapshotPanel, grid, nodes, word


class VrrpPanel(SnapshotPanel, Static, can_focus=True):
    def __init__(self, config: Config, **kw) -> None:
        super().__init__(**kw)
        self.config = config

    def view(self, snap: ClusterSnapshot) -> object:
        return tuple((n.reachable, n.keepalived_running, n.vrrp, n.addresses) for n in snap.nodes)

    def draw(self, snap: ClusterSnapshot) -> None:
        cfg, c = self.config, self.colors
        table = grid(cfg)
        rows: dict[str, list[Text]] = {k: [] for k in ("state", "priority", "checks", "VIP", "changed", "counters")}
        for n in nodes(cfg, snap):
            inst = n.vrrp_instance(cfg.keepalived_instance) if n else None
            if n is None or not n.reachable:
                for k in rows:
                    rows[k].append(word("—", c.dim))
                continue
            if inst is None:
                rows["state"].append(word("keepalived down" if n.keepalived_running is False else "no dump", c.bad))
                for k in list(rows)[1:]:
                    rows[k].append(word("—", c.dim))
                rows["VIP"][-1] = word("held" if n.holds_vip(cfg.vip) else "—", c.info)
                continue
            want = f" (wants {inst.wanted_state})" if inst.wanted_state and inst.wanted_state != inst.state else ""
            rows["state"].append(word(inst.state + want, c.ok if inst.state in ("MASTER", "BACKUP") else c.bad))
            down = (inst.base_priority or 0) - (inst.effective_priority or 0)
            rows["priority"].append(word(f"{inst.effective_priority} of {inst.base_priority}"
                                         + (f" (−{down})" if down > 0 else ""), c.warn if down > 0 else c.ok))
            checks = Text()
            for s in inst.track_scripts:
                mark, style = ("✓", c.ok) if s.status == "GOOD" else ("✗", c.bad) if s.status == "BAD" else ("?", c.dim)
                checks.append(f"{mark}{s.name} ", style=style)
            rows["checks"].append(checks or word("none", c.dim))
            rows["VIP"].append(word("held", f"bold {c.info}") if n.holds_vip(cfg.vip) else word("—", c.dim))
            rows["changed"].append(word(time.strftime("%H:%M:%S", time.localtime(inst.last_transition))
                                        if inst.last_transition else "?", c.dim))
            auth = inst.auth_failures or 0
            rows["counters"].append(word(f"master×{inst.become_master_count or 0} auth-fail×{auth}",
                                         c.bad if auth else c.dim))
        for k, v in rows.items():
            table.add_row(k, *v)
        self.update(table)
