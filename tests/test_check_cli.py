"""`hatui check` is a Nagios plugin: exactly one line on stdout and the exit code, on every path."""

from __future__ import annotations

import re

import pytest

from hatui import cli
from tests.recordings import LAB_CONFIG_FILE, recording

NAGIOS_LINE = re.compile(r"^HATUI (OK|WARNING|CRITICAL|UNKNOWN) - \S.*$")


def check(capsys, argv: list[str]) -> tuple[int, list[str]]:
    code = cli.main(argv)
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("text", ["", "nodes: [\n", "nodes:\n  - name: a\n    host: a\nvip: 10.0.0.1\n",
                                  "vip: 10.0.0.1\ncolour: blue\n"])
def test_a_config_error_is_one_unknown_line(tmp_path, capsys, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    code, out = check(capsys, ["--config", str(path), "check"])
    assert code == 3
    assert len(out) == 1 and out[0].startswith("HATUI UNKNOWN - config: "), out
    assert str(path) in out[0]


def test_a_missing_config_file_is_one_unknown_line(tmp_path, capsys):
    code, out = check(capsys, ["--config", str(tmp_path / "absent.yaml"), "check"])
    assert code == 3 and len(out) == 1 and out[0].startswith("HATUI UNKNOWN - config: "), out


def test_a_missing_known_hosts_is_one_critical_line(tmp_path, capsys):
    # the transport refuses before any packet leaves: no network needed (the host is never reached)
    path = tmp_path / "c.yaml"
    path.write_text("nodes:\n"
                    f"  - {{name: node1, host: 127.0.0.1, port: 9, known_hosts: {tmp_path}/no-known-hosts}}\n"
                    f"  - {{name: node2, host: 127.0.0.1, port: 9, known_hosts: {tmp_path}/no-known-hosts}}\n"
                    "vip: 198.18.13.100\n"
                    "command_timeout_s: 1\n")
    code, out = check(capsys, ["--config", str(path), "check"])
    assert code == 2, out
    assert len(out) == 1 and NAGIOS_LINE.match(out[0]) and out[0].startswith("HATUI CRITICAL - "), out
    assert "host key" in out[0]


@pytest.mark.parametrize("name, code, line", [
    # the seed lab's healthy pair warns: its chk_drbd takes 20 points off the standby (docs/findings.md)
    ("healthy", 1, "HATUI WARNING - standby node2 runs 20 points down: chk_drbd -20"),
    ("node-down", 2, None), ("failover", 2, None), ("resync", 1, None)])
def test_a_recorded_pair_is_one_line(capsys, monkeypatch, name, code, line):
    async def recorded(config):
        return recording(name)

    monkeypatch.setattr(cli, "_snapshot", recorded)
    got, out = check(capsys, ["--config", str(LAB_CONFIG_FILE), "check"])
    assert got == code and len(out) == 1 and NAGIOS_LINE.match(out[0]), out
    assert line is None or out[0] == line, out


def test_a_failure_while_judging_is_one_unknown_line(capsys, monkeypatch):
    from hatui import report

    async def recorded(config):
        return recording("healthy")

    def broken(snap, cfg):
        raise ValueError("line one\nline two")

    monkeypatch.setattr(cli, "_snapshot", recorded)
    monkeypatch.setattr(report, "to_check", broken)
    code, out = check(capsys, ["--config", str(LAB_CONFIG_FILE), "check"])
    assert code == 3 and out == ["HATUI UNKNOWN - ValueError: line one line two"], out


def test_global_options_are_taken_after_the_subcommand_too():
    """`hatui status --config F` was refused (argparse: unrecognized arguments): the options worked only
    before the subcommand."""
    from hatui.cli import build_parser

    p = build_parser()
    assert p.parse_args(["status", "--config", "x.yaml"]).config == "x.yaml"
    assert p.parse_args(["--config", "y.yaml", "status"]).config == "y.yaml"
    a = p.parse_args(["drbd", "resync", "--node", "node2", "--config", "z.yaml", "--read-only"])
    assert (a.config, a.read_only, a.no_record) == ("z.yaml", True, False)
    a = p.parse_args(["--read-only", "check"])  # given before: not reset by the subcommand's copy
    assert (a.config, a.read_only) == (None, True)


def test_a_reader_that_stops_early_gets_no_traceback():
    """`hatui status | head -1` ended in a BrokenPipeError traceback."""
    import os
    import subprocess
    import sys

    r, w = os.pipe()
    os.close(r)  # the reader is gone before hatui writes
    try:
        proc = subprocess.run([sys.executable, "-m", "hatui", "--config", "tests/fixtures/lab-config.yaml", "sudoers"],
                              stdout=w, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 141
