"""`hatui sudoers [--offline]`: the sudoers snippet for the current config (see hatui/privilege.py).

Each program is named by the path sudo will run: asked of each `become: sudo` node (`command -v` in
sudo's secure_path, over SSH), or Debian's paths with --offline or for a node that does not answer."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys

from hatui import privilege
from hatui.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sudoers", help="print the sudoers snippet for `become: sudo` (one exact command a line)")
    p.add_argument("--offline", action="store_true",
                   help="do not ask the nodes where the programs are: Debian's paths")


def programs(config: Config) -> list[str]:
    return list(dict.fromkeys(argv[0] for argv in privilege.root_commands(config)))


def resolve_command(names: list[str]) -> str:
    """Shell text printing `NAME PATH` for each program, PATH as sudo's secure_path finds it."""
    words = " ".join(shlex.quote(n) for n in names)
    return (f"for p in {words}; do printf '%s %s\\n' \"$p\" \"$(PATH={privilege.SECURE_PATH} command -v -- \"$p\")\"; "
            "done")


def parse_paths(output: str) -> dict[str, str]:
    paths = {}
    for line in output.splitlines():
        name, _, path = line.partition(" ")
        if path.startswith("/") and " " not in path:
            paths[name] = path
    return paths


async def node_paths(config: Config) -> tuple[dict[str, dict[str, str]], list[str]]:
    from hatui.transport import TransportError, transports

    found: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    names = programs(config)
    for name, t in transports(config).items():
        if privilege.root_of(config.node(name)).become != "sudo":
            continue
        try:
            res = await t.run(resolve_command(names))
            found[name] = {**privilege.DEBIAN_PATHS, **parse_paths(res.output)}
            missing = [n for n in names if n not in parse_paths(res.output)]
            if missing:
                notes.append(f"# {name}: not found in sudo's secure_path: {', '.join(missing)} (Debian's path used)")
        except TransportError as exc:
            notes.append(f"# {name} did not answer ({exc}): Debian's paths used")
        finally:
            await t.close()
    return found, notes


def run(args: argparse.Namespace, config: Config) -> int:
    paths, notes = ({}, ["# --offline: Debian's paths"]) if args.offline else asyncio.run(node_paths(config))
    text = privilege.sudoers(config, paths)
    sys.stdout.write(text if not notes else text.replace("\n", "\n" + "\n".join(notes) + "\n", 1))
    return 0
