"""`hatui lab` argument handling that needs no lab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
