"""`hatui doctor [--json]`: read both nodes' configuration (read-only, over the usual SSH transport),
find the hazards (doctor.py), print them, exit 0 (none), 1 (warnings) or 2 (critical / a node not read).

Two round trips per node on the persistent shell: the fixed reads (keepalived.conf and build,
`drbdadm dump-xml`/`dump`, the DRBD status file, `my_print_defaults`, the server's wsrep settings,
addresses, hostname), then the scripts keepalived.conf names.  Nothing is written on a node."""

from __future__ import annotations

import asyncio
import json

from hatui.config import Config
from hatui.confmodel import NodeConfigRead
from hatui.doctor import exit_code, hazards
from hatui.doctor_hazard import Hazard
from hatui.model import CommandResult
from hatui.probes import printable, quote, valid_path
from hatui.probes.confread import (DRBD_TEXT_COMMAND, DRBD_XML_COMMAND, GALERA_DEFAULTS_COMMAND,
                                   GALERA_LIVE_COMMAND, parse_drbd_dump, parse_drbd_dump_xml, parse_galera)
from hatui.probes.drbd import parse_proc_drbd
from hatui.probes.kaconf import CONF_COMMAND, VERSION_COMMAND, parse_keepalived_conf, parse_keepalived_version
from hatui.probes.keepalived import parse_ip_addr
from hatui.probes.scripts import cat_command, script_path
from hatui.transport import NodeTransport, TransportError, transports

JSON_SCHEMA_VERSION = 1
READ_TIMEOUT_S = 20.0
def proc_command(proc_file: str) -> str:
    return f"head -c 4096 -- {quote(valid_path(proc_file))} 2>/dev/null"


FIXED_COMMANDS = {
    "ka_conf": CONF_COMMAND,
    "ka_version": VERSION_COMMAND,
    "drbd_xml": f"{DRBD_XML_COMMAND} 2>/dev/null",
    "drbd_text": f"{DRBD_TEXT_COMMAND} 2>&1 | head -c 262144",
    "galera_defaults": f"{GALERA_DEFAULTS_COMMAND} 2>/dev/null",
    "galera_live": f"{GALERA_LIVE_COMMAND} 2>/dev/null",
    "addr": "ip -o -4 addr show",
    "hostname": "hostname",
    # the DRBD status file (read_node puts the config's proc_file here): header only on DRBD 9
    "drbd_proc": proc_command("/proc/drbd"),
}


def script_commands(first: dict[str, CommandResult]) -> dict[str, str]:
    """The second round trip: every script keepalived.conf names (check scripts, notify scripts)."""
    conf = parse_keepalived_conf(first.get("ka_conf", CommandResult(None, "")).output).value
    paths: list[str] = []
    if conf is not None:
        for sc in conf.scripts.values():
            paths.append(script_path(sc.script) or "")
        for inst in conf.instances:
            paths += [script_path(cmd) or "" for _key, cmd in inst.notify]
    # the path rides in the batch's command name, which the shell prints between @@ markers: no '@'
    return {f"s{i}:{p}": cat_command(p) for i, p in enumerate(dict.fromkeys(p for p in paths if p and "@" not in p))}


def read_from_raw(node: str, first: dict[str, CommandResult], second: dict[str, CommandResult],
                  vip: str) -> NodeConfigRead:
    """Pure: what the two round trips printed → the node's NodeConfigRead (also used by tests)."""
    empty = CommandResult(None, "")
    notes: list[str] = []
    ka = first.get("ka_conf", empty)
    conf = parse_keepalived_conf(ka.output) if ka.ok else None
    if conf is not None:
        notes += conf.unparsed
    build = parse_keepalived_version(first.get("ka_version", empty).output).value
    drbd, drbd_error = None, None
    xml = first.get("drbd_xml", empty)
    if xml.ok and xml.output.strip():
        parsed = parse_drbd_dump_xml(xml.output)
        drbd = parsed.value
        notes += parsed.unparsed
    if drbd is None:
        text = first.get("drbd_text", empty)
        if text.ok:
            parsed = parse_drbd_dump(text.output)
            drbd, notes = parsed.value, notes + list(parsed.unparsed)
        else:
            drbd_error = printable(text.output.strip()[:300]) or f"exit status {text.exit_status}"
    gd, gl = first.get("galera_defaults", empty), first.get("galera_live", empty)
    galera = parse_galera(gd.output, gl.output, gl.ok).value if gd.ok else None
    addrs = parse_ip_addr(first.get("addr", empty).output).value or ()
    scripts, missing = {}, []
    for key, res in second.items():
        path = key.split(":", 1)[1]
        if res.ok:
            scripts[path] = printable(res.output, keep_lines=True)
        else:
            missing.append(path)
    host = first.get("hostname", empty)
    proc = first.get("drbd_proc", empty)
    proc_drbd = parse_proc_drbd(proc.output).value if proc.ok and proc.output.strip() else None
    return NodeConfigRead(
        node=node, reachable=True, keepalived=conf.value if conf else None, build=build, scripts=scripts,
        missing_scripts=tuple(missing), drbd=drbd, drbd_error=drbd_error, galera=galera,
        addresses=tuple(a.address for a in addrs if a.address != vip and not a.address.startswith("127.")),
        hostname=printable(host.output.strip()) if host.ok else None, notes=tuple(notes),
        drbd9_proc=proc_drbd.drbd9_header_only if proc_drbd is not None else None)


async def read_node(t: NodeTransport, vip: str, proc_file: str = "/proc/drbd") -> NodeConfigRead:
    try:
        first = await t.batch({**FIXED_COMMANDS, "drbd_proc": proc_command(proc_file)}, READ_TIMEOUT_S)
        second = await t.batch(script_commands(first), READ_TIMEOUT_S) if script_commands(first) else {}
    except TransportError as exc:
        return NodeConfigRead(t.node.name, False, error=str(exc))
    return read_from_raw(t.node.name, first, second, vip)


async def read_all(cfg: Config) -> list[NodeConfigRead]:
    ts = transports(cfg)
    try:
        return list(await asyncio.gather(*(read_node(t, cfg.vip, cfg.drbd.proc_file) for t in ts.values())))
    finally:
        for t in ts.values():
            await t.close()


def to_text(reads: list[NodeConfigRead], found: list[Hazard]) -> str:
    count = {s: sum(1 for h in found if h.severity == s) for s in ("critical", "warning", "info")}
    read = [r.node for r in reads if r.reachable]
    lines = [f"hatui doctor: {len(read)} of {len(reads)} nodes read; {count['critical']} critical, "
             f"{count['warning']} warning(s), {count['info']} info"]
    for h in found:
        lines.append(f"[{h.severity.upper():8}] {h.title}")
        lines.append(f"           why: {h.why}")
        lines.append(f"           fix: {h.fix}")
        if h.where:
            lines.append(f"           where: {', '.join(h.where)}")
    if not found:
        lines.append("no hazard found in the configuration")
    return "\n".join(printable(ln) for ln in lines)


def to_json(reads: list[NodeConfigRead], found: list[Hazard]) -> str:
    return json.dumps({
        "schema": JSON_SCHEMA_VERSION,
        "exit": exit_code(found),
        "nodes": [{"node": r.node, "read": r.reachable, "error": r.error, "notes": list(r.notes)} for r in reads],
        "hazards": [{"severity": h.severity, "code": h.code, "title": h.title, "why": h.why, "fix": h.fix,
                     "nodes": list(h.nodes), "where": list(h.where)} for h in found],
    }, indent=2)


def main(cfg: Config, as_json: bool = False) -> int:
    reads = asyncio.run(read_all(cfg))
    found = hazards(reads, cfg)
    print(to_json(reads, found) if as_json else to_text(reads, found))
    return exit_code(found)
