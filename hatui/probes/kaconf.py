"""keepalived.conf as written on a node, and keepalived's build options (`keepalived -v`).

What `hatui doctor` and the predictions need from the configuration file: the VRRP instances (state,
vrid, priority, advert_int, authentication type, preempt, unicast peers, track scripts and files,
notify scripts) and the vrrp_script / track_file definitions (script, interval, weight, fall, rise).
keepalived's format: one statement per line, `{` opens a block on the same line, `}` closes it, `#`
and `!` start comments, `"..."` quotes a word.  `include` is noted, not followed (hatui reads one
file).  The VRRP password never reaches a value: `never_raises` redacts `auth_pass` lines first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hatui.model import Parsed
from hatui.probes import never_raises, short, to_int

CONF_PATH = "/etc/keepalived/keepalived.conf"
CONF_COMMAND = f"cat {CONF_PATH}"
VERSION_COMMAND = "keepalived -v 2>&1 | head -n 40"
MAX_DEPTH = 16
NOTIFY_KEYS = ("notify", "notify_master", "notify_backup", "notify_fault", "notify_stop")


@dataclass(frozen=True)
class Stmt:
    words: tuple[str, ...]
    line: int
    block: tuple[Stmt, ...] | None = None


@dataclass(frozen=True)
class VrrpScriptConf:
    name: str
    script: str | None  # the command line (its first word is the file)
    interval_s: float
    weight: int
    fall: int
    rise: int
    line: int


@dataclass(frozen=True)
class TrackFileConf:
    name: str
    file: str | None
    weight: int
    init_file: int | None
    line: int


@dataclass(frozen=True)
class InstanceConf:
    name: str
    line: int
    state: str | None = None
    interface: str | None = None
    vrid: int | None = None
    priority: int = 100  # keepalived's default
    advert_int_s: float = 1.0
    auth_type: str | None = None
    nopreempt: bool = False
    preempt_delay_s: float | None = None
    unicast_src_ip: str | None = None
    unicast_peers: tuple[str, ...] = ()
    track_scripts: tuple[tuple[str, int | None], ...] = ()  # (name, weight override)
    track_files: tuple[tuple[str, int | None], ...] = ()
    notify: tuple[tuple[str, str], ...] = ()  # (notify_master|..., command line)
    vips: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeepalivedConf:
    instances: tuple[InstanceConf, ...]
    scripts: dict[str, VrrpScriptConf] = field(default_factory=dict)
    track_files: dict[str, TrackFileConf] = field(default_factory=dict)
    router_id: str | None = None
    includes: tuple[str, ...] = ()
    lines: tuple[tuple[int, str], ...] = ()  # every statement line, normalised (comments, blanks gone)

    def instance(self, name: str) -> InstanceConf | None:
        return next((i for i in self.instances if i.name == name), None)


@dataclass(frozen=True)
class KeepalivedBuild:
    version: str | None
    json: bool | None  # --enable-json among the configure options; None: not printed


_TOKEN_RE = re.compile(r'"([^"\n]*)"?|([{}])|([^\s{}"#!]+)|([#!][^\n]*)|(\n)')


def _tokens(text: str) -> list[tuple[str, int, bool]]:
    """(token, line, quoted); comments dropped, newlines kept as "\n"."""
    out: list[tuple[str, int, bool]] = []
    line = 1
    for m in _TOKEN_RE.finditer(text):
        quoted, brace, word, comment, nl = m.groups()
        if nl:
            out.append(("\n", line, False))
            line += 1
        elif brace:
            out.append((brace, line, False))
        elif word is not None:
            out.append((word, line, False))
        elif quoted is not None:
            out.append((quoted, line, True))
        del comment
    return out


def _parse_block(toks: list[tuple[str, int, bool]], i: int, depth: int, notes: list[str]) -> tuple[list[Stmt], int]:
    stmts: list[Stmt] = []
    words: list[str] = []
    start = 0
    while i < len(toks):
        tok, line, quoted = toks[i]
        i += 1
        if tok == "\n" and not quoted:
            if words:
                stmts.append(Stmt(tuple(words), start))
                words = []
        elif tok == "{" and not quoted:
            if depth >= MAX_DEPTH:
                notes.append(f"keepalived.conf: blocks nested deeper than {MAX_DEPTH} at line {line}: not read")
                return stmts, len(toks)
            child, i = _parse_block(toks, i, depth + 1, notes)
            stmts.append(Stmt(tuple(words), start or line, tuple(child)))
            words = []
        elif tok == "}" and not quoted:
            if words:
                stmts.append(Stmt(tuple(words), start))
            if depth == 0:
                notes.append(f"keepalived.conf: '}}' without a block at line {line}")
                words = []
                continue
            return stmts, i
        else:
            if not words:
                start = line
            words.append(tok)
    if words:
        stmts.append(Stmt(tuple(words), start))
    if depth > 0:
        notes.append("keepalived.conf: a block is not closed at the end of the file")
    return stmts, i


def _num(word: str | None) -> float | None:
    try:
        return float(word) if word is not None else None
    except ValueError:
        return None


def _arg(s: Stmt, k: int = 1) -> str | None:
    return s.words[k] if len(s.words) > k else None


def _weight(s: Stmt) -> int | None:
    """`chk_x weight -10` inside track_script/track_file overrides the script's weight."""
    if "weight" in s.words:
        k = s.words.index("weight")
        return to_int(s.words[k + 1]) if k + 1 < len(s.words) else None
    return None


def _script(s: Stmt) -> VrrpScriptConf:
    vals = {c.words[0]: c for c in s.block or () if c.words}
    interval = _num(_arg(vals["interval"])) if "interval" in vals else None
    weight = to_int(_arg(vals["weight"])) if "weight" in vals else None
    fall = to_int(_arg(vals["fall"])) if "fall" in vals else None
    rise = to_int(_arg(vals["rise"])) if "rise" in vals else None
    cmd = " ".join(vals["script"].words[1:]) if "script" in vals else None
    # keepalived's defaults: interval 1 s, weight 0, fall 1, rise 1
    return VrrpScriptConf(_arg(s) or "?", cmd, interval or 1.0, weight or 0, fall or 1, rise or 1, s.line)


def _track_file(s: Stmt) -> TrackFileConf:
    vals = {c.words[0]: c for c in s.block or () if c.words}
    return TrackFileConf(_arg(s) or "?", _arg(vals["file"]) if "file" in vals else None,
                         to_int(_arg(vals["weight"])) or 1 if "weight" in vals else 1,
                         to_int(_arg(vals["init_file"])) if "init_file" in vals else None, s.line)


def _instance(s: Stmt) -> InstanceConf:
    kw: dict[str, object] = {}
    notify: list[tuple[str, str]] = []
    for c in s.block or ():
        key = c.words[0]
        if key == "state":
            kw["state"] = _arg(c)
        elif key == "interface":
            kw["interface"] = _arg(c)
        elif key == "virtual_router_id":
            kw["vrid"] = to_int(_arg(c))
        elif key == "priority" and to_int(_arg(c)) is not None:
            kw["priority"] = to_int(_arg(c))
        elif key == "advert_int" and _num(_arg(c)) is not None:
            kw["advert_int_s"] = _num(_arg(c))
        elif key == "nopreempt":
            kw["nopreempt"] = True
        elif key == "preempt_delay":
            kw["preempt_delay_s"] = _num(_arg(c))
        elif key == "unicast_src_ip":
            kw["unicast_src_ip"] = _arg(c)
        elif key == "unicast_peer":
            kw["unicast_peers"] = tuple(p.words[0] for p in c.block or ())
        elif key == "authentication":
            kw["auth_type"] = next((_arg(a) for a in c.block or () if a.words[0] == "auth_type"), None)
        elif key == "track_script":
            kw["track_scripts"] = tuple((t.words[0], _weight(t)) for t in c.block or ())
        elif key == "track_file":
            kw["track_files"] = tuple((t.words[0], _weight(t)) for t in c.block or ())
        elif key in NOTIFY_KEYS and len(c.words) > 1:
            notify.append((key, " ".join(c.words[1:])))
        elif key == "virtual_ipaddress":
            kw["vips"] = tuple(v.words[0].split("/")[0] for v in c.block or ())
    return InstanceConf(_arg(s) or "?", s.line, notify=tuple(notify), **kw)  # type: ignore[arg-type]


def _flat(stmts: list[Stmt] | tuple[Stmt, ...], path: str, out: list[tuple[int, str]]) -> None:
    for s in stmts:
        text = " ".join(s.words)
        out.append((s.line, f"{path}{text}{' {' if s.block is not None else ''}"))
        if s.block is not None:
            _flat(s.block, f"{path}{text} > ", out)


@never_raises()
def parse_keepalived_conf(text: str) -> Parsed[KeepalivedConf]:
    notes: list[str] = []
    stmts, _ = _parse_block(_tokens(text), 0, 0, notes)
    instances, scripts, files, includes = [], {}, {}, []
    router_id = None
    for s in stmts:
        key = s.words[0]
        if key == "vrrp_instance" and s.block is not None:
            instances.append(_instance(s))
        elif key == "vrrp_script" and s.block is not None:
            sc = _script(s)
            scripts[sc.name] = sc
        elif key == "track_file" and s.block is not None:
            tf = _track_file(s)
            files[tf.name] = tf
        elif key == "global_defs":
            router_id = next((_arg(g) for g in s.block or () if g.words[0] == "router_id"), None)
        elif key == "include":
            includes.append(" ".join(s.words[1:]))
            notes.append(f"keepalived.conf: `include {short(' '.join(s.words[1:]))}` not followed")
    lines: list[tuple[int, str]] = []
    _flat(stmts, "", lines)
    if not instances:
        notes.append("keepalived.conf: no vrrp_instance")
    return Parsed(KeepalivedConf(tuple(instances), scripts, files, router_id, tuple(includes), tuple(lines)),
                  tuple(notes), text)


_VERSION_RE = re.compile(r"^Keepalived v(\S+)", re.MULTILINE)


@never_raises()
def parse_keepalived_version(text: str) -> Parsed[KeepalivedBuild]:
    """`keepalived -v`: the version line and `configure options: ... --enable-json ...`."""
    m = _VERSION_RE.search(text)
    opts = next((ln for ln in text.splitlines() if ln.startswith("configure options:")), None)
    feats = next((ln for ln in text.splitlines() if ln.startswith("Config options:")), None)
    json = None
    if opts is not None or feats is not None:
        json = "--enable-json" in (opts or "").split() or "JSON" in (feats or "").split()
    notes = () if m else (f"keepalived -v: no version line in {short(text)}",)
    return Parsed(KeepalivedBuild(m.group(1) if m else None, json), notes, text)
