"""Recorded cycles → ClusterSnapshots and timelines, through the same parsers (`node_from_raw`) and
the same diagnosis as a live poll: a replay shows what hatui would have shown then."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import replace

from hatui.config import Config
from hatui.diagnosis import diagnose
from hatui.model import ClusterSnapshot, CommandResult, FailoverEvent, NodeSnapshot, WebCheck
from hatui.probes.failover_log import merge_failover_events, parse_failover_line
from hatui.probes.node import node_from_raw
from hatui.record.store import RecordReader, Row
from hatui.record.timeline import ChangeDetector, Event, audit_events, in_order

NODE_CACHE = 256
MAX_EVENTS = 500  # as the live view keeps (hatui.collector.MAX_EVENTS; not imported: no SSH for a replay)


def node_snapshot(config: Config, row: Row, doc: dict | None, since_epoch_s: float | None) -> NodeSnapshot:
    name = row.node or "?"
    if not row.reachable or doc is None:
        return NodeSnapshot(node=name, reachable=False, since_epoch_s=since_epoch_s,
                            error=row.error or "no answer", error_kind=row.error_kind)  # type: ignore[arg-type]
    res = {k: CommandResult(v[0], v[1]) for k, v in (doc.get("batch") or {}).items()}
    rows = [tuple(r) for r in doc["galera_rows"]] if doc.get("galera_rows") is not None else None
    snap = node_from_raw(config, name, res, rows, doc.get("mysql_error"))  # type: ignore[arg-type]
    return replace(snap, since_epoch_s=since_epoch_s, poll_latency_ms=row.latency_ms, answered_at_epoch_s=row.at)


def web_check(row: Row, doc: dict | None) -> WebCheck | None:
    if doc is None:
        return None
    return WebCheck(url=doc.get("url") or "", ok=bool(doc.get("ok")), node=doc.get("node"),
                    latency_ms=row.latency_ms, status=doc.get("status"), error=doc.get("error"),
                    body=doc.get("body") or "")


def failover_events(lines: Iterable[tuple[float, str, str, bool]]) -> dict[str, list[FailoverEvent]]:
    """Each node's log events from recorded lines; a session's first read repeats lines already
    recorded by an earlier session: those are dropped."""
    seen: set[tuple[str, str]] = set()
    out: dict[str, list[FailoverEvent]] = {}
    for _at, node, raw, backlog in lines:
        if backlog and (node, raw) in seen:
            continue
        seen.add((node, raw))
        ev = parse_failover_line(raw, node).value
        if ev is not None:
            out.setdefault(node, []).append(ev)
    return out


class Recording:
    """A recording opened for replay: every cycle is a frame; `snapshot(i)` rebuilds the pair as
    hatui saw it after frame i (each node's latest answer up to then, the web page's, the log)."""

    def __init__(self, reader: RecordReader, config: Config) -> None:
        self.reader = reader
        self.config = config
        index = reader.index()
        self.ids = [r[0] for r in index]
        self.times = [r[1] for r in index]
        self.changes: list[int] = []
        self.frames_of: dict[str, list[int]] = {}  # source (node name or "web") → its frames
        self._since: dict[str, list[int]] = {}  # source → frames where its reachability changed
        last_reach: dict[str, int] = {}
        for i, (_id, _at, kind, node, reachable, changed) in enumerate(index):
            source = node if kind == "node" and node else "web"
            if changed and source in self.frames_of:  # a source's first cycle is where it starts, not a change
                self.changes.append(i)
            self.frames_of.setdefault(source, []).append(i)
            if last_reach.get(source) != reachable:
                self._since.setdefault(source, []).append(i)
                last_reach[source] = reachable
        self._nodes: dict[int, NodeSnapshot] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def _last(self, source: str, frame: int) -> int | None:
        frames = self.frames_of.get(source, [])
        k = bisect.bisect_right(frames, frame) - 1
        return frames[k] if k >= 0 else None

    def _node(self, name: str, frame: int) -> NodeSnapshot:
        f = self._last(name, frame)
        if f is None:
            return NodeSnapshot(node=name, reachable=False, error="not recorded yet")
        row_id = self.ids[f]
        snap = self._nodes.get(row_id)
        if snap is None:
            row = self.reader.row(row_id)
            changes = self._since.get(name, [])
            since = self.times[changes[bisect.bisect_right(changes, f) - 1]] if changes else None
            snap = node_snapshot(self.config, row, self.reader.doc(row_id), since)
            if len(self._nodes) >= NODE_CACHE:
                self._nodes.clear()
            self._nodes[row_id] = snap
        return snap

    def snapshot(self, frame: int) -> ClusterSnapshot:
        at = self.times[frame]
        w = self._last("web", frame)
        web = web_check(self.reader.row(self.ids[w]), self.reader.doc(self.ids[w])) if w is not None else None
        events = failover_events(self.reader.log_lines(until=at, limit=MAX_EVENTS))
        nodes = tuple(replace(self._node(n.name, frame), failover_events=tuple(events.get(n.name, ())))
                      for n in self.config.nodes)
        cluster = ClusterSnapshot(taken_at_epoch_s=at, nodes=nodes, web=web,
                                  failover_events=merge_failover_events(*events.values()))
        return replace(cluster, findings=diagnose(cluster, self.config))


def build_timeline(reader: RecordReader, config: Config, since: float | None, until: float | None,
                   audit_lines: Iterable[str] = ()) -> list[Event]:
    """Every change between `since` and `until`, in the order hatui saw it: the layers' facts, the
    failover-log lines, hatui's own actions.  Only cycles whose facts changed are parsed."""
    det = ChangeDetector(config, tolerance_s=max(2.0, 2.5 * config.poll_interval_s))
    reads: dict[str, list[float]] = {}  # each source's cycle times, for the offsets of log lines
    prev_at: dict[str, float] = {}
    baseline_ids: set[int] = set()
    if since is not None:
        for kind, node in [("node", n.name) for n in config.nodes] + [("web", None)]:
            row = reader.last_before(since, kind, node)
            if row is None:
                continue
            baseline_ids.add(row.id)
            _feed(det, config, reader, row, baseline=True, prev_at=None)
            prev_at[row.source] = row.at
            reads.setdefault(row.source, []).append(row.at)
    changes: list[Event] = []
    for row in reader.rows(since, until):
        if row.id in baseline_ids:
            continue
        if row.changed:
            changes.extend(_feed(det, config, reader, row, baseline=False, prev_at=prev_at.get(row.source)))
        prev_at[row.source] = row.at
        reads.setdefault(row.source, []).append(row.at)
    logs: list[Event] = []
    seen: set[tuple[str, str]] = set()
    for at, node, raw, backlog in reader.log_lines(since, until):
        if backlog:  # the log's last lines, read when a session started: history, not news
            if (node, raw) in seen:
                continue
            seen.add((node, raw))
            ev = det.log_line(at, node, raw, None)
            logs.append(replace(ev, text=ev.text + " (read when recording started)"))
            continue
        seen.add((node, raw))
        times = reads.get(node, [])
        k = bisect.bisect_left(times, at) - 1
        logs.append(det.log_line(at, node, raw, times[k] if k >= 0 else None))
    return in_order(changes, logs, audit_events(audit_lines, since, until))


def _feed(det: ChangeDetector, config: Config, reader: RecordReader, row: Row, baseline: bool,
          prev_at: float | None) -> list[Event]:
    doc = reader.doc(row.id)
    if row.kind == "web":
        return det.web(row.at, web_check(row, doc), baseline=baseline)
    return det.node(row.at, node_snapshot(config, row, doc, None), baseline=baseline, prev_at=prev_at)
