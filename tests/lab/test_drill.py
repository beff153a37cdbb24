"""A short drill in CI: hatui's predictions for stop-keepalived and kill-mariadb (the seed's checks)
against what the lab measures, field by field; every field must agree."""

from __future__ import annotations

import re

import pytest

from hatui_lab import observe as helpers

pytestmark = pytest.mark.lab


def test_short_drill_agrees(fresh_lab):
    res = helpers.hatui_lab("drill", "--checks", "seed", "--notify", "lab", "--faults",
                            "stop-keepalived,kill-mariadb", timeout_s=600)
    assert "| `stop-keepalived node1` |" in res.stdout and "| `kill-mariadb node1` |" in res.stdout, res.stdout
    m = re.search(r"Agreement: (\d+)/(\d+) fields", res.stdout)
    assert m and m.group(1) == m.group(2) == "12", res.stdout + res.stderr
    assert res.returncode == 0
    assert helpers.LAB_DIR.exists()  # the drill used the test's lab and left it for the fixture to take down
