"""One lab node: its namespaces, its files at the standard paths, and the services it runs.

A node is a network namespace (`ip netns`, named LABNAME-nodeN) plus a mount and UTS namespace held
open by a small "holder" process.  Every service of the node is started with nsenter into the
holder's namespaces, so at /etc/keepalived, /etc/mysql, /var/lib/mysql, /run, /tmp, /var/log,
/mnt/drbd, /var/www/html and /usr/local/sbin it sees only its own files, and so does a command run
over SSH on it.  Killing every process of the node (power-off) makes the mount namespace vanish like
a reboot; `heal` boots it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hatui_lab import procs
from hatui_lab.netplan import NodeAddr

# host directory name -> path seen inside the node
BIND_MOUNTS = (
    ("etc-keepalived", "/etc/keepalived"),
    ("etc-mysql", "/etc/mysql"),
    ("var-lib-mysql", "/var/lib/mysql"),
    ("run", "/run"),
    ("tmp", "/tmp"),
    ("var-log", "/var/log"),
    ("var-www-html", "/var/www/html"),
    ("sbin", "/usr/local/sbin"),
)

# Not bind-mounted: an empty directory in every node, on which the DRBD emulator's `mount` wrapper
# mounts the replicated data on the Primary only (so `mountpoint /mnt/drbd` tells the truth).
MOUNT_POINT = "/mnt/drbd"
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SERVICES = ("drbd", "sshd", "web", "mariadb", "keepalived")
OWN_ETC = "etc-own"  # files each bind-mounted over /etc/NAME inside the node (only with --ssh-user)
# Mount points the labs had to create on the host (e.g. /mnt/drbd), one list for every lab on this
# machine: removing one while another lab's nodes have it mounted would unmount it under them.
CREATED_DIRS = Path("/run/hatui-labs/created-dirs")


def node_python() -> str:
    """A Python the nodes can run: Debian's (the emulator and the web server need only the stdlib),
    else this one."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class NodeError(RuntimeError):
    pass


@dataclass
class Node:
    addr: NodeAddr
    root: Path  # the node's host-side directory (holds the bind-mount sources)
    pid_dir: Path

    @property
    def name(self) -> str:
        return self.addr.name

    def dir(self, key: str) -> Path:
        return self.root / key

    def pidfile(self, service: str) -> Path:
        return self.pid_dir / f"{self.name}.{service}"

    def holder_pid(self) -> int | None:
        return procs.tracked_pid(self.pidfile("holder"))

    def service_pid(self, service: str) -> int | None:
        return procs.tracked_pid(self.pidfile(service))

    # ---- boot -------------------------------------------------------------------------------
    def boot(self, timeout_s: float = 10.0) -> bool:
        """Start the holder (mount + UTS namespace inside the node's netns). False if already up."""
        if self.holder_pid() is not None:
            return False
        booted = self.dir("run") / "hatui-lab-booted"
        booted.unlink(missing_ok=True)
        for target in [t for _k, t in BIND_MOUNTS] + [MOUNT_POINT]:
            # an empty mount point on the host (e.g. /mnt/drbd); `lab down` removes the ones it made
            if not os.path.isdir(target):
                os.makedirs(target)
                CREATED_DIRS.parent.mkdir(parents=True, exist_ok=True)
                with open(CREATED_DIRS, "a") as made:
                    made.write(target + "\n")
        lines = ["set -e", f"hostname {self.name}"]
        for key, target in BIND_MOUNTS:
            lines.append(f"/usr/bin/mount --bind {self.dir(key)} {target}")
        # the node's own /etc/passwd, shadow, group, hosts and sudoers.d, where the lab made them (--ssh-user)
        own = self.dir(OWN_ETC)
        if own.is_dir():
            for item in sorted(own.iterdir()):
                lines.append(f"/usr/bin/mount --bind {item} /etc/{item.name}")
        lines += ["touch /run/hatui-lab-booted", "exec sleep infinity"]
        script = self.root / "boot.sh"
        script.write_text("\n".join(lines) + "\n")
        log = open(self.dir("var-log") / "hatui-lab-boot.log", "ab")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.addr.netns, "unshare", "--mount", "--uts", "--propagation", "private",
             "--", "/bin/sh", str(script)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while not booted.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise NodeError(f"{self.name}: booting its namespaces failed; "
                                f"see {self.dir('var-log')}/hatui-lab-boot.log")
            time.sleep(0.02)
        procs.record(self.pidfile("holder"), proc.pid)
        return True

    def exec_argv(self, argv: list[str]) -> list[str]:
        holder = self.holder_pid()
        if holder is None:
            raise NodeError(f"{self.name} is not running (powered off?): run `hatui lab heal {self.name}`")
        return ["nsenter", f"--target={holder}", "--mount", "--net", "--uts", "--", *argv]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL", "DRBDEMU"))}
        env["PATH"] = NODE_PATH
        env["HOME"] = "/root"
        return env

    def run(self, argv: list[str], timeout_s: float = 20.0, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a command inside the node and wait for it."""
        res = subprocess.run(self.exec_argv(argv), capture_output=True, text=True, timeout=timeout_s, env=self.env())
        if check and res.returncode != 0:
            raise NodeError(f"{self.name}: `{' '.join(argv)}` failed ({res.returncode}): {res.stderr.strip()}")
        return res

    def sh(self, script: str, timeout_s: float = 20.0) -> subprocess.CompletedProcess[str]:
        return self.run(["/bin/bash", "-c", script], timeout_s=timeout_s)

    def start_service(self, service: str, argv: list[str]) -> tuple[int, bool]:
        """Start a long-running service inside the node unless it already runs. (pid, started_now)"""
        pid = self.service_pid(service)
        if pid is not None:
            return pid, False
        log = open(self.dir("var-log") / f"hatui-lab-{service}.log", "ab")
        proc = subprocess.Popen(
            self.exec_argv(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True, env=self.env(),
        )
        log.close()
        procs.record(self.pidfile(service), proc.pid)
        return proc.pid, True

    def stop_service(self, service: str, graceful: bool = True, timeout_s: float = 20.0) -> bool:
        pid = self.service_pid(service)
        if pid is None:
            return False
        procs.terminate([pid], timeout_s=timeout_s, sig=15 if graceful else 9)
        self.pidfile(service).unlink(missing_ok=True)
        return True

    def kill_all(self) -> int:
        """Power-off: SIGKILL every process in the node's namespaces, the holder included."""
        victims = set(procs.pids_in_netns(f"/run/netns/{self.addr.netns}"))
        holder = self.holder_pid()
        if holder is not None:
            victims.update(procs.pids_in_mntns_of(holder))
        victims.discard(os.getpid())
        procs.terminate(sorted(victims), sig=9)
        for pidfile in self.pid_dir.glob(f"{self.name}.*"):
            pidfile.unlink(missing_ok=True)
        return len(victims)
