"""What deserves a notification between two snapshots: the VIP moving, a node becoming unreachable,
Galera leaving Primary.  Pure (no Textual): the app posts what this returns as toasts and a bell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hatui.config import Config
from hatui.model import ClusterSnapshot


@dataclass(frozen=True)
class Alert:
    message: str
    severity: Literal["information", "warning", "error"]


def _primary(snap: ClusterSnapshot, node: str) -> bool | None:
    """True/False when the node answered with a Galera status, None when it tells nothing (unreachable,
    MariaDB not queried): a node that stops answering is its own alert, not a Galera one."""
    n = snap.node(node)
    if n is None or not n.reachable or n.galera is None or n.galera.cluster_status is None:
        return None
    return n.galera.cluster_status == "Primary"


def alerts(prev: ClusterSnapshot | None, new: ClusterSnapshot, cfg: Config) -> list[Alert]:
    """The changes from `prev` to `new` an operator wants told without looking: none for the first
    snapshot (there is no change yet), nor for a node that was never reachable."""
    if prev is None:
        return []
    out: list[Alert] = []
    before, after = prev.vip_holders(cfg.vip), new.vip_holders(cfg.vip)
    # a move is what a node that answered both times shows: a node read for the first time (start-up) or
    # one that stops answering changes the holders seen, not where the VIP is (the latter has its own alert)
    both = {n.node for n in new.nodes if n.reachable} & {n.node for n in prev.nodes if n.reachable}
    if [x for x in before if x in both] != [x for x in after if x in both]:
        where = " and ".join(after) if after else "no node"
        out.append(Alert(f"VIP {cfg.vip} moved: {' and '.join(before) or 'no node'} → {where}",
                         "information" if len(after) == 1 else "error"))
    for n in cfg.nodes:
        old, cur = prev.node(n.name), new.node(n.name)
        if old is not None and cur is not None and old.reachable and not cur.reachable:
            out.append(Alert(f"{n.name} became unreachable: {cur.error or 'no answer'}", "error"))
        if _primary(prev, n.name) is True and _primary(new, n.name) is False:
            status = cur.galera.cluster_status if cur is not None and cur.galera is not None else "?"
            out.append(Alert(f"{n.name}: Galera left Primary ({status})", "error"))
    return out
