"""The collector's recorder hooks → the store.  Never raises into the collector: the first failure
stops the recording, keeps its reason in `error` and tells `on_error` (the live view says so and
goes on showing the pair)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hatui.config import Config
from hatui.model import NodeSnapshot, WebCheck
from hatui.record.store import RecordError, RecordStore
from hatui.record.timeline import node_facts, web_facts


class Recorder:
    def __init__(self, store: RecordStore, config: Config, clock: Callable[[], float] = time.time,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.on_error = on_error
        self.error: str | None = None
        self.cycles = 0
        self._log_started: set[str] = set()  # nodes whose first log read (its last lines) is recorded

    @classmethod
    def open(cls, config: Config, db: Path | None = None, **kwargs) -> Recorder:
        """The recorder of `config.record` (or of `db`).  Raises RecordError (held by another
        recorder, not a database, locked, not writable)."""
        rc = config.record
        return cls(RecordStore(db or rc.db_path(), rc.retention_days, rc.max_mb), config, **kwargs)

    def attach(self, collector) -> None:
        collector.recorder = self.node
        collector.web_recorder = self.web

    def _fail(self, exc: BaseException) -> None:
        self.error = str(exc) if isinstance(exc, RecordError) else \
            f"{self.store.path}: recording stopped: {type(exc).__name__}: {exc}"
        self.store.close()
        if self.on_error is not None:
            self.on_error(self.error)

    def node(self, name: str, raw: dict, snap: NodeSnapshot) -> None:
        """collector.recorder: one node's cycle (its raw poll, or why it did not answer)."""
        if self.error is not None:
            return
        try:
            facts = node_facts(snap, self.config)
            if raw.get("reachable") is False:
                self.store.write("node", name, self.clock(), reachable=False, facts=facts,
                                 error=str(raw.get("error")), error_kind=raw.get("error_kind"))
            else:
                doc = {k: raw.get(k) for k in ("batch", "galera_rows", "mysql_error")}
                lines = list(raw.get("failover_lines") or ())
                backlog = name not in self._log_started
                self._log_started.add(name)
                self.store.write("node", name, self.clock(), reachable=True, doc=doc, facts=facts,
                                 latency_ms=snap.poll_latency_ms, log_lines=lines, backlog=backlog)
            self.cycles += 1
        except Exception as exc:  # the recording is a bonus: it must never stop the live view
            self._fail(exc)

    def web(self, w: WebCheck) -> None:
        """collector.web_recorder: one answer of the page through the VIP."""
        if self.error is not None:
            return
        try:
            doc = {"url": w.url, "ok": w.ok, "node": w.node, "status": w.status, "error": w.error, "body": w.body}
            self.store.write("web", None, self.clock(), reachable=w.ok, doc=doc, facts=web_facts(w),
                             error=w.error, latency_ms=w.latency_ms)
        except Exception as exc:
            self._fail(exc)

    def close(self) -> None:
        if self.error is None:
            self.store.close()
