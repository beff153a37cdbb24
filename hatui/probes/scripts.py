"""The shell scripts keepalived runs (check and notify scripts), read as text: which VRRP states a
notify script acts on and what it does there, whether a check depends on the node's role, and where
a script holds a secret (by line and variable name: the value never leaves this module).

Reading a script is a heuristic, stated as such in every hazard: hatui does not run them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hatui.model import Parsed
from hatui.probes import never_raises, quote, valid_path

STATES = ("MASTER", "BACKUP", "FAULT", "STOP")
MAX_SCRIPT_BYTES = 64 * 1024


def cat_command(path: str) -> str:
    """The script's text (at most MAX_SCRIPT_BYTES); a missing file fails."""
    p = quote(valid_path(path))
    return f"head -c {MAX_SCRIPT_BYTES} -- {p}"


def script_path(command_line: str | None) -> str | None:
    """The file a `script "..."` or `notify ...` line runs: its first word, if an absolute path."""
    if not command_line:
        return None
    first = command_line.split()[0].strip("'\"") if command_line.split() else ""
    return first if first.startswith("/") and re.fullmatch(r"/[A-Za-z0-9_./@+-]*", first) else None


@dataclass(frozen=True)
class NotifyHandling:
    states: tuple[str, ...]  # states with their own branch (case pattern or test)
    promotes_on_master: bool  # `drbdadm primary` (or drbdsetup) where MASTER is handled
    mounts_on_master: bool
    demotes: bool  # `drbdadm secondary` / umount in some branch
    logs_only: bool  # no branch at all: the same thing for every state
    demotes_in: tuple[str, ...] = ()  # states whose branch unmounts and runs `drbdadm secondary`


@dataclass(frozen=True)
class CheckKind:
    kind: str | None  # drbd, galera, mysql or None
    wants_primary_role: bool  # fails on a healthy DRBD Secondary
    wants_connected: bool  # fails on a Primary whose peer is away (cs:Connected, connection:Connected)
    wants_synced: bool  # Galera wsrep_local_state_comment Synced
    passes_non_primary: bool = False  # an unanchored `grep Primary`: "non-Primary" matches it too
    wants_ready: bool = False  # Galera wsrep_ready ON (OFF on a joiner and off the Primary component)
    # reads DRBD 8.4's /proc/drbd resource line (cs:/ro:/ds:) and asks no DRBD tool: on DRBD 9, whose
    # /proc/drbd has only its header, such a check fails whatever the resource's state
    proc_only: bool = False
    # 8.4's `cs:Connected` literally: fails during a resync or verify too (cs:SyncSource, cs:VerifyS, ...),
    # where DRBD 9's `connection:Connected` still holds
    wants_established: bool = False


@dataclass(frozen=True)
class SecretLine:
    line: int
    what: str  # the variable's name or the kind of token, never its value


_CASE_RE = re.compile(r"^\s*\(?\s*((?:[\"']?[A-Z_*]+[\"']?\s*\|\s*)*[\"']?[A-Z_*]+[\"']?)\s*\)")
_TEST_RE = re.compile(r"(?:if|elif)\s.*?[=!]=?\s*[\"']?(MASTER|BACKUP|FAULT|STOP)\b")
_PROMOTE_RE = re.compile(r"\bdrbd(?:adm|setup)\b[^\n;|&]*\bprimary\b")
_DEMOTE_RE = re.compile(r"\bdrbd(?:adm|setup)\b[^\n;|&]*\bsecondary\b|\bumount\b")
_SECONDARY_RE = re.compile(r"\bdrbd(?:adm|setup)\b[^\n;|&]*\bsecondary\b")
_MOUNT_RE = re.compile(r"(?<![A-Za-z_])mount\s+\S")


def _code(line: str) -> str:
    """The line without its comment (a `#` after a blank or at the start) and outside quotes kept."""
    return re.sub(r"(^|\s)#.*$", "", line)


@never_raises()
def parse_notify(text: str) -> Parsed[NotifyHandling]:
    """The branches of a notify script: `case "$STATE" in MASTER) ... ;;` or `if [ "$3" = MASTER ]`."""
    branches: dict[str, list[str]] = {}
    current: tuple[str, ...] = ()
    in_case = False
    for raw in text.splitlines():
        line = _code(raw)
        if re.search(r"\bcase\b.*\bin\b", line):
            in_case, current = True, ()
            continue
        if in_case and re.search(r"\besac\b", line):
            in_case, current = False, ()
            continue
        m = _CASE_RE.match(line) if in_case else None
        if m:
            words = [w.strip(" \"'") for w in m.group(1).split("|")]
            current = tuple(w for w in words if w in STATES or w == "*")
            line = line[m.end():]
        t = _TEST_RE.search(line)
        if t:
            current = (t.group(1),)
        elif re.match(r"\s*(else|fi)\b", line) and not in_case:
            current = ()
        if in_case and ";;" in line:
            for st in current:
                branches.setdefault(st, []).append(line.split(";;")[0])
            current = ()
            continue
        for st in current:
            branches.setdefault(st, []).append(line)
    master = "\n".join(branches.get("MASTER", []))
    demote = "\n".join(branches.get("BACKUP", []) + branches.get("FAULT", []) + branches.get("STOP", []))
    states = tuple(s for s in STATES if s in branches)
    demotes_in = tuple(s for s in states if s != "MASTER" and _SECONDARY_RE.search("\n".join(branches[s])))
    return Parsed(NotifyHandling(states, bool(_PROMOTE_RE.search(master)), bool(_MOUNT_RE.search(master)),
                                 bool(_DEMOTE_RE.search(demote)), not branches, demotes_in), (), text)


@never_raises()
def parse_check(text: str) -> Parsed[CheckKind]:
    code = "\n".join(_code(ln) for ln in text.splitlines())
    kind = ("drbd" if re.search(r"drbd", code, re.I) else
            "galera" if re.search(r"wsrep|galera", code, re.I) else
            "mysql" if re.search(r"mysql|maria", code, re.I) else None)
    wants_primary = kind == "drbd" and bool(re.search(r"ro:Primary|role:Primary|\bPrimary\b", code)) \
        and "Secondary" not in code
    wants_connected = kind == "drbd" and bool(re.search(r"cs:Connected|connection:Connected", code))
    wants_synced = kind == "galera" and "Synced" in code
    loose = kind == "galera" and not wants_synced and any(
        not re.search(r"\s-[a-zA-Z]*[wx]", m.group(0)) for m in _LOOSE_PRIMARY_RE.finditer(code))
    wants_ready = kind == "galera" and "wsrep_ready" in code
    proc_only = (kind == "drbd" and bool(re.search(r"\b(?:cs|ro|ds):", code))
                 and not re.search(r"\bdrbd(?:adm|setup)\b", code))
    established = kind == "drbd" and "cs:Connected" in code
    return Parsed(CheckKind(kind, wants_primary, wants_connected, wants_synced, loose, wants_ready, proc_only,
                            established), (), text)


# `grep Primary`, `grep -q "Primary"`: the word alone, not anchored (^, $, a tab, a dot before it)
_LOOSE_PRIMARY_RE = re.compile(r"\bgrep\b((?:\s+-[a-zA-Z]+)*)\s+[\"']?Primary[\"']?(?=\s|$|\))")
_SECRET_VAR_RE = re.compile(r"^\s*(?:export\s+)?((?=[A-Za-z_])[A-Za-z0-9_]*"
                            r"(?:TOKEN|SECRET|PASS|PASSWORD|PASSWD|API_?KEY|AUTH)[A-Za-z0-9_]*)=(\S.*)$",
                            re.IGNORECASE)
_SECRET_PATTERNS = (
    ("a chat-bot token (digits:key)", re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{20,}\b")),
    ("a password on a command line (-p...)", re.compile(r"\bmysql(?:admin|dump)?\b[^\n]*\s-p[^\s$'\"]\S*")),
    ("a password in a URL (user:pass@)", re.compile(r"://[^/\s:@]+:[^/\s@$]+@")),
    ("a bearer token", re.compile(r"Bearer\s+[A-Za-z0-9._-]{16,}")),
)


@never_raises()
def parse_secrets(text: str) -> Parsed[tuple[SecretLine, ...]]:
    """Lines that hold a literal secret: NAME=value for a name like *TOKEN*/*PASS*/*SECRET*/*KEY*
    (a value that is only a variable, a command substitution or empty is not a secret), and token
    shapes anywhere.  Only the line number and the variable's name are kept."""
    out: list[SecretLine] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = _code(raw)
        m = _SECRET_VAR_RE.match(line)
        if m:
            value = m.group(2).strip().strip("'\"")
            if value and not value.startswith(("$", "`")):
                out.append(SecretLine(n, m.group(1)))
                continue
        for what, pattern in _SECRET_PATTERNS:
            if pattern.search(line):
                out.append(SecretLine(n, what))
                break
    return Parsed(tuple(out), (), "")
