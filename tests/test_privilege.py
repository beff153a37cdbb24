"""Least privilege (`user: hatui`, `become: sudo`): every root command is one exact command through `sudo -n`,
the sudoers snippet lists exactly those and nothing wider, and what sudo refuses becomes a finding."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from hatui import privilege
from hatui.actions import drbd as drbd_actions
from hatui.actions import lock
from hatui.actions.commands import audit_append
from hatui.actions.galera import plan_galera_bootstrap
from hatui.actions.switchover import plan_clear_maintenance, plan_switchover
from hatui.config import ConfigError, parse
from hatui.diagnosis import diagnose
from hatui.model import CommandResult
from hatui.probes.node import NodeReader, node_from_raw, take_refusals
from tests.recordings import CONFIG, recording

SUDO_CONFIG = replace(CONFIG, nodes=tuple(replace(n, user="hatui", become="sudo") for n in CONFIG.nodes))
SUDO_RE = re.compile(r"sudo -n ((?:[^;&|'\"]|'[^']*'|\"[^\"]*\")+)")


def sudo_argvs(shell_text: str) -> list[tuple[str, ...]]:
    """The argv of each `sudo -n ...` in a command (up to the next ; && || |)."""
    # the signal numbers the first cycle learns from `keepalived --signum` are Linux's 36 and 10
    text = shell_text.replace('"$J"', "36").replace('"$D"', "10")
    return [tuple(shlex.split(re.sub(r"\d*>&?\S*", "", m.group(1)))) for m in SUDO_RE.finditer(text)]


def every_command(cfg) -> list[str]:
    """What a become node is sent: a poll's batch over several cycles, every plan's steps and undos, the
    lock and the audit."""
    out: list[str] = []
    reader = NodeReader(cfg, "node1")
    out.append(reader.stream_command())
    for _cycle in range(1, 8):
        out += reader.commands().values()
        reader.keepalived.signums = (36, 10)
    snaps = [recording(n) for n in ("healthy", "failover", "resync", "node-down")]
    plans = []
    for snap in snaps:
        for node in ("node1", "node2"):
            plans += [plan_switchover(snap, cfg, node), plan_clear_maintenance(snap, cfg, node),
                      plan_galera_bootstrap(snap, cfg, node), drbd_actions.plan_split_brain(snap, cfg, node)]
            plans += [drbd_actions.plan_drbd(snap, cfg, a, node) for a in drbd_actions.DRBD_ACTIONS]
    for plan in plans:
        for step in plan.steps:
            out += [step.command, step.undo or ""]
    root = privilege.root_of(cfg.nodes[0])
    out += [lock.acquire_command("tok", root), lock.heartbeat_command("tok", root), lock.release_command("tok", root),
            lock.break_command("owner", root), audit_append(root, ["{}"])]
    return out


def test_every_root_command_sent_to_a_become_node_is_in_the_sudoers_list():
    listed = set(privilege.root_commands(SUDO_CONFIG))
    sent = [argv for cmd in every_command(SUDO_CONFIG) for argv in sudo_argvs(cmd)]
    assert len(sent) > 20  # the steps, the lock, the audit and the poll's signals all go through sudo
    assert not [a for a in sent if a not in listed], [a for a in sent if a not in listed]
    assert set(sent) == listed  # ...and the list holds nothing that hatui never sends


def test_a_root_node_gets_no_sudo_at_all():
    assert not [c for c in every_command(CONFIG) if "sudo" in c]


def test_the_sudoers_snippet_has_no_line_wider_than_one_exact_command():
    text = privilege.sudoers(SUDO_CONFIG)
    rules = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert len(rules) == len(privilege.root_commands(SUDO_CONFIG))
    shells = {"sh", "bash", "dash", "zsh", "su", "sudo", "env", "vi", "vim", "nano", "less", "more", "python3",
              "find", "xargs", "systemctl", "sudoedit", "ed", "awk", "sed", "perl"}
    for rule in rules:
        who, _, command = rule.partition(" NOPASSWD: ")
        assert who == "hatui ALL=(root)", rule
        program, _, args = command.partition(" ")
        assert program.startswith("/") and Path(program).name not in shells, rule
        assert args and "ALL" not in command and not re.search(r"(?<!\\)[*?\[\]]", args), rule
    assert "/usr/bin/tee /etc/keepalived/maintenance" in text and "/usr/sbin/drbdadm primary r0" in text


def test_the_sudoers_snippet_uses_the_paths_a_node_reported():
    text = privilege.sudoers(SUDO_CONFIG, {"node1": {"drbdadm": "/usr/local/sbin/drbdadm"},
                                           "node2": {"drbdadm": "/usr/local/sbin/drbdadm"}})
    assert "NOPASSWD: /usr/local/sbin/drbdadm primary r0" in text and "/usr/sbin/drbdadm" not in text


def test_become_needs_an_ordinary_user():
    text = "nodes:\n  - {name: a, host: h1, user: hatui, become: sudo}\n  - {name: b, host: h2}\nvip: 10.0.0.1\n"
    cfg = parse(text, Path("c.yaml"))
    assert cfg.nodes[0].become == "sudo" and cfg.nodes[1].become is None
    with pytest.raises(ConfigError, match="ordinary SSH user"):
        parse(text.replace("user: hatui, ", ""), Path("c.yaml"))
    with pytest.raises(ConfigError, match=re.escape("c.yaml:2: nodes[0].become: expected `sudo`")):
        parse(text.replace("become: sudo", "become: su"), Path("c.yaml"))


FAKE_SUDO = """#!/bin/bash
# stands in for sudo: refuses `rm`, runs the rest (as the caller)
[ "$1" = -n ] && shift
if [ "$1" = rm ]; then echo "sudo: a password is required" >&2; exit 1; fi
exec "$@"
"""


def run_with_fake_sudo(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "sudo"
    fake.write_text(FAKE_SUDO)
    fake.chmod(0o755)
    # as the prelude does (Root.shell_prelude), without its PATH: the fake sudo comes first; stderr joins
    # stdout, as the batch and exec channels join them
    prelude = f"exec 9>&1 2>&1; {privilege.SUDO_FUNCTION}; export -f sudo"
    return subprocess.run(["/bin/bash", "--noprofile", "--norc", "-c", f"{prelude}; {script}"],
                          capture_output=True, text=True, timeout=10, env={"PATH": f"{tmp_path}:/usr/bin:/bin"})


def test_the_sudo_function_marks_a_refusal_and_passes_everything_else(tmp_path: Path):
    ok = run_with_fake_sudo(tmp_path, "sudo -n printf 'x%s\\n' 1 2; echo status=$?")
    assert ok.stdout == "x1\nx2\nstatus=0\n"
    failing = run_with_fake_sudo(tmp_path, "sudo -n false; echo status=$?")
    assert failing.stdout == "status=1\n"  # the command's own failure is not a refusal
    refused = run_with_fake_sudo(tmp_path, "sudo -n rm -f /tmp/keepalived.json /tmp/keepalived.data; echo status=$?")
    assert f"{privilege.REFUSED_MARK} /usr/bin/rm -f /tmp/keepalived.json /tmp/keepalived.data\n" in refused.stdout
    assert "sudo: a password is required" in refused.stdout and refused.stdout.endswith("status=1\n")
    found, rest = privilege.refusals(refused.stdout)
    assert found == ["/usr/bin/rm -f /tmp/keepalived.json /tmp/keepalived.data"]
    assert rest.strip() == "status=1"


def test_a_refused_command_becomes_a_finding_with_the_missing_sudoers_line(tmp_path: Path):
    refused = run_with_fake_sudo(tmp_path, "sudo -n rm -f /tmp/keepalived.json /tmp/keepalived.data; true")
    base = recording("healthy")
    raw = {"ka_signal": CommandResult(0, refused.stdout), "ka_pid": CommandResult(0, "123\n")}
    take_refusals(raw)
    assert privilege.REFUSED_MARK not in raw["ka_signal"].output
    node = node_from_raw(SUDO_CONFIG, "node1", raw, None, None)
    assert node.sudo_refused == ("/usr/bin/rm -f /tmp/keepalived.json /tmp/keepalived.data",)
    snap = replace(base, nodes=tuple(replace(n, sudo_refused=node.sudo_refused) if n.node == "node1" else n
                                     for n in base.nodes))
    finding = next(f for f in diagnose(snap, SUDO_CONFIG) if f.code == "sudo-refused")
    assert finding.severity == "warning" and finding.nodes == ("node1",)
    assert "/usr/bin/rm -f /tmp/keepalived.json /tmp/keepalived.data" in finding.title
    assert "hatui ALL=(root) NOPASSWD: /usr/bin/rm -f /tmp/keepalived.json /tmp/keepalived.data" in finding.action


def test_the_missing_line_for_a_command_with_spaces_in_an_argument():
    line = privilege.missing_line(SUDO_CONFIG, "hatui",
                                  "/usr/bin/mysql -e SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'")
    assert line == ("hatui ALL=(root) NOPASSWD: /usr/bin/mysql -e SET GLOBAL "
                    "wsrep_provider_options\\='pc.bootstrap\\=YES'")


def test_a_step_refused_by_sudo_fails_naming_the_missing_sudoers_line(tmp_path: Path):
    import asyncio

    from hatui.actions.executor import Executor
    from hatui.actions.plan import Plan, Step

    refused = run_with_fake_sudo(tmp_path, "sudo -n rm -rf /run/hatui-action.lock").stdout

    class Transport:
        node = SUDO_CONFIG.nodes[0]

        async def connect(self):
            return None

        async def exec(self, command, timeout_s=None):
            return CommandResult(1, refused)

    class Collector:
        transports = {"node1": Transport()}

        async def fresh(self):
            return recording("healthy")

    ex = Executor(SUDO_CONFIG, Collector(), progress=lambda m: None)
    plan = Plan("x", "x", "node1", (), (Step("node1", "sudo -n rm -rf /run/hatui-action.lock", "gone"),))
    result = asyncio.run(ex._step(1, plan.steps[0]))
    assert result.status == "failed"
    assert "sudo on node1 refused `/usr/bin/rm -rf /run/hatui-action.lock`" in result.detail
    assert "hatui ALL=(root) NOPASSWD: /usr/bin/rm -rf /run/hatui-action.lock" in result.detail


def test_a_refusal_is_marked_through_redirections_and_child_shells(tmp_path: Path):
    """A step's `printf V | sudo -n tee FILE >/dev/null` under `timeout ... bash -c`: the mark still reaches
    the channel (fd 9), so the refusal is named (found on the lab: a mark on stdout went to /dev/null)."""
    res = run_with_fake_sudo(tmp_path, "timeout 5 bash -c 'printf x | sudo -n rm -f /tmp/x >/dev/null 2>&1'; "
                                       "echo status=$?")
    found, _rest = privilege.refusals(res.stdout)
    assert found == ["/usr/bin/rm -f /tmp/x"] and res.stdout.endswith("status=1\n"), res.stdout
