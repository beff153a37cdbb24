"""keepalived: what to run, and parsers of its JSON dump, data dump, stats dump, `ip -o addr show` and
notify FIFO lines.  Grammar: /work/shared/samples/FORMATS.md section 4.

The VRRP password (`auth_data` in JSON, `Password = ...` in the data dump, printed in clear text by
1.3.x up to at least 2.2.7) is dropped at parse time: it is neither in the values nor in `raw`."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import replace
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from hatui.model import (
    CommandResult,
    IpAddress,
    Parsed,
    TrackFile,
    TrackScript,
    Vip,
    VrrpInstance,
)
from hatui.privilege import AS_ROOT, Root
from hatui.probes import (
    MAX_ITEMS,
    REDACTED,  # noqa: F401  (re-exported: tests and the collector use keepalived.REDACTED)
    never_raises,
    printable,
    quote,
    redact_secrets,
    short,
    snippet,
    to_float,
    to_int,
)

# ---- commands --------------------------------------------------------------------------------------
PID_FILE = "/run/keepalived.pid"  # the parent: dump signals go to it
IP_ADDR_COMMAND = "ip -o addr show"
# a line for every address added or removed (the VIP moving): streamed, it wakes the node's loop
ADDR_MONITOR_COMMAND = "ip -o monitor address"

# ---- secrets ---------------------------------------------------------------------------------------
# The redaction itself lives in hatui.probes (every parser applies it to its input); `redact` stays
# here under its old name for the collector.
redact = redact_secrets


# ---- shared ----------------------------------------------------------------------------------------
STATE_BY_NUMBER = {0: "INIT", 1: "BACKUP", 2: "MASTER", 3: "FAULT", 97: "DELETED", 98: "STOP"}
STATES = frozenset(STATE_BY_NUMBER.values()) | {"unknown"}


@never_raises(one_line=True)
def parse_vip(text: str) -> Vip | None:
    """`10.1.0.1/24 dev ens3 scope global set` (a data-dump line or a JSON "vips" string).  None unless
    the first word is an IP address (with an optional /prefix in range)."""
    rest = text.split()
    if not rest:
        return None
    addr, slash, plen_text = rest.pop(0).partition("/")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    plen = to_int(plen_text) if slash else None
    if slash and (plen is None or not 0 <= plen <= ip.max_prefixlen or not plen_text.isascii()):
        return None
    dev = rest[rest.index("dev") + 1] if "dev" in rest[:-1] else None
    return Vip(addr, plen, dev, installed=bool(rest) and rest[-1] == "set")


def _one_per_name(items: list[Any], unknown: Any, what: str, notes: list[str]) -> tuple[Any, ...]:
    """Concatenated dumps name an instance twice: equal copies collapse to one; copies that disagree
    become `unknown(copy)` (which one is current cannot be told).  Either way with a note."""
    by_name: dict[str, list[Any]] = {}
    for item in items:
        by_name.setdefault(item.name, []).append(item)
    out = []
    for name, copies in by_name.items():
        if len(copies) > 1 and any(c != copies[0] for c in copies):
            notes.append(f"{what} {short(name)} appears {len(copies)} times with different values (concatenated "
                         "dumps?): taken as unknown")
            out.append(unknown(copies[0]))
        else:
            if len(copies) > 1:
                notes.append(f"{what} {short(name)} appears {len(copies)} times (concatenated dumps?): "
                             "the copies agree")
            out.append(copies[0])
    return tuple(out)


def _unknown_instance(i: VrrpInstance) -> VrrpInstance:
    return replace(i, state="unknown", wanted_state=None, effective_priority=None, vips_held=(), master_router=None,
                   master_priority=None)


# ---- JSON ------------------------------------------------------------------------------------------
def _n(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    return int(v) if ok else None


def _strings(d: dict[str, Any], key: str) -> list[str]:
    v = d.get(key)
    return [printable(x) for x in v if isinstance(x, str)] if isinstance(v, list) else []


@never_raises()
def parse_keepalived_json(text: str) -> Parsed[tuple[VrrpInstance, ...]]:
    """/tmp/keepalived.json: json_version 1 (an array of {"data","stats"}) or 2 ({"vrrp": [...]})."""
    raw = text  # already redacted and made printable by never_raises
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Parsed(None, (f"not JSON: {exc}",), raw)
    if isinstance(data, dict) and isinstance(data.get("vrrp"), list):
        data = data["vrrp"]
    if not isinstance(data, list):
        return Parsed(None, ("expected an array of instances or {\"vrrp\": [...]}",), raw)
    notes: list[str] = []
    if len(data) > MAX_ITEMS:
        notes.append(f"{len(data):,} items: only the first {MAX_ITEMS:,} parsed")
        data = data[:MAX_ITEMS]
    out = []
    for i, item in enumerate(data):
        d = item.get("data") if isinstance(item, dict) else None
        if not isinstance(d, dict) or not isinstance(d.get("iname"), str):
            notes.append(f"item {i}: no data.iname")
            continue
        # JSON escapes ("\u001b") decode to controls after never_raises cleaned the text
        d = {**d, "iname": printable(d["iname"]),
             "ifp_ifname": printable(d["ifp_ifname"]) if isinstance(d.get("ifp_ifname"), str) else None}
        s = item.get("stats") if isinstance(item.get("stats"), dict) else {}
        state_n, want_n = _n(d, "state"), _n(d, "wantstate")
        state = STATE_BY_NUMBER.get(state_n, "unknown") if state_n is not None else "unknown"
        if state == "unknown":
            notes.append(f"{short(d['iname'])}: state {snippet(str(d.get('state')))} not understood")
        vips = tuple(v for v in (parse_vip(x) for x in _strings(d, "vips")) if v)
        held = tuple(v.address for v in vips if v.installed)
        if not held and d.get("vipset") is True:  # before 2.1.0 the strings had no " set" marker
            held = tuple(v.address for v in vips)
        scripts = tuple(TrackScript(x, None, "unknown") for x in _strings(d, "track_script"))
        auth = [_n(s, k) for k in ("invalid_authtype", "authtype_mismatch", "auth_failure")]
        lt = d.get("last_transition")
        out.append(VrrpInstance(
            name=d["iname"], state=state,
            wanted_state=STATE_BY_NUMBER.get(want_n, "unknown") if want_n is not None else None,
            base_priority=_n(d, "base_priority"), effective_priority=_n(d, "effective_priority"),
            vrid=_n(d, "vrid"), vips_held=held, track_scripts=scripts,
            last_transition=float(lt) if isinstance(lt, int | float) and lt and math.isfinite(lt) else None,
            master_router=None,  # not in the JSON
            master_priority=_n(d, "master_priority") if state == "BACKUP" else None,
            become_master_count=_n(s, "become_master"), release_master_count=_n(s, "release_master"),
            auth_failures=sum(a for a in auth if a is not None) if any(a is not None for a in auth) else None,
            interface=d.get("ifp_ifname") if isinstance(d.get("ifp_ifname"), str) else None,
            vips=vips, source="json"))
    return Parsed(_one_per_name(out, _unknown_instance, "instance", notes), tuple(notes), raw)


# ---- data dump -------------------------------------------------------------------------------------
_HEADER_KEY_RE = re.compile(r"[A-Za-z][A-Za-z ]*")


# The three line shapes of the data dump, matched with string operations: the regexes they replace
# (`^\s+(?P<key>[^=]+?)\s*=\s*(?P<val>.*?)\s*$` and kin) were cubic on a line of spaces.
def _section(line: str) -> str | None:
    """`------< VRRP Topology >------` → "VRRP Topology"."""
    if not line.startswith("-"):
        return None
    s = line.rstrip()
    inner = s.lstrip("-")
    end = inner.rstrip("-")
    if not inner.startswith("<") or len(end) == len(inner) or not end.endswith(">"):
        return None
    return end[1:-1].strip()


def _key_value(line: str) -> tuple[str, str] | None:
    """`   Key = value` (indented, key without "=")."""
    if not line[:1].isspace():
        return None
    key, sep, val = line.partition("=")
    key = key.strip()
    return (key, val.strip()) if sep and key else None


def _header(line: str) -> str | None:
    """`   Virtual IP :`, `   Virtual IP (2):` → "Virtual IP"."""
    if not line[:1].isspace():
        return None
    s = line.strip()
    if not s.endswith(":"):
        return None
    s = s[:-1].rstrip()
    if s.endswith(")") and (i := s.rfind("(")) >= 0 and s[i + 1:-1].isdigit() and s[i + 1:-1].isascii():
        s = s[:i].rstrip()
    return s if _HEADER_KEY_RE.fullmatch(s) else None


_LIST_KEYS = frozenset({"Virtual IP", "Virtual IP Excluded", "Tracked scripts", "Tracked files", "Tracked interfaces",
                        "Virtual Routes", "Virtual Rules", "Tracked processes", "Tracked bfds"})
_SCRIPT_KEYS = frozenset({"Command", "Interval", "Timeout", "Weight", "Rise", "Fall", "Full", "Insecure", "uid:gid",
                          "Script uid:gid", "Status", "Result", "Init state"})


class _DataInstance:
    def __init__(self, name: str) -> None:
        self.name = name
        self.kv: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.nested: list[dict[str, str]] = []  # 1.3.x prints tracked scripts inside the instance


def _parse_data_sections(text: str) -> tuple[list[_DataInstance], dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    instances: list[_DataInstance] = []
    scripts: dict[str, dict[str, str]] = {}
    files: dict[str, dict[str, str]] = {}
    section = "VRRP Topology"  # excerpts may start without a header
    inst: _DataInstance | None = None
    block: dict[str, str] | None = None  # current script/track-file block
    list_key: str | None = None
    for line in text.splitlines():
        if (name := _section(line)) is not None:
            section, inst, block, list_key = name, None, None, None
            continue
        top = line.startswith(" ") and not line.startswith("  ")
        if top and "=" in line:
            key, _, val = line.strip().partition("=")
            key, val = key.strip(), val.strip()
            list_key, block = None, None
            if section == "VRRP Topology" and key == "VRRP Instance":
                inst = _DataInstance(val)
                instances.append(inst)
            elif key == "VRRP Script":
                block = {"name": val}
                if section == "VRRP Topology" and inst:
                    inst.nested.append(block)
                else:
                    scripts.setdefault(val, block)
            elif key == "Track file":
                block = files.setdefault(val, {"name": val})
            continue
        if line.startswith("     ") and line.strip() and list_key and inst and block is None:
            inst.lists.setdefault(list_key, []).append(line.strip())
            continue
        if (kv := _key_value(line)) or (kv := (h, "") if (h := _header(line)) else None):
            key, val = kv
            if block is not None and key in _SCRIPT_KEYS:
                block.setdefault(key, val)
                continue
            if block is not None and section == "VRRP Topology":
                block = None  # back to the instance after a 1.3.x nested script
            if block is not None:
                block.setdefault(key, val)
            elif inst is not None and section == "VRRP Topology":
                list_key = key if key in _LIST_KEYS else None
                inst.kv.setdefault(key, val)
    return instances, scripts, files


def _script_status(raw: str | None) -> Literal["GOOD", "BAD", "unknown"]:
    if raw == "GOOD":
        return "GOOD"
    if raw in ("BAD", "FAILED"):
        return "BAD"
    return "unknown"


@never_raises()
def parse_keepalived_data(text: str) -> Parsed[tuple[VrrpInstance, ...]]:
    """/tmp/keepalived.data (SIGUSR1), keepalived 1.3.x to 2.x: the VRRP Topology and VRRP Scripts
    sections.  Lines hatui does not need are skipped without notes: the dump has hundreds."""
    raw = text  # already redacted and made printable by never_raises
    notes: list[str] = []
    instances, scripts, files = _parse_data_sections(raw)
    out = []
    for inst in instances:
        kv = inst.kv
        state = kv.get("State", "unknown")
        if state not in STATES:
            notes.append(f"{short(inst.name)}: state {snippet(state)} not understood")
            state = "unknown"
        vips = tuple(v for v in (parse_vip(x) for x in inst.lists.get("Virtual IP", [])) if v)
        tracked: list[TrackScript] = []
        for item in inst.lists.get("Tracked scripts", []):
            parts = item.replace(",", " ").split()
            weight = to_int(parts[parts.index("weight") + 1]) if "weight" in parts[:-1] else None
            if "reverse" in parts and weight is not None:
                weight = -weight
            tracked.append(TrackScript(parts[0], weight, _script_status(scripts.get(parts[0], {}).get("Status"))))
        for blk in inst.nested:
            tracked.append(TrackScript(blk["name"], to_int(blk.get("Weight")), _script_status(blk.get("Status"))))
        tfiles = []
        for item in inst.lists.get("Tracked files", []):
            parts = item.replace(",", " ").split()
            weight = to_int(parts[parts.index("weight") + 1]) if "weight" in parts[:-1] else None
            tfiles.append(TrackFile(parts[0], weight, to_int(files.get(parts[0], {}).get("Status"))))
        held = tuple(v.address for v in vips if v.installed)
        # The " set" marker arrived in 2.1.0 with the "Virtual IP :" header; before, the header was
        # "Virtual IP = <count>".  keepalived installs VIPs exactly while MASTER, so infer from that.
        if vips and (kv.get("Virtual IP") or "Listening device" in kv):
            held = tuple(v.address for v in vips) if state == "MASTER" else ()
            notes.append(f"{short(inst.name)}: keepalived < 2.1 does not mark installed VIPs; "
                         f"inferred from state {state}")
        lt = kv.get("Last transition", "").split(" ", 1)[0]
        faults = kv.get("Number of tracker faults", kv.get("Number of interface and track script faults"))
        out.append(VrrpInstance(
            name=inst.name, state=state, wanted_state=kv.get("Wantstate"),
            base_priority=to_int(kv.get("Priority")), effective_priority=to_int(kv.get("Effective priority")),
            vrid=to_int(kv.get("Virtual Router ID")), vips_held=held, track_scripts=tuple(tracked),
            last_transition=to_float(lt) or None,
            master_router=kv.get("Master router"), master_priority=to_int(kv.get("Master priority")),
            interface=kv.get("Interface", kv.get("Listening device")), vips=vips, track_files=tuple(tfiles),
            fault_count=to_int(faults), source="data"))
    if not out:
        notes.append("no ' VRRP Instance = ' found")
        return Parsed(None, tuple(notes), raw)
    return Parsed(_one_per_name(out, _unknown_instance, "instance", notes), tuple(notes), raw)


# ---- stats dump ------------------------------------------------------------------------------------


# ---- ip -o addr show -------------------------------------------------------------------------------
_IP_RE = re.compile(r"^(?P<idx>\d+):\s+(?P<ifname>[^\s@]+)(?:@\S+)?\s+(?P<fam>inet6?)\s+(?P<addr>[0-9A-Fa-f.:]+)"
                    r"/(?P<plen>\d+)(?P<rest>[^\\]*)")
_IP_SKIP_NEXT = frozenset({"brd", "peer", "metric", "proto"})


def apply_addr_event(addresses: tuple[IpAddress, ...], line: str) -> tuple[IpAddress, ...] | None:
    """One line of `ip -o monitor address` (an address added, or `Deleted …`) applied to a node's
    addresses; None for a line not understood (the poll it triggers tells)."""
    deleted = line.startswith("Deleted ")
    parsed = parse_ip_addr(line.removeprefix("Deleted "))
    if not parsed.value or parsed.unparsed:
        return None
    key = lambda a: (a.ifname, a.family, a.address, a.prefix_len)  # noqa: E731
    changed = {key(a) for a in parsed.value}
    kept = tuple(a for a in addresses if key(a) not in changed)
    return kept if deleted else kept + parsed.value


@never_raises()
def parse_ip_addr(text: str) -> Parsed[tuple[IpAddress, ...]]:
    """`ip -o addr show` (one line per address; link lines are skipped)."""
    notes: list[str] = [] if text.strip() else ["empty input"]
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or " link/" in line:
            continue
        m = _IP_RE.match(line)
        idx, plen = (to_int(m["idx"]), to_int(m["plen"])) if m else (None, None)
        if not m or idx is None or plen is None or not _is_address(m["addr"], plen):
            notes.append(f"line {lineno}: not understood: {snippet(line)}")
            continue
        toks = m["rest"].split()
        scope = label = None
        secondary = False
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in _IP_SKIP_NEXT:
                i += 1
            elif t == "scope" and i + 1 < len(toks):
                scope = toks[i + 1]
                i += 1
            elif t == "secondary":
                secondary = True
            elif i == len(toks) - 1 and t.startswith(m["ifname"]):
                label = t
            i += 1
        family: Literal["inet", "inet6"] = "inet6" if m["fam"] == "inet6" else "inet"
        out.append(IpAddress(idx, m["ifname"], family, m["addr"], plen, scope, secondary, label))
    return Parsed(tuple(out) if out or not notes else None, tuple(notes), text)


def _is_address(addr: str, prefix_len: int) -> bool:
    try:
        return 0 <= prefix_len <= ipaddress.ip_address(addr).max_prefixlen
    except ValueError:
        return False


# ---- notify FIFO -----------------------------------------------------------------------------------


# ---- what the live loop runs ------------------------------------------------------------------------
JSON_FILE = "/tmp/keepalived.json"
DATA_FILE = "/tmp/keepalived.data"
DEFAULT_SIGNUMS = (36, 10)  # SIGRTMIN+2 (JSON) and SIGUSR1 (DATA) on Linux, when --signum cannot tell


def is_keepalived(pid_file: str = PID_FILE, root: Root = AS_ROOT) -> str:
    """Shell test: the pid file names a live process AND that process is keepalived.  Debian's unit
    leaves a stale pid file after a crash; signals 36 and 10 would terminate whatever has that pid now.
    bash builtins only (read, kill): a fork+exec costs ~1-2 ms per command.  As an unprivileged user
    `kill -0` on root's process fails (EPERM): there /proc/PID/comm, which only a live process has, says it."""
    alive = "" if root.unprivileged else 'kill -0 "$P" 2>/dev/null && '
    return (f'read -r P < {quote(pid_file)} 2>/dev/null && {alive}'
            'read -r C < "/proc/$P/comm" 2>/dev/null && [ "$C" = keepalived ]')


def pid_command(pid_file: str = PID_FILE, root: Root = AS_ROOT) -> str:
    return f'{is_keepalived(pid_file, root)} && echo "$P"'


PID_COMMAND = pid_command()
JSON_COMMAND = f"[ -r {JSON_FILE} ] && printf '%s\\n' \"$(< {JSON_FILE})\""
DATA_COMMAND = f"[ -r {DATA_FILE} ] && printf '%s\\n' \"$(< {DATA_FILE})\""


def dump_command(path: str, root: Root = AS_ROOT) -> str:
    """Read a dump.  keepalived writes them mode 0600, root's: an unprivileged user reads through sudo."""
    if not root.unprivileged:
        return {JSON_FILE: JSON_COMMAND, DATA_FILE: DATA_COMMAND}.get(path) or \
            f"[ -r {quote(path)} ] && printf '%s\\n' \"$(< {quote(path)})\""
    return f"[ -e {quote(path)} ] && {root('cat', path)}"


def signums_command(root: Root = AS_ROOT) -> str:
    """First cycle: learn the signal numbers, ask for both dumps and wait (<= 1 s) until both are rewritten.
    As root `kill` signals the pid is_keepalived checked; through sudo, one exact pkill per signal that
    signals the pid file's process only if it is keepalived (pkill --pidfile with a name)."""
    if root.unprivileged:
        j, d = (f'sudo -n pkill --signal "${v}" --pidfile {quote(PID_FILE)} --exact keepalived 2>&1' for v in "JD")
    else:
        j, d = 'kill -"$J" "$P"', 'kill -"$D" "$P"'
    return (
        "J=$(keepalived --signum=JSON 2>/dev/null); D=$(keepalived --signum=DATA 2>/dev/null); echo $J $D; "
        f"if {is_keepalived(root=root)}; then "
        f"M() {{ stat -c %.9Y {JSON_FILE} {DATA_FILE} 2>/dev/null | tr '\\n' ' '; }}; "
        f"B=$(M); [ -n \"$J\" ] && {j}; [ -n \"$D\" ] && {d}; "
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
        "A=$(M); [ \"$A\" != \"$B\" ] && [ $(echo $A | wc -w) -ge 2 ] && break; sleep 0.05; done; fi")


SIGNUMS_COMMAND = signums_command()


def signal_command(json_signum: int, data_signum: int, pid_file: str = PID_FILE,
                   dumps: tuple[str, ...] = (JSON_FILE, DATA_FILE), root: Root = AS_ROOT) -> str:
    """Ask for fresh dumps, read by the next cycle (keepalived writes them while the loop sleeps).
    The old dumps are removed first: a dump the next cycle finds was written after this request, and
    a keepalived that did not answer leaves none (unknown), never the state of an earlier moment."""
    if root.unprivileged:
        j, d = (root("pkill", "--signal", str(int(n)), "--pidfile", pid_file, "--exact", "keepalived")
                for n in (json_signum, data_signum))
        return f"{is_keepalived(pid_file, root)} && {root('rm', '-f', *dumps)} && {j} && {d}; true"
    files = " ".join(quote(f) for f in dumps)
    return (f'{is_keepalived(pid_file)} && rm -f {files} && kill -{int(json_signum)} "$P" 2>/dev/null && '
            f'kill -{int(data_signum)} "$P" 2>/dev/null; true')


def root_argvs(signums: tuple[int, int] = DEFAULT_SIGNUMS) -> list[tuple[str, ...]]:
    """The exact commands the keepalived probe runs as root when the SSH user is not root."""
    return [("rm", "-f", JSON_FILE, DATA_FILE), ("cat", JSON_FILE), ("cat", DATA_FILE),
            *(("pkill", "--signal", str(n), "--pidfile", PID_FILE, "--exact", "keepalived") for n in signums)]


def parse_signums(text: str) -> tuple[int, int]:
    nums = [int(x) for x in text.split() if re.fullmatch(r"[0-9]{1,3}", x)]
    return (nums[0], nums[1]) if len(nums) == 2 else DEFAULT_SIGNUMS


_VRRP_KEY_RE = re.compile(r'"(?:iname|state|effective_priority)":\s*("[^"]*"|-?\d+)')


def vrrp_key(json_text: str | None) -> tuple[str, ...] | None:
    """What a data dump's track-script statuses must agree with: each instance's name, state and
    effective priority, picked from the JSON text (the full parse comes later, once)."""
    if not json_text or not json_text.strip():
        return None
    return tuple(_VRRP_KEY_RE.findall(json_text))


def merge_vrrp(js: tuple[VrrpInstance, ...] | None, data: tuple[VrrpInstance, ...] | None) -> tuple[VrrpInstance, ...]:
    """JSON gives numbers and counters; the data dump gives each track script's GOOD/BAD status."""
    if not js:
        return data or ()
    if not data:
        return js
    by_name = {d.name: d for d in data}
    merged = []
    for inst in js:
        d = by_name.get(inst.name)
        if d is not None:
            inst = replace(inst, track_scripts=d.track_scripts or inst.track_scripts,
                           track_files=d.track_files or inst.track_files,
                           fault_count=d.fault_count if d.fault_count is not None else inst.fault_count)
        merged.append(inst)
    return tuple(merged)


RunMore = Callable[[dict[str, str]], Awaitable[dict[str, CommandResult]]]


class KeepalivedReader:
    """One node's keepalived dumps, pipelined: each cycle reads the dumps the previous cycle's signals
    asked for, then signals again, so no cycle waits for keepalived to write.  The JSON dump (state,
    priorities) comes every cycle; the ~7 KB data dump only gives the track scripts' GOOD/BAD, so it
    is read every `DATA_EVERY` cycles, and at once when the JSON's state or priority moved."""

    DATA_EVERY = 3

    def __init__(self, root: Root = AS_ROOT) -> None:
        self.root = root
        self.signums: tuple[int, int] | None = None  # (JSON, DATA)
        self.last_data: CommandResult | None = None
        self.key_at_data: tuple[str, ...] | None = None  # vrrp_key of the JSON read with last_data

    def commands(self, cycle: int) -> dict[str, str]:
        cmds: dict[str, str] = {}
        if self.signums is None:
            cmds["signums"] = signums_command(self.root)
        cmds["ka_pid"] = pid_command(root=self.root)
        cmds["ka_json"] = dump_command(JSON_FILE, self.root)
        if cycle % self.DATA_EVERY == 0 or self.last_data is None:
            cmds["ka_data"] = dump_command(DATA_FILE, self.root)
        if self.signums is not None:
            cmds["ka_signal"] = signal_command(*self.signums, root=self.root)
        return cmds

    async def absorb(self, res: dict[str, CommandResult], run_more: RunMore) -> None:
        """Redact the dumps in `res` (the VRRP password goes no further), fill in the data dump held
        from an earlier cycle, or fetch it now when the one held is stale."""
        if "signums" in res:
            self.signums = parse_signums(res["signums"].output)
        for key in ("ka_json", "ka_data"):
            if key in res:
                res[key] = CommandResult(res[key].exit_status, redact(res[key].output))
        key = vrrp_key(res["ka_json"].output if "ka_json" in res else None)
        if "ka_data" not in res and self.last_data is not None and key != self.key_at_data:
            # state or priority moved since the data dump held: its GOOD/BAD and track-file values are
            # stale. The file on the node was rewritten with the JSON just read: fetch it now.
            extra = await run_more({"ka_data": dump_command(DATA_FILE, self.root)})
            if "ka_data" in extra:
                res["ka_data"] = CommandResult(extra["ka_data"].exit_status, redact(extra["ka_data"].output))
        if "ka_data" in res:
            self.last_data, self.key_at_data = res["ka_data"], key
        elif self.last_data is not None:
            res["ka_data"] = self.last_data


def vrrp_from_raw(res: dict[str, CommandResult]) -> tuple[tuple[VrrpInstance, ...], bool, list[str]]:
    """(VRRP instances, keepalived running, notes) from one cycle's keepalived outputs."""
    empty = CommandResult(None, "")
    running = res.get("ka_pid", empty).ok
    if not running:
        return (), False, []
    notes: list[str] = []
    js_text, data_text = res.get("ka_json", empty).output, res.get("ka_data", empty).output
    if "ka_json" in res and not js_text.strip():
        notes.append("keepalived: no fresh JSON dump (keepalived did not write it after being asked: busy, hung, "
                     "or built without JSON support)")
    js = parse_keepalived_json(js_text) if js_text.strip() else None
    data = parse_keepalived_data(data_text) if data_text.strip() else None
    for p in (js, data):
        if p is not None:
            notes.extend(p.unparsed)
    return merge_vrrp(js.value if js else None, data.value if data else None), True, notes
