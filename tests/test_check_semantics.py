"""What hatui infers about a health check (hatui/probes/scripts.py parse_check, hatui/predict.py's verdict
for a node state) against what the real script does: each check script (the seed's own from
tests/fixtures/seed/, the lab's seed and recommended variants) is run in real bash, with stand-in
`mysql`, `mysqladmin`, `systemctl` and `drbdadm` and a /proc/drbd file in DRBD 8.4's or 9's format, for
every node state below; its exit status must be the verdict hatui predicts for the same state."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from hatui.confmodel import TrackedCheck
from hatui.predict import _initial, _passes
from hatui.probes.scripts import parse_check
from hatui_lab import nodefiles
from tests.recordings import CONFIG, recording

SEED = Path(__file__).parent / "fixtures" / "seed" / "node1"
PROC_TOKEN = "@PROC_DRBD@"

# Stand-ins, driven by T_* variables: the mysql client's batch output (a header line unless -N, then
# one "name<TAB>value" row per wsrep variable the query names, in the server's (sorted) order).
MYSQL = r"""#!/bin/bash
[ "$T_MYSQL" = up ] || { echo "ERROR 2002 (HY000): Can't connect to local server through socket" >&2; exit 1; }
header=1; q=""
while [ $# -gt 0 ]; do
    case "$1" in
        -N|--skip-column-names) header=0 ;;
        -e) shift; q=$1 ;;
        -u|-h|-P) shift ;;
        -*N*) case "$1" in --*) ;; *) header=0 ;; esac ;;
    esac
    shift
done
[ $header -eq 1 ] && printf 'Variable_name\tValue\n'
for v in $(printf '%s\n' "$q" | grep -o "wsrep_[a-z_]*" | sort -u); do
    case $v in
        wsrep_cluster_status) printf '%s\t%s\n' "$v" "$T_STATUS" ;;
        wsrep_local_state_comment) printf '%s\t%s\n' "$v" "$T_COMMENT" ;;
        wsrep_ready) printf '%s\t%s\n' "$v" "$T_READY" ;;
    esac
done
"""
MYSQLADMIN = '#!/bin/bash\n[ "$T_MYSQL" = up ] && echo "mysqld is alive" && exit 0\nexit 1\n'
SYSTEMCTL = ('#!/bin/bash\n[ "$1" = is-active ] || exit 1\n'
             'if [ "$T_MYSQL" = up ]; then s=active; rc=0; else s=inactive; rc=3; fi\n'
             '[ "$2" = --quiet ] || echo $s\nexit $rc\n')
# drbdadm as drbd-utils prints it on 8.4 and 9 (and the lab's emulator): role and dstate local/peer
DRBDADM = r"""#!/bin/bash
case "$1" in
    role) echo "$T_ROLE/$T_PEER_ROLE" ;;
    dstate) echo "$T_DISK/$T_PEER_DISK" ;;
    cstate) echo "$T_CS" ;;
    *) exit 20 ;;
esac
"""

# (role, 8.4 cs:, disk, peer role, peer disk)
DRBD_STATES = [
    ("Primary", "Connected", "UpToDate", "Secondary", "UpToDate"),
    ("Secondary", "Connected", "UpToDate", "Primary", "UpToDate"),
    ("Primary", "WFConnection", "UpToDate", "Unknown", "DUnknown"),  # the survivor of cut-link, power-off
    ("Primary", "StandAlone", "UpToDate", "Unknown", "DUnknown"),  # after drbd-disconnect
    ("Secondary", "WFConnection", "UpToDate", "Unknown", "DUnknown"),
    ("Secondary", "StandAlone", "Outdated", "Unknown", "DUnknown"),
    ("Primary", "SyncSource", "UpToDate", "Secondary", "Inconsistent"),  # resync after a heal
    ("Secondary", "SyncTarget", "Inconsistent", "Primary", "UpToDate"),
    ("Primary", "WFReportParams", "UpToDate", "Unknown", "DUnknown"),
]
# MariaDB down, or (wsrep_cluster_status, wsrep_local_state_comment, wsrep_ready)
GALERA_STATES = [
    None,
    ("Primary", "Synced", "ON"),
    ("Primary", "Donor/Desynced", "ON"),
    ("Primary", "Joining: receiving State Transfer", "OFF"),
    ("non-Primary", "Initialized", "OFF"),  # the survivor of a crash in a two-node cluster
]


def _seed_script(name: str) -> str:
    return (SEED / name).read_text().replace("cat /proc/drbd", f"cat {PROC_TOKEN}")


def _scripts() -> list[tuple[str, str, str]]:
    out = [("seed-document", name, _seed_script(name)) for name in ("check_mysql.sh", "check_galera.sh",
                                                                      "check_drbd.sh")]
    for variant in ("seed", "recommended"):
        for name, text in nodefiles.render_checks(variant, PROC_TOKEN).items():
            out.append((f"lab-{variant}", name, text.replace(f"'{PROC_TOKEN}'", PROC_TOKEN)))
    return out


SCRIPTS = _scripts()


def _proc_text(version: str, role: str, cs: str, disk: str, peer_role: str, peer_disk: str) -> str:
    """/proc/drbd as DRBD prints it (the lab's emulator's hatui_lab/drbdemu/proctext.py formats)."""
    if version == "9":
        return ("version: 9.2.12 (api:2/proto:118-122)\nGIT-hash: 0 build by root@node1, 2024-11-18 10:00:00\n"
                "Transports (api:21): tcp (9.2.12)\n")
    proto = "A" if cs in ("StandAlone", "WFConnection") else "C"
    return (f"version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0123456789ABCDEF0123456 \n"
            f" 0: cs:{cs} ro:{role}/{peer_role} ds:{disk}/{peer_disk} {proto} r-----\n"
            "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n")


@pytest.fixture(scope="module")
def tools(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bin")
    for name, body in (("mysql", MYSQL), ("mysqladmin", MYSQLADMIN), ("systemctl", SYSTEMCTL),
                       ("drbdadm", DRBDADM)):
        (d / name).write_text(body)
        (d / name).chmod(0o755)
    return d


def run_check(tools: Path, text: str, env: dict[str, str], proc: str) -> bool:
    script = tools.parent / "check.sh"
    script.write_text(text.replace(PROC_TOKEN, proc))
    # the scripts' own PATH line (recommended) names the standard directories: the stand-ins go first
    body = script.read_text().replace("PATH=/usr/local/sbin:", f"PATH={tools}:/usr/local/sbin:")
    script.write_text(body)
    res = subprocess.run(["bash", str(script)], env={**env, "PATH": f"{tools}:/usr/bin:/bin"}, capture_output=True,
                         timeout=10)
    return res.returncode == 0


def _node(galera, drbd, version: str):
    """The healthy recording's node1 with this Galera and DRBD state, as hatui's poll would parse it."""
    from hatui.probes.drbd import translate_cs_84

    snap = recording("healthy")
    n = snap.node("node1")
    g = None
    if galera is not None:
        status, comment, ready = galera
        g = replace(n.galera, cluster_status=status, local_state_comment=comment, ready=ready == "ON")
    role, cs, disk, peer_role, peer_disk = drbd
    connection, replication = translate_cs_84(cs)
    res = replace(n.drbd[0], role=role, connection_state=connection, replication_state=replication,
                  disk_state=disk, peer_role=peer_role, peer_disk_state=peer_disk,
                  source="/proc/drbd" if version == "84" else "events2")
    return replace(n, galera=g, drbd=(res,))


def _cases():
    for who, name, text in SCRIPTS:
        kind = parse_check(text).value
        assert kind is not None
        if kind.kind == "drbd":
            for version in ("84", "9"):
                for d in DRBD_STATES:
                    yield pytest.param(who, name, text, GALERA_STATES[1], d, version,
                                       id=f"{who}-{name}-drbd{version}-{'-'.join(d[:3])}")
        else:
            for g in GALERA_STATES:
                yield pytest.param(who, name, text, g, DRBD_STATES[0], "84",
                                   id=f"{who}-{name}-{'down' if g is None else '-'.join(g[:2])}")


@pytest.mark.parametrize(("who", "name", "text", "galera", "drbd", "version"), list(_cases()))
def test_hatui_predicts_what_the_real_check_does(tools, tmp_path, who, name, text, galera, drbd, version) -> None:
    role, cs, disk, peer_role, peer_disk = drbd
    env = {"T_MYSQL": "down" if galera is None else "up", "T_ROLE": role, "T_PEER_ROLE": peer_role, "T_DISK": disk,
           "T_PEER_DISK": peer_disk, "T_CS": cs}
    if galera is not None:
        env.update(T_STATUS=galera[0], T_COMMENT=galera[1], T_READY=galera[2])
    proc = tmp_path / "proc_drbd"
    proc.write_text(_proc_text(version, *drbd))
    real = run_check(tools, text, env, str(proc))
    st, _live = _initial(_node(galera, drbd, version), CONFIG)
    check = TrackedCheck(name, -20, None, f"/etc/keepalived/{name}", parse_check(text).value)
    assert _passes(check, st, None) is real, f"{who} {name}: the script {'passes' if real else 'fails'}"


def test_the_lab_runs_the_seeds_checks_as_written() -> None:
    """The lab's seed variant is the seed document's section 5, byte for byte, but for /proc/drbd's path
    (the kernel has no DRBD: the emulator's file, read through the seed's own pipeline)."""
    lab = nodefiles.render_checks("seed", "/proc/drbd")
    for name in ("check_mysql.sh", "check_galera.sh", "check_drbd.sh"):
        assert lab[name] == (SEED / name).read_text(), name
    on_node = nodefiles.render_checks("seed", nodefiles.DRBD_PROC_FILE)["check_drbd.sh"]
    assert on_node == (SEED / "check_drbd.sh").read_text().replace("/proc/drbd", nodefiles.DRBD_PROC_FILE)


def test_the_recommended_galera_check_never_passes_non_primary(tools, tmp_path) -> None:
    text = nodefiles.render_checks("recommended", nodefiles.DRBD_PROC_FILE)["check_galera.sh"]
    proc = str(tmp_path / "none")
    base = {"T_MYSQL": "up", "T_COMMENT": "Synced"}
    assert run_check(tools, text, {**base, "T_STATUS": "Primary", "T_READY": "ON"}, proc)
    assert not run_check(tools, text, {**base, "T_STATUS": "non-Primary", "T_READY": "ON"}, proc)
    kind = parse_check(text).value
    assert kind is not None and not kind.passes_non_primary


@pytest.mark.parametrize("version", ["84", "9"])
def test_the_recommended_drbd_check_passes_a_healthy_secondary_on_84_and_9(tools, tmp_path, version) -> None:
    text = nodefiles.render_checks("recommended", PROC_TOKEN)["check_drbd.sh"]
    proc = tmp_path / "proc_drbd"
    secondary = DRBD_STATES[1]
    proc.write_text(_proc_text(version, *secondary))
    env = dict(zip(("T_ROLE", "T_CS", "T_DISK", "T_PEER_ROLE", "T_PEER_DISK"), secondary, strict=True))
    assert run_check(tools, text, env, str(proc))
    proc.write_text(_proc_text(version, "Secondary", "SyncTarget", "Inconsistent", "Primary", "UpToDate"))
    assert not run_check(tools, text, {**env, "T_CS": "SyncTarget", "T_DISK": "Inconsistent"}, str(proc))


def test_the_systemctl_shim_answers_only_is_active(tmp_path) -> None:
    """The lab's systemctl (no systemd on the nodes): outside a node no mariadbd listens on its socket, so
    `is-active` says inactive with systemd's exit status 3; any other command is refused."""
    shim = tmp_path / "systemctl"
    shim.write_text(nodefiles.render_systemctl().replace(nodefiles.MARIADB_SOCKET, str(tmp_path / "no.sock")))
    shim.chmod(0o755)
    res = subprocess.run([str(shim), "is-active", "mariadb"], capture_output=True, text=True, timeout=10,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert (res.returncode, res.stdout.strip()) in ((3, "inactive"), (3, "activating"))
    quiet = subprocess.run([str(shim), "is-active", "--quiet", "mariadb"], capture_output=True, text=True,
                           timeout=10)
    assert quiet.returncode == 3 and quiet.stdout == ""
    start = subprocess.run([str(shim), "start", "mariadb"], capture_output=True, text=True, timeout=10)
    assert start.returncode == 1 and "only 'systemctl is-active UNIT' is emulated" in start.stderr
