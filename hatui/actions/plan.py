"""Actions are data: a Plan is pre-checks plus steps, built by a pure function from a snapshot.

A Step names the node, the exact command, the effect it should have, how that effect is checked
(a predicate over fresh snapshots, with a timeout) and how to undo it.  `render()` is the preview the
operator confirms; the executor (executor.py) runs exactly these commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hatui.config import Config
from hatui.model import ClusterSnapshot

Predicate = Callable[[ClusterSnapshot], bool]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    why: str


@dataclass(frozen=True)
class Verify:
    """An expected state of the cluster, checked on fresh snapshots until it holds or time runs out."""

    description: str
    holds: Predicate
    timeout_s: float = 20.0
    report: Callable[[ClusterSnapshot], str] | None = None  # live progress while waiting (resync %, ETA)


@dataclass(frozen=True)
class Step:
    node: str
    command: str
    effect: str
    verify: Verify | None = None
    undo: str | None = None  # a command on the same node; None: nothing to undo
    timeout_s: float = 30.0
    # skip the command when this already holds (e.g. keepalived's notify script already moved DRBD)
    skip_if: Verify | None = None
    may_fail: bool = False  # the exit status does not matter (e.g. umount of what may not be mounted)
    undo_verify: Verify | None = None  # the state the undo should bring, waited for before the end is named


@dataclass(frozen=True)
class Plan:
    action: str  # switchover, drbd-resync, ...
    title: str
    target: str | None
    prechecks: tuple[Check, ...]
    steps: tuple[Step, ...]
    final: tuple[Verify, ...] = ()
    refusal: str | None = None  # a reason not to run at all, besides failed pre-checks
    notes: tuple[str, ...] = field(default_factory=tuple)
    # the nodes that must be reachable to take the lock and write the audit: the run is refused when one
    # is not.  The other nodes get the lock and the audit when they answer and are skipped (and named)
    # when they do not.  None: the nodes the steps run on.
    must_reach: tuple[str, ...] | None = None

    @property
    def runnable(self) -> bool:
        return self.refusal is None and all(c.ok for c in self.prechecks)

    @property
    def lock_nodes(self) -> tuple[str, ...]:
        """The nodes the lock and the audit are required on (see must_reach)."""
        if self.must_reach is not None:
            return self.must_reach
        return tuple(dict.fromkeys(s.node for s in self.steps))

    def render(self) -> str:
        lines = [self.title, "", "Pre-checks:"]
        for c in self.prechecks:
            lines.append(f"  [{'PASS' if c.ok else 'FAIL'}] {c.name}: {c.why}")
        if self.refusal:
            lines += ["", f"Refused: {self.refusal}"]
        lines += ["", "Steps:"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"  {i}. on {s.node}: {s.command}")
            lines.append(f"     expect: {s.effect}")
            if s.skip_if:
                lines.append(f"     skipped if already: {s.skip_if.description}")
            if s.verify:
                lines.append(f"     check: {s.verify.description} (within {s.verify.timeout_s:.0f} s)")
            lines.append(f"     undo: {s.undo or 'nothing to undo'}")
        if self.steps:
            need = " and ".join(self.lock_nodes) or "no node"
            lines += ["", f"Lock and audit: required on {need} (refused if it does not answer); taken on any "
                      "other node that answers, skipped and named if it does not"]
        if self.final:
            lines += ["", "Final verification:"]
            lines += [f"  - {v.description}" for v in self.final]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)


def unknown_node(action: str, title: str, node: str, cfg: Config) -> Plan | None:
    """The refusal every plan builder gives for a node name that is not in the config, else None."""
    names = [n.name for n in cfg.nodes]
    if node in names:
        return None
    return Plan(action, title, node, (), (), refusal=f"unknown node {node!r}: one of {', '.join(names)}")


def peer_of(cfg: Config, node: str) -> str:
    """The other node of the pair (the config holds exactly two)."""
    return next(n.name for n in cfg.nodes if n.name != node)
