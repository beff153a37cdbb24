"""Odd input never crashes a parser: empty text, random bytes, every fixture cut at many points, lines
shuffled or mangled.  Garbage gives an `unparsed` note; no parser ever reaches its safety net."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hatui.model import Parsed
from hatui.probes import INTERNAL_ERROR, drbd, failover_log, galera, keepalived

FIX = Path(__file__).parent / "fixtures"

PARSERS: dict[str, Callable[[str], Parsed[Any]]] = {
    "proc_drbd": drbd.parse_proc_drbd,
    "drbdadm_status": drbd.parse_drbdadm_status,
    "events2": drbd.parse_events2,
    "drbd_error": lambda t: drbd.parse_drbd_error(t, 11),
    "keepalived_json": keepalived.parse_keepalived_json,
    "keepalived_data": keepalived.parse_keepalived_data,
    "ip_addr": keepalived.parse_ip_addr,
    "wsrep_status": galera.parse_wsrep_status,
    "grastate": galera.parse_grastate,
    "failover_log": lambda t: failover_log.parse_failover_log(t, "node1"),
}
# An empty failover log is normal (no transition yet), as is empty stderr from a successful action.
EMPTY_IS_FINE = {"failover_log"}

# the recorded whole-cluster polls in fixtures/snapshots/ are replay inputs, not parser samples
FIXTURES = sorted(p for p in FIX.rglob("*") if p.is_file() and p.suffix != ".md" and "snapshots" not in p.parts)


def check(result: Parsed[Any]) -> None:
    assert isinstance(result, Parsed)
    assert all(isinstance(n, str) for n in result.unparsed)
    assert not any(n.startswith(INTERNAL_ERROR) for n in result.unparsed), result.unparsed
    repr(result)  # every value can be shown


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_empty_and_blank_input(name):
    for text in ("", "\n", "   \n\t\n"):
        r = PARSERS[name](text)
        check(r)
        if name in EMPTY_IS_FINE:
            assert r.value == ()
        else:
            assert r.unparsed, f"{name} said nothing about {text!r}"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_random_bytes(name):
    rng = random.Random(f"bytes-{name}")
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        for text in (blob.decode("utf-8", errors="replace"), blob.decode("latin-1")):
            r = PARSERS[name](text)
            check(r)
            if text.strip() and not text.lstrip().startswith("#"):
                assert r.unparsed or r.value is None or r.value == (), f"{name} accepted {text!r} silently"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_fixture_truncated_and_mangled(name):
    rng = random.Random(f"cut-{name}")
    parse = PARSERS[name]
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8", errors="replace")
        cuts = {len(text) * k // 7 for k in range(1, 7)} | {rng.randrange(len(text) + 1) for _ in range(6)}
        for cut in cuts:
            check(parse(text[:cut]))  # ends mid-line: the collector may read a file being rewritten
        lines = text.splitlines()
        rng.shuffle(lines)
        check(parse("\n".join(lines)))
        chars = list(text)
        for _ in range(max(1, len(chars) // 20)):  # drop, duplicate or replace a few characters
            i = rng.randrange(len(chars) + 1)
            op = rng.randrange(3)
            if op == 0 and i < len(chars):
                del chars[i]
            elif op == 1:
                chars.insert(i, rng.choice(" \t\n:/=()[]{}\",-0123456789x\x00\x1b"))
            elif i < len(chars):
                chars[i] = rng.choice("\t\n:\x00?")
        check(parse("".join(chars)))


def test_truncated_lines_are_noted():
    cut_state = " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDa"
    assert drbd.parse_proc_drbd(cut_state).unparsed
    assert drbd.parse_drbdadm_status("r0 role:Primary\n  disk:UpToDa").unparsed
    assert drbd.parse_events2("exists resource name:r0 role:Prim\nexis").unparsed
    assert keepalived.parse_ip_addr("2: eth0    inet 198.18.0").unparsed
    assert galera.parse_grastate("# GALERA saved state\nversion: 2.1\nuuid:    4eb9b0df-e8").unparsed
    assert failover_log.parse_failover_log("2026-11-25 06:20:36 - Keepalived notif", "n").unparsed
    assert keepalived.parse_keepalived_json('[{"data":{"iname":"VI_1","state":2').unparsed


@pytest.mark.parametrize("doc", [
    [{"data": {"iname": "VI_1", "state": float("nan"), "vips": 7, "track_script": {"a": 1},
               "last_transition": float("inf"), "vrid": 1e400}, "stats": [1, 2]}],
    {"vrrp": "nope"}, [{"data": []}], [1, None], {"vrrp": [{"data": {"iname": 5}}]},
])
def test_keepalived_json_wrong_shapes(doc):
    r = keepalived.parse_keepalived_json(json.dumps(doc))
    check(r)
    assert r.unparsed or (r.value and r.value[0].state == "unknown")


def test_wsrep_rows_of_odd_shapes():
    for rows in ([(1, 2)], [("wsrep_ready",)], [None], [("wsrep_cluster_size", object())], 5):
        check(galera.parse_wsrep_status(rows))  # type: ignore[arg-type]


def test_huge_single_line():
    line = "x" * 2_000_000
    for name, parse in PARSERS.items():
        r = parse(line)
        check(r)
        assert all(len(n) < 1000 for n in r.unparsed), name  # notes quote a snippet, not the whole input


def test_tail_reader_random_chunks_match_whole_parse():
    text = "\n".join((FIX / "lab/keepalived_failover.log-node1-lab.txt").read_text().splitlines() * 50
                     + ["garbage \x00 line", "2026-11-25 06:20:36 - Keepalived"]) + "\n"
    data = text.encode()
    rng = random.Random(7)
    tail = failover_log.FailoverLogTail("node1")
    got = []
    i = 0
    while i < len(data):
        n = rng.randrange(1, 64)
        got.extend(tail.feed(data[i:i + n]))
        i += n
    assert got == list(failover_log.parse_failover_log(text, "node1").value)
    assert tail.bytes_consumed == len(data) and tail.pending == ""
