"""Configuration drift between the two nodes: keepalived.conf, the check and notify scripts, DRBD's and
Galera's settings, compared with what must differ set aside (each node's own addresses and names, its
priority, state and router_id).  A node's own names become `<this node>`, its peer's `<peer>`, so
`unicast_peer { 10.0.0.2 }` on node1 and `unicast_peer { 10.0.0.1 }` on node2 compare equal.

Script drift is reported by line number only (a script may hold a secret); keepalived.conf lines are
shown (the parser has already redacted auth_pass)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from hatui.config import Config
from hatui.confmodel import NodeConfigRead
from hatui.doctor_hazard import Hazard, hz

# keepalived statements that differ by design
NODE_SPECIFIC_KEYS = {"state", "priority", "router_id", "unicast_src_ip", "mcast_src_ip", "lvs_id"}
# Galera options that name the node itself, or hold a secret (compared by nobody, shown never)
GALERA_NODE_KEYS = {"wsrep_node_address", "wsrep_node_name", "wsrep_sst_receive_address",
                    "wsrep_node_incoming_address", "server_id", "bind_address", "report_host"}
GALERA_SECRET_KEYS = {"wsrep_sst_auth"}
MAX_SHOWN = 6


def _tokens(r: NodeConfigRead, cfg: Config) -> set[str]:
    out = {r.node, *r.addresses}
    if r.hostname:
        out.add(r.hostname)
    out |= {n.host for n in cfg.nodes if n.name == r.node}
    if r.keepalived:
        if r.keepalived.router_id:
            out.add(r.keepalived.router_id)
        for i in r.keepalived.instances:
            if i.unicast_src_ip:
                out.add(i.unicast_src_ip)
    if r.galera:
        for k in ("wsrep_node_address", "wsrep_node_name"):
            if r.galera.options.get(k):
                out.add(r.galera.options[k].split(":")[0])
    return {t for t in out if t and t not in cfg.vip}


def _masker(me: set[str], peer: set[str]):
    pairs = sorted([(t, "<this node>") for t in me] + [(t, "<peer>") for t in peer if t not in me],
                   key=lambda p: -len(p[0]))
    if not pairs:
        return lambda s: s
    pattern = re.compile("|".join(rf"(?<![\w.-]){re.escape(t)}(?![\w-]|\.\w)" for t, _ in pairs))
    table = dict(pairs)
    return lambda s: pattern.sub(lambda m: table[m.group(0)], s)


def _ka_lines(r: NodeConfigRead) -> Counter[str]:
    out: Counter[str] = Counter()
    for _line, text in r.keepalived.lines if r.keepalived else ():
        last = text.rsplit(" > ", 1)[-1]
        if last.split(" ")[0] in NODE_SPECIFIC_KEYS:
            continue
        out[text] += 1
    return out


def _diff_counters(a: Counter[str], b: Counter[str]) -> tuple[list[str], list[str]]:
    return sorted((a - b).elements()), sorted((b - a).elements())


def _shown(items: list[str]) -> str:
    more = f" (+{len(items) - MAX_SHOWN} more)" if len(items) > MAX_SHOWN else ""
    return "; ".join(items[:MAX_SHOWN]) + more


def drift_hazards(reads: list[NodeConfigRead], cfg: Config) -> Iterable[Hazard]:
    both = [r for r in reads if r.reachable]
    if len(both) != 2:
        return
    a, b = both
    ta, tb = _tokens(a, cfg), _tokens(b, cfg)
    mask_a, mask_b = _masker(ta, tb), _masker(tb, ta)
    if a.keepalived and b.keepalived:
        # identical lines first (a list of both addresses reads the same on both), then the rest masked
        raw_a, raw_b = _diff_counters(_ka_lines(a), _ka_lines(b))
        only_a, only_b = _diff_counters(Counter(map(mask_a, raw_a)), Counter(map(mask_b, raw_b)))
        if only_a or only_b:
            yield hz("warning", "drift-keepalived", f"keepalived.conf differs between {a.node} and {b.node} "
                     f"beyond the node-specific lines ({len(only_a) + len(only_b)} statements)",
                     f"Only on {a.node}: {_shown(only_a) or '-'}. Only on {b.node}: {_shown(only_b) or '-'}. "
                     "A failover runs the other node's configuration: a check, weight or script that exists on "
                     "one side only behaves differently after the switch.",
                     "Make the files identical except state, priority, router_id and the addresses.", a.node, b.node)
    # scripts: the same paths, the same text (masked), reported by line number
    pa, pb = set(a.scripts), set(b.scripts)
    for path in sorted(pa ^ pb):
        has = a.node if path in pa else b.node
        yield hz("warning", "drift-script", f"{path} exists on {has} only",
                 "keepalived runs it on one node only: the pair behaves differently depending on who is active.",
                 "Install the same script on both nodes.", a.node, b.node)
    for path in sorted(pa & pb):
        if a.scripts[path] == b.scripts[path]:
            continue
        la = [mask_a(ln) for ln in a.scripts[path].splitlines()]
        lb = [mask_b(ln) for ln in b.scripts[path].splitlines()]
        if la != lb:
            diff = [str(i + 1) for i in range(max(len(la), len(lb)))
                    if (la[i] if i < len(la) else None) != (lb[i] if i < len(lb) else None)]
            yield hz("warning", "drift-script", f"{path} differs between {a.node} and {b.node} "
                     f"(lines {_shown(diff)})",
                     "The check or notify script does something else on each node (contents not shown: a script "
                     "may hold a secret).", f"diff the two copies (e.g. `ssh {a.node} cat {path} | ssh {b.node} "
                     f"diff - {path}`) and make them identical.", a.node, b.node,
                     where=(f"{a.node}:{path}", f"{b.node}:{path}"))
    yield from _drbd_drift(a, b, cfg)
    yield from _galera_drift(a, b, mask_a, mask_b)


def _drbd_drift(a: NodeConfigRead, b: NodeConfigRead, cfg: Config) -> Iterable[Hazard]:
    ra = next((x for x in a.drbd or () if x.name == cfg.drbd.resource), None)
    rb = next((x for x in b.drbd or () if x.name == cfg.drbd.resource), None)
    if ra is None or rb is None:
        return
    diffs = []
    for sec in sorted(set(ra.sections) | set(rb.sections)):
        oa, ob = ra.sections.get(sec, {}), rb.sections.get(sec, {})
        for k in sorted(set(oa) | set(ob)):
            if oa.get(k) != ob.get(k):
                diffs.append(f"{sec} {k}: {a.node} {oa.get(k, '(unset)')}, {b.node} {ob.get(k, '(unset)')}")
    if sorted(ra.hosts, key=lambda h: h.name) != sorted(rb.hosts, key=lambda h: h.name):
        diffs.append("the host sections (names, addresses, devices) differ")
    if diffs:
        yield hz("warning", "drift-drbd",
                 f"DRBD {cfg.drbd.resource} is configured differently on {a.node} and {b.node}",
                 f"{_shown(diffs)}. DRBD negotiates some options at connect and refuses others; the ones it "
                 "accepts act differently depending on which side is primary.",
                 "Use one resource file, copied to both nodes.", a.node, b.node)


def _galera_drift(a: NodeConfigRead, b: NodeConfigRead, mask_a, mask_b) -> Iterable[Hazard]:
    if a.galera is None or b.galera is None:
        return
    diffs = []
    oa, ob = a.galera.options, b.galera.options
    for k in sorted(set(oa) | set(ob)):
        if k in GALERA_NODE_KEYS:
            continue
        va, vb = oa.get(k), ob.get(k)
        if va != vb and (mask_a(va) if va is not None else None) != (mask_b(vb) if vb is not None else None):
            shown = "" if k in GALERA_SECRET_KEYS else f" ({a.node} {va or '(unset)'}, {b.node} {vb or '(unset)'})"
            diffs.append(f"{k}{shown}")
    if diffs:
        yield hz("warning", "drift-galera", f"Galera settings differ between {a.node} and {b.node}",
                 f"{_shown(diffs)}. Some settings must match for a node to join (cluster name, provider); "
                 "others change behaviour depending on which node survives.",
                 "Keep the [galera] section identical except wsrep_node_address and wsrep_node_name.", a.node, b.node)
