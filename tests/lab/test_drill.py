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
    # the faults act on whoever holds the VIP when they come (after a heal that may be node2)
    assert re.search(r"\| `stop-keepalived node[12]` \|", res.stdout), res.stdout
    assert re.search(r"\| `kill-mariadb node[12]` \|", res.stdout), res.stdout
    m = re.search(r"Agreement: (\d+)/(\d+) fields", res.stdout)
    assert m and m.group(1) == m.group(2) == "12", res.stdout + res.stderr
    assert res.returncode == 0
    assert helpers.LAB_DIR.exists()  # the drill used the test's lab and left it for the fixture to take down
