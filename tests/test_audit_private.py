"""P16: the local audit log is private (0600 in a 0700 directory) and names the OS user, not $USER."""

from __future__ import annotations

import json
import os
import pwd
import stat
from types import SimpleNamespace

from hatui.actions import audit as audit_module
from hatui.actions import executor


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_local_audit_log_is_private_and_names_the_os_user(tmp_path, monkeypatch):
    log = tmp_path / "state" / "hatui" / "audit.log"
    monkeypatch.setattr(audit_module, "LOCAL_AUDIT", log)
    monkeypatch.setenv("USER", "mallory")  # getpass.getuser() would believe these
    monkeypatch.setenv("LOGNAME", "mallory")
    old_umask = os.umask(0o022)
    try:
        audit = executor.Audit(SimpleNamespace(transports={}), "switchover", "node2")
        await audit.write("start", plan="p")
    finally:
        os.umask(old_umask)
    assert _mode(log) == 0o600 and _mode(log.parent) == 0o700
    record = json.loads(log.read_text())
    assert record["user"] == pwd.getpwuid(os.getuid()).pw_name != "mallory"
    lock = executor.ClusterLock(SimpleNamespace(transports={}), "switchover")
    assert lock.token.startswith(pwd.getpwuid(os.getuid()).pw_name + "@")


async def test_an_existing_open_audit_log_is_tightened(tmp_path, monkeypatch):
    log = tmp_path / "hatui" / "audit.log"
    log.parent.mkdir(mode=0o755)
    log.parent.chmod(0o755)
    log.write_text('{"old": 1}\n')
    log.chmod(0o644)
    monkeypatch.setattr(audit_module, "LOCAL_AUDIT", log)
    await executor.Audit(SimpleNamespace(transports={}), "maintenance", None).write("start")
    assert _mode(log) == 0o600 and _mode(log.parent) == 0o700
    assert log.read_text().splitlines()[0] == '{"old": 1}'  # appended, never truncated
