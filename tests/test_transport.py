"""NodeTransport against a real SSH server: asyncssh's own, started in the test on loopback.

The server runs commands with the machine's bash, accepts direct-tcpip (for the jump host case) and
direct-streamlocal forwards to a unix socket the test listens on (standing in for MariaDB's), so that the
transport's own code paths run end to end with a generated host key and client key.  Nothing here
leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

from hatui.config import JumpHost, NodeConfig
from hatui.transport import HostKeyError, NodeTransport, TransportError, _split_batch
from tests.sockets import tcp_listening_ports_of_this_process


class _Server(asyncssh.SSHServer):
    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.lab.connections.append(conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self.lab.logins.append(username)
        return key.public_data == self.lab.client_key.public_data

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        return dest_host in ("127.0.0.1", "localhost")  # the jump host hop: only to this very server

    def unix_connection_requested(self, dest_path: str) -> bool:
        return True


async def _run_with_bash(procs: list[asyncio.subprocess.Process], process: asyncssh.SSHServerProcess) -> None:
    """The command (or a shell) run by the machine's bash, its output pumped back by hand (asyncssh's
    redirect() leaves a cleanup coroutine un-awaited in this set-up)."""
    proc = await asyncio.create_subprocess_shell(process.command or "/bin/bash --noprofile --norc",
                                                 stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    procs.append(proc)

    async def feed() -> None:
        try:
            async for line in process.stdin:
                proc.stdin.write(line.encode())
                await proc.stdin.drain()
        except (OSError, asyncssh.Error):
            pass
        proc.stdin.close()

    feeder = asyncio.ensure_future(feed())
    while chunk := await proc.stdout.read(65536):
        process.stdout.write(chunk.decode())
    feeder.cancel()
    process.exit(await proc.wait())


class Lab:
    """One in-process SSH server and the files a NodeConfig points at."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.connections: list[asyncssh.SSHServerConnection] = []
        self.logins: list[str] = []
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.identity = tmp / "id_ed25519"
        self.client_key.write_private_key(str(self.identity))
        self.identity.chmod(0o600)
        self.known_hosts = tmp / "known_hosts"
        self.procs: list[asyncio.subprocess.Process] = []
        self.server: asyncssh.SSHAcceptor | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[self.host_key],
                                            server_factory=lambda: _Server(self),
                                            process_factory=lambda p: _run_with_bash(self.procs, p),
                                            agent_forwarding=True, allow_scp=False)
        self.port = self.server.sockets[0].getsockname()[1]
        self.trust(self.host_key)

    def trust(self, key: asyncssh.SSHKey) -> None:
        line = f"[127.0.0.1]:{self.port} {key.export_public_key().decode().strip()}\n"
        self.known_hosts.write_text(line)
        self.known_hosts.chmod(0o644)

    def node(self, **kw: object) -> NodeConfig:
        base = NodeConfig(name="node1", host="127.0.0.1", port=self.port, user="hatui",
                          identity_file=self.identity, known_hosts=self.known_hosts)
        return replace(base, **kw)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in self.connections:
            conn.close()
        for proc in self.procs:  # bash processes the test started: ended by their own handles
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


@pytest.fixture
async def lab(tmp_path, monkeypatch):
    # a home of our own: no operator ~/.ssh/config, keys or agent leak into the test
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    lab = Lab(tmp_path)
    await lab.start()
    yield lab
    await lab.close()


# ---- P15: the MariaDB forward is a private unix socket, not a TCP port --------------------------------
async def test_mysql_forward_is_a_unix_socket_in_a_private_directory(lab, tmp_path):
    remote = tmp_path / "mysqld.sock"  # stands in for the node's MariaDB socket

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"mariadb says " + await reader.readline())
        await writer.drain()
        writer.close()

    mariadb = await asyncio.start_unix_server(answer, str(remote))
    t = NodeTransport(lab.node())
    try:
        path = await t.mysql_socket(str(remote))
        assert path == await t.mysql_socket(str(remote))  # opened once, reused
        d = os.stat(os.path.dirname(path))
        assert stat.S_IMODE(d.st_mode) == 0o700 and d.st_uid == os.getuid()
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        # the only TCP listener in this process is the test's own SSH server: hatui opened none
        assert tcp_listening_ports_of_this_process() == {lab.port}
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.readline(), 5) == b"mariadb says hello\n"
        writer.close()
    finally:
        await t.close()
        mariadb.close()
    assert not os.path.exists(os.path.dirname(path))  # removed on close


# ---- P16: OpenSSH conventions ------------------------------------------------------------------------
async def test_agent_forwarding_from_ssh_config_is_not_inherited(lab, tmp_path):
    """`ForwardAgent yes` in ~/.ssh/config (asyncssh reads it) must not hand the agent to the nodes."""
    home = Path(os.environ["HOME"])
    (home / ".ssh" / "config").write_text("Host *\n    ForwardAgent yes\n")
    # a node without identity_file: asyncssh's defaults (the agent, ~/.ssh/id_*) are what it logs in with
    lab.client_key.write_private_key(str(home / ".ssh" / "id_ed25519"))
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    os.environ["SSH_AUTH_SOCK"] = str(tmp_path / "agent.sock")  # forwarding needs an agent path to offer
    try:
        t = NodeTransport(lab.node(identity_file=None))
        assert (await t.run("echo hi")).output.strip() == "hi"
        await t.close()
        assert lab.connections[-1].get_agent_path() is None  # no auth-agent-req was sent

        t = NodeTransport(lab.node(identity_file=None, forward_agent=True))  # asked for: then it is on
        assert (await t.run("echo hi")).output.strip() == "hi"
        await asyncio.sleep(0.1)
        assert lab.connections[-1].get_agent_path() is not None
        await t.close()
    finally:
        del os.environ["SSH_AUTH_SOCK"]


async def test_jump_host_without_identity_file_gets_the_default_keys(lab):
    """The jump host hop authenticates as OpenSSH would (default keys / agent), not with no key at all."""
    home = Path(os.environ["HOME"])
    lab.client_key.write_private_key(str(home / ".ssh" / "id_ed25519"))
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    t = NodeTransport(lab.node(identity_file=None, jump_host=JumpHost("127.0.0.1", lab.port, "jumper")))
    try:
        assert (await t.run("echo through")).output.strip() == "through"
    finally:
        await t.close()
    assert list(dict.fromkeys(lab.logins)) == ["jumper", "hatui"]  # the jump host first, as its own user


async def test_jump_host_without_a_user_connects(lab):
    """`jump_host: host:port` (no user) raised TypeError from asyncssh (username=None)."""
    t = NodeTransport(lab.node(jump_host=JumpHost("127.0.0.1", lab.port)))
    try:
        assert (await t.run("echo ok")).output.strip() == "ok"
    finally:
        await t.close()


async def test_an_error_at_the_jump_host_names_the_jump_host(lab, tmp_path):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    dead_port = free.getsockname()[1]
    free.close()  # nothing listens there now
    t = NodeTransport(lab.node(jump_host=JumpHost("127.0.0.1", dead_port, "admin")))
    with pytest.raises(TransportError) as err:
        await t.run("true")
    assert str(err.value).startswith(f"jump host admin@127.0.0.1:{dead_port}: cannot connect"), err.value
    # the jump host works but the node behind it refuses the login: that is the node's hop
    other = asyncssh.generate_private_key("ssh-ed25519")
    bad = tmp_path / "other_id"
    other.write_private_key(str(bad))
    bad.chmod(0o600)
    t = NodeTransport(lab.node(identity_file=bad, jump_host=JumpHost("127.0.0.1", lab.port, "admin")))
    with pytest.raises(TransportError) as err:
        await t.run("true")
    assert str(err.value).startswith("jump host admin@127.0.0.1"), err.value  # same key on both hops
    await t.close()


@pytest.mark.parametrize("which, mode, words", [
    ("identity", 0o644, "can be read or written by group or others"),
    ("identity", 0o620, "can be read or written by group or others"),
    ("known_hosts", 0o664, "can be written by group or others"),
    ("known_hosts", 0o646, "can be written by group or others"),
])
async def test_files_others_may_change_are_refused_with_the_fix(lab, which, mode, words):
    path = lab.identity if which == "identity" else lab.known_hosts
    path.chmod(mode)
    t = NodeTransport(lab.node())
    with pytest.raises(TransportError) as err:
        await t.run("true")
    assert words in str(err.value) and f"fix: chmod 600 {path}" in str(err.value), err.value
    assert lab.connections == []  # refused before connecting
    path.chmod(0o600)
    assert (await t.run("echo fine")).output.strip() == "fine"
    await t.close()


def test_password_file_others_may_read_is_refused(tmp_path):
    from hatui.config import MariadbConfig

    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    pw.chmod(0o640)
    with pytest.raises(PermissionError, match=r"chmod 600"):
        MariadbConfig(password_file=pw).password()
    pw.chmod(0o600)
    assert MariadbConfig(password_file=pw).password() == "s3cret"


# ---- P3: a refused host key is its own error, with the fingerprint, and does not loop -----------------
async def test_unknown_host_key_is_a_host_key_error_with_fingerprint(lab):
    lab.known_hosts.write_text("")
    t = NodeTransport(lab.node())
    with pytest.raises(HostKeyError) as err:
        await t.run("true")
    assert err.value.kind == "unknown" and err.value.fingerprint == lab.host_key.get_fingerprint()
    assert lab.host_key.get_fingerprint() in str(err.value) and "host key not verified" in str(err.value)
    assert t.host_key_problem is err.value


async def test_changed_host_key_is_flagged_and_not_retried_until_known_hosts_changes(lab):
    lab.trust(asyncssh.generate_private_key("ssh-ed25519"))  # known_hosts holds another key for the host
    t = NodeTransport(lab.node())
    with pytest.raises(HostKeyError) as err:
        await t.run("true")
    assert err.value.kind == "changed" and "man-in-the-middle" in str(err.value)
    assert err.value.fingerprint == lab.host_key.get_fingerprint()
    seen = len(lab.connections)
    for _ in range(3):  # the poll loop calling again: the same error, no new connection to the server
        with pytest.raises(HostKeyError):
            await t.run("true")
    assert len(lab.connections) == seen
    lab.trust(lab.host_key)  # the operator verified the key and updated known_hosts
    assert (await t.run("echo back")).output.strip() == "back"
    assert t.host_key_problem is None
    await t.close()


# ---- P7: errors that are not TransportErrors must not escape --------------------------------------------
async def test_passphrase_protected_identity_is_a_transport_error(lab):
    # PKCS#8 (no bcrypt needed to write or to recognise it as encrypted)
    lab.client_key.write_private_key(str(lab.identity), "pkcs8-pem", passphrase="secret", cipher_name="aes256-cbc")
    t = NodeTransport(lab.node())
    with pytest.raises(TransportError) as err:
        await t.run("true")
    assert str(lab.identity) in str(err.value) and "passphrase-protected keys need an agent" in str(err.value)


async def test_batch_round_trip_through_the_server(lab):
    t = NodeTransport(lab.node())
    try:
        res = await t.batch({"a": "echo one", "b": "echo two; false"})
    finally:
        await t.close()
    assert res["a"].output == "one\n" and res["a"].exit_status == 0
    assert res["b"].output == "two\n" and res["b"].exit_status == 1


@pytest.mark.parametrize("status", ["²", "١", "1²", "", "-1", "9999"])
def test_split_batch_takes_only_ascii_exit_statuses(status):
    raw = f"\n@@Bn@@x@@\nout\n@@En@@x@@{status}@@\n@@DONEn@@\n"
    assert _split_batch(raw, "n", {"x": "cmd"})["x"].exit_status is None
    assert _split_batch(raw.replace(f"@@{status}@@", "@@7@@"), "n", {"x": "cmd"})["x"].exit_status == 7
