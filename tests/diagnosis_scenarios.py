"""Cluster states for the diagnosis tables (tests/test_diagnosis_table.py): the recorded lab polls and variants
of them, one fault (or one boundary) each.  Not a test module."""

from __future__ import annotations

from dataclasses import replace

from hatui.model import ClusterSnapshot, IpAddress, TrackFile, TrackScript
from tests.recordings import CONFIG, recording, with_node

VIP_ADDR = IpAddress(ifindex=2, ifname="eth0", family="inet", address=CONFIG.vip, prefix_len=24, scope="global",
                     secondary=True)


def drbd(snap: ClusterSnapshot, node: str, **changes) -> ClusterSnapshot:
    return with_node(snap, node, drbd=tuple(replace(r, **changes) for r in snap.node(node).drbd))


def galera(snap: ClusterSnapshot, node: str, **changes) -> ClusterSnapshot:
    return with_node(snap, node, galera=replace(snap.node(node).galera, **changes))


def vrrp(snap: ClusterSnapshot, node: str, **changes) -> ClusterSnapshot:
    return with_node(snap, node, vrrp=tuple(replace(v, **changes) for v in snap.node(node).vrrp))


def no_vip(snap: ClusterSnapshot, node: str) -> ClusterSnapshot:
    return with_node(snap, node, addresses=tuple(a for a in snap.node(node).addresses if a.address != CONFIG.vip))


def add_vip(snap: ClusterSnapshot, node: str) -> ClusterSnapshot:
    return with_node(snap, node, addresses=(*snap.node(node).addresses, VIP_ADDR))


def web(snap: ClusterSnapshot, **changes) -> ClusterSnapshot:
    return replace(snap, web=replace(snap.web, **changes))


H = recording("healthy")  # node1 active, node2 standby (chk_drbd BAD by design)
F = recording("failover")  # node2 active, node1's MariaDB down
R = recording("resync")  # node1 SyncTarget, node2 SyncSource and active
D = recording("node-down")  # node1 unreachable, node2 alone (Galera non-Primary)
T0 = H.taken_at_epoch_s

# the healthy pair with the seed's chk_drbd accepting a healthy standby: nothing to report
CLEAN = vrrp(H, "node2", track_scripts=tuple(replace(t, status="GOOD") for t in H.node("node2").vrrp[0].track_scripts),
             effective_priority=90)


def unreachable(snap: ClusterSnapshot, node: str, **changes) -> ClusterSnapshot:
    return with_node(snap, node, reachable=False, vrrp=(), drbd=(), galera=None, addresses=(), drbd_mounted=None,
                     keepalived_running=None, **changes)


def pinned(snap: ClusterSnapshot, node: str, value: int, eff: int, weight: int | None = 1,
           **changes) -> ClusterSnapshot:
    return with_node(vrrp(snap, node, track_files=(TrackFile("maintenance", weight, value),), effective_priority=eff),
                     node, **changes)


SCENARIOS: dict[str, ClusterSnapshot] = {
    "healthy": H, "failover": F, "resync": R, "node-down": D, "clean": CLEAN,
    # ---- reachability
    "host key": unreachable(CLEAN, "node2", error="Host key is not trusted for 198.18.0.12", error_kind="host-key"),
    "host key, no error text": unreachable(CLEAN, "node2", error_kind="host-key"),
    "hatui's own error": unreachable(CLEAN, "node2", error="ValueError: x", error_kind="hatui"),
    "unreachable 42 s": unreachable(CLEAN, "node2", error="timed out", error_kind="network", since_epoch_s=T0 - 42),
    "unreachable 125 s": unreachable(CLEAN, "node2", error=None, since_epoch_s=T0 - 125.5),
    "unreachable 60 s, since in the future": unreachable(unreachable(CLEAN, "node1", since_epoch_s=T0 + 5), "node2",
                                                         since_epoch_s=T0 - 60),
    "unreachable, since unknown": unreachable(CLEAN, "node2", error="timed out", since_epoch_s=None),
    "stream restarting": with_node(CLEAN, "node2", stream="restarting in 2 s"),
    "stream starting": with_node(CLEAN, "node2", stream="starting"),
    "stream up": with_node(CLEAN, "node2", stream="up"),
    "keepalived down": with_node(CLEAN, "node2", keepalived_running=False),
    # ---- the VIP
    "vip on both": add_vip(CLEAN, "node2"),
    "vip nowhere": no_vip(CLEAN, "node1"),
    "vip nowhere, node2 unreachable": unreachable(no_vip(CLEAN, "node1"), "node2"),
    "holder role unknown": drbd(CLEAN, "node1", role="Unknown"),
    "holder secondary, unmounted": with_node(drbd(CLEAN, "node1", role="Secondary"), "node1", drbd_mounted=False),
    "holder mount unknown": with_node(CLEAN, "node1", drbd_mounted=None),
    "holder without drbd": with_node(CLEAN, "node1", drbd=()),
    "mounted on standby": with_node(CLEAN, "node2", drbd_mounted=True),
    # ---- DRBD
    "dual primary, standalone": drbd(CLEAN, "node2", role="Primary", connection_state="StandAlone",
                                     split_brain_suspected=True),
    "split brain helper": drbd(CLEAN, "node2", split_brain_suspected=True),
    "unconfigured": drbd(CLEAN, "node2", unconfigured=True, disk_state="Diskless"),
    "disk Diskless": drbd(CLEAN, "node2", disk_state="Diskless"),
    "disk Failed": drbd(CLEAN, "node2", disk_state="Failed"),
    "disk Outdated": drbd(CLEAN, "node2", disk_state="Outdated"),
    "disk unknown (None)": drbd(CLEAN, "node2", disk_state=None),
    "syncing, full detail": drbd(CLEAN, "node2", replication_state="SyncTarget", sync_percent=42.25, eta_s=30,
                                 speed_kib_s=1024, disk_state="Inconsistent"),
    "syncing, no detail": drbd(CLEAN, "node2", replication_state="PausedSyncT", sync_percent=None, eta_s=None,
                               speed_kib_s=None),
    "starting sync on the cstate (8.4)": drbd(CLEAN, "node2", replication_state=None, connection_state="StartingSyncT"),
    "no drbd on standby": with_node(CLEAN, "node2", drbd=()),
    "no drbd on the active, standby outdated": drbd(with_node(CLEAN, "node1", drbd=()), "node2", disk_state="Outdated"),
    # StandAlone is enough, whether or not the parser flagged a split brain
    "standalone, not flagged": drbd(CLEAN, "node2", connection_state="StandAlone", split_brain_suspected=False),
    # ---- Galera
    "login refused": with_node(CLEAN, "node2", galera=None,
                               mysql_error="(1045, \"Access denied for user 'root'@'localhost'\")"),
    "login refused, 1698": with_node(CLEAN, "node2", galera=None, mysql_error="(1698, 'x')"),
    "mariadb down": with_node(CLEAN, "node2", galera=None, mysql_error="(2002, \"Can't connect\")"),
    "mariadb silent": with_node(CLEAN, "node2", galera=None, mysql_error=None),
    "galera non-primary": galera(CLEAN, "node2", cluster_status="non-Primary"),
    "galera size 1": galera(CLEAN, "node2", cluster_size=1),
    "galera size unknown": galera(CLEAN, "node2", cluster_size=None),
    "galera joining": galera(CLEAN, "node2", local_state_comment="Joining: receiving State Transfer"),
    "galera state unknown": galera(CLEAN, "node2", local_state_comment=None, cluster_status=None),
    "galera uuid mismatch": galera(CLEAN, "node2", cluster_state_uuid="00000000-0000-0000-0000-000000000001"),
    "galera uuid unknown": galera(CLEAN, "node2", cluster_state_uuid=None),
    # a non-Primary node's UUID is not compared (it is not in the cluster)
    "galera non-primary, other uuid": galera(CLEAN, "node2", cluster_status="non-Primary",
                                             cluster_state_uuid="00000000-0000-0000-0000-000000000001"),
    # ---- the web page
    "web down": web(CLEAN, ok=False, error="timed out", node=None),
    "web from the standby": web(CLEAN, node="node2"),
    "web names nobody": web(CLEAN, node=None),
    "web, vip nowhere": web(no_vip(CLEAN, "node1"), node="node2"),
    "no web check": replace(CLEAN, web=None),
    # ---- maintenance pins
    "pin, would preempt": pinned(CLEAN, "node2", -30, 60, maintenance_since_epoch_s=int(T0) - 3600,
                                 maintenance_set_by="alice@ws1"),
    "pin, stays below": pinned(vrrp(CLEAN, "node1", effective_priority=100), "node2", -5, 85),
    "pin, equal": pinned(vrrp(CLEAN, "node1", effective_priority=90), "node2", -10, 80, weight=1),
    "pin, weight 2": pinned(CLEAN, "node2", 5, 100, weight=2),
    "pin, other unknown": pinned(unreachable(CLEAN, "node1"), "node2", -30, 60),
    "pin, no weight": pinned(CLEAN, "node2", -30, 60, weight=None),
    # ---- sudo
    "sudo refused one": with_node(CLEAN, "node2", sudo_refused=("/usr/sbin/drbdsetup events2 --now r0",)),
    "sudo refused two": with_node(CLEAN, "node2", sudo_refused=("/usr/bin/cat /tmp/keepalived.json",
                                                                "/usr/bin/rm -f /tmp/keepalived.json")),
    "sudo refused, unreachable": unreachable(with_node(CLEAN, "node2", sudo_refused=("/usr/bin/x",)), "node2"),
    "sudo refused, unknown node": with_node(replace(CLEAN, nodes=(*CLEAN.nodes[:1], replace(
        CLEAN.nodes[1], node="node3"))), "node3", sudo_refused=("/usr/bin/x",)),
    # ---- predictions and penalties (the standby's track scripts)
    "standby mysql check fails": vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_mysql", -20, "BAD"), TrackScript("chk_galera", -20, "GOOD"),
        TrackScript("chk_drbd", -20, "GOOD"))),
    "standby galera check fails, galera down": with_node(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_galera", -20, "BAD"),)), "node2", galera=None, mysql_error="(2002, 'x')"),
    "standby drbd check fails, drbd outdated": drbd(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"),)), "node2", disk_state="Outdated"),
    "standby drbd check fails, no drbd": with_node(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"),)), "node2", drbd=()),
    "standby other check fails": vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_web", -20, "BAD"), TrackScript("chk_plus", 10, "BAD"), TrackScript("chk_none", None, "BAD"),
        TrackScript("chk_ok", -20, "GOOD"))),
    "standby weight unknown first": vrrp(CLEAN, "node2", track_scripts=(
        TrackScript("chk_x", None, "BAD"), TrackScript("chk_up", 30, "GOOD")), effective_priority=120),
    "track file value unknown": vrrp(CLEAN, "node2", track_files=(TrackFile("extra", 2, None),)),
    "standby drbd check fails, disconnected": drbd(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"),)), "node2", connection_state="Connecting"),
    "standby drbd check fails, primary": drbd(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"),)), "node2", role="Primary"),
    "standby mysql check fails, galera donor": galera(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_mysql", -20, "BAD"),)), "node2", local_state_comment="Donor/Desynced"),
    "standby mysql check fails, galera non-primary": galera(vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_mysql", -20, "BAD"),)), "node2", cluster_status="non-Primary"),
    "standby galera check fails, galera fine": vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_galera", -20, "BAD"),)),
    "standby two by design, two files": vrrp(CLEAN, "node2", effective_priority=40, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"), TrackScript("chk_drbd_role", -20, "BAD")), track_files=(
        TrackFile("maintenance", 1, -5), TrackFile("pin2", 2, -1))),
    "standby zero-weight file": vrrp(CLEAN, "node2", effective_priority=70, track_scripts=(
        TrackScript("chk_drbd", -20, "BAD"),), track_files=(TrackFile("nil", 0, 5),)),
    "active weight-1 check": vrrp(CLEAN, "node1", track_scripts=(TrackScript("chk_one", 1, "GOOD"),
                                                                   TrackScript("chk_mysql", 1, "GOOD"))),
    "standby pinned and penalised": pinned(vrrp(CLEAN, "node2", track_scripts=(TrackScript("chk_drbd", -20, "BAD"),)),
                                           "node2", -5, 65),
    "standby effective unknown": vrrp(H, "node2", effective_priority=None),
    "standby base unknown": vrrp(H, "node2", base_priority=None),
    "standby weights positive": vrrp(vrrp(CLEAN, "node2", track_scripts=(TrackScript("chk_wsrep", 30, "GOOD"),),
                                          base_priority=60, effective_priority=90), "node1",
                                     track_scripts=(TrackScript("chk_maria", 50, "GOOD"),), base_priority=50),
    "no master": vrrp(CLEAN, "node1", state="BACKUP"),
    "three-node galera": CLEAN,  # diagnosed with expected_cluster_size 3 (see test_diagnosis_table)
    "priorities clamped": vrrp(vrrp(CLEAN, "node1", base_priority=250, track_scripts=(TrackScript("up", 20, "GOOD"),)),
                               "node2", base_priority=5, track_scripts=(TrackScript("chk_drbd", -20, "BAD"),),
                               effective_priority=1),
}
# scenarios diagnosed with another config
CONFIGS = {"three-node galera": replace(CONFIG, mariadb=replace(CONFIG.mariadb, expected_cluster_size=3)),
           "node-down": replace(CONFIG, mariadb=replace(CONFIG.mariadb, expected_cluster_size=2))}
