"""One asyncssh connection per node, with long-lived channels so that polling costs a round trip.

* `NodeTransport.batch()` runs several shell commands in ONE round trip on a persistent remote shell
  (a new exec channel costs ~100 ms of SSH set-up; a line on an open shell ~1 ms).
* `NodeTransport.mysql()` keeps one MariaDB connection open through a local port forwarded to the
  node's unix socket, so root authenticates by unix_socket and no password is stored.
* `NodeTransport.follow()` streams a command's output line by line (`tail -F`).
* `NodeTransport.exec()` opens a fresh exec channel: for actions, where an exact exit status matters.
Every remote call has a timeout.  A channel that times out or breaks is closed and reopened on the
next call, never reused half-read.  Host keys are always checked against known_hosts.
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncssh

from hatui.config import Config, NodeConfig
from hatui.model import CommandResult
from hatui.privilege import root_of

__all__ = ["CommandResult", "HostKeyError", "NodeTransport", "TransportError", "transports"]


class TransportError(RuntimeError):
    """The node could not be reached or did not answer; the message says which and why."""


class HostKeyError(TransportError):
    """The node's host key is unknown or changed: hatui refuses to talk to it."""


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
    matters; `mysql_port()` forwards to the node's MariaDB socket.  Every failure is a
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

    # ---- connection ---------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        known = self.node.known_hosts.expanduser()
        if not known.exists():
            raise HostKeyError(f"{self.node.name}: known_hosts file {known} does not exist; add the node's host key "
                               f"(ssh-keyscan -H {self.node.host} >> {known}, after checking its fingerprint)")
        opts: dict[str, Any] = {
            "username": self.node.user, "port": self.node.port, "known_hosts": str(known),
            "keepalive_interval": 5, "keepalive_count_max": 3, "connect_timeout": self.timeout_s,
        }
        if self.node.identity_file is not None:
            opts["client_keys"] = [str(self.node.identity_file.expanduser())]
            opts["agent_path"] = None
        return opts

    async def connect(self) -> asyncssh.SSHClientConnection:
        async with self._connect_lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            await self._drop()
            opts = self._options()
            try:
                if self.node.jump_host:
                    user, _, hostport = self.node.jump_host.rpartition("@")
                    host, _, port = hostport.partition(":")
                    self._jump = await asyncio.wait_for(asyncssh.connect(
                        host, port=int(port or 22), username=user or None, known_hosts=opts["known_hosts"],
                        client_keys=opts.get("client_keys")), self.timeout_s)
                    opts["tunnel"] = self._jump
                self._conn = await asyncio.wait_for(asyncssh.connect(self.node.host, **opts), self.timeout_s * 2)
            except asyncssh.HostKeyNotVerifiable as exc:
                raise HostKeyError(f"{self.node.name} ({self.node.host}): host key not verified against "
                                   f"{self.node.known_hosts}: {exc.reason}. If the key changed on purpose, "
                                   "update known_hosts; otherwise do not connect.") from None
            except asyncssh.PermissionDenied as exc:
                raise TransportError(f"{self.node.name}: SSH login as {self.node.user} refused: {exc.reason}") from None
            except (TimeoutError, OSError, asyncssh.Error) as exc:
                raise TransportError(f"{self.node.name} ({self.node.host}:{self.node.port}): cannot connect: "
                                     f"{_why(exc)}") from None
            self.stats.connects += 1
            return self._conn

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
        proc = await conn.create_process(command, stderr=asyncssh.DEVNULL)
        self.stats.channels_opened += 1
        try:
            async for line in proc.stdout:
                yield line.rstrip("\n")
        finally:
            proc.close()

    # ---- MariaDB through a forward ------------------------------------------------------------
    async def mysql_port(self, socket_path: str) -> int:
        """A local TCP port forwarded to the node's MariaDB unix socket (opened once, reused)."""
        if self._mysql_listener is None:
            conn = await self.connect()
            self._mysql_listener = await conn.forward_local_port_to_path("127.0.0.1", 0, socket_path)
        return self._mysql_listener.get_port()

    async def _close_mysql_listener(self) -> None:
        if self._mysql_listener is not None:
            self._mysql_listener.close()
            self._mysql_listener = None


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
        results[name] = CommandResult(int(status_text) if status_text.isdigit() else None, raw[b + len(begin):e])
    return results


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    return str(exc) or type(exc).__name__


def transports(config: Config) -> dict[str, NodeTransport]:
    return {n.name: NodeTransport(n, config.command_timeout_s) for n in config.nodes}
