"""DRBD's and Galera's configuration as their own tools print it.

* DRBD: `drbdadm dump-xml` (drbd-utils' parser resolves includes, `common`, defaults per host; hatui
  reads its XML: user/v84/drbdadm_main.c adm_dump_xml(), user/v9/drbdadm_dump.c), or `drbdadm dump`
  (its text form) when dump-xml fails.  hatui never parses a .res file itself.
* Galera: `my_print_defaults --mysqld galera` (MariaDB's own option-file reader: every `--name=value`
  the server would get from the [mysqld] and [galera] groups, includes followed), and the running
  server's `wsrep_provider_options` and `wsrep_cluster_size` through the mysql client on the node.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from hatui.model import Parsed
from hatui.probes import never_raises, short, to_int

DRBD_XML_COMMAND = "drbdadm dump-xml"
DRBD_TEXT_COMMAND = "drbdadm dump"
GALERA_DEFAULTS_COMMAND = "my_print_defaults --mysqld galera"
# the running server's view; the mysql client on the node authenticates as the SSH user (unix_socket)
GALERA_LIVE_COMMAND = ("mysql --connect-timeout=3 -N -B -e \"SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'; "
                       "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_incoming_addresses')\"")


@dataclass(frozen=True)
class DrbdHostConf:
    name: str
    address: str | None
    port: str | None
    device: str | None
    disk: str | None


@dataclass(frozen=True)
class DrbdResourceConf:
    name: str
    hosts: tuple[DrbdHostConf, ...]
    sections: dict[str, dict[str, str]] = field(default_factory=dict)  # net/disk/handlers/... → name → value

    def option(self, section: str, name: str) -> str | None:
        return self.sections.get(section, {}).get(name)


SECRET_OPTIONS = ("shared-secret",)  # kept out of every value: hatui never shows or compares it


def _masked(sections: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {sec: {k: ("********" if k in SECRET_OPTIONS else v) for k, v in opts.items()}
            for sec, opts in sections.items()}


def _merge(common: dict[str, dict[str, str]], own: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A resource inherits `common`'s options unless it sets them itself (drbd-utils' expansion)."""
    out = {k: dict(v) for k, v in common.items()}
    for sec, opts in own.items():
        out.setdefault(sec, {}).update(opts)
    return _masked(out)


def _xml_sections(elem: ET.Element) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for sec in elem.findall("section"):
        out[sec.get("name", "?")] = {o.get("name", "?"): o.get("value", "") for o in sec.findall("option")}
    return out


@never_raises()
def parse_drbd_dump_xml(text: str) -> Parsed[tuple[DrbdResourceConf, ...]]:
    """`drbdadm dump-xml`: a <config> with <common> and <resource>s (or one bare <resource>)."""
    start = text.find("<")
    if start < 0:
        return Parsed(None, (f"drbdadm dump-xml: no XML in {short(text)}",), text)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # drbd-utils never prints one: refuse entity tricks
        return Parsed(None, ("drbdadm dump-xml: a DOCTYPE/ENTITY declaration: not read",), text)
    try:
        root = ET.fromstring(text[start:])
    except ET.ParseError as exc:
        return Parsed(None, (f"drbdadm dump-xml: not XML: {exc}",), text)
    common_elem = root.find("common")
    common = _xml_sections(common_elem) if common_elem is not None else {}
    resources = [root] if root.tag == "resource" else root.findall("resource")
    out = []
    for r in resources:
        hosts = []
        for h in r.findall("host"):
            addr = h.find("address")
            vol = h.find("volume")
            dev = vol.find("device") if vol is not None else h.find("device")
            disk = vol.find("disk") if vol is not None else h.find("disk")
            hosts.append(DrbdHostConf(h.get("name", "?"), addr.text if addr is not None else None,
                                      addr.get("port") if addr is not None else None,
                                      dev.text if dev is not None else None, disk.text if disk is not None else None))
        out.append(DrbdResourceConf(r.get("name", "?"), tuple(hosts), _merge(common, _xml_sections(r))))
    return Parsed(tuple(out), () if out else ("drbdadm dump-xml: no resource",), text)


_TEXT_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


@never_raises()
def parse_drbd_dump(text: str) -> Parsed[tuple[DrbdResourceConf, ...]]:
    """`drbdadm dump`: drbd-utils' normalised text (`resource r0 { on node1 { ... } net { k v; } }`)."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    toks = _TEXT_TOKEN_RE.findall("\n".join(lines))
    out: list[DrbdResourceConf] = []
    common: dict[str, dict[str, str]] = {}
    stack: list[str] = []
    words: list[str] = []
    cur: dict[str, object] = {}
    for tok in toks:
        if tok == "{":
            stack.append(" ".join(words))
            if len(stack) == 1 and words[:1] == ["resource"]:
                cur = {"name": words[1] if len(words) > 1 else "?", "hosts": [], "sections": {}, "host": None}
            elif len(stack) == 2 and words[:1] == ["on"] and cur:
                cur["host"] = {"name": " ".join(words[1:]), "address": None, "port": None, "device": None,
                               "disk": None}
            words = []
        elif tok == "}":
            top = stack.pop() if stack else ""
            if len(stack) == 1 and top.startswith("on ") and cur and cur.get("host"):
                cur["hosts"].append(DrbdHostConf(**cur["host"]))  # type: ignore[union-attr, arg-type]
                cur["host"] = None
            elif not stack and top.startswith("resource") and cur:
                out.append(DrbdResourceConf(str(cur["name"]), tuple(cur["hosts"]),  # type: ignore[arg-type]
                                            _merge(common, cur["sections"])))  # type: ignore[arg-type]
                cur = {}
            words = []
        elif tok == ";":
            sec = stack[-1] if stack else ""
            if cur and cur.get("host") and len(stack) >= 2 and words:
                host = cur["host"]
                if words[0] == "address" and len(words) >= 2:
                    ap = words[-1]
                    host["address"], _, host["port"] = ap.rpartition(":")  # type: ignore[index]
                elif words[0] in ("device", "disk"):
                    host[words[0]] = words[1] if len(words) > 1 else None  # type: ignore[index]
            elif words and len(stack) >= 2 and stack[0].startswith("resource") and cur:
                cur["sections"].setdefault(sec, {})[words[0]] = " ".join(w.strip('"') for w in words[1:])  # type: ignore[union-attr]
            elif words and len(stack) == 2 and stack[0] == "common":
                common.setdefault(sec, {})[words[0]] = " ".join(w.strip('"') for w in words[1:])
            words = []
        else:
            words.append(tok)
    return Parsed(tuple(out), () if out else (f"drbdadm dump: no resource in {short(text)}",), text)


@dataclass(frozen=True)
class GaleraConf:
    options: dict[str, str]  # my_print_defaults: name (dashes as underscores) → value
    provider_options: dict[str, str]  # wsrep_provider_options, from the running server (else the file)
    cluster_size: int | None  # the running server's wsrep_cluster_size
    live: bool  # the server answered

    @property
    def members(self) -> tuple[str, ...]:
        """The addresses in wsrep_cluster_address (gcomm://a,b)."""
        addr = self.options.get("wsrep_cluster_address", "")
        body = addr.split("://", 1)[1] if "://" in addr else ""
        return tuple(a for a in body.split("?")[0].split(",") if a)


def parse_provider_options(text: str) -> dict[str, str]:
    """`evs.suspect_timeout = PT5S; pc.weight = 1; ...` → {name: value}."""
    out = {}
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        if eq and name.strip():
            out[name.strip()] = value.strip()
    return out


@never_raises()
def parse_galera(defaults: str, live: str = "", live_ok: bool = False) -> Parsed[GaleraConf]:
    opts: dict[str, str] = {}
    for line in defaults.splitlines():
        if line.startswith("--"):
            name, _, value = line[2:].partition("=")
            opts[name.replace("-", "_")] = value
    provider = parse_provider_options(opts.get("wsrep_provider_options", "").strip("\"'"))
    size = None
    if live_ok:
        for line in live.splitlines():
            name, _, value = line.partition("\t")
            if name == "wsrep_provider_options":
                provider = parse_provider_options(value)
            elif name == "wsrep_cluster_size":
                size = to_int(value)
    notes = () if opts else ("my_print_defaults: no option of [mysqld]/[galera]",)
    return Parsed(GaleraConf(opts, provider, size, live_ok and bool(provider or size)), notes, defaults)


def duration_s(iso: str | None) -> float | None:
    """Galera's ISO 8601 durations: PT5S, PT1M30S, PT0.5S → seconds."""
    m = re.fullmatch(r"P(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)", (iso or "").strip())
    if not m or not any(m.groups()):
        return None
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s
