"""The operator's package: the wheel builds from the repository, holds the monitor only (no lab, no tests,
no recorded data), installs into a clean virtual environment and runs from there.

The wheel is built by pip with hatchling (pyproject's build backend; pip fetches it into an isolated build
environment from the package registry, as CI can).  The venv gets hatui from the wheel only: its
dependencies are made importable by a path file naming the directories where this Python already has them
(the .pth files there are not run, so a development install of hatui in them is not seen)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES = ("textual", "rich", "asyncssh", "pymysql", "yaml", "cryptography", "typing_extensions")


def _run(*args: str | Path, timeout_s: float = 240, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout_s, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                 "-w", out, ROOT)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    wheels = list(out.glob("hatui-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_the_monitor_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/", 1)[0] for n in names}
    assert packages == {"hatui", wheel.name.split("-py3")[0] + ".dist-info"}, packages
    for needed in ("hatui/cli.py", "hatui/tui/hatui.tcss", "hatui/tui/app.py", "hatui/probes/keepalived.py"):
        assert needed in names
    assert not [n for n in names if n.startswith(("hatui_lab/", "tests/", "benchmarks/", "screenshots/"))]
    assert not [n for n in names if "fixtures" in n or "__snapshots__" in n or n.endswith((".svg", ".json"))]
    # every module of the monitor's source tree is in it
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "hatui").rglob("*") if p.suffix in (".py", ".tcss")}
    assert source <= set(names), sorted(source - set(names))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "env"
    made = _run(sys.executable, "-m", "venv", "--without-pip", env)
    assert made.returncode == 0, made.stderr
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    dirs = dict.fromkeys(str(Path(importlib.import_module(m).__file__).resolve().parents[1]) for m in DEPENDENCIES)
    (site / "hatui-test-dependencies.pth").write_text("".join(f"{d}\n" for d in dirs))
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                     "--disable-pip-version-check", "-q", wheel)
    assert installed.returncode == 0, f"{installed.stdout}\n{installed.stderr}"
    return env


def test_the_installed_wheel_runs_from_a_clean_venv(venv: Path, tmp_path: Path) -> None:
    hatui = venv / "bin" / "hatui"
    clean = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = _run(venv / "bin" / "python", "-c", "import hatui; print(hatui.__file__)", env=clean, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(venv)), where  # this hatui, not the repository's
    lab = _run(venv / "bin" / "python", "-c", "import hatui_lab", env=clean, cwd=tmp_path)
    assert lab.returncode != 0 and "No module named 'hatui_lab'" in lab.stderr
    top = _run(hatui, "--help", env=clean, cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert "status" in top.stdout and "switchover" in top.stdout
    status = _run(hatui, "status", "--help", env=clean, cwd=tmp_path)
    assert status.returncode == 0 and "--json" in status.stdout, status.stderr
    # the lab is not in the operator's package: hatui says so instead of failing on an import
    absent = _run(hatui, "lab", "up", env=clean, cwd=tmp_path)
    assert absent.returncode == 2 and "not installed" in absent.stderr, absent
