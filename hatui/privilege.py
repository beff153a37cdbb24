"""Least privilege: which commands hatui runs as root on a node, and how it gets root.

With `user: root` (the default) every command runs as root, as before.  With `become: sudo` the SSH
user is an ordinary user: reads that need no root run as that user, and each command that needs root
is ONE exact command run through `sudo -n` (never a shell, an editor or a wildcard), so that the
sudoers snippet `hatui sudoers` prints can list each of them on its own NOPASSWD line.

Pure: the shell text, the exact command list of a config and the sudoers snippet are computed here; the
probes and the actions build their commands with `Root`; `refusals()` finds what sudo refused in any
output.  Nothing here opens a connection."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Debian's sudo `secure_path` (its /etc/sudoers): sudo looks a command name up there, so a sudoers line
# must name the path found there.  hatui's shell on the node gets the same PATH (a user's PATH lacks
# the sbin directories), so `command -v` in it finds what sudo runs.
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Where Debian 12 (merged /usr) has the programs hatui runs as root, for a snippet printed without
# asking the nodes (`hatui sudoers --offline`, or a node that does not answer).
DEBIAN_PATHS = {
    "rm": "/usr/bin/rm", "pkill": "/usr/bin/pkill", "cat": "/usr/bin/cat", "tee": "/usr/bin/tee",
    "mkdir": "/usr/bin/mkdir", "touch": "/usr/bin/touch", "mount": "/usr/bin/mount", "umount": "/usr/bin/umount",
    "drbdadm": "/usr/sbin/drbdadm", "drbdsetup": "/usr/sbin/drbdsetup", "mysql": "/usr/bin/mysql",
}
# A refusal, as hatui's `sudo` shell function marks it (the command that was refused follows it, its
# program as the node's PATH resolves it): sudo's own words differ between versions and languages.
REFUSED_MARK = "@@hatui-sudo-refused@@"
_REFUSED_RE = re.compile(re.escape(REFUSED_MARK) + r" ([^\n]*)\n?")
# sudo's own messages for a command it will not run without a password (sudo -n)
_SUDO_SAYS_RE = re.compile(r"^sudo: (?:a password is required|a terminal is required|.*is not allowed to execute"
                           r"|sorry, you must have a tty).*$\n?", re.MULTILINE | re.IGNORECASE)

# Defined in every shell hatui opens on a node as an unprivileged user: `sudo` runs the real sudo and,
# when sudo itself refused (its stderr starts with "sudo: " and says why) or is missing, prints REFUSED_MARK
# and the command on fd 9 (the channel's own stdout, which the prelude keeps there), so that a command's
# redirections (`| sudo -n tee FILE >/dev/null`, `2>/dev/null`) cannot hide it; without fd 9, on stderr.
# The command's own output, stderr and exit status pass through unchanged.
SUDO_FUNCTION = (
    'sudo() { local e s m; { e=$(command sudo "$@" 2>&1 1>&3 3>&-); s=$?; } 3>&1; '
    'if [ $s -eq 127 ] || { [ $s -ne 0 ] && [[ "$e" == sudo:* ]]; }; then '
    f'm="{REFUSED_MARK} $(command -v -- "$2" || echo "$2") ${{*:3}}"; '
    '{ printf \'\\n%s\\n\' "$m" >&9; } 2>/dev/null || printf \'\\n%s\\n\' "$m" >&2; fi; '
    '[ -n "$e" ] && printf \'%s\\n\' "$e" >&2; return $s; }'
)


@dataclass(frozen=True)
class Root:
    """How one node runs a root command: directly (the SSH user is root) or through `sudo -n`."""

    become: str | None = None  # None: the SSH user is root; "sudo"

    def __call__(self, *argv: str) -> str:
        """Shell text for the exact command `argv` as root (each word quoted)."""
        text = " ".join(shlex.quote(a) for a in argv)
        return f"sudo -n {text}" if self.become == "sudo" else text

    @property
    def unprivileged(self) -> bool:
        return self.become == "sudo"

    def shell_prelude(self) -> str:
        """What the node's shell needs before hatui's commands: sudo's PATH and the refusal-marking
        function (as an unprivileged user), nothing as root."""
        return (f"exec 9>&1; export PATH={SECURE_PATH}; {SUDO_FUNCTION}; export -f sudo" if self.unprivileged
                else "")


AS_ROOT = Root()  # the SSH user is root


def root_of(node: object) -> Root:
    """The Root of a NodeConfig (anything with a `become` attribute)."""
    return Root(getattr(node, "become", None))


# ---- the exact command list --------------------------------------------------------------------------
def root_commands(config: object) -> list[tuple[str, ...]]:
    """Every command hatui may run as root on a node with `config`, each as its exact argv (program
    name first, as sudo receives it).  The one list the probes and the actions draw from: a command
    missing here would be refused on a least-privilege node."""
    from hatui.actions import commands as action_commands
    from hatui.probes import drbd, galera, keepalived

    out: list[tuple[str, ...]] = []
    out += keepalived.root_argvs()
    out += drbd.root_argvs(config.drbd.resource)  # type: ignore[attr-defined]
    out += galera.root_argvs()
    out += action_commands.root_argvs(config)
    return list(dict.fromkeys(out))


def _sudoers_word(word: str) -> str:
    """A word of a sudoers command line: `\\`, `,`, `:` and `=` are special there and escaped; sudo compares
    the arguments as one string joined by spaces (the user's argv joined the same way), so a word with a
    space (the bootstrap's SQL) is written as it is."""
    return re.sub(r"([\\,:=])", r"\\\1", word)


def sudoers_line(user: str, argv: tuple[str, ...], paths: Mapping[str, str] | None = None) -> str:
    """One NOPASSWD line for exactly `argv` (the program by its absolute path)."""
    program = argv[0] if argv[0].startswith("/") else (paths or DEBIAN_PATHS).get(argv[0], DEBIAN_PATHS.get(
        argv[0], f"/usr/bin/{argv[0]}"))
    # a command with no arguments would allow any arguments in sudoers: "" says "none"
    args = " ".join(_sudoers_word(a) for a in argv[1:]) or '""'
    return f"{user} ALL=(root) NOPASSWD: {program} {args}"


def sudoers(config: object, paths_by_node: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The sudoers snippet for `config`: a comment, then one NOPASSWD line per exact command and SSH user
    (for every node with `become: sudo`).  `paths_by_node`: where each node has each program (`command -v`
    in SECURE_PATH); a node without an entry gets DEBIAN_PATHS."""
    nodes = [n for n in config.nodes if getattr(n, "become", None) == "sudo"]  # type: ignore[attr-defined]
    lines = ["# hatui: the exact commands hatui runs as root (`hatui sudoers`, from " f"{config.path})",  # type: ignore[attr-defined]
             "# install on each node with: visudo -cf FILE && install -m 0440 FILE /etc/sudoers.d/hatui"]
    if not nodes:
        lines.append("# no node of this config has `become: sudo`: hatui logs in as root and needs no sudo")
        return "\n".join(lines) + "\n"
    commands = root_commands(config)
    seen: set[str] = set()
    for node in nodes:
        paths = (paths_by_node or {}).get(node.name)
        for argv in commands:
            line = sudoers_line(node.user, argv, paths)
            if line not in seen:
                seen.add(line)
                lines.append(line)
    return "\n".join(lines) + "\n"


# ---- what sudo refused -------------------------------------------------------------------------------
def refusals(output: str) -> tuple[list[str], str]:
    """(the commands sudo refused, as marked by SUDO_FUNCTION, and `output` without the marks and
    sudo's refusal messages).  Never raises."""
    found = [m.group(1).strip() for m in _REFUSED_RE.finditer(output)]
    if not found:
        return [], output
    return found, _SUDO_SAYS_RE.sub("", _REFUSED_RE.sub("", output))


def missing_line(config: object, user: str, refused: str) -> str:
    """The sudoers line that would have let `refused` (a marked command: its program as the node's PATH
    resolves it, then its arguments joined by spaces, as sudo saw them) run: the command of the config's
    list it is, with the program's path the node showed."""
    program, _, args = refused.partition(" ")
    name = program.rsplit("/", 1)[-1]
    for argv in root_commands(config):
        if argv[0] == name and " ".join(argv[1:]) == args:
            return sudoers_line(user, (program if program.startswith("/") else name, *argv[1:]))
    return sudoers_line(user, (program, *args.split(" "))) if args else sudoers_line(user, (program,))


def all_refusals(outputs: Iterable[str]) -> list[str]:
    found: list[str] = []
    for out in outputs:
        found += refusals(out)[0]
    return list(dict.fromkeys(found))
