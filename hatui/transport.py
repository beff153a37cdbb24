"""One asyncssh connection per node, with long-lived channels so that polling costs a round trip.

* `NodeTransport.batch()` runs several shell commands in ONE round trip on a persistent remote shell
  (a new exec channel costs ~100 ms of SSH set-up; a line on an open shell ~1 ms).
* `NodeTransport.mysql_socket()` forwards a local unix socket, in a private 0700 directory, to the node's
  MariaDB socket, so root authenticates by unix_socket, no password is stored, and no other local user
  can use the forward (a TCP port on 127.0.0.1 would let any of them in as MariaDB root).
* `NodeTransport.follow()` streams a command's output line by line (`tail -F`).
* `NodeTransport.exec()` opens a fresh exec channel: for actions, where an exact exit status matters.
Every remote call has a timeout.  A channel that times out or breaks is closed and reopened on the
next call, never reused half-read.  Host keys are always checked against known_hosts; a refused key
is a HostKeyError (with the offered key's fingerprint) that sticks until known_hosts changes.

OpenSSH conventions: ~/.ssh/config is read by asyncssh (see config.example.yaml for what applies), but
agent forwarding is off unless the node's `forward_agent: true`; identity, known_hosts and password files
that group or others may write (secrets: or read) are refused, as OpenSSH refuses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shlex
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from hatui.config import Config, NodeConfig, check_private_file
from hatui.model import CommandResult
from hatui.privilege import root_of

__all__ = ["CommandResult", "HostKeyError", "NodeTransport", "TransportError", "transports"]

_STATUS_RE = re.compile(r"[0-9]{1,3}")  # an exit status as bash prints it: ASCII digits only ('²'.isdigit())


class TransportError(RuntimeError):
    """The node could not be reached or did not answer; the message says which and why."""


class HostKeyError(TransportError):
    """The node's (or its jump host's) host key is unknown or changed: hatui refuses to talk to it.

    A security event, not an outage: `kind` is "changed" (known_hosts has other keys for this host: a
    possible man-in-the-middle, or a reinstalled node), "unknown" (no entry) or "missing" (no known_hosts
    file); `fingerprint` is the SHA256 fingerprint of the key the server offered, when one was seen."""

    def __init__(self, message: str, *, hop: str = "", kind: str = "unknown", fingerprint: str | None = None) -> None:
        super().__init__(message)
        self.hop, self.kind, self.fingerprint = hop, kind, fingerprint


class _KeyRecorder(asyncssh.SSHClient):
    """Remembers the host key asyncssh found NOT in known_hosts (it asks the client object only then),
    so that the refusal can show its fingerprint.  Never accepts it."""

    def __init__(self) -> None:
        self.seen: tuple[str, asyncssh.SSHKey] | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.seen = (addr, key)
        return False


@dataclass
class TransportStats:
    channels_opened: int = 0
    connects: int = 0
    round_trips: int = 0
    last_round_trip_s: float | None = None


class NodeTransport:
    """One node's SSH connection (known_hosts enforced, keepalives, a timeout on every call).

    `batch()` runs a cycle's commands in one round trip on a persistent shell (the collector's
    loop is its only reader); `exec()` opens a fresh channel for an action step, whose exit status
    matters; `mysql_socket()` forwards a private unix socket to the node's MariaDB socket.  Every failure is a
    `TransportError` (a `HostKeyError` for a key that does not verify)."""

    def __init__(self, node: NodeConfig, timeout_s: float = 5.0) -> None:
        self.node = node
        self.timeout_s = timeout_s
        self.stats = TransportStats()
        self._conn: asyncssh.SSHClientConnection | None = None
        self._jump: asyncssh.SSHClientConnection | None = None
        self._shell: asyncssh.SSHClientProcess[str] | None = None
        self._shell_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._mysql_listener: asyncssh.SSHListener | None = None
        self._private_dir: str | None = None  # 0700, holds the MariaDB forward's socket
        # set when a host key was refused: connect() raises it again, without touching the network, until
        # known_hosts changes (the operator verified and updated it) or retry_host_key() is called
        self.host_key_problem: HostKeyError | None = None
        self._known_hosts_seen: tuple[int, int, int] | None = None

    # ---- connection ---------------------------------------------------------------------------
    def _known_hosts(self) -> Path:
        return self.node.known_hosts.expanduser()

    def _known_hosts_state(self) -> tuple[int, int, int] | None:
        try:
            st = self._known_hosts().stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def retry_host_key(self) -> None:
        """The operator says the host key question is settled: the next call connects again."""
        self.host_key_problem = None

    def _auth_options(self) -> dict[str, Any]:
        """Client keys for a hop: the configured identity file only; without one, what OpenSSH would use
        (~/.ssh/config's IdentityFile, the default keys, the agent)."""
        if self.node.identity_file is None:
            return {}
        key = _private_file(self.node.name, self.node.identity_file, "identity file", secret=True)
        return {"client_keys": [str(key)], "agent_path": None}

    def _options(self) -> dict[str, Any]:
        known = self._known_hosts()
        if not known.exists():
            raise HostKeyError(f"{self.node.name}: known_hosts file {known} does not exist; add the node's host key "
                               f"(ssh-keyscan -H {self.node.host} >> {known}, after checking its fingerprint)",
                               hop=self.node.name, kind="missing")
        _private_file(self.node.name, known, "known_hosts file", secret=False)
        return {
            "known_hosts": str(known), "keepalive_interval": 5, "keepalive_count_max": 3,
            "connect_timeout": self.timeout_s,
            # our shell protocol needs no pty (a `RequestTTY force` in ~/.ssh/config would echo every batch)
            "request_pty": False,
            **self._auth_options(),
        }

    async def connect(self) -> asyncssh.SSHClientConnection:
        async with self._connect_lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            if self.host_key_problem is not None:
                if self._known_hosts_state() == self._known_hosts_seen:
                    raise self.host_key_problem
                self.host_key_problem = None  # known_hosts changed: try again, once
            await self._drop()
            opts = self._options()
            jump = self.node.jump_host
            if jump is not None:
                # the tunnel carries direct-tcpip only: it never needs the agent forwarded
                extra = {"username": jump.user} if jump.user else {}
                self._jump = await self._connect_hop(f"jump host {jump}", jump.host, jump.port,
                                                     {**opts, **extra, "agent_forwarding": False})
            via = f" via jump host {jump}" if jump is not None else ""
            self._conn = await self._connect_hop(
                f"{self.node.name} ({self.node.host}:{self.node.port}{via})", self.node.host, self.node.port,
                {**opts, "username": self.node.user, "agent_forwarding": self.node.forward_agent,
                 **({"tunnel": self._jump} if self._jump is not None else {})})
            self.stats.connects += 1
            return self._conn

    async def _connect_hop(self, label: str, host: str, port: int, opts: dict[str, Any]) -> \
            asyncssh.SSHClientConnection:
        """One SSH hop; every error names this hop (the jump host, or the node) and is a TransportError."""
        recorder = _KeyRecorder()
        try:
            return await asyncio.wait_for(
                asyncssh.connect(host, port=port, client_factory=lambda: recorder, **opts), self.timeout_s * 2)
        except asyncssh.HostKeyNotVerifiable as exc:
            await self._drop()
            raise self._host_key_error(label, host, port, recorder, exc.reason) from None
        except asyncssh.PermissionDenied as exc:
            await self._drop()
            user = opts.get("username") or "the default user"
            raise TransportError(f"{label}: SSH login as {user} refused: {exc.reason}") from None
        except asyncssh.KeyImportError as exc:
            await self._drop()
            raise TransportError(
                f"{label}: cannot load identity file {self.node.identity_file}: {exc}. hatui does not ask for "
                "passphrases: passphrase-protected keys need an agent (ssh-add the key, then leave identity_file "
                "out of the config)") from None
        except (TimeoutError, OSError, asyncssh.Error, ValueError) as exc:
            await self._drop()
            raise TransportError(f"{label}: cannot connect: {_why(exc)}") from None

    def _host_key_error(self, label: str, host: str, port: int, recorder: _KeyRecorder, reason: str) -> HostKeyError:
        known = self._known_hosts()
        fingerprint, kind, offered = None, "unknown", ""
        if recorder.seen is not None:
            addr, key = recorder.seen
            fingerprint = key.get_fingerprint()
            offered = f"; it offered {key.get_algorithm()} {fingerprint}"
            try:
                kind = "changed" if asyncssh.match_known_hosts(str(known), host, addr, port)[0] else "unknown"
            except (OSError, ValueError):
                pass
        what = {"changed": "host key CHANGED: known_hosts has another key for it — possibly a man-in-the-middle "
                           "(or a reinstalled host)",
                "unknown": "host key unknown: known_hosts has no entry for it"}[kind]
        self.host_key_problem = HostKeyError(
            f"{label}: host key not verified against {known}: {what} ({reason}){offered}. Verify the key out of "
            f"band (ssh-keygen -lf on the host's /etc/ssh/ssh_host_*_key.pub), then update {known}. hatui stops "
            "reconnecting until known_hosts changes.", hop=label, kind=kind, fingerprint=fingerprint)
        self._known_hosts_seen = self._known_hosts_state()
        return self.host_key_problem

    async def _drop(self) -> None:
        for closer in (self._close_shell(), self._close_mysql_listener()):
            await closer
        for conn in (self._conn, self._jump):
            if conn is not None:
                conn.close()
        self._conn = self._jump = None

    async def close(self) -> None:
        async with self._connect_lock:
            await self._drop()
            if self._private_dir is not None:
                shutil.rmtree(self._private_dir, ignore_errors=True)
                self._private_dir = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    # ---- persistent shell ---------------------------------------------------------------------
    async def _close_shell(self) -> None:
        if self._shell is not None:
            self._shell.close()
            self._shell = None

    async def _get_shell(self) -> asyncssh.SSHClientProcess[str]:
        if self._shell is None or self._shell.is_closing() or self._shell.exit_status is not None:
            conn = await self.connect()
            try:
                # LC_ALL=C: parsers expect untranslated output.  stderr joins stdout inside each command.
                # surrogateescape: a byte that is not UTF-8 (a log cut mid-character, binary junk) stays
                # one character that re-encodes to that byte, so byte offsets stay exact and nothing raises
                self._shell = await asyncio.wait_for(
                    conn.create_process("env LC_ALL=C /bin/bash --noprofile --norc", term_type=None,
                                        errors="surrogateescape"), self.timeout_s)
            except (TimeoutError, OSError, asyncssh.Error) as exc:
                await self._drop()
                raise TransportError(f"{self.node.name}: cannot open a shell: {_why(exc)}") from None
            self.stats.channels_opened += 1
            prelude = root_of(self.node).shell_prelude()
            if prelude:  # `become: sudo`: sudo's PATH, and the function that marks what sudo refused
                self._shell.stdin.write(prelude + "\n")
        return self._shell

    async def batch(self, commands: dict[str, str], timeout_s: float | None = None) -> dict[str, CommandResult]:
        """Run `commands` (name -> shell text) in one round trip on the persistent shell."""
        nonce = secrets.token_hex(6)
        script = []
        for name, cmd in commands.items():
            # a brace group, not a subshell: no fork per command (commands must not `exit`)
            script.append(f"printf '\\n@@B{nonce}@@{name}@@\\n'; {{ {cmd}\n}} </dev/null 2>&1; "
                          f"printf '\\n@@E{nonce}@@{name}@@%s@@\\n' \"$?\"")
        script.append(f"printf '\\n@@DONE{nonce}@@\\n'")
        async with self._shell_lock:
            shell = await self._get_shell()
            t0 = time.perf_counter()
            try:
                shell.stdin.write("\n".join(script) + "\n")
                raw = await asyncio.wait_for(shell.stdout.readuntil(f"@@DONE{nonce}@@\n"), timeout_s or self.timeout_s)
            except (TimeoutError, asyncio.IncompleteReadError, OSError, asyncssh.Error, BrokenPipeError) as exc:
                # never reuse a shell that may still be printing the answer to this request
                await self._close_shell()
                if isinstance(exc, asyncio.TimeoutError):
                    raise TransportError(f"{self.node.name}: no answer within {timeout_s or self.timeout_s:.1f} s") \
                        from None
                await self._drop()
                raise TransportError(f"{self.node.name}: connection lost: {_why(exc)}") from None
            self.stats.round_trips += 1
            self.stats.last_round_trip_s = time.perf_counter() - t0
        return _split_batch(raw, nonce, commands)

    async def run(self, command: str, timeout_s: float | None = None) -> CommandResult:
        return (await self.batch({"cmd": command}, timeout_s))["cmd"]

    # ---- fresh exec channel (actions) ---------------------------------------------------------
    async def exec(self, command: str, timeout_s: float | None = None) -> CommandResult:
        conn = await self.connect()
        prelude = root_of(self.node).shell_prelude()
        # an ordinary user's login shell may not be bash: bash runs the prelude, then the command
        remote = (f"exec /bin/bash --noprofile --norc -c {shlex.quote(prelude + chr(10) + command)}" if prelude
                  else command)
        try:
            res = await asyncio.wait_for(conn.run(remote, check=False, stderr=asyncssh.STDOUT),
                                         timeout_s or self.timeout_s)
        except TimeoutError:
            raise TransportError(f"{self.node.name}: `{command}` did not finish within "
                                 f"{timeout_s or self.timeout_s:.0f} s") from None
        except (OSError, asyncssh.Error) as exc:
            await self.close()
            raise TransportError(f"{self.node.name}: connection lost running `{command}`: {_why(exc)}") from None
        self.stats.channels_opened += 1
        out = res.stdout if isinstance(res.stdout, str) else (res.stdout or b"").decode(errors="replace")
        return CommandResult(res.exit_status, out)

    # ---- streaming ----------------------------------------------------------------------------
    async def follow(self, command: str) -> AsyncIterator[str]:
        """Yield the lines `command` prints, as they come, until the channel closes."""
        conn = await self.connect()
        prelude = root_of(self.node).shell_prelude()
        remote = (f"exec /bin/bash --noprofile --norc -c {shlex.quote(prelude + chr(10) + command)}" if prelude
                  else command)
        try:
            proc = await asyncio.wait_for(conn.create_process(remote, stderr=asyncssh.DEVNULL), self.timeout_s)
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise TransportError(f"{self.node.name}: cannot start `{command}`: {_why(exc)}") from None
        self.stats.channels_opened += 1
        try:
            async for line in proc.stdout:
                yield line.rstrip("\n")
        finally:
            proc.close()

    # ---- MariaDB through a forward ------------------------------------------------------------
    async def mysql_socket(self, socket_path: str) -> str:
        """A local unix socket forwarded to the node's MariaDB unix socket (opened once, reused).

        It lives in a private directory (0700, this user's, made by mkdtemp) so that no other local user can
        reach it: whoever connects is MariaDB root on the node.  Never a TCP port, which any local user
        could connect to."""
        if self._mysql_listener is None:
            conn = await self.connect()
            if self._private_dir is None:
                self._private_dir = tempfile.mkdtemp(prefix=f"hatui-{self.node.name}-",
                                                     dir=_runtime_dir())
            local = os.path.join(self._private_dir, "mysql.sock")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(local)
            try:
                self._mysql_listener = await conn.forward_local_path(local, socket_path)
            except (OSError, asyncssh.Error) as exc:
                raise TransportError(f"{self.node.name}: cannot forward to MariaDB's socket {socket_path}: "
                                     f"{_why(exc)}") from None
        assert self._private_dir is not None
        return os.path.join(self._private_dir, "mysql.sock")

    @property
    def mysql_socket_dir(self) -> str | None:
        return self._private_dir

    async def _close_mysql_listener(self) -> None:
        if self._mysql_listener is not None:
            self._mysql_listener.close()
            self._mysql_listener = None
            if self._private_dir is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self._private_dir, "mysql.sock"))


def _private_file(node: str, path: Path, what: str, secret: bool) -> Path:
    try:
        return check_private_file(path, what, secret)
    except FileNotFoundError:
        raise TransportError(f"{node}: {what} {path} does not exist") from None
    except OSError as exc:
        raise TransportError(f"{node}: {exc}") from None


def _runtime_dir() -> str | None:
    """$XDG_RUNTIME_DIR when it is a private directory of ours (systemd makes it 0700), else the default
    temp dir (mkdtemp's 0700 directory is private either way)."""
    path = os.environ.get("XDG_RUNTIME_DIR")
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return path if st.st_uid == os.getuid() and not st.st_mode & 0o077 else None


def _split_batch(raw: str, nonce: str, commands: dict[str, str]) -> dict[str, CommandResult]:
    results: dict[str, CommandResult] = {}
    for name in commands:
        begin = f"\n@@B{nonce}@@{name}@@\n"
        end = f"\n@@E{nonce}@@{name}@@"
        b = raw.find(begin)
        e = raw.find(end, b + len(begin)) if b >= 0 else -1
        if b < 0 or e < 0:
            results[name] = CommandResult(None, "")
            continue
        status_text = raw[e + len(end):].split("@@", 1)[0]
        status = int(status_text) if _STATUS_RE.fullmatch(status_text) else None
        results[name] = CommandResult(status, raw[b + len(begin):e])
    return results


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    return str(exc) or type(exc).__name__


def transports(config: Config) -> dict[str, NodeTransport]:
    return {n.name: NodeTransport(n, config.command_timeout_s) for n in config.nodes}
