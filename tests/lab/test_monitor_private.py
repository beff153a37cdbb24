"""P15 on the real lab: while the collector polls, hatui owns no TCP listening socket (the MariaDB forward
is a unix socket in a private directory), and Galera is still read through it."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from hatui.collector import Collector
from hatui.config import load
from hatui_lab import observe as helpers
from tests.sockets import tcp_listening_ports_of_this_process

pytestmark = pytest.mark.lab


async def test_no_tcp_listener_while_polling_and_the_forward_is_private(healthy_lab):
    cfg = load(str(helpers.LAB_DIR / "hatui-lab.yaml"))
    before = tcp_listening_ports_of_this_process()
    collector = Collector(cfg)
    dirs = []
    try:
        # poll cycles (the same poll_node path as the live loops; the live loops' close() can hang on
        # Python 3.11 — wait_for swallowing a cancel — which is the collector's to fix, not this test's)
        for _ in range(30):
            snap = await collector.snapshot_once()
            assert tcp_listening_ports_of_this_process() == before  # no listener added (was 127.0.0.1:<port>)
            if all(n.reachable and n.galera is not None and n.galera.cluster_size == 2 for n in snap.nodes):
                break
            await asyncio.sleep(0.5)
        assert all(n.galera is not None and n.galera.cluster_size == 2 for n in snap.nodes), \
            [(n.node, n.error, n.galera) for n in snap.nodes]  # Galera was read through the unix socket
        for name, t in collector.transports.items():
            d = t.mysql_socket_dir
            assert d is not None, name
            st = os.stat(d)
            assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid(), (name, oct(st.st_mode))
            assert stat.S_ISSOCK(os.stat(os.path.join(d, "mysql.sock")).st_mode)
            dirs.append(d)
    finally:
        await asyncio.wait_for(collector.close(), 30)
    assert dirs and not any(os.path.exists(d) for d in dirs)  # removed on close
