"""Fixtures that start the real lab and always tear it down, even when a test fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hatui_lab import observe as helpers

pytestmark = pytest.mark.lab

# The tests' own lab: its own name (so its namespaces, bridge, veths and pid files are its own), its
# own subnet and its own directory, so it never touches an operator's lab (the demo's is `hatui` in
# 198.18.0.0/24, /var/lib/hatui-lab).  Overridable, so that two checkouts can run their suites side by side.
TEST_LAB_NAME = os.environ.get("HATUI_TEST_LAB_NAME", "hatuitest")
TEST_LAB_SUBNET = os.environ.get("HATUI_TEST_LAB_SUBNET", "198.18.1.0/24")
TEST_LAB_DIR = Path(os.environ.get("HATUI_TEST_LAB_DIR", f"/var/lib/hatui-lab-{TEST_LAB_NAME}"))
helpers.use(TEST_LAB_NAME, TEST_LAB_SUBNET, TEST_LAB_DIR)
# A second lab, for the test that the test lab leaves other labs alone (tests/lab/test_lab_isolation.py)
OTHER_LAB_NAME = os.environ.get("HATUI_TEST_OTHER_LAB_NAME", "hatuiside")
OTHER_LAB_SUBNET = os.environ.get("HATUI_TEST_OTHER_LAB_SUBNET", "198.18.2.0/24")
OTHER_LAB_DIR = Path(os.environ.get("HATUI_TEST_OTHER_LAB_DIR", f"/var/lib/hatui-lab-{OTHER_LAB_NAME}"))


def _lab_possible() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root"
    for tool in ("keepalived", "mariadbd", "sshd", "ip"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            return f"{tool} is not installed (make deps)"
    return None


def _down() -> None:
    res = helpers.hatui_lab("down")
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="session", autouse=True)
def _never_leave_a_lab_behind():
    yield
    if os.geteuid() == 0:
        helpers.hatui_lab("down")


def _up(*extra: str):
    reason = _lab_possible()
    if reason and os.environ.get("HATUI_REQUIRE_LAB") == "1":
        pytest.fail(f"the lab cannot run here, and HATUI_REQUIRE_LAB=1 (CI) forbids skipping: {reason}")
    if reason:
        pytest.skip(reason)
    res = helpers.hatui_lab("up", *extra)
    if res.returncode != 0:
        helpers.hatui_lab("down")
        pytest.fail(f"hatui lab up failed:\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="module")
def healthy_lab():
    """One lab for a module of read-only tests."""
    res = _up()
    try:
        yield res
    finally:
        _down()


@pytest.fixture
def fresh_lab(request):
    """A lab of its own for a test that breaks it. Parametrize indirectly with extra `up` args."""
    extra = getattr(request, "param", ())
    res = _up(*extra)
    try:
        yield res
    finally:
        _down()


def _other_lab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*helpers.HATUI_LAB, "--name", OTHER_LAB_NAME, "--dir", str(OTHER_LAB_DIR), *args],
                          capture_output=True, text=True, timeout=240)


@pytest.fixture
def lab_beside():
    """Another lab (not the test lab: its own name, subnet, directory) up for one test; always taken
    down.  Yields its directory."""
    reason = _lab_possible()
    if reason and os.environ.get("HATUI_REQUIRE_LAB") == "1":
        pytest.fail(f"the lab cannot run here, and HATUI_REQUIRE_LAB=1 (CI) forbids skipping: {reason}")
    if reason:
        pytest.skip(reason)
    res = _other_lab("up", "--subnet", OTHER_LAB_SUBNET)
    try:
        if res.returncode != 0:
            pytest.fail(f"the other lab did not come up:\n{res.stdout}\n{res.stderr}")
        yield OTHER_LAB_DIR
    finally:
        res = _other_lab("down")
        assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def sudo_lab():
    """One lab for a module whose hatui logs in as the ordinary user `hatui` (become: sudo), with the
    recommended checks (a healthy pair is then OK, not WARNING)."""
    res = _up("--ssh-user", "hatui", "--checks", "recommended")
    try:
        yield res
    finally:
        _down()
