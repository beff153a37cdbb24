"""Panels of the live view: each takes a ClusterSnapshot and renders it; none talks to a node."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from hatui.config import Config
from hatui.model import ClusterSnapshot, NodeSnapshot

OK, WARN, BAD, DIM = "green", "yellow", "red", "grey50"
SEV_STYLE = {"ok": OK, "info": "cyan", "warning": WARN, "critical": BAD}
SEV_WORD = {"ok": "OK", "info": "INFO", "warning": "WARN", "critical": "CRIT"}


def word(text: str, style: str) -> Text:
    return Text(text, style=style)


def _grid(cfg: Config, snap: ClusterSnapshot) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=True, min_width=11)
    for n in cfg.nodes:
        table.add_column(header=n.name, ratio=2, overflow="fold")
    return table


def _nodes(cfg: Config, snap: ClusterSnapshot) -> list[NodeSnapshot | None]:
    return [snap.node(n.name) for n in cfg.nodes]


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class NodeHeader(Widget):
    """One line per node: reachable, VRRP role, VIP, and how fresh the data is."""

    DEFAULT_CSS = "NodeHeader { width: 1fr; height: 3; border: round $primary; padding: 0 1; }"

    def __init__(self, node: str, **kw) -> None:
        super().__init__(**kw)
        self.node = node
        self.border_title = node
        self._shown = Text("waiting for the first poll…", style=DIM)

    def render(self) -> Text:
        return self._shown

    def _set(self, text: Text) -> None:
        if text != self._shown:  # most calls change nothing: no repaint (and never a re-layout)
            self._shown = text
            self.refresh()

    def show(self, cfg: Config, n: NodeSnapshot | None, last_ok: float | None, now: float) -> None:
        if n is None:
            self._set(word("waiting for the first poll…", DIM))
            return
        t = Text()
        age = max(0.0, now - last_ok) if last_ok else None
        if not n.reachable:
            since = _fmt_duration(now - n.since_epoch_s) if n.since_epoch_s else "?"
            t.append("✗ UNREACHABLE", style=f"bold {BAD}")
            t.append(f" for {since} · last data {f'{age:.0f} s ago' if age is not None else 'never'}", style=BAD)
            self.set_class(True, "-bad")
            self._set(t)
            return
        self.set_class(False, "-bad")
        t.append("● up ", style=OK)
        inst = n.vrrp_instance(cfg.keepalived_instance)
        if n.keepalived_running is False:
            t.append("  keepalived DOWN", style=f"bold {BAD}")
        elif inst is not None:
            style = OK if inst.state in ("MASTER", "BACKUP") else BAD
            t.append(f"  {inst.state}", style=f"bold {style}")
        if n.holds_vip(cfg.vip):
            t.append("  ◆ VIP", style="bold cyan")
        # fresh data says "live"; only stale data shows its age (and so changes every second)
        if age is None or age <= 2.5 * cfg.poll_interval_s:
            t.append("  live", style=DIM)
        else:
            t.append(f"  last poll {age:.0f} s ago", style=f"bold {WARN}")
        self._set(t)


class VrrpPanel(Static):
    def show(self, cfg: Config, snap: ClusterSnapshot) -> None:
        table = _grid(cfg, snap)
        rows: dict[str, list[Text]] = {k: [] for k in ("state", "priority", "checks", "VIP", "changed", "counters")}
        for n in _nodes(cfg, snap):
            inst = n.vrrp_instance(cfg.keepalived_instance) if n else None
            if n is None or not n.reachable:
                for k in rows:
                    rows[k].append(word("—", DIM))
                continue
            if inst is None:
                rows["state"].append(word("keepalived down" if n.keepalived_running is False else "no dump", BAD))
                for k in list(rows)[1:]:
                    rows[k].append(word("—", DIM))
                rows["VIP"][-1] = word("held" if n.holds_vip(cfg.vip) else "—", "cyan")
                continue
            want = f" (wants {inst.wanted_state})" if inst.wanted_state and inst.wanted_state != inst.state else ""
            rows["state"].append(word(inst.state + want, OK if inst.state in ("MASTER", "BACKUP") else BAD))
            down = (inst.base_priority or 0) - (inst.effective_priority or 0)
            rows["priority"].append(word(f"{inst.effective_priority} of {inst.base_priority}"
                                         + (f" (−{down})" if down > 0 else ""), WARN if down > 0 else OK))
            checks = Text()
            for s in inst.track_scripts:
                mark, style = ("✓", OK) if s.status == "GOOD" else ("✗", BAD) if s.status == "BAD" else ("?", DIM)
                checks.append(f"{mark}{s.name} ", style=style)
            rows["checks"].append(checks or word("none", DIM))
            rows["VIP"].append(word("held", "bold cyan") if n.holds_vip(cfg.vip) else word("—", DIM))
            rows["changed"].append(word(time.strftime("%H:%M:%S", time.localtime(inst.last_transition))
                                        if inst.last_transition else "?", DIM))
            auth = inst.auth_failures or 0
            rows["counters"].append(word(f"master×{inst.become_master_count or 0} auth-fail×{auth}",
                                         BAD if auth else DIM))
        for k, v in rows.items():
            table.add_row(k, *v)
        self.update(table)


class DrbdPanel(Vertical):
    DEFAULT_CSS = """
    DrbdPanel { height: auto; }
    DrbdPanel ProgressBar { display: none; margin-left: 11; }
    DrbdPanel.-syncing ProgressBar { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="drbd-table")
        yield ProgressBar(total=100, show_eta=False, id="drbd-progress")
        yield Static(id="drbd-sync")

    def show(self, cfg: Config, snap: ClusterSnapshot) -> None:
        table = _grid(cfg, snap)
        rows: dict[str, list[Text]] = {k: [] for k in ("role", "connection", "disk", "mounted", "out of sync")}
        sync_line: Text | None = None
        pct: float | None = None
        for n in _nodes(cfg, snap):
            r = n.drbd_resource(cfg.drbd.resource) if n else None
            if n is None or not n.reachable or r is None:
                for k in rows:
                    rows[k].append(word("—", DIM))
                continue
            rows["role"].append(word(f"{r.role} (peer {r.peer_role or '?'})", OK if r.role in ("Primary", "Secondary")
                                     else WARN))
            cs = r.connection_state or "?"
            rs = r.replication_state or ""
            shown = rs if rs and rs not in ("Established", "Off") else cs
            rows["connection"].append(word(shown + (" — split brain?" if r.split_brain_suspected else ""),
                                           OK if cs == "Connected" and shown == cs else
                                           BAD if cs == "StandAlone" else WARN))
            disk_ok = r.disk_state == "UpToDate"
            rows["disk"].append(word(f"{r.disk_state} (peer {r.peer_disk_state})",
                                     OK if disk_ok and r.peer_disk_state == "UpToDate"
                                     else WARN if disk_ok or r.disk_state == "Inconsistent" else BAD))
            rows["mounted"].append(word(cfg.drbd.mount_point if n.drbd_mounted else "no",
                                        "cyan" if n.drbd_mounted else DIM))
            oos = r.out_of_sync_kib
            rows["out of sync"].append(word(f"{oos:,} KiB" if oos is not None else "?", WARN if oos else DIM))
            if r.progress_percent is not None:
                pct = r.progress_percent
                speed = f"{r.speed_kib_s:,} KiB/s" if r.speed_kib_s is not None else "? KiB/s"
                sync_line = Text(f"{n.node} {rs}: {pct:.1f} %  {speed}  ETA {_fmt_duration(r.eta_s)}",
                                 style=WARN)
        for k, v in rows.items():
            table.add_row(k, *v)
        self.query_one("#drbd-table", Static).update(table)
        self.set_class(pct is not None, "-syncing")
        if pct is not None:
            self.query_one("#drbd-progress", ProgressBar).update(progress=pct)
        self.query_one("#drbd-sync", Static).update(sync_line or "")


class GaleraPanel(Static):
    def show(self, cfg: Config, snap: ClusterSnapshot) -> None:
        table = _grid(cfg, snap)
        keys = ("cluster", "state", "size", "ready", "committed", "recv queue", "fc paused")
        rows: dict[str, list[Text]] = {k: [] for k in keys}
        for n in _nodes(cfg, snap):
            g = n.galera if n and n.reachable else None
            if g is None:
                rows["cluster"].append(word("MariaDB down" if n and n.reachable else "—", BAD if n and n.reachable
                                            else DIM))
                for k in keys[1:]:
                    rows[k].append(word("—", DIM))
                continue
            rows["cluster"].append(word(g.cluster_status or "?", OK if g.cluster_status == "Primary" else BAD))
            rows["state"].append(word(g.local_state_comment or "?", OK if g.local_state_comment == "Synced" else WARN))
            size_ok = (g.cluster_size or 0) >= cfg.mariadb.expected_cluster_size
            rows["size"].append(word(f"{g.cluster_size} of {cfg.mariadb.expected_cluster_size}",
                                     OK if size_ok else WARN))
            rows["ready"].append(word("yes" if g.ready else "NO", OK if g.ready else BAD))
            rows["committed"].append(word(str(g.last_committed), DIM))
            rows["recv queue"].append(word(str(g.recv_queue), WARN if (g.recv_queue or 0) > 10 else DIM))
            fc = g.flow_control_paused
            rows["fc paused"].append(word(f"{fc:.3f}" if fc is not None else "?", WARN if (fc or 0) > 0.1 else DIM))
        for k, v in rows.items():
            table.add_row(k, *v)
        self.update(table)


class WebPanel(Static):
    def show(self, cfg: Config, snap: ClusterSnapshot) -> None:
        w = snap.web
        if w is None:
            self.update(word("waiting for the first check…" if cfg.web.url else "no web check configured (web.url)",
                             DIM))
            return
        t = Text()
        if w.ok:
            t.append("✓ OK ", style=f"bold {OK}")
            t.append(f"answered by {w.node} in {w.latency_ms:.0f} ms\n" if w.latency_ms is not None else "\n")
        else:
            t.append("✗ FAIL ", style=f"bold {BAD}")
            t.append(f"{w.error}\n", style=BAD)
        t.append(w.url, style=DIM)
        self.update(t)


class FindingsPanel(Static):
    def show(self, cfg: Config, snap: ClusterSnapshot) -> None:
        t = Text()
        for i, f in enumerate(snap.findings):
            if i:
                t.append("\n")
            style = SEV_STYLE.get(f.severity, "")
            t.append(f"{SEV_WORD.get(f.severity, f.severity):4} ", style=f"bold {style}")
            t.append(f.title, style=style)
            if f.expand:
                t.append(f"\n     {f.explanation}", style="default")
                t.append(f"\n     → {f.action}", style="italic")
        self.update(t)
