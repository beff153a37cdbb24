"""Issue 9 on the real lab: a log burst, a hung sshd, a refused host key, a maintenance pin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hatui_lab import observe as helpers

pytestmark = pytest.mark.lab


def status(config: Path | None = None) -> dict:
    res = helpers.hatui_cli("status", "--json", config=config, timeout_s=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def finding(doc: dict, code: str) -> dict | None:
    return next((f for f in doc["findings"] if f["code"] == code), None)


async def test_a_burst_of_30000_log_lines_keeps_the_node_up_and_every_line_arrives(healthy_lab):
    from hatui.collector import Collector
    from hatui.config import load

    cfg = load(str(helpers.LAB_DIR / "hatui-lab.yaml"))
    col = Collector(cfg)
    reader = col._loops["node1"].reader.log
    arrived: list[str] = []
    absorb = reader.absorb

    def counting(output: str):  # every event the reader delivers, not only the newest 500 kept
        events = absorb(output)
        arrived.extend(ev.name or "" for ev in events)
        return events

    reader.absorb = counting  # type: ignore[method-assign]
    try:
        await col.fresh()
        size = helpers.ssh("node1", f"stat -c %s {cfg.failover_log}").stdout.strip()
        line = "2026-12-01 03:12:00 - Keepalived notification on BURST: State changed to BACKUP (Type: INSTANCE)"
        res = helpers.ssh("node1", f"for i in $(seq 1 30000); do echo '{line}'; done >> {cfg.failover_log}",
                          timeout_s=60)
        assert res.returncode == 0
        seen = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            snap = await col.fresh()
            n1 = snap.node("node1")
            assert n1.reachable, f"node1 shown unreachable during the burst: {n1.error}"
            seen = arrived.count("BURST")
            if seen >= 30000 and not reader.behind:
                break
        assert reader.skipped_bytes == 0 and seen == 30000, (seen, reader.skipped_bytes)
        assert snap.node("node1").reachable and "NOBODY" not in json.dumps(status()["summary"])
    finally:
        await col.close()
        helpers.ssh("node1", f"truncate -s {size} {cfg.failover_log}")


def test_a_hung_sshd_is_unreachable_and_the_vip_line_says_what_is_known(healthy_lab):
    pids = helpers.sshd_pids("node1")
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        res = helpers.hatui_cli("status", timeout_s=60)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    first = res.stdout.splitlines()[0]
    assert "NOBODY" not in first and "nobody" not in first
    assert "unknown — node1 not reachable, node2 does not hold it; the VIP answers as node1" in first, first


def test_a_host_key_that_does_not_match_is_a_security_finding(healthy_lab, tmp_path):
    cfg_text = (helpers.LAB_DIR / "hatui-lab.yaml").read_text()
    known = tmp_path / "known_hosts"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = (tmp_path / "other.pub").read_text().split()
    real = (helpers.LAB_DIR / "ssh" / "known_hosts").read_text().splitlines()
    node1_ip = helpers.NODE_IP["node1"]
    lines = [ln for ln in real if not ln.startswith(node1_ip)] + [f"{node1_ip} {other[0]} {other[1]}"]
    known.write_text("\n".join(lines) + "\n")
    known.chmod(0o600)
    cfg = tmp_path / "hatui.yaml"
    cfg.write_text(cfg_text.replace(str(helpers.LAB_DIR / "ssh" / "known_hosts"), str(known)))
    doc = status(cfg)
    f = finding(doc, "host-key-mismatch")
    assert f is not None and f["severity"] == "critical" and f["nodes"] == ["node1"], doc["findings"]
    assert finding(doc, "node-unreachable") is None
    assert "man-in-the-middle" in f["title"] and "out of band" in f["action"]


def test_after_a_switchover_the_pin_finding_names_node_value_and_clear_command(fresh_lab):
    res = helpers.hatui_cli("switchover", "--to", "node2", "--yes", timeout_s=120)
    assert res.returncode == 0, res.stdout + res.stderr
    deadline = time.monotonic() + 20
    while True:
        doc = status()
        f = finding(doc, "maintenance-pin")
        if f is not None or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert f is not None, [x["code"] for x in doc["findings"]]
    value = helpers.maintenance_values()["node1"]
    assert f["nodes"] == ["node1"] and f"value {value}" in f["title"] and " by " in f["title"]
    assert "hatui maintenance clear --node node1" in f["action"]
