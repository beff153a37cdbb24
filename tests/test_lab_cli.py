"""`hatui lab` argument handling that needs no lab."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_drbd_real_is_refused_with_the_reason_before_anything_is_created(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    res = subprocess.run([sys.executable, "-m", "hatui", "lab", "--dir", str(lab_dir), "up", "--drbd", "real"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    msg = res.stderr
    assert msg.startswith("hatui lab up: ")
    if not Path("/proc/drbd").exists():
        assert "/proc/drbd does not exist" in msg or "found the module" in msg
    assert "--drbd 84" in msg and "--drbd 9" in msg  # says what to use instead
    assert "Traceback" not in msg
    assert not lab_dir.exists()


def _cli_with_entry_points(monkeypatch, entries):
    """hatui.cli as it behaves when the installed metadata declares `entries` in hatui.commands."""
    from importlib import metadata

    import hatui.cli as cli

    monkeypatch.setattr(cli.metadata, "entry_points",
                        lambda group: [metadata.EntryPoint(n, v, group) for n, v in entries])
    cli.extra_commands.cache_clear()
    return cli


def test_hatui_lab_where_the_lab_is_not_installed_says_so_and_how(monkeypatch, capsys) -> None:
    # the operator's wheel: hatui's metadata declares `lab`, but hatui_lab is not in the wheel
    cli = _cli_with_entry_points(monkeypatch, [("lab", "hatui_lab_is_not_here.cli")])
    try:
        assert cli.main(["lab", "up"]) == 2
        err = capsys.readouterr().err
        assert "the rehearsal lab" in err and "is not installed" in err and "make deps" in err
        # and where nothing registers it at all
        cli = _cli_with_entry_points(monkeypatch, [])
        assert cli.main(["lab", "status", "--json"]) == 2
        assert "is not installed" in capsys.readouterr().err
    finally:
        cli.extra_commands.cache_clear()


def test_hatui_lab_is_found_through_the_entry_point_group(monkeypatch, capsys) -> None:
    cli = _cli_with_entry_points(monkeypatch, [("lab", "hatui_lab.cli")])
    try:
        with pytest.raises(SystemExit):
            cli.main(["lab", "--help"])
        assert "{up,down,status,fault,heal,config,drill}" in capsys.readouterr().out
    finally:
        cli.extra_commands.cache_clear()


def test_python_m_hatui_lab_runs_the_lab_cli_without_hatuis_entry_point(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "hatui_lab", "--dir", str(tmp_path / "lab"), "up", "--drbd", "real"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 and res.stderr.startswith("hatui lab up: ")


def test_a_bad_lab_name_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "hatui_lab", "--name", "much-too-long-name", "--dir",
                          str(tmp_path / "lab"), "status"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 and "a lab name is 1 to 11" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "lab").exists()


def test_a_directory_holding_another_lab_is_refused(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    (lab_dir / "lab.json").write_text(json.dumps({"settings": {"name": "hatuitest"}, "auth_pass": "x"}))
    res = subprocess.run([sys.executable, "-m", "hatui_lab", "--name", "hatui", "--dir", str(lab_dir), "down"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 and "holds the lab 'hatuitest', not 'hatui'" in res.stderr


def test_drill_row_without_prediction_agrees_on_nothing() -> None:
    from hatui_lab.drill import FIELDS, Row

    row = Row("stop-mariadb", "?", {}, (0, 0), note="hatui made no prediction")
    assert row.agree() == dict.fromkeys(FIELDS, False)
    same = {"vip": "node2", "drbd_primary": "node2", "mounted": "node2", "web": "node2", "galera": "x"}
    ok = Row("stop-mariadb", "node1", same, (0, 10), measured=dict(same), last_change_s=6.6)
    assert all(ok.agree().values())
    late = Row("stop-mariadb", "node1", same, (0, 5), measured=dict(same), last_change_s=6.8)
    assert late.agree()["when"] is False
