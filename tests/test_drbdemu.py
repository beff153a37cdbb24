"""The DRBD emulator of the lab (hatui_lab/drbdemu/): two real ``kernel`` daemons on loopback, the
CLI run as subprocesses, outputs compared with the shapes of /work/shared/samples (expected texts
are inlined below with the sample they come from)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hatui_lab.drbdemu.bundle import build_zipapp
from hatui_lab.drbdemu.config import Config
from hatui_lab.drbdemu.proctext import grouped, progress_lines

# The emulator as the lab's nodes run it: its zipapp (built once for this module, see emu_zipapp)
EMU = Path("drbdemu.pyz")
TICK = 0.1
PING_TIMEOUT = 0.6

# samples/drbd84/drbdadm-status-utils9-kernel84-primary.txt (REAL, LINBIT/drbd#97) + the blank line
# status_cmd() prints after every resource
STATUS84_PRIMARY = (
    "r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n    replication:Established peer-disk:UpToDate\n\n"
)
STATUS84_SECONDARY = (
    "r0 role:Secondary\n  disk:UpToDate\n  peer role:Primary\n    replication:Established peer-disk:UpToDate\n\n"
)
# samples/drbd9/drbdadm-status-2node-primary-healthy-reconstructed.txt, -secondary-healthy-
STATUS9_PRIMARY = "r0 role:Primary\n  disk:UpToDate\n  node2 role:Secondary\n    peer-disk:UpToDate\n\n"
STATUS9_SECONDARY = "r0 role:Secondary\n  disk:UpToDate\n  node1 role:Primary\n    peer-disk:UpToDate\n\n"
# samples/drbd84/drbdadm-primary-peer-is-primary-kernel84-reconstructed.txt
PRIMARY_REFUSED_84 = (
    "0: State change failed: (-1) Multiple primaries not allowed by config\n"
    "Command 'drbdsetup-84 primary 0' terminated with exit code 11\n"
)
# samples/drbd9/drbdadm-primary-peer-is-primary-reconstructed.txt
PRIMARY_REFUSED_9 = (
    "r0: State change failed: (-1) Multiple primaries not allowed by config\n"
    "Command 'drbdsetup primary r0' terminated with exit code 11\n"
)
# samples/drbd84/drbdadm-secondary-device-in-use-utils9.11-kernel84.txt (REAL, minor 1 there)
SECONDARY_HELD_84 = (
    "0: State change failed: (-12) Device is held open by someone\n"
    "Command 'drbdsetup-84 secondary 0' terminated with exit code 11\n"
)
# samples/drbd84/drbdadm-invalidate-kernel84-not-connected-reconstructed.txt
INVALIDATE_UNCONNECTED_84 = (
    "0: State change failed: (-15) Need a connection to start verify or resync\n"
    "Command 'drbdsetup-84 invalidate 0' terminated with exit code 11\n"
)
# FORMATS.md §1.3 and samples/drbd84/proc_drbd-intree-8.4.11-*-reconstructed.txt
PROGRESS_RE = re.compile(r"^\t\[=*>\.*\] sync'ed:[ \d]{2}\d\.\d% \(\d+/\d+\)K$")
FINISH_RE = re.compile(r"^\tfinish: \d+:\d\d:\d\d speed: \d{1,3}(,\d{3})* \(\d{1,3}(,\d{3})*\)( want: [\d,]+)? K/sec$")
COUNTERS_RE = re.compile(
    r"^    ns:\d+ nr:\d+ dw:\d+ dr:\d+ al:\d+ bm:\d+ lo:\d+ pe:\d+ ua:\d+ ap:\d+ ep:1 wo:f oos:\d+$"
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pair:
    """Two emulated nodes sharing one state_dir; daemons are always killed by the fixture."""

    def __init__(self, tmp: Path, version: str, size_kib: int = 8192, rate: int = 40960) -> None:
        self.tmp, self.version = tmp, version
        self.daemons: dict[str, subprocess.Popen[bytes]] = {}
        self.others: list[subprocess.Popen[Any]] = []
        ports = {"node1": free_udp_port(), "node2": free_udp_port()}
        for me, peer, nid in (("node1", "node2", 0), ("node2", "node1", 1)):
            (tmp / f"{me}-data").mkdir()
            (tmp / f"mnt-{me}").mkdir()
            conf = {
                "node": me,
                "peer": peer,
                "node_id": nid,
                "version": version,
                "state_dir": str(tmp / "state"),
                "backing_dir": str(tmp / f"{me}-data"),
                "peer_backing_dir": str(tmp / f"{peer}-data"),
                "local_addr": "127.0.0.1",
                "peer_addr": "127.0.0.1",
                "port": ports[me],
                "peer_port": ports[peer],
                "size_kib": size_kib,
                "resync_rate_kib_s": rate,
                "proc_file": str(tmp / f"{me}.proc"),
                "ping_timeout_s": PING_TIMEOUT,
                "tick_s": TICK,
                "mount_point": str(tmp / f"mnt-{me}"),
            }
            (tmp / f"{me}.json").write_text(json.dumps(conf))

    def env(self, node: str) -> dict[str, str]:
        return {**os.environ, "DRBDEMU_CONF": str(self.tmp / f"{node}.json")}

    def start(self, node: str) -> None:
        with open(self.tmp / f"{node}-daemon.log", "ab") as log:
            self.daemons[node] = subprocess.Popen(
                [sys.executable, str(EMU), "kernel"], env=self.env(node), stdout=log, stderr=log
            )

    def events2(self, node: str, target: str) -> subprocess.Popen[str]:
        """A following `drbdsetup events2 TARGET` on the node, stopped with the pair."""
        stream = subprocess.Popen([sys.executable, str(EMU), "drbdsetup", "events2", target], env=self.env(node),
                                  stdout=subprocess.PIPE, text=True)
        self.others.append(stream)
        return stream

    def kill(self, node: str, sig: int = signal.SIGKILL) -> None:
        p = self.daemons.pop(node)
        p.send_signal(sig)
        p.wait(5)

    def stop_all(self) -> None:
        for p in self.others:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        for node in list(self.daemons):
            self.kill(node)

    def run(self, node: str, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(EMU), tool, *args],
            env=self.env(node),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def adm(self, node: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(node, "drbdadm", *args)

    def ok(self, node: str, *args: str) -> str:
        r = self.adm(node, *args)
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    def proc(self, node: str) -> str:
        return (self.tmp / f"{node}.proc").read_text()

    def line3(self, node: str) -> str:
        lines = self.proc(node).splitlines()
        return lines[2] if len(lines) > 2 else ""

    def wait(self, pred: Callable[[], Any], timeout: float = 8.0, what: str = "") -> Any:
        end = time.time() + timeout
        while time.time() < end:
            with_value = pred()
            if with_value:
                return with_value
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what or pred}")

    def wait_cs(self, node: str, text: str, timeout: float = 8.0) -> None:
        self.wait(
            lambda: (self.tmp / f"{node}.proc").exists() and text in self.proc(node),
            timeout,
            f"{node}: {text!r} in /proc/drbd",
        )

    def wait_status(self, node: str, text: str, timeout: float = 8.0) -> str:
        def found() -> str | None:
            out = self.adm(node, "status", "r0").stdout
            return out if text in out else None

        return self.wait(found, timeout, f"{node}: {text!r} in drbdadm status")


@pytest.fixture(scope="module", autouse=True)
def emu_zipapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the zipapp the lab delivers to its nodes, and run every emulator command through it."""
    global EMU
    EMU = build_zipapp(tmp_path_factory.mktemp("drbdemu") / "drbdemu.pyz")
    return EMU


@pytest.fixture
def make_pair(tmp_path: Path) -> Any:
    pairs: list[Pair] = []

    def make(version: str, primary: bool = True, **kw: Any) -> Pair:
        p = Pair(tmp_path / f"pair{len(pairs)}", version, **kw) if pairs else Pair(tmp_path, version, **kw)
        pairs.append(p)
        p.start("node1")
        p.start("node2")
        ready = (
            (lambda n: "cs:Connected" in p.proc(n))
            if version == "84"
            else (
                lambda n: (
                    "role:Secondary" in p.adm(n, "status", "r0").stdout
                    and "connection:" not in p.adm(n, "status").stdout
                )
            )
        )
        p.wait(
            lambda: all((p.tmp / f"{n}.proc").exists() and ready(n) for n in ("node1", "node2")),
            what="initial connection",
        )
        if primary:
            p.ok("node1", "primary", "r0")
        return p

    yield make
    for p in pairs:
        p.stop_all()


def test_proc_progress_arithmetic_matches_samples(tmp_path: Path) -> None:
    """drbd_get_syncer_progress()/drbd_syncer_progress() on the values of the 8.4.11 samples."""
    cfg = Config(
        node="node1",
        peer="node2",
        node_id=0,
        version="84",
        state_dir=str(tmp_path),
        backing_dir=str(tmp_path),
        peer_backing_dir=str(tmp_path),
        local_addr="127.0.0.1",
        peer_addr="127.0.0.1",
        proc_file=str(tmp_path / "p"),
        resync_rate_kib_s=102400,
    )
    now = 1000.0

    def lines(cs: str, total: int, left: int, mark_left: int) -> list[str]:
        rs = {
            "kind": "resync",
            "total_bits": total,
            "left_bits": left,
            "start": now - 100,
            "paused": 0.0,
            "marks": [[now - 18, mark_left]],
        }
        return progress_lines(cfg, {"rs": rs, "cs": cs}, now).splitlines()

    # samples/drbd84/proc_drbd-intree-8.4.11-syncsource-reconstructed.txt: 10 GiB, M units, 38.3%
    src = lines("SyncSource", 2621440, 1620000, 1620000 + 11243 * 18)
    assert src[0] == "\t[======>.............] sync'ed: 38.3% (6328/10240)M"
    assert src[1].startswith("\tfinish: 0:02:24 speed: 44,972 (") and src[1].endswith(") K/sec")
    # samples/drbd84/proc_drbd-intree-8.4.11-synctarget-want-reconstructed.txt: want: on SyncTarget
    tgt = lines("SyncTarget", 1310720, 786432, 786432 + 11200 * 18)
    assert tgt[0] == "\t[=======>............] sync'ed: 40.1% (3072/5120)M"
    assert tgt[1].startswith("\tfinish: ") and " speed: 44,800 (" in tgt[1] and tgt[1].endswith(" want: 102,400 K/sec")
    # K units below 4 GiB; nothing done yet: the bar is one character wider
    full = lines("SyncSource", 1000000, 1000000, 1000000)[0]
    assert full == "\t[>....................] sync'ed:  0.2% (4000000/4000000)K"
    # fewer than 1024 bits left: left >> 10 == 0, the kernel already says 100% (tiny lab devices)
    assert "sync'ed:100.0% (400/800)K" in lines("SyncTarget", 200, 100, 200)[0]
    assert [grouped(v) for v in (999, 64800, 1024000)] == ["999", "64,800", "1,024,000"]


def test_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"node": "node1", "peer": "node2", "node_id": 0, "version": "8"}))
    r = subprocess.run(
        [sys.executable, str(EMU), "drbdadm", "status"],
        env={**os.environ, "DRBDEMU_CONF": str(bad)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2
    assert "missing key 'state_dir'" in r.stderr
    r = subprocess.run(
        [sys.executable, str(EMU), "drbdadm", "status"],
        env={**os.environ, "DRBDEMU_CONF": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and "DRBDEMU_CONF is not set" in r.stderr


def test_84_initial_proc_status_events(make_pair: Any) -> None:
    p = make_pair("84")
    p.wait_cs("node2", "ro:Secondary/Primary")
    lines = p.proc("node1").splitlines(keepends=True)
    # in-tree module header: srcversion padded to 24 columns (trailing space), FORMATS §1.1
    assert lines[0] == "version: 8.4.11 (api:1/proto:86-101)\n"
    assert lines[1] == "srcversion: 211FB288A383ED945B83420 \n"
    assert lines[2] == " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
    assert COUNTERS_RE.match(lines[3].rstrip("\n")) and lines[3].endswith("oos:0\n") and len(lines) == 4
    assert p.line3("node2") == " 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----"
    assert p.adm("node1", "status", "r0").stdout == STATUS84_PRIMARY
    assert p.adm("node2", "status").stdout == STATUS84_SECONDARY
    # FORMATS §2.3, 8.4 column
    assert p.ok("node1", "role", "r0") == "Primary/Secondary\n"
    assert p.ok("node2", "role", "r0") == "Secondary/Primary\n"
    assert p.ok("node1", "cstate", "r0") == "Connected\n"
    assert p.ok("node1", "dstate", "r0") == "UpToDate/UpToDate\n"
    # events2 on the 8.4 path: peer-node-id:0 conn-name:peer, no path object, no done:
    ev = p.run("node1", "drbdsetup", "events2", "--now", "r0").stdout
    assert ev == (
        "exists resource name:r0 role:Primary suspended:no\n"
        "exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary\n"
        "exists device name:r0 volume:0 minor:0 disk:UpToDate\n"
        "exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established "
        "peer-disk:UpToDate resync-suspended:no\n"
        "exists -\n"
    )
    ev = p.run("node1", "drbdsetup", "events2", "--now", "--statistics").stdout.splitlines()
    # samples/events2/kernel84-events2-now-statistics-syncsource-reconstructed.txt key order
    assert re.fullmatch(r"exists resource name:r0 role:Primary suspended:no write-ordering:flush", ev[0])
    assert re.fullmatch(
        r"exists device name:r0 volume:0 minor:0 disk:UpToDate size:8192 read:\d+ written:\d+ "
        r"al-writes:\d+ bm-writes:\d+ upper-pending:0 lower-pending:0 al-suspended:no blocked:no",
        ev[2],
    )
    assert re.fullmatch(
        r"exists peer-device .* resync-suspended:no received:\d+ sent:\d+ out-of-sync:0 "
        r"pending:0 unacked:0",
        ev[3],
    )
    verbose = p.run("node1", "drbdsetup", "status", "r0", "--verbose", "--statistics").stdout
    assert verbose.startswith(
        "r0 role:Primary suspended:no\n    write-ordering:flush\n  volume:0 minor:0 disk:UpToDate\n"
    )
    assert "  peer connection:Connected role:Secondary congested:no\n" in verbose
    r = p.run("node1", "drbdsetup", "status", "--json")
    assert r.returncode == 20  # no --json on the 8.4 code path
    assert p.ok("node1", "--version").splitlines()[2] == "DRBD_KERNEL_VERSION_CODE=0x08040b"


def test_9_proc_status_json_events(make_pair: Any) -> None:
    p = make_pair("9")
    # DRBD 9 /proc/drbd: header and transports, no device lines (FORMATS §1.1)
    proc = p.proc("node1").splitlines()
    assert len(proc) == 3 and proc[0] == "version: 9.2.12 (api:2/proto:118-122)"
    assert proc[1].startswith("GIT-hash: ") and proc[2] == "Transports (api:21): tcp (9.2.12)"
    assert p.wait_status("node1", "role:Primary") == STATUS9_PRIMARY
    assert p.wait_status("node2", "node1 role:Primary") == STATUS9_SECONDARY
    assert p.ok("node1", "role", "r0") == "Primary\n"
    assert p.ok("node2", "role", "r0:node1") == "Primary\n"
    assert p.ok("node1", "cstate", "r0") == "Connected\n"
    assert p.ok("node1", "dstate", "r0") == "UpToDate/UpToDate\n"
    js = json.loads(p.run("node1", "drbdsetup", "status", "--json").stdout)
    assert js[0]["name"] == "r0" and js[0]["node-id"] == 0 and js[0]["role"] == "Primary"
    assert js[0]["devices"][0]["disk-state"] == "UpToDate" and js[0]["devices"][0]["size"] == 8192
    conn = js[0]["connections"][0]
    assert conn["name"] == "node2" and conn["peer-node-id"] == 1 and conn["connection-state"] == "Connected"
    assert conn["peer_devices"][0]["replication-state"] == "Established"
    assert conn["peer_devices"][0]["percent-in-sync"] == 100
    ev = p.run("node1", "drbdsetup", "events2", "--now").stdout.splitlines()
    data = p.tmp / "node1-data"
    port1, port2 = (json.loads((p.tmp / f"{n}.json").read_text())["port"] for n in ("node1", "node2"))
    assert ev == [
        ("exists resource name:r0 role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:10102"),
        "exists connection name:r0 peer-node-id:1 conn-name:node2 connection:Connected role:Secondary",
        f"exists device name:r0 volume:0 minor:0 backing_dev:{data} disk:UpToDate client:no quorum:yes",
        (
            "exists peer-device name:r0 peer-node-id:1 conn-name:node2 volume:0 replication:Established "
            "peer-disk:UpToDate peer-client:no resync-suspended:no"
        ),
        (
            f"exists path name:r0 peer-node-id:1 conn-name:node2 local:ipv4:127.0.0.1:{port1} "
            f"peer:ipv4:127.0.0.1:{port2} established:yes"
        ),
        "exists -",
    ]
    ts = p.run("node2", "drbdsetup", "events2", "--now", "--timestamps").stdout.splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d (exists) ", ln) for ln in ts)
    assert "may_promote:no promotion_score:10102" in ts[0]
    verbose = p.run("node1", "drbdsetup", "status", "r0", "-vs").stdout
    assert verbose.startswith("r0 node-id:0 role:Primary suspended:no force-io-failures:no\n    write-ordering:flush\n")
    assert "  node2 node-id:1 connection:Connected role:Secondary tls:no congested:no\n      ap-in-flight:0" in verbose
    # wrap_printf() breaks before a token that would pass column 80 (the long tmp path may not fit)
    assert all(len(ln) <= 80 or ln.split()[-1].startswith("backing_dev:") for ln in verbose.splitlines())


@pytest.mark.parametrize("version,expected", [("84", PRIMARY_REFUSED_84), ("9", PRIMARY_REFUSED_9)])
def test_primary_refused_while_peer_primary(make_pair: Any, version: str, expected: str) -> None:
    p = make_pair(version)
    r = p.adm("node2", "primary", "r0")
    assert (r.returncode, r.stderr, r.stdout) == (11, expected, "")
    # without UpToDate data anywhere: (-2), exit 17 (print_config_error())
    p.ok("node1", "disconnect", "r0")
    p.ok("node2", "disconnect", "r0")
    p.ok("node2", "invalidate", "r0")  # StandAlone Secondary: local only, disk Inconsistent
    r = p.adm("node2", "primary", "r0")
    obj, tool = ("0", "drbdsetup-84 primary 0") if version == "84" else ("r0", "drbdsetup primary r0")
    assert (r.returncode, r.stderr) == (
        17,
        (
            f"{obj}: State change failed: (-2) Need access to UpToDate data\n"
            f"Command '{tool}' terminated with exit code 17\n"
        ),
    )
    assert p.adm("node2", "primary", "--force", "r0").returncode == 0


def test_84_disconnect_connect(make_pair: Any) -> None:
    p = make_pair("84")
    p.ok("node2", "disconnect", "r0")
    p.wait_cs("node1", "cs:WFConnection")
    assert p.line3("node1") == " 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----"
    # no net config: no protocol letter, three spaces (FORMATS §1.2)
    assert p.line3("node2") == " 0: cs:StandAlone ro:Secondary/Unknown ds:UpToDate/DUnknown   r-----"
    # samples/drbd84/drbdadm-status-kernel84-wfconnection-reconstructed.txt, -standalone-
    assert p.adm("node1", "status", "r0").stdout == "r0 role:Primary\n  disk:UpToDate\n  peer connection:Connecting\n\n"
    assert (
        p.adm("node2", "status", "r0").stdout == "r0 role:Secondary\n  disk:UpToDate\n  peer connection:StandAlone\n\n"
    )
    assert p.ok("node1", "cstate", "r0") == "WFConnection\n"
    assert p.ok("node1", "role", "r0") == "Primary/Unknown\n"
    assert p.ok("node1", "dstate", "r0") == "UpToDate/DUnknown\n"
    # samples/drbd84/drbdadm-connect-already-connected-kernel84-reconstructed.txt (ports differ)
    r = p.adm("node1", "connect", "--discard-my-data", "r0")
    port1 = json.loads((p.tmp / "node1.json").read_text())["port"]
    port2 = json.loads((p.tmp / "node2.json").read_text())["port"]
    assert r.returncode == 10
    assert r.stderr == (
        "r0: Failure: (125) Device has a net-config (use disconnect first)\n"
        f"Command 'drbdsetup-84 connect r0 ipv4:127.0.0.1:{port1} ipv4:127.0.0.1:{port2} "
        "--protocol=C --discard-my-data' terminated with exit code 10\n"
    )
    # invalidate needs a connection on a WFConnection node
    r = p.adm("node1", "invalidate", "r0")
    assert (r.returncode, r.stderr) == (11, INVALIDATE_UNCONNECTED_84)
    p.ok("node2", "connect", "r0")
    p.wait_cs("node1", "cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----")
    p.wait_cs("node2", "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----")


def test_9_disconnect_connect(make_pair: Any) -> None:
    p = make_pair("9")
    p.ok("node2", "disconnect", "r0")
    # samples/drbd9/drbdadm-status-peer-down-connecting-reconstructed.txt
    assert (
        p.wait_status("node1", "connection:Connecting")
        == "r0 role:Primary\n  disk:UpToDate\n  node2 connection:Connecting\n\n"
    )
    assert (
        p.adm("node2", "status", "r0").stdout == "r0 role:Secondary\n  disk:UpToDate\n  node1 connection:StandAlone\n\n"
    )
    assert p.ok("node1", "cstate", "r0") == "Connecting\n"
    assert p.ok("node1", "dstate", "r0") == "UpToDate/DUnknown\n"
    r = p.adm("node1", "verify", "r0")
    assert (r.returncode, r.stderr) == (
        11,
        (
            "r0: State change failed: (-15) State change requires a connection\n"
            "Command 'drbdsetup verify r0 1 0' terminated with exit code 11\n"
        ),
    )
    r = p.adm("node1", "connect", "r0")
    assert r.returncode == 10 and r.stderr.startswith(
        "r0: Failure: (125) Device has a net-config (use disconnect first)\n"
    )
    stream = p.events2("node2", "r0")
    assert stream.stdout.readline().startswith("exists resource name:r0 role:Secondary ")
    p.ok("node2", "connect", "r0")
    seen: list[str] = []
    p.wait(lambda: seen.append(stream.stdout.readline()) or " established:yes" in seen[-1], what="path event")
    port1, port2 = (json.loads((p.tmp / f"{n}.json").read_text())["port"] for n in ("node1", "node2"))
    assert "change connection name:r0 peer-node-id:0 conn-name:node1 connection:Connected role:Primary\n" in seen
    assert seen[-1] == (
        f"change path name:r0 peer-node-id:0 conn-name:node1 local:ipv4:127.0.0.1:{port2} "
        f"peer:ipv4:127.0.0.1:{port1} established:yes\n"
    )
    # node1 was Primary alone (new data generation): a short resync precedes the healthy state
    p.wait(lambda: p.adm("node1", "status", "r0").stdout == STATUS9_PRIMARY, what="healthy status")


def test_84_invalidate_resync_progress_pause(make_pair: Any) -> None:
    p = make_pair("84", size_kib=32000, rate=16000)
    p.ok("node2", "invalidate", "r0")
    p.wait_cs("node2", "cs:SyncTarget")
    first = p.proc("node2").splitlines()
    assert first[2] == " 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----"
    assert PROGRESS_RE.match(first[4]) and FINISH_RE.match(first[5]) and " want: 16,000 K/sec" in first[5]
    p.wait_cs("node1", "cs:SyncSource")  # the peer's daemon rewrites its /proc/drbd at its next tick
    src = p.proc("node1").splitlines()
    assert src[2] == " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----"
    assert FINISH_RE.match(src[5]) and "want:" not in src[5]  # want: only on SyncTarget (and VerifyS)
    assert re.fullmatch(
        r"r0 role:Secondary\n  disk:Inconsistent\n  peer role:Primary\n"
        r"    replication:SyncTarget peer-disk:UpToDate done:\d+\.\d\d\n\n",
        p.adm("node2", "status", "r0").stdout,
    )
    assert p.ok("node2", "cstate", "r0") == "SyncTarget\n"
    assert p.ok("node2", "dstate", "r0") == "Inconsistent/UpToDate\n"
    time.sleep(0.4)
    second = p.proc("node2").splitlines()

    def oos(lines: list[str]) -> int:
        return int(re.search(r"oos:(\d+)", lines[3]).group(1))

    assert oos(second) < oos(first)  # the resync moves: out-of-sync shrinks, nr grows
    assert int(re.search(r" nr:(\d+)", second[3]).group(1)) > int(re.search(r" nr:(\d+)", first[3]).group(1))
    assert PROGRESS_RE.match(second[4]) and second[4].split("(")[1] != first[4].split("(")[1]
    p.ok("node2", "pause-sync", "r0")
    p.wait_cs("node2", "cs:PausedSyncT")
    assert p.line3("node2") == " 0: cs:PausedSyncT ro:Secondary/Primary ds:Inconsistent/UpToDate C r--u--"
    p.wait_cs("node1", "cs:PausedSyncS ro:Primary/Secondary ds:UpToDate/Inconsistent C r-p---")
    assert len(p.proc("node2").splitlines()) == 4  # no progress lines while paused
    assert "resync-suspended:user" in p.adm("node2", "status", "r0").stdout
    held = oos(p.proc("node2").splitlines())
    time.sleep(0.3)
    assert oos(p.proc("node2").splitlines()) == held
    r = p.adm("node2", "pause-sync", "r0")
    assert r.returncode == 10 and r.stderr.startswith("0: Failure: (134) Sync-pause flag is already set\n")
    p.ok("node2", "resume-sync", "r0")
    p.wait_cs("node2", "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----", timeout=10)
    assert p.proc("node2").splitlines()[3].endswith(" oos:0")
    assert "Resync done" in (p.tmp / "state" / "kern-node2.log").read_text()


def test_9_resync_status_and_events(make_pair: Any) -> None:
    p = make_pair("9", size_kib=24000, rate=16000)
    p.ok("node2", "invalidate", "r0")
    out = p.wait_status("node1", "replication:SyncSource")
    assert re.fullmatch(
        r"r0 role:Primary\n  disk:UpToDate\n  node2 role:Secondary\n"
        r"    replication:SyncSource peer-disk:Inconsistent done:\d+\.\d\d\n\n",
        out,
    )
    ev = p.run("node2", "drbdsetup", "events2", "--now", "--statistics").stdout.splitlines()
    pd = next(ln for ln in ev if ln.startswith("exists peer-device"))
    assert re.search(
        r" replication:SyncTarget peer-disk:UpToDate peer-client:no resync-suspended:no done:\d+\.\d\d "
        r"received:\d+ sent:0 out-of-sync:\d+ pending:0 unacked:0 dbdt1:15\.62 eta:\d+$",
        pd,
    )
    js = json.loads(p.run("node1", "drbdsetup", "status", "--json").stdout)
    pdj = js[0]["connections"][0]["peer_devices"][0]
    assert pdj["has-sync-details"] is True and pdj["rs-total"] == 48000 and 0 <= pdj["percent-resync-done"] <= 100
    p.wait_status("node2", "node1 role:Primary\n    peer-disk:UpToDate", timeout=10)


def test_84_verify_finds_and_resync_repairs(make_pair: Any) -> None:
    p = make_pair("84", size_kib=24000, rate=16000)
    (p.tmp / "node1-data" / "table").write_bytes(b"A" * 9000)
    p.wait(lambda: (p.tmp / "node2-data" / "table").exists(), what="replication")
    time.sleep(3 * TICK)
    tampered = p.tmp / "node2-data" / "table"
    stat = tampered.stat()
    tampered.write_bytes(b"B" * 9000)  # same size and mtime: only a content compare sees it
    os.utime(tampered, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    p.ok("node1", "verify", "r0")
    p.wait_cs("node1", "cs:VerifyS")
    lines = p.proc("node1").splitlines()
    assert lines[2] == " 0: cs:VerifyS ro:Primary/Secondary ds:UpToDate/UpToDate C r-----"
    assert re.match(r"^\t\[=*>\.*\] verified:[ \d]{2}\d\.\d% \(\d+/24000\)K$", lines[4])
    assert FINISH_RE.match(lines[5]) and lines[5].endswith(" want: 16,000 K/sec")  # VerifyS has want:
    p.wait_cs("node2", "cs:VerifyT ro:Secondary/Primary ds:UpToDate/UpToDate C r-----")
    r = p.adm("node2", "verify", "r0")
    assert (r.returncode, r.stderr) == (
        11,
        "0: State change failed: (-8) Can not start OV/resync since it is already active\n"
        "Command 'drbdsetup-84 verify 0' terminated with exit code 11\n",
    )
    p.wait_cs("node1", "cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----", timeout=10)
    p.wait_cs("node1", " oos:12\n")  # 9000 bytes: three 4 KiB blocks differ
    assert "Online verify found 3 4k block out of sync!" in (p.tmp / "state" / "kern-node1.log").read_text()
    # the documented repair: disconnect and connect; the Primary resyncs the blocks verify found
    p.ok("node2", "disconnect", "r0")
    p.ok("node2", "connect", "r0")
    p.wait_cs("node2", "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----")
    p.wait(lambda: tampered.read_bytes() == b"A" * 9000, what="repaired data")
    assert p.proc("node2").splitlines()[3].endswith(" oos:0")


@pytest.mark.parametrize("version", ["84", "9"])
def test_killed_daemon_drops_connection(make_pair: Any, version: str) -> None:
    p = make_pair(version)
    t0 = time.time()
    p.kill("node2")
    if version == "84":
        p.wait_cs("node1", "cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----", timeout=3)
    else:
        p.wait_status("node1", "node2 connection:Connecting", timeout=3)
    assert time.time() - t0 < PING_TIMEOUT + 3 * TICK + 0.3
    # node2's own tools see the module gone once its last heartbeat is older than live_s (0.5 s here);
    # the peer may notice a little earlier, so wait for it rather than race it
    r = p.wait(lambda: (res := p.adm("node2", "status", "r0")).returncode != 0 and res, timeout=2,
               what="node2's drbdsetup to find no module")
    if version == "84":  # user/v84/drbdsetup.c modprobe_drbd()
        assert (r.returncode, r.stderr) == (
            20,
            (
                "Could not stat /proc/drbd: No such file or directory\n"
                "Make sure that the DRBD kernel module is installed and can be loaded!\n"
                "Command 'drbdsetup-84 status r0' terminated with exit code 20\n"
            ),
        )
    else:  # user/v9/drbdsetup_linux.c modprobe_drbd(); "down"/"secondary" succeed without a module
        assert (r.returncode, r.stderr) == (
            20,
            (
                "Failed to modprobe drbd (No such file or directory)\n"
                "Command 'drbdsetup status r0' terminated with exit code 20\n"
            ),
        )
        assert p.adm("node2", "secondary", "r0").returncode == 0
    (p.tmp / "node1-data" / "while-alone").write_text("x" * 10000)
    if version == "84":  # a Primary without peer counts what differs, plus one AL extent
        p.wait(lambda: re.search(r"oos:(\d+)", p.proc("node1")).group(1) == str(4096 + 12), what="oos 4108")
    p.start("node2")
    p.wait(lambda: (p.tmp / "node2-data" / "while-alone").exists(), what="resync of the new file")
    if version == "84":
        p.wait_cs("node2", "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----")
        assert (
            "Began resync as SyncTarget (will sync 4108 KB [1027 bits set])."
            in (p.tmp / "state" / "kern-node2.log").read_text()
        )


def test_84_split_brain_and_manual_recovery(make_pair: Any) -> None:
    p = make_pair("84")
    stream = p.events2("node1", "all")
    (p.tmp / "node1-data" / "common").write_text("before\n")
    p.wait(lambda: (p.tmp / "node2-data" / "common").exists(), what="replication")
    p.ok("node1", "disconnect", "r0")
    p.wait_cs("node2", "cs:WFConnection")
    (p.tmp / "node1-data" / "from-node1").write_text("survivor\n")
    p.ok("node2", "primary", "r0")  # promoted while disconnected: a second data generation
    (p.tmp / "node2-data" / "from-node2").write_text("victim\n")
    time.sleep(3 * TICK)
    p.ok("node1", "connect", "r0")
    p.wait_cs("node1", "cs:StandAlone")
    p.wait_cs("node2", "cs:StandAlone")
    # FORMATS §1.2: StandAlone after split brain, ds stays UpToDate/DUnknown, no protocol letter
    assert p.line3("node1") == " 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----"
    assert p.line3("node2") == " 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----"
    for n in ("node1", "node2"):
        assert (
            "block drbd0: Split-Brain detected but unresolved, dropping connection!"
            in (p.tmp / "state" / f"kern-{n}.log").read_text()
        )
    seen: list[str] = []
    p.wait(lambda: seen.append(stream.stdout.readline()) or "helper:split-brain" in seen[-1], what="helper event")
    assert seen[-1] == "call helper name:r0 peer-node-id:0 conn-name:peer volume:0 minor:0 helper:split-brain\n"
    assert "exists -\n" in seen
    # the victim: demote, discard its data on connect (drbdadm connect --discard-my-data)
    p.ok("node2", "secondary", "r0")
    p.ok("node2", "connect", "--discard-my-data", "r0")
    p.ok("node1", "connect", "r0")
    p.wait_cs("node2", "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----", timeout=10)
    assert sorted(os.listdir(p.tmp / "node2-data")) == ["common", "from-node1"]
    assert (p.tmp / "node2-data" / "from-node1").read_text() == "survivor\n"
    assert (
        "Split-Brain detected, manually solved. Sync from peer node" in (p.tmp / "state" / "kern-node2.log").read_text()
    )


def test_data_follows_switchover(make_pair: Any) -> None:
    p = make_pair("84")
    (p.tmp / "node1-data" / "db").mkdir()
    for i in range(20):
        (p.tmp / "node1-data" / "db" / f"t{i}.ibd").write_bytes(os.urandom(2048) * (i + 1))
    # demote right away: the final sync on demotion must carry everything
    p.ok("node1", "secondary", "r0")
    p.ok("node2", "primary", "r0")
    for i in range(20):
        assert (p.tmp / "node2-data" / "db" / f"t{i}.ibd").read_bytes() == (
            p.tmp / "node1-data" / "db" / f"t{i}.ibd"
        ).read_bytes()
    (p.tmp / "node2-data" / "db" / "t0.ibd").write_text("changed on node2")
    p.wait(
        lambda: (p.tmp / "node1-data" / "db" / "t0.ibd").read_text(errors="replace") == "changed on node2",
        what="replication back to node1",
    )
    p.wait(lambda: int(re.search(r" ns:(\d+)", p.proc("node2")).group(1)) > 0, what="ns counter")


def test_84_down_up(make_pair: Any) -> None:
    p = make_pair("84")
    p.ok("node2", "down", "r0")
    p.wait_cs("node1", "cs:WFConnection")
    assert p.proc("node2") == "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420 \n"
    r = p.adm("node2", "status", "r0")
    assert (r.returncode, r.stderr) == (
        10,
        "r0: No such resource\nCommand 'drbdsetup-84 status r0' terminated with exit code 10\n",
    )
    r = p.adm("node2", "role", "r0")
    assert (r.returncode, r.stderr) == (
        10,
        (
            "0: Failure: (127) Device minor not allocated\nadditional info from kernel:\n"
            "unknown minor\nCommand 'drbdsetup-84 role 0' terminated with exit code 10\n"
        ),
    )
    p.ok("node2", "up", "r0")
    p.wait_cs("node2", "cs:Connected ro:Secondary/Primary")
    r = p.adm("node2", "up", "r0")
    assert r.returncode == 10 and "Minor or volume exists already (delete it first)" in r.stderr


@pytest.mark.skipif((os.geteuid() != 0 or not shutil.which("unshare")) and os.environ.get("HATUI_REQUIRE_LAB") != "1",
                    reason="needs root and unshare(1)")
@pytest.mark.parametrize("version", ["84", "9"])
def test_mount_rules(make_pair: Any, version: str) -> None:
    """Run inside a private mount namespace so that nothing leaks onto the host."""
    p = make_pair(version)
    e1, e2 = f"DRBDEMU_CONF={p.tmp}/node1.json", f"DRBDEMU_CONF={p.tmp}/node2.json"
    emu = f"{sys.executable} {EMU}"
    script = f"""
{e2} {emu} mount /dev/drbd0 {p.tmp}/mnt-node2; echo "secondary-mount=$?"
{e1} {emu} mount /dev/drbd0 {p.tmp}/mnt-node1; echo "primary-mount=$?"
echo via-mount > {p.tmp}/mnt-node1/file
{e1} {emu} drbdadm secondary r0; echo "secondary-held=$?"
{e1} {emu} drbdadm status r0
{e1} {emu} umount {p.tmp}/mnt-node1; echo "umount=$?"
{e1} {emu} drbdadm secondary r0; echo "secondary=$?"
{e1} {emu} umount {p.tmp}/mnt-node1; echo "umount-again=$?"
"""
    r = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = r.stdout
    assert "secondary-mount=32" in out and "primary-mount=0" in out
    assert "secondary-held=11" in out and "umount=0" in out and "secondary=0" in out
    assert "umount-again=0" not in out  # not mounted any more: the real umount(8) fails
    # util-linux 2.38 message for EMEDIUMTYPE after the read-only retry
    assert (
        f"mount: {p.tmp}/mnt-node2: mount(2) system call failed: Wrong medium type.\n"
        "       dmesg(1) may have more information after failed mount system call.\n"
    ) in r.stderr
    if version == "84":
        assert SECONDARY_HELD_84 in r.stderr
    else:  # samples/drbd9/drbdadm-secondary-in-use-openers-reconstructed.txt (DRBD >= 9.1.17)
        assert re.search(
            r"r0: State change failed: \(-12\) Device is held open by someone\n"
            r"additional info from kernel:\n/dev/drbd0 open_cnt:1, writable:1; list of openers follows\n"
            r"drbd0 opened by mount \(pid \d+\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\n"
            r"Command 'drbdsetup secondary r0' terminated with exit code 11\n",
            r.stderr,
        )
    assert (p.tmp / "node2-data" / "file").read_text() == "via-mount\n"
    assert not os.path.ismount(p.tmp / "mnt-node1")


@pytest.mark.parametrize("version", ["84", "9"])
def test_dump_and_dump_xml_as_drbd_utils(tmp_path: Path, version: str) -> None:
    """`drbdadm dump-xml` / `dump` through the zipapp (no daemon needed: drbdadm only parses the
    configuration): the header for all resources, none for a named one, hatui's parsers read both
    the same, and an unknown resource is refused as drbdadm refuses it."""
    from hatui.probes.confread import parse_drbd_dump, parse_drbd_dump_xml

    pair = Pair(tmp_path, version)
    conf = json.loads((tmp_path / "node1.json").read_text())
    conf["net_options"] = [["protocol", "C"], ["after-sb-0pri", "discard-zero-changes"]]
    conf["handlers"] = [["split-brain", "/usr/lib/drbd/notify-split-brain.sh root"]]
    (tmp_path / "node1.json").write_text(json.dumps(conf))
    xml_all = pair.ok("node1", "dump-xml")
    assert xml_all.startswith('<config file="/etc/drbd.conf">\n    <resource name="r0"')
    assert xml_all.endswith("</config>\n")
    xml_one = pair.ok("node1", "dump-xml", "r0")
    assert xml_one.startswith('<resource name="r0" conf-file-line="/etc/drbd.d/r0.res:1">')
    text = pair.ok("node1", "dump")
    assert text.startswith("# /etc/drbd.conf\n# resource r0 on node1: not ignored, not stacked\n")
    assert ("        node-id 0;\n" in text) == (version == "9")
    assert '        split-brain      "/usr/lib/drbd/notify-split-brain.sh root";\n' in text
    x, t = parse_drbd_dump_xml(xml_all).value, parse_drbd_dump(text).value
    assert x == t and x is not None
    assert x[0].option("net", "after-sb-0pri") == "discard-zero-changes"
    assert x[0].option("handlers", "split-brain") == "/usr/lib/drbd/notify-split-brain.sh root"
    bad = pair.adm("node1", "dump", "r9")
    assert bad.returncode == 1 and "'r9' not defined in your config (for this host)." in bad.stderr


def test_a_query_starts_without_the_dump_and_daemon_modules(tmp_path):
    """hatui runs `drbdsetup events2 --now` on every DRBD 9 poll: the emulator must start like the C tool
    does, not import the config dump's xml/urllib/http/email chain, subprocess or the kernel daemon's
    socket/queue/signal (190 ms of imports on the loaded lab machine, the whole of a poll's latency)."""
    pyz = build_zipapp(tmp_path / "drbdemu.pyz")
    heavy = ("subprocess", "xml.sax.saxutils", "urllib.request", "http.client", "email.parser", "socket",
             "queue", "signal")
    probe = f"import sys; sys.path.insert(0, {str(pyz)!r}); import drbdemu.cli; " \
            f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
