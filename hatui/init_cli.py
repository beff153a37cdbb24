"""`hatui init`: from two node addresses to a commented config (the pure part is init_config.py).

It asks for what the flags do not give, trusts each node's host key only after an explicit `yes` (as
OpenSSH does on a first connection), reads what the config needs over SSH and writes the file — never
over an existing one without --force.  Prompts go through `ask` and `say`, so a test can answer them."""

from __future__ import annotations

import argparse
import asyncio
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hatui import init_config, privilege
from hatui.config import DEFAULT_PATH, NodeConfig
from hatui.init_config import ABS_PATH, NodeAnswers

Ask = Callable[[str], str]
Say = Callable[[str], None]
MYSQL_CONFIGS = "/etc/mysql/my.cnf /etc/mysql/conf.d/*.cnf /etc/mysql/mariadb.conf.d/*.cnf"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a config for your pair: asks for the nodes, trusts their host keys "
                                    "after a yes, reads the rest from them")
    p.add_argument("--output", type=Path, default=None, help=f"the config to write (default {DEFAULT_PATH})")
    p.add_argument("--node1", metavar="HOST", help="the first node's address (asked if not given)")
    p.add_argument("--node2", metavar="HOST", help="the second node's address (asked if not given)")
    p.add_argument("--port", type=int, default=22, help="SSH port of both nodes (default 22)")
    p.add_argument("--user", default="root",
                   help="SSH user (default root); another user gets `become: sudo` (see `hatui sudoers`)")
    p.add_argument("--identity", type=Path, default=None, help="SSH private key (default: the agent and ~/.ssh)")
    p.add_argument("--known-hosts", type=Path, default=Path("~/.ssh/known_hosts"),
                   help="known_hosts file to check and extend (default ~/.ssh/known_hosts)")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


# ---- host keys ---------------------------------------------------------------------------------------------
async def trust_host_key(host: str, port: int, known_hosts: Path, ask: Ask, say: Say) -> bool:
    """True when `host`'s key is in known_hosts, or the operator said yes to its fingerprint (then it is
    appended).  A key that differs from a known one is refused, as OpenSSH does."""
    import asyncssh

    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(host, port), 15)
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        say(f"{host}:{port}: cannot connect to read its host key: {exc}")
        return False
    if key is None:
        say(f"{host}:{port}: the server offered no host key")
        return False
    algorithm, fingerprint = key.get_algorithm(), key.get_fingerprint()
    if known_hosts.exists():
        trusted = asyncssh.match_known_hosts(str(known_hosts), host, host, port)[0]
        if any(k.public_data == key.public_data for k in trusted):
            say(f"{host}: host key {algorithm} {fingerprint} is already in {known_hosts}")
            return True
        if trusted:
            say(f"{host}: WARNING: the host key differs from the one in {known_hosts} ({algorithm} {fingerprint} "
                "offered): possibly a man-in-the-middle, or a reinstalled node. Not trusted; check it out of band "
                "and fix known_hosts yourself.")
            return False
    say(f"The authenticity of host '{host}' can't be established.\n{algorithm} key fingerprint is {fingerprint}.\n"
        "Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the node's console.")
    answer = ask("Are you sure you want to continue connecting (yes/no)? ").strip()
    if answer != "yes":
        say(f"{host}: not trusted (answer `yes` to trust it); nothing written")
        return False
    known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(init_config.known_hosts_line(host, port, key.export_public_key("openssh").decode()))
    say(f"Warning: Permanently added '{host}' ({algorithm}) to {known_hosts}.")
    return True


# ---- reading a node ----------------------------------------------------------------------------------------
async def read_node(node: NodeConfig, say: Say) -> NodeAnswers:
    from hatui.probes import keepalived
    from hatui.transport import NodeTransport

    root = privilege.root_of(node)
    t = NodeTransport(node, timeout_s=10)
    try:
        first = await t.batch({
            "hostname": "hostname", "signums": keepalived.signums_command(root),
            "ka_json": keepalived.dump_command(keepalived.JSON_FILE, root),
            "ka_data": keepalived.dump_command(keepalived.DATA_FILE, root),
            "galera": f"cat {MYSQL_CONFIGS} 2>/dev/null; true", "proc": "[ -e /proc/drbd ]",
        }, timeout_s=20)
        refused = privilege.all_refusals(r.output for r in first.values())
        if refused:
            say(f"{node.host}: sudo refused {', '.join(refused)}: keepalived's dumps may be old (install what "
                "`hatui sudoers` prints, then run init again)")
        a = NodeAnswers(host=node.host, ka_json=keepalived.redact(first["ka_json"].output),
                        ka_data=keepalived.redact(first["ka_data"].output), hostname=first["hostname"].output.strip(),
                        galera_cnf=first["galera"].output, proc_drbd=first["proc"].ok)
        insts = init_config.instances(a.ka_json)
        scripts = [init_config._unquote(str(p)) for i in insts[:1]
                   for p in [i.get("script"), *(i.get("track_script") or [])] if p]
        scripts = [p for p in dict.fromkeys(scripts) if ABS_PATH.match(p)]
        if scripts:
            got = await t.batch({f"f{i}": f"cat {p}" for i, p in enumerate(scripts)})
            a.files = {p: got[f"f{i}"].output for i, p in enumerate(scripts) if got[f"f{i}"].ok}
        return a
    finally:
        await t.close()


def web_answers(url: str, timeout_s: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return 200 <= resp.status < 400
    except (OSError, ValueError):
        return False


# ---- the command -------------------------------------------------------------------------------------------
def run(args: argparse.Namespace, ask: Ask = input, say: Say = print) -> int:
    output = (args.output or DEFAULT_PATH).expanduser()
    if output.exists() and not args.force:
        say(f"hatui init: {output} exists: not overwritten (--force overwrites it, --output writes elsewhere)")
        return 2
    known = args.known_hosts.expanduser()
    hosts = [args.node1, args.node2]
    for i in (0, 1):
        while not hosts[i]:
            try:
                hosts[i] = ask(f"Address of node {i + 1}{' (the active one)' if i == 0 else ''}: ").strip()
            except EOFError:
                say("hatui init: no node address given")
                return 2
    become = None if args.user == "root" else "sudo"
    answers = []
    for i, host in enumerate(hosts, 1):
        if not asyncio.run(trust_host_key(host, args.port, known, ask, say)):
            return 1
        node = NodeConfig(name=f"node{i}", host=host, port=args.port, user=args.user,
                          identity_file=args.identity.expanduser() if args.identity else None, known_hosts=known,
                          become=become)
        try:
            answers.append(asyncio.run(read_node(node, say)))
        except Exception as exc:  # TransportError and anything odd: say what and where, write nothing
            say(f"hatui init: cannot read {host}: {exc}")
            return 1
    vips = {str(d["vips"][0]).split("/")[0] for a in answers for d in init_config.instances(a.ka_json)[:1]
            if isinstance(d.get("vips"), list) and d["vips"]}
    web = {f"http://{v}/": web_answers(f"http://{v}/") for v in vips}
    derived = init_config.derive(answers, web)
    text = init_config.render(derived, args.user, args.identity.expanduser() if args.identity else None, known,
                              become)
    output.parent.mkdir(parents=True, exist_ok=True)
    mode = "w" if args.force else "x"
    try:
        with open(output, mode) as f:
            f.write(text)
    except FileExistsError:
        say(f"hatui init: {output} appeared meanwhile: not overwritten")
        return 2
    questions = [k for k, v in derived.values.items() if v.value is None]
    say(f"wrote {output}" + (f"; questions left in it (`# ?` lines): {', '.join(questions)}" if questions else ""))
    for note in derived.notes:
        say(f"note: {note}")
    if become:
        say(f"next: `hatui --config {output} sudoers` prints the sudoers lines to install on both nodes")
    say(f"then: hatui --config {output}")
    return 0

