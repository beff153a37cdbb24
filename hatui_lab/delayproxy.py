"""A TCP proxy that delays what the node sends back, for a node that is slow but answering.

The lab's kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set, and there are no modules to load:
`tc qdisc add dev eth0 root netem delay 300ms` says "Specified qdisc kind is unknown"), so the delay is
made in user space, inside the node's network namespace, in front of its sshd:

    ip netns exec <node's netns> python3 hatui_lab/delayproxy.py LISTEN_HOST LISTEN_PORT \
        TO_HOST TO_PORT DELAY_MS

Every chunk the server sends is forwarded DELAY_MS after it arrived (in order, each on its own clock,
as netem delays packets on a link: a stream of replies is shifted, not slowed down chunk by chunk);
what the client sends goes through at once.  Stands alone (no import of the lab or of hatui) so that
it runs as a plain file in the namespace.  Prints "ready" once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(send())
    try:
        while True:
            chunk = await reader.read(65536)
            queue.put_nowait((time.monotonic() + delay_s, chunk))
            if not chunk:
                break
        await sender
    except (OSError, asyncio.IncompleteReadError):
        sender.cancel()
    finally:
        with contextlib.suppress(OSError):
            writer.close()


async def serve(listen_host: str, listen_port: int, to_host: str, to_port: int, delay_ms: float) -> None:
    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(to_host, to_port)
        except OSError:
            c_writer.close()
            return
        await asyncio.gather(_pipe(c_reader, s_writer, 0.0), _pipe(s_reader, c_writer, delay_ms / 1000),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, listen_host, listen_port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def delayed(netns: str, host: str, delay_ms: float, listen_port: int = 2222, to_port: int = 22) -> Iterator[int]:
    """Run the proxy in `netns` on host:listen_port in front of host:to_port while the block runs; yields
    the port to connect to.  Ended (by its own PID) when the block ends."""
    proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-I", __file__, host, str(listen_port),
                             host, str(to_port), str(delay_ms)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            proc.kill()
            why = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"delay proxy in {netns} did not start: {line}{why}")
        yield listen_port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def known_hosts_for_port(known_hosts: Path, host: str, port: int, out: Path) -> Path:
    """A copy of `known_hosts` that also vouches for host:port with host's own keys (ssh looks up
    `[host]:port` for a port other than 22): the proxy's port serves the node's sshd, the same keys."""
    lines = known_hosts.read_text().splitlines()
    extra = [f"[{host}]:{port} {line.split(' ', 1)[1]}" for line in lines if line.split(" ", 1)[0] == host]
    if not extra:
        raise ValueError(f"{known_hosts} has no key for {host}")
    out.write_text("\n".join(lines + extra) + "\n")
    out.chmod(0o600)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    listen_host, listen_port, to_host, to_port, delay_ms = argv
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(listen_host, int(listen_port), to_host, int(to_port), float(delay_ms)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
