"""The files each lab node sees at the standard Debian paths.

The keepalived configuration, health checks and notify script reproduce the seed deployment this
project was given (VI_1, virtual_router_id 51, priority 100/90, advert_int 1, auth PASS, chk_mysql /
chk_galera / chk_drbd with interval 3 and weight -20, a notify script appending one line per
transition to /var/log/keepalived_failover.log and moving DRBD and /mnt/drbd).  The seed's three
check scripts run as the seed wrote them, but for the one thing the lab cannot give them (docs/lab.md
lists every difference from the seed):

* the kernel has no DRBD, so /proc/drbd cannot exist; the emulator keeps the same text in
  DRBD_PROC_FILE and check_drbd.sh's `cat` reads that file, through the seed's own grep pipeline.

check_mysql.sh asks `systemctl is-active --quiet mariadb` verbatim: the lab has no systemd, so each
node has a `systemctl` (SYSTEMCTL_SH, in its /usr/local/sbin) that answers `is-active` for the lab's
mariadbd the way systemd answers for Debian's mariadb.service.

`--checks recommended` swaps the three checks for fixed ones (see RECOMMENDED_CHECKS below).
"""

from __future__ import annotations

import shlex
import textwrap

from hatui_lab.netplan import NetPlan

NOTIFY_LOG = "/var/log/keepalived_failover.log"
MAINTENANCE_FILE = "/etc/keepalived/maintenance"
# Where the DRBD emulator keeps the text real DRBD 8.4 shows in /proc/drbd (see module docstring).
DRBD_PROC_FILE = "/run/hatui-lab/proc_drbd"
PATH_LINE = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The seed's health checks, as its section 5 has them (tests/test_check_semantics.py compares them with
# tests/fixtures/seed/).  chk_drbd wants `ro:Primary` on the `cs:Connected` line, so it fails on every
# healthy Secondary (the standby always runs 20 points down) and on a Primary whose peer is gone;
# chk_galera's `grep Primary` matches "non-Primary" too.  Kept as they are on purpose: operators run these.
SEED_CHECKS = {
    # verbatim from the seed (the node's `systemctl` is SYSTEMCTL_SH)
    "check_mysql.sh": """\
        #!/bin/bash
        if systemctl is-active --quiet mariadb; then
            exit 0
        else
            exit 1
        fi
        """,
    # verbatim from the seed
    "check_galera.sh": """\
        #!/bin/bash
        STATUS=$(mysql -u root -e "SHOW STATUS LIKE 'wsrep_cluster_status';" 2>/dev/null | grep Primary)
        if [ -z "$STATUS" ]; then
            exit 1
        else
            exit 0
        fi
        """,
    # the seed's, reading the emulator's copy of /proc/drbd (the kernel has no DRBD)
    "check_drbd.sh": """\
        #!/bin/bash
        drbd_status=$(cat {proc_drbd} | grep -A 2 "cs:Connected" | grep "ro:Primary")
        if [ -z "$drbd_status" ]; then
            exit 1
        else
            exit 0
        fi
        """,
}

# The fixed checks (`hatui lab up --checks recommended`): chk_drbd accepts a healthy Secondary (its disk
# UpToDate, whatever the role or the peer) and asks drbdadm, which answers on DRBD 8.4 and 9 alike (on 9
# /proc/drbd has no resource lines); chk_galera wants the whole value Primary (never "non-Primary") and
# wsrep_ready ON; chk_mysql asks the server itself, so a hung server fails it.
RECOMMENDED_CHECKS = {
    "check_mysql.sh": """\
        #!/bin/bash
        # chk_mysql: is the MariaDB server up?
        {path}
        mysqladmin --connect-timeout=2 ping >/dev/null 2>&1 || exit 1
        exit 0
        """,
    "check_galera.sh": """\
        #!/bin/bash
        # chk_galera (recommended): this node belongs to the Primary component and is ready.
        {path}
        OUT=$(mysql --connect-timeout=2 -N -B \\
            -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_ready')" 2>/dev/null)
        echo "$OUT" | grep -q "^wsrep_cluster_status.Primary$" || exit 1
        echo "$OUT" | grep -q "^wsrep_ready.ON$" || exit 1
        exit 0
        """,
    "check_drbd.sh": """\
        #!/bin/bash
        # chk_drbd (recommended): the local disk is UpToDate, whatever the role.  drbdadm prints
        # "UpToDate/UpToDate" (local/peer) on 8.4 and 9; /proc/drbd has no resource lines on 9.
        {path}
        DSTATE=$(drbdadm dstate r0 2>/dev/null)
        case "$DSTATE" in
            UpToDate|UpToDate/*) exit 0 ;;
        esac
        exit 1
        """,
}

CHECKS = {"seed": SEED_CHECKS, "recommended": RECOMMENDED_CHECKS}

# `systemctl` on a lab node (its /usr/local/sbin, first on the PATH): the lab has no systemd, and the
# seed's check_mysql.sh asks `systemctl is-active --quiet mariadb`.  Answers `is-active` for mariadb the
# way systemd does for Debian's mariadb.service (Type=notify: the server says READY once it accepts
# connections): "active" while the node's mariadbd listens on its socket (hung or not: systemd does not
# look further), "activating" while a mariadbd starts, else "inactive" (systemd says "failed" after a
# crash; the exit status, 3, is the same).  What systemd would add and this does not: the unit's
# Restart=on-abnormal, which restarts a crashed server (docs/lab.md).  Every other command is refused.
SYSTEMCTL_SH = """\
#!/bin/bash
# systemctl of a hatui lab node (no systemd in the lab): only `is-active [--quiet] UNIT...` for mariadb
SOCKET={socket}
quiet=0; cmd=""; units=()
for a in "$@"; do
    case "$a" in
        -q|--quiet) quiet=1 ;;
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=$a; else units+=("$a"); fi ;;
    esac
done
if [ "$cmd" != is-active ] || [ ${{#units[@]}} -eq 0 ]; then
    echo "systemctl (hatui lab): only 'systemctl is-active UNIT' is emulated (no systemd in the lab)" >&2
    exit 1
fi
listening() {{  # a listening (flags 00010000) unix socket at $SOCKET in this node's network namespace
    local _num _ref _proto flags _type _st _inode path
    while read -r _num _ref _proto flags _type _st _inode path; do
        [ "$path" = "$SOCKET" ] && [ "$flags" = 00010000 ] && return 0
    done < /proc/net/unix
    return 1
}}
starting() {{  # a mariadbd process in this node's network namespace
    local me d
    me=$(readlink /proc/self/ns/net)
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = mariadbd ] && [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$me" ] && return 0
    done
    return 1
}}
rc=3
for u in "${{units[@]}}"; do
    case "${{u%.service}}" in
        mariadb|mysql|mysqld)
            if listening; then state=active; rc=0
            elif starting; then state=activating
            else state=inactive; fi ;;
        *) state=inactive ;;
    esac
    [ $quiet -eq 1 ] || echo "$state"
done
exit $rc
"""
MARIADB_SOCKET = "/run/mysqld/mysqld.sock"

NOTIFY_SH = """\
#!/bin/bash
# keepalived notify script (seed): keepalived appends TYPE NAME STATE PRIORITY.
{path}
TYPE=$1
NAME=$2
STATE=$3
LOG={log}
echo "$(date '+%Y-%m-%d %H:%M:%S') - Keepalived notification on $NAME: State changed to $STATE (Type: $TYPE)" >> "$LOG"
case "$STATE" in
    MASTER)
        # The old master demotes in its own notify script at this same moment: until it has, DRBD
        # refuses a second primary.  Retry for up to 10 s instead of giving up on the first refusal.
        for _ in $(seq 1 20); do
            drbdadm primary r0 >> /var/log/keepalived_drbd.log 2>&1 && break
            sleep 0.5
        done
        mount /dev/drbd0 /mnt/drbd >> /var/log/keepalived_drbd.log 2>&1
        ;;
    BACKUP|FAULT)
        umount /mnt/drbd >> /var/log/keepalived_drbd.log 2>&1
        drbdadm secondary r0 >> /var/log/keepalived_drbd.log 2>&1
        ;;
esac
exit 0
"""

# The seed's own notify script (`hatui lab up --notify seed`), verbatim but for two lines: a made-up
# token, and the chat post sent to a closed local port (discard, 9/tcp) instead of the internet.  It
# only logs and posts: no DRBD promotion, no mount, no case per state.
SEED_NOTIFY_SH = """\
#!/bin/bash

TYPE=$1
NAME=$2
STATE=$3

TOKEN="{token}"
CHAT_ID="@ava_ha_notifs"
MESSAGE="Keepalived notification on $NAME: State changed to $STATE (Type: $TYPE)"

echo "$(date '+%Y-%m-%d %H:%M:%S') - $MESSAGE" >> /var/log/keepalived_failover.log

curl -s -X POST {chat_url}/bot$TOKEN/sendMessage -d chat_id=$CHAT_ID -d text="$MESSAGE" > /dev/null
"""
SEED_NOTIFY_TOKEN = "123456789:LAB-made-up-token-not-a-real-one-000"  # the shape of a chat-bot token
SEED_NOTIFY_CHAT_URL = "https://127.0.0.1:9"  # a closed port in the node's own namespace: refused at once
NOTIFY_VARIANTS = ("lab", "seed")

KEEPALIVED_CONF = """\
! keepalived for {node} (hatui lab; the seed's configuration)
global_defs {{
    router_id {node}
    enable_script_security
    script_user root
}}

vrrp_script chk_mysql {{
    script "/etc/keepalived/check_mysql.sh"
    interval 3
    weight -20
}}

vrrp_script chk_galera {{
    script "/etc/keepalived/check_galera.sh"
    interval 3
    weight -20
}}

vrrp_script chk_drbd {{
    script "/etc/keepalived/check_drbd.sh"
    interval 3
    weight -20
}}

# Maintenance hook for graceful switchover (recommended production snippet, see config.example.yaml):
# write a negative number (e.g. -50) into the file to lower this node's priority, 0 to clear it.
track_file maintenance {{
    file "{maintenance}"
    weight 1
    init_file 0
}}

vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass {auth_pass}
    }}
    virtual_ipaddress {{
        {vip}/{prefixlen}
    }}
    track_script {{
        chk_mysql
        chk_galera
        chk_drbd
    }}
    track_file {{
        maintenance
    }}
    notify /etc/keepalived/notify.sh
}}
"""

GALERA_CNF = """\
# Galera settings of the seed (MariaDB + galera-4, cluster my_cluster, SST rsync), hatui lab {node}
[mysqld]
log_error = /var/log/mysql/error.log
bind-address = 0.0.0.0
innodb_buffer_pool_size = 64M
performance_schema = OFF

[galera]
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = my_cluster
wsrep_cluster_address = gcomm://{peers}
wsrep_node_address = {ip}
wsrep_node_name = {node}
wsrep_sst_method = rsync
wsrep_provider_options = "gcache.size=32M"
binlog_format = row
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
"""

SSHD_CONFIG = """\
# sshd of lab node {node}: key-only root login with the lab key
ListenAddress {ip}
Port 22
HostKey {hostkey}
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {authorized_keys}
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 5
ClientAliveCountMax 3
Subsystem sftp internal-sftp
"""

WEB_INDEX = "HA Web Service is running on node {node}\n"


def render_checks(variant: str, proc_drbd: str) -> dict[str, str]:
    checks = CHECKS[variant]
    return {
        name: textwrap.dedent(body).format(path=PATH_LINE, proc_drbd=shlex.quote(proc_drbd))
        for name, body in checks.items()
    }


def render_systemctl() -> str:
    return SYSTEMCTL_SH.format(socket=shlex.quote(MARIADB_SOCKET))


def render_notify(variant: str = "lab") -> str:
    if variant == "seed":
        return SEED_NOTIFY_SH.format(token=SEED_NOTIFY_TOKEN, chat_url=SEED_NOTIFY_CHAT_URL)
    return NOTIFY_SH.format(path=PATH_LINE, log=NOTIFY_LOG)


def render_keepalived(netplan: NetPlan, node: str, auth_pass: str) -> str:
    primary = node == netplan.nodes[0].name
    return KEEPALIVED_CONF.format(
        node=node,
        state="MASTER" if primary else "BACKUP",
        priority=100 if primary else 90,
        auth_pass=auth_pass,
        vip=netplan.vip,
        prefixlen=netplan.prefixlen,
        maintenance=MAINTENANCE_FILE,
    )


def render_galera(netplan: NetPlan, node: str) -> str:
    peers = ",".join(n.ip for n in netplan.nodes)
    return GALERA_CNF.format(node=node, ip=netplan.node(node).ip, peers=peers)


def render_sshd(netplan: NetPlan, node: str, hostkey: str, authorized_keys: str) -> str:
    return SSHD_CONFIG.format(node=node, ip=netplan.node(node).ip, hostkey=hostkey, authorized_keys=authorized_keys)
