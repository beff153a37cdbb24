"""The config `hatui lab up` writes: valid for hatui, and the same as the core tests' fixture
(tests/fixtures/lab-config.yaml), so the core's tests replay against what the lab really writes."""

from __future__ import annotations

from pathlib import Path

from hatui.config import parse
from hatui_lab.labconfig import render_config
from hatui_lab.netplan import plan
from tests.recordings import LAB_CONFIG_FILE


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def test_the_core_tests_fixture_is_what_the_default_lab_writes():
    written = render_config(Path("/nonexistent"), plan())
    written = written.replace("/nonexistent/id_ed25519", "/nonexistent/id")
    assert _body(written) == _body(LAB_CONFIG_FILE.read_text())


def test_another_labs_config_is_valid_and_points_at_its_own_addresses(tmp_path: Path):
    net = plan("198.18.1.0/24", "hatuitest")
    cfg = parse(render_config(tmp_path / "ssh", net), tmp_path / "hatui-lab.yaml")
    assert [n.host for n in cfg.nodes] == ["198.18.1.11", "198.18.1.12"] and cfg.vip == "198.18.1.100"
    assert cfg.web.url == "http://198.18.1.100/" and cfg.nodes[0].identity_file == tmp_path / "ssh/id_ed25519"
