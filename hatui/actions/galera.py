"""Galera re-bootstrap of a non-Primary survivor (pc.bootstrap=YES), only when it is safe."""

from __future__ import annotations

from hatui.actions.plan import Check, Plan, Step, Verify, peer_of, unknown_node
from hatui.config import Config
from hatui.model import ClusterSnapshot

from hatui.actions.commands import BOOTSTRAP_SQL, galera_bootstrap

__all__ = ["BOOTSTRAP_SQL", "plan_galera_bootstrap"]


def plan_galera_bootstrap(snap: ClusterSnapshot, cfg: Config, node: str) -> Plan:
    title = f"Galera: re-bootstrap the Primary component on {node}"
    if (refused := unknown_node("galera-bootstrap", title, node, cfg)) is not None:
        return refused
    peer = peer_of(cfg, node)
    n, p = snap.node(node), snap.node(peer)
    g = n.galera if n and n.reachable else None
    pg = p.galera if p and p.reachable else None
    peer_state = ("unreachable" if not (p and p.reachable) else "MariaDB down" if pg is None
                  else f"{pg.cluster_status}, last committed {pg.last_committed}")
    checks = [
        Check(f"MariaDB on {node} answers", g is not None, n.mysql_error or "" if n and g is None else "yes"),
        Check(f"{node} is non-Primary", bool(g and g.cluster_status != "Primary"),
              f"cluster status {g.cluster_status if g else '?'}" + (" (nothing to bootstrap)" if g and
                                                                     g.cluster_status == "Primary" else "")),
        Check(f"{peer} is really down or non-Primary too", pg is None or pg.cluster_status != "Primary",
              f"{peer}: {peer_state}" + (
                  "" if pg is None or pg.cluster_status != "Primary"
                  else " — it has the Primary component: bootstrapping would split the cluster") + (
                  f" (an unreachable {peer} does not block this plan: the lock and the audit are required on "
                  f"{node} only; {peer} gets them if it answers)" if not (p and p.reachable) else "")),
    ]
    mine = g.last_committed if g else None
    theirs = pg.last_committed if pg else (p.grastate.seqno if p and p.grastate and p.grastate.seqno not in (None, -1)
                                           else None)
    if theirs is None:
        checks.append(Check("most recent data", mine is not None,
                            f"{node} last committed {mine}; {peer}'s seqno unknown ({peer_state}): make sure it did "
                            "not commit later (its grastate.dat or `mariadbd --wsrep-recover`)"))
    else:
        checks.append(Check("most recent data", mine is not None and mine >= theirs,
                            f"{node} {mine} vs {peer} {theirs}: " + (f"{node} has the most recent data" if
                            mine is not None and mine >= theirs else f"{peer} is ahead: bootstrap {peer} instead")))
    step = Step(node, galera_bootstrap(cfg, node), f"{node} forms a new Primary component on its own",
                Verify(f"Galera Primary on {node}", lambda s: bool((x := s.node(node)) and x.galera
                                                                  and x.galera.cluster_status == "Primary"), 20))
    notes = (f"Afterwards {peer} rejoins when its MariaDB runs again (start it the usual way, e.g. "
             f"`systemctl start mariadb`; in the lab `hatui lab heal {peer}`): it catches up by IST or SST.",)
    # a survivor is bootstrapped exactly because its peer may be gone: only the survivor must answer
    return Plan("galera-bootstrap", title, node, tuple(checks), (step,), notes=notes, must_reach=(node,))
