"""`hatui init`, the pure part: from what the two nodes showed to a commented config.

What is read where (the commands are in init_cli.py):
  * node name, VIP, instance, base priority, notify script, track scripts — keepalived's JSON dump, and its
    data dump (Router ID, the tracked files: the maintenance hook);
  * DRBD resource, device and mount point — the notify script's `drbdadm primary RES` and `mount DEV DIR`;
    the status file — /proc/drbd, else the file the DRBD health check reads;
  * the failover log — where the notify script appends its line;
  * Galera's expected size — the addresses in `wsrep_cluster_address` in /etc/mysql;
  * the web URL — http://VIP/ when the page answers there.
A value not found is written as a commented question (`# ? drbd.resource: ...`), never guessed silently.
Everything here is pure and never raises on odd input."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ABS_PATH = re.compile(r"^/[A-Za-z0-9_./@+-]*$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass
class NodeAnswers:
    """What init read on one node: raw texts, as the node printed them."""

    host: str
    ka_json: str = ""
    ka_data: str = ""
    hostname: str = ""
    files: dict[str, str] = field(default_factory=dict)  # path -> text (notify and check scripts)
    galera_cnf: str = ""
    proc_drbd: bool = False  # /proc/drbd exists (a real DRBD 8.4 kernel module)
    socket_exists: bool = True


@dataclass
class Found:
    """One config value: found (value, where from) or not (question)."""

    value: object | None
    source: str = ""
    question: str = ""


@dataclass
class Derived:
    nodes: list[tuple[str, NodeAnswers, int | None]]  # (name, answers, base priority), active first
    values: dict[str, Found]
    notes: list[str]


# ---- readers of one node's texts ------------------------------------------------------------------------
def instances(ka_json: str) -> list[dict]:
    """The `data` objects of keepalived's JSON dump (empty when it is not JSON)."""
    try:
        items = json.loads(ka_json)
    except ValueError:
        return []
    return [i["data"] for i in items if isinstance(i, dict) and isinstance(i.get("data"), dict)] \
        if isinstance(items, list) else []


def _unquote(path: str) -> str:
    """keepalived prints script paths quoted ('/etc/keepalived/notify.sh' or with arguments)."""
    try:
        words = shlex.split(path)
    except ValueError:
        return path.strip("'\" ")
    return words[0] if words else ""


def router_id(ka_data: str) -> str | None:
    m = re.search(r"^\s*Router ID = (\S+)\s*$", ka_data, re.MULTILINE)
    return m.group(1) if m and NAME.match(m.group(1)) else None


def tracked_files(ka_data: str) -> dict[str, str]:
    """Track file name -> its file, from the data dump's `VRRP Track files` section."""
    out: dict[str, str] = {}
    for m in re.finditer(r"^ Track file = (\S+)\s*\n\s+File = (\S+)", ka_data, re.MULTILINE):
        out[m.group(1)] = m.group(2)
    return out


def _assignments(script: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip("'\"") for m in
            re.finditer(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$", script, re.MULTILINE)}


def _expand(word: str, env: dict[str, str]) -> str:
    word = word.strip("'\"")
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), m.group(0)), word)


def failover_log(notify: str) -> str | None:
    """Where the notify script appends its transition line: the `>>` target of the line that prints the
    state, else of the first append."""
    env = _assignments(notify)
    targets = []
    for line in notify.splitlines():
        m = re.search(r">>\s*(\"[^\"]+\"|'[^']+'|\S+)", line)
        if m and not line.lstrip().startswith("#"):
            path = _expand(m.group(1), env)
            targets.append((("STATE" in line or "State" in line) and ("echo" in line or "printf" in line), path))
    for preferred in (True, False):
        for state_line, path in targets:
            if state_line == preferred and ABS_PATH.match(path):
                return path
    return None


def drbd_from_notify(notify: str) -> dict[str, str]:
    """resource, device and mount_point from the notify script's MASTER branch."""
    out: dict[str, str] = {}
    env = _assignments(notify)
    m = re.search(r"drbdadm\s+primary\s+(?:--\S+\s+)*(\S+)", notify)
    if m and NAME.match(res := _expand(m.group(1), env)):
        out["resource"] = res
    m = re.search(r"\bmount\s+(?:-\S+\s+(?:\S+\s+)?)*(\S+)\s+(\S+)", notify)
    if m:
        dev, mp = _expand(m.group(1), env), _expand(m.group(2), env)
        if ABS_PATH.match(dev) and ABS_PATH.match(mp):
            out["device"], out["mount_point"] = dev, mp
    return out


def drbd_status_file(check_scripts: dict[str, str]) -> str | None:
    """The DRBD state file a health check reads (assigned to a variable, or read directly)."""
    for text in check_scripts.values():
        for name, value in _assignments(text).items():
            if "DRBD" in name.upper() and ABS_PATH.match(value):
                return value
        m = re.search(r"(/\S*drbd\S*)", text)
        if m and ABS_PATH.match(m.group(1)) and not m.group(1).startswith(("/dev/", "/usr/", "/sbin/")):
            return m.group(1)
    return None


def galera_size(cnf: str) -> int | None:
    """The number of addresses in wsrep_cluster_address (gcomm://a,b[,c])."""
    found = list(re.finditer(r"^\s*wsrep[_-]cluster[_-]address\s*=\s*[\"']?gcomm://([^\"'\s#]*)", cnf,
                             re.MULTILINE))
    if not found:
        return None
    m = found[-1]  # the last one wins, as in MariaDB's option files
    addrs = [a for a in m.group(1).split(",") if a.strip()]
    return len(addrs) or None


# ---- both nodes -----------------------------------------------------------------------------------------
def _agree(values: list, what: str, notes: list[str]) -> object | None:
    found = [v for v in values if v is not None]
    if not found:
        return None
    if len(set(map(str, found))) > 1:
        notes.append(f"the nodes differ on {what}: {', '.join(map(str, found))} (the first is used)")
    return found[0]


def derive(answers: list[NodeAnswers], web_answered: dict[str, bool] | None = None) -> Derived:
    """The config values from both nodes' answers.  `web_answered`: URL -> whether the page answered there."""
    notes: list[str] = []
    values: dict[str, Found] = {}
    per_node = []
    for a in answers:
        insts = instances(a.ka_json)
        first = insts[0] if insts else {}
        name = router_id(a.ka_data) or (a.hostname.strip() if NAME.match(a.hostname.strip()) else None)
        prio = first.get("base_priority") if isinstance(first.get("base_priority"), int) else None
        per_node.append((name, a, prio, insts))
        if len(insts) > 1:
            notes.append(f"{a.host}: keepalived has {len(insts)} VRRP instances; the first, "
                         f"{first.get('iname')}, is used")
    # active first: the higher base priority
    per_node.sort(key=lambda t: -(t[2] or 0))
    names = []
    for i, (name, a, _prio, _insts) in enumerate(per_node, 1):
        if name is None or name in names:
            notes.append(f"{a.host}: no keepalived Router ID or host name found: named node{i}")
            name = f"node{i}"
        names.append(name)
    inst_names = [(t[3][0].get("iname") if t[3] else None) for t in per_node]
    inst = _agree(inst_names, "the VRRP instance", notes)
    values["keepalived.instance"] = Found(inst, "keepalived's JSON dump (iname)",
                                          "which vrrp_instance carries the VIP? (keepalived.conf)")
    vips = []
    for t in per_node:
        raw = t[3][0].get("vips") if t[3] else None
        vip = str(raw[0]).split("/")[0].split()[0] if isinstance(raw, list) and raw else None
        vips.append(vip)
    vip = _agree(vips, "the VIP", notes)
    values["vip"] = Found(vip, "keepalived's JSON dump (vips)", "the virtual IP address the pair serves on")
    notify_paths = [_unquote(str(t[3][0].get("script"))) if t[3] and t[3][0].get("script") else None
                    for t in per_node]
    notify_text = next((a.files.get(p or "", "") for (_n, a, _p, _i), p in zip(per_node, notify_paths, strict=True)
                        if p and a.files.get(p)), "")
    log = failover_log(notify_text) if notify_text else None
    values["failover_log"] = Found(log, f"the notify script {next((p for p in notify_paths if p), '')}",
                                   "where the notify script writes one line per VRRP transition")
    drbd = drbd_from_notify(notify_text) if notify_text else {}
    for key, what in (("resource", "the DRBD resource name"), ("device", "the DRBD device, e.g. /dev/drbd0"),
                      ("mount_point", "where the DRBD device is mounted on the active node")):
        values[f"drbd.{key}"] = Found(drbd.get(key), "the notify script", what)
    if all(a.proc_drbd for _n, a, _p, _i in per_node):
        values["drbd.proc_file"] = Found("/proc/drbd", "/proc/drbd exists (DRBD 8.4)")
    else:
        checks: dict[str, str] = {}
        for _n, a, _p, insts in per_node:
            for path in (insts[0].get("track_script") or []) if insts else []:
                p = _unquote(str(path))
                if p in a.files:
                    checks[p] = a.files[p]
        status = drbd_status_file(checks)
        values["drbd.proc_file"] = (
            Found(status, "the file the DRBD health check reads (no /proc/drbd on the nodes)") if status
            else Found("/proc/drbd", "default: no /proc/drbd on the nodes, so hatui asks drbdsetup events2 (DRBD 9)"))
    hooks = []
    for _n, a, _p, _insts in per_node:
        tracked = tracked_files(a.ka_data)
        hooks.append(next((f for n, f in tracked.items() if "maint" in n.lower() or "maint" in f.lower()), None))
    hook = _agree(hooks, "the maintenance track_file", notes)
    values["actions.maintenance_file"] = Found(
        hook, "keepalived's data dump (track_file)",
        "no maintenance hook (a keepalived track_file) found: without it `hatui switchover` refuses; add the "
        "snippet from docs/actions.md to keepalived.conf on both nodes")
    size = _agree([galera_size(a.galera_cnf) for _n, a, _p, _i in per_node], "wsrep_cluster_address", notes)
    values["mariadb.expected_cluster_size"] = Found(size, "wsrep_cluster_address in /etc/mysql",
                                                    "how many Galera members a healthy cluster has")
    url = f"http://{vip}/" if vip else None
    if url and web_answered is not None and not web_answered.get(url):
        notes.append(f"{url} did not answer from this workstation: web.url left as a question")
        url = None
    values["web.url"] = Found(url, "the VIP answered over HTTP", "the status page served through the VIP")
    return Derived([(n, a, p) for n, (_x, a, p, _i) in zip(names, per_node, strict=True)], values, notes)


# ---- the YAML --------------------------------------------------------------------------------------------
def _yaml_scalar(value: object) -> str:
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(str(value)) if re.search(r"[:#'\"{}\[\],&*!|>%@`\s]", str(value)) else str(value)


def _line(indent: str, key: str, found: Found) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if found.value is None:
        return f"{indent}# ? {leaf}:    # not found on the nodes: {found.question}"
    return f"{indent}{leaf}: {_yaml_scalar(found.value)}    # from {found.source}"


def render(derived: Derived, user: str, identity: Path | None, known_hosts: Path, become: str | None) -> str:
    """The commented config.  Unknown values are commented questions, so the file loads only once the
    required ones (vip) are answered."""
    v = derived.values
    out = ["# hatui configuration written by `hatui init` (see config.example.yaml for every key).",
           "# Lines `# ? key:` are questions init could not answer from the nodes: fill them in and uncomment."]
    out += [f"# note: {n}" for n in derived.notes]
    out.append("nodes:")
    for name, a, prio in derived.nodes:
        out.append(f"  - name: {name}" + (f"    # base priority {prio}" if prio is not None else ""))
        out.append(f"    host: {a.host}")
        out.append(f"    user: {user}")
        if become:
            out.append(f"    become: {become}    # root commands through sudo -n: `hatui sudoers` prints the lines")
        if identity is not None:
            out.append(f"    identity_file: {identity}")
        out.append(f"    known_hosts: {known_hosts}    # host keys trusted by `hatui init`")
    out.append(_line("", "vip", v["vip"]))

    def section(name: str, lines: list[str]) -> None:
        # a section with only questions would be an empty mapping: its header is commented out with them
        out.append(f"{name}:" if any(not ln.lstrip().startswith("#") for ln in lines) else f"# {name}:")
        out.extend(lines)

    section("keepalived", [_line("  ", "keepalived.instance", v["keepalived.instance"])])
    section("drbd", [_line("  ", f"drbd.{key}", v[f"drbd.{key}"])
                     for key in ("resource", "device", "mount_point", "proc_file")])
    mysql_user = "root" if user == "root" else user
    section("mariadb", [
        "  socket: /run/mysqld/mysqld.sock",
        f"  user: {mysql_user}    # logs in by unix_socket as the SSH user: no password stored"
        + ("" if mysql_user == "root" else
           f" (on the nodes: CREATE USER '{user}'@'localhost' IDENTIFIED VIA unix_socket)"),
        _line("  ", "mariadb.expected_cluster_size", v["mariadb.expected_cluster_size"])])
    out.append(_line("", "failover_log", v["failover_log"]))
    section("web", [_line("  ", "web.url", v["web.url"]),
                    '  expect_text: "HA Web Service is running on node"    # text the page shows when healthy'])
    out.append("poll_interval_s: 1.0")
    section("actions", [_line("  ", "actions.maintenance_file", v["actions.maintenance_file"])])
    return "\n".join(out) + "\n"


def known_hosts_line(host: str, port: int, public_key_openssh: str) -> str:
    """A known_hosts line as OpenSSH writes it for a first connection (not hashed)."""
    name = host if port == 22 else f"[{host}]:{port}"
    algorithm, key = public_key_openssh.split()[:2]
    return f"{name} {algorithm} {key}\n"
