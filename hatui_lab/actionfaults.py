"""A fault at every step of a guided action, judged from inside the lab's nodes (not through hatui).

One case: bring the lab to the plan's starting point, run `hatui <action> --yes` (the real CLI, its own
process), and when its progress shows that step K is over (the next step or the final checks begin),
inject one fault: the SSH sessions to the target dropped, the target's sshd hung (SIGSTOP) past the
step timeout, the target powered off, an operator abort (SIGINT), an operator quit (SIGTERM: the
terminal closed), or the local audit log made unwritable.  While it runs, a sampler reads both nodes
through their namespaces (nsenter, as root) every second; afterwards the judge checks that the end
state hatui names is the real one, that there were never two DRBD primaries nor two VIP holders, that
the VIP holder has its mount, that no lock is left unreported and that every reachable node's audit has
the run's start and end.  Used by benchmarks/action_faults.py (the whole matrix) and
tests/lab/test_action_faults.py (a subset).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hatui_lab import observe
from hatui_lab.state import LabState

FAULTS = ("ssh-drop", "sshd-hang", "power-off", "abort", "quit", "audit-fail")
HANG_S = 50.0  # sshd stays stopped this long: past a step's 30 s timeout plus timeout's kill and the SSH grace
RUN_LIMIT_S = float(os.environ.get("HATUI_FAULTS_RUN_LIMIT_S", "240"))
LOCK = "/run/hatui-action.lock"
NODE_SCRIPT = observe.FACTS_SCRIPT + f"""
if [ -d {LOCK} ]; then echo "lock=$(cat {LOCK}/owner 2>/dev/null)"; fi
echo "link=$(cat /sys/class/net/eth0/operstate 2>/dev/null)"
"""


@dataclass(frozen=True)
class PlanCase:
    name: str
    argv: tuple[str, ...]  # hatui's command line, without --yes
    target: str  # the node the faults hit


PLANS = (
    PlanCase("switchover", ("switchover", "--to", "node2"), "node2"),
    PlanCase("switch back", ("switchover", "--to", "node1"), "node1"),
    PlanCase("DRBD resync", ("drbd", "resync", "--node", "node2"), "node2"),
    PlanCase("split-brain recovery", ("drbd", "split-brain", "--victim", "node2"), "node2"),
    PlanCase("Galera bootstrap", ("galera", "bootstrap", "--node", "node1"), "node1"),
)


def plan_case(name: str) -> PlanCase:
    return next(p for p in PLANS if p.name == name)


@dataclass
class Facts:
    node: str
    up: bool  # its namespaces exist and its link is up (not powered off)
    vip: bool = False
    role: str = ""
    cstate: str = ""
    dstate: str = ""
    mounted: bool = False
    galera: str = ""
    lock: str | None = None


def lab() -> LabState:
    return LabState(observe.LAB_DIR, out=lambda _m: None, name=observe.NAME)


def read_node(state: LabState, name: str) -> Facts:
    """The node as its own namespaces show it (nsenter): works while its sshd is stopped."""
    node = state.node(name)
    if node.holder_pid() is None:
        return Facts(name, False)
    try:
        res = node.sh(NODE_SCRIPT.replace("VIPADDR", observe.VIP), timeout_s=10)
    except Exception as exc:  # a node being powered off under us: not up
        return Facts(name, False, galera=f"not read: {exc}")
    kv = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    up = kv.get("link", "") in ("up", "unknown")
    return Facts(name, up, vip=up and kv.get("vip") == "1", role=kv.get("role", "").split("/")[0],
                 cstate=kv.get("cstate", ""), dstate=kv.get("dstate", ""), mounted=kv.get("mounted") == "1",
                 galera=f"{kv.get('wsrep_cluster_status', 'down')}/{kv.get('wsrep_local_state_comment', '')}",
                 lock=kv.get("lock"))


def read_all(state: LabState) -> dict[str, Facts]:
    return {n: read_node(state, n) for n in ("node1", "node2")}


def baseline(f: dict[str, Facts]) -> bool:
    """The healthy lab as `up` leaves it: everything on node1, both Connected, UpToDate, Synced, no lock."""
    n1, n2 = f["node1"], f["node2"]
    return (n1.up and n2.up and n1.vip and not n2.vip and n1.role == "Primary" and n2.role == "Secondary"
            and n1.mounted and not n2.mounted and all(x.cstate == "Connected" and x.dstate == "UpToDate/UpToDate"
                                                      and x.galera == "Primary/Synced" and x.lock is None
                                                      for x in (n1, n2))
            and observe.ssh("node1", "cat /etc/keepalived/maintenance").stdout.strip() in ("", "0")
            and observe.ssh("node2", "cat /etc/keepalived/maintenance").stdout.strip() in ("", "0"))


def fresh_lab(state: LabState) -> float:
    """The lab in its baseline: kept if it is, else taken down and up again.  Returns the seconds spent."""
    t0 = time.monotonic()
    if all(f.up for f in read_all(state).values()) and baseline(read_all(state)):
        return 0.0
    observe.hatui_lab("down", timeout_s=120)
    observe.hatui_lab("up", timeout_s=240, check=True)
    observe.wait_until("the lab's baseline", lambda: read_all(state), baseline, 60, 1.0)
    return time.monotonic() - t0


def hatui(*argv: str, env: dict[str, str] | None = None, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return observe.hatui_cli(*argv, env_extra=env, timeout_s=timeout_s)


def prepare(state: LabState, plan: PlanCase, env: dict[str, str]) -> str:
    """From the baseline to the plan's starting point; '' or why it could not be reached."""
    if plan.name == "switch back":
        res = hatui("switchover", "--to", "node2", "--yes", env=env)
        if res.returncode != 0:
            return "the switchover before the switch back failed: " + res.stdout[-500:]
        return ""  # the switch back starts at once (S1)
    if plan.name == "split-brain recovery":
        observe.hatui_lab("fault", "split-brain", "node2", check=True)
    elif plan.name == "Galera bootstrap":
        observe.hatui_lab("fault", "power-off", "node2", check=True)
        observe.wait_until("node1 non-Primary", lambda: read_node(state, "node1").galera,
                           lambda g: g.startswith("non-Primary"), 30, 0.5)
    deadline = time.monotonic() + 20
    while True:  # the plan's pre-checks need a poll that has seen the new state
        res = hatui(*plan.argv, "--dry-run", env=env, timeout_s=60)
        if res.returncode == 0 or time.monotonic() > deadline:
            return "" if res.returncode == 0 else "the plan is not runnable:\n" + res.stdout[-800:]
        time.sleep(1)


def step_count(plan: PlanCase, env: dict[str, str]) -> int:
    res = hatui(*plan.argv, "--dry-run", env=env, timeout_s=60)
    return len(re.findall(r"^  \d+\. on ", res.stdout, re.M))


@dataclass
class Result:
    plan: str
    step: int
    fault: str
    named: str = ""  # the end state hatui named
    real: str = ""  # what the nodes showed when it ended
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    injected: str = ""  # when the fault hit: "after step K", "not reached (the run ended first)"
    output: str = ""
    # nodes whose sshd was still hung when hatui ended: hatui could not reach them at its end, so their
    # missing end record (and a lock left) must be reported, not written
    hung_at_end: set[str] = field(default_factory=set)

    @property
    def safe(self) -> bool:
        return not self.problems


class Sampler(threading.Thread):
    """Both nodes every second while the action runs: two VIP holders or two DRBD primaries in two
    samples running is a failure (one sample may catch a handover's millisecond)."""

    def __init__(self, state: LabState) -> None:
        super().__init__(daemon=True)
        self.state, self.stop, self.problems = state, threading.Event(), []  # type: ignore[var-annotated]
        self._streak = {"VIP": 0, "DRBD primary": 0}

    def run(self) -> None:
        while not self.stop.wait(1.0):
            f = read_all(self.state).values()
            for what, n in (("VIP", sum(x.vip for x in f)), ("DRBD primary", sum(x.role == "Primary" for x in f))):
                self._streak[what] = self._streak[what] + 1 if n > 1 else 0
                if self._streak[what] == 2:
                    self.problems.append(f"two {what} holders at {time.strftime('%H:%M:%S')}")


def _sshd(state: LabState, name: str, sig: int, sessions_only: bool = False) -> list[int]:
    listener = state.node(name).service_pid("sshd")
    pids = [p for p in observe.sshd_pids(name) if not (sessions_only and p == listener)]
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    return pids


def inject(state: LabState, fault: str, plan: PlanCase, proc: subprocess.Popen, audit: Path) -> str:
    if fault == "ssh-drop":
        return f"killed sshd sessions {_sshd(state, plan.target, signal.SIGKILL, sessions_only=True)}"
    if fault == "sshd-hang":
        pids = _sshd(state, plan.target, signal.SIGSTOP)
        threading.Timer(HANG_S, _sshd, (state, plan.target, signal.SIGCONT)).start()
        return f"SIGSTOP sshd {pids} for {HANG_S:.0f} s"
    if fault == "power-off":
        return observe.hatui_lab("fault", "power-off", plan.target).stdout.strip()
    if fault == "abort":
        proc.send_signal(signal.SIGINT)
        return "SIGINT (ctrl+c)"
    if fault == "quit":
        proc.send_signal(signal.SIGTERM)
        return "SIGTERM (the operator's terminal closed)"
    if fault == "audit-fail":
        if audit.exists():
            audit.rename(audit.with_suffix(".broken"))
        audit.mkdir(parents=True, exist_ok=True)  # every later append fails (EISDIR)
        return "local audit log made unwritable"
    raise ValueError(fault)


ENDED = re.compile(r"\s*(DONE|ENDED IN):")


def _trigger(line: str, k: int, n: int) -> bool:
    """Step k is over: step k+1 begins, or the final checks (or the end) after the last step."""
    m = re.match(r"\s+step (\d+)[ :]", line)
    if m and int(m.group(1)) == k + 1:
        return True
    return k >= n and bool(re.match(r"\s+(final check:|DONE:)", line))


NAMED = re.compile(r"VIP on (\S+), DRBD primary (\S+), /mnt/drbd mounted on ([^;\s]+)(?:; unreachable: ([^—\n]+))?")


def _words(f: dict[str, Facts], skip: set[str]) -> tuple[str, str, str]:
    alive = [x for x in f.values() if x.up and x.node not in skip]
    return tuple("+".join(x.node for x in alive if pick(x)) or "nobody"  # type: ignore[return-value]
                 for pick in (lambda x: x.vip, lambda x: x.role == "Primary", lambda x: x.mounted))


def judge(state: LabState, res: Result, before: dict[str, Facts], after: dict[str, Facts], pid: int,
          audit: Path, stdout: str, stderr: str, named_at: dict[str, Facts] | None = None) -> None:
    """`named_at`: the cluster when hatui named its end state, if that was before the fault (else the end)."""
    text = stdout + stderr
    m = ([None, *NAMED.finditer(text)])[-1]  # the last state named: the end
    refused = "refused:" in stderr or "REFUSED" in stdout
    if m is None and refused:
        res.named = "refused: " + (stderr.strip().splitlines() or ["?"])[-1][:120]
        real, was = _words(after, set()), _words(before, set())
        res.real = "VIP {} / primary {} / mounted {}".format(*real)
        if real != was and res.fault != "power-off":
            res.problems.append(f"refused, yet the cluster changed: {was} → {real}")
    elif m is None:
        res.problems.append("hatui named no end state")
    else:
        unreachable = {w.strip() for w in (m.group(4) or "").split(",") if w.strip()}
        res.named = m.group(0)
        named = tuple(m.group(i) for i in (1, 2, 3))
        named = tuple("+".join(x for x in w.split("+") if x not in unreachable) or "nobody" for w in named)
        real = _words(named_at or after, unreachable)
        res.real = "VIP {} / primary {} / mounted {}".format(*real) + (" (when named, before the fault)"
                                                                      if named_at else "")
        if named != real:
            res.problems.append(f"named {named}, real {real}")
    vip = [x for x in after.values() if x.vip]
    if len(vip) > 1:
        res.problems.append("two VIP holders at the end")
    if sum(x.role == "Primary" for x in after.values()) > 1:
        res.problems.append("two DRBD primaries at the end")
    if len(vip) == 1:
        try:
            observe.wait_until("the VIP holder's mount", lambda: read_node(state, vip[0].node),
                               lambda x: x.mounted or not x.vip, 15, 1.0)
        except AssertionError:
            res.problems.append(f"{vip[0].node} holds the VIP without {'/mnt/drbd'} mounted")
    for name, x in after.items():
        if not x.up:
            continue
        if x.lock is not None and f"{name} kept the lock" not in text:
            res.problems.append(f"{name} kept the lock ({x.lock}) and hatui did not say so")
        log = state.node(name).sh("cat /var/log/hatui-audit.log 2>/dev/null", timeout_s=10).stdout
        events = [e for e in re.findall(r'"id": "\d+-(\d+)", "event": "(\w+)"', log) if e[0] == str(pid)]
        kinds = [e[1] for e in events]
        if name in res.hung_at_end and "end" not in kinds and f"AUDIT: {name} does not answer" in text:
            continue  # unreachable at hatui's end: the missing end record was reported
        if not (("start" in kinds and "end" in kinds) or kinds == ["refused"]):
            res.problems.append(f"{name}'s audit for this run: {kinds or 'nothing'}")
    if res.fault != "audit-fail":
        local = audit.read_text() if audit.is_file() else ""
        kinds = [e[1] for e in re.findall(r'"id": "\d+-(\d+)", "event": "(\w+)"', local) if e[0] == str(pid)]
        if not (("start" in kinds and "end" in kinds) or "refused" in kinds):
            res.problems.append(f"the local audit for this run: {kinds or 'nothing'}")


def run_case(plan: PlanCase, step: int, fault: str) -> Result:
    """One run of `plan` with `fault` after `step`, from a fresh baseline; the lab is left as the run left it."""
    state = lab()
    res = Result(plan.name, step, fault)
    fresh_lab(state)
    home = Path(tempfile.mkdtemp(prefix="hatui-faults-"))
    env = {"XDG_STATE_HOME": str(home)}
    audit = home / "hatui" / "audit.log"
    if why := prepare(state, plan, env):
        res.problems.append("not started: " + why)
        return res
    n = step_count(plan, env)
    before = read_all(state)
    sampler = Sampler(state)
    sampler.start()
    t0 = time.monotonic()
    proc = subprocess.Popen(observe.hatui_argv(*plan.argv, "--yes"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL, env={**os.environ, **env, "PYTHONFAULTHANDLER": "1"},
                            bufsize=1)
    lines: list[str] = []
    injected_at = 0.0
    named_at: dict[str, Facts] | None = None
    assert proc.stdout is not None and proc.stderr is not None
    # past the limit: SIGABRT, so that Python's faulthandler prints where every thread of hatui hangs
    timer = threading.Timer(RUN_LIMIT_S, proc.send_signal, (signal.SIGABRT,))
    timer.start()
    for line in proc.stdout:
        lines.append(line)
        if not res.injected and _trigger(line, step, n):
            # hatui waits (SIGSTOP) while the fault is put in place, so the fault is whole when the next step begins
            proc.send_signal(signal.SIGSTOP)
            injected_at = time.monotonic()
            if ENDED.match(line):
                # hatui named the end state before the fault (a last step without final checks): what it
                # named is judged against the cluster of that moment; the fault still hits its lock release
                # and its end records
                named_at = read_all(state)
            try:
                res.injected = f"after step {step}: " + inject(state, fault, plan, proc, audit)
            finally:
                proc.send_signal(signal.SIGCONT)
    stderr = proc.stderr.read()
    proc.wait()
    timer.cancel()
    res.seconds = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    if fault == "sshd-hang":
        if injected_at and time.monotonic() < injected_at + HANG_S:
            res.hung_at_end.add(plan.target)
        _sshd(state, plan.target, signal.SIGCONT)
    if res.seconds >= RUN_LIMIT_S:
        res.problems.append(f"hatui did not end within {RUN_LIMIT_S:.0f} s (killed)")
    if not res.injected:
        res.injected = "not reached (the run ended first)"
    res.output = "".join(lines) + stderr
    res.problems += sampler.problems
    judge(state, res, before, read_all(state), proc.pid, audit, "".join(lines), stderr, named_at)
    return res


def end_word(r: Result) -> str:
    if r.named.startswith("refused"):
        return "refused"
    if "OK after" in r.output:
        return "OK"
    return "FAILED" if "FAILED after" in r.output else "?"


def table(results: list[Result]) -> str:
    rows = ["| plan | after step | fault | hatui's end | end state named | safe | time |",
            "|---|---|---|---|---|---|---|"]
    for r in results:
        safe = "yes" if r.safe else "NO: " + "; ".join(r.problems)[:200]
        reached = "" if r.injected.startswith("after") else " (not reached)"
        rows.append(f"| {r.plan} | {r.step}{reached} | {r.fault} | {end_word(r)} | {r.named or r.real} | {safe} | "
                    f"{r.seconds:.1f} s |")
    return "\n".join(rows)
