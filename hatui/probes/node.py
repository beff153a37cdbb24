"""One node's cycle: every subsystem's commands in one batch, and the pure step from what came back
to a NodeSnapshot.  The collector runs the batch and the wsrep query; this module decides what they
are and how they are read, so the collector only schedules, backs off and publishes."""

from __future__ import annotations

from hatui.config import Config
from hatui.model import CommandResult, FailoverEvent, NodeSnapshot
from hatui import privilege
from hatui.probes import drbd, failover_log, galera, keepalived, maintenance
from hatui.probes import printable
from hatui.probes.keepalived import RunMore


class NodeReader:
    """What one node's live loop keeps between cycles: keepalived's pipelined dumps and the failover
    log's offset.  `commands()` for this cycle, then `absorb()` what the batch printed."""

    def __init__(self, config: Config, node: str) -> None:
        self.config = config
        self.node = node
        self.cycle = 0
        self.root = privilege.root_of(config.node(node))
        self.keepalived = keepalived.KeepalivedReader(self.root)
        self.log = failover_log.FailoverLogReader(node, config.failover_log)
        self._mark: CommandResult | None = None  # the maintenance file's mark, read every MARK_EVERY cycles

    MARK_EVERY = 10

    def stream_command(self) -> str:
        """ONE long-lived command on its own channel that prints a tag line whenever something this node
        shows changes, tag and line: an address (`addr <the ip -o monitor line>`), a failover-log line
        (`log <line>`), a DRBD 9 state (`drbd <the events2 line>`).  The loop polls at once
        on a tag, so a change is on screen within a round trip; the polls stay the source of truth (and
        the safety net when a stream stops)."""
        cfg = self.config
        parts = {"addr": keepalived.ADDR_MONITOR_COMMAND, "log": failover_log.follow_command(cfg.failover_log),
                 "drbd": drbd.events_follow_command(cfg.drbd.proc_file, cfg.drbd.resource, self.root)}
        # bash's `read` loops: no fork per event; each line crosses the network after its tag: the
        # collector shows the VIP, a DRBD 9 role or a failover-log line from it at once, before the poll
        # it asks for (which stays the truth: it reads the log by offset, the addresses, DRBD)
        jobs = [f"{{ {cmd} 2>/dev/null | while IFS= read -r L; do printf '%s %s\\n' {tag} \"$L\"; done; }} &"
                for tag, cmd in parts.items()]
        # the foreground reads stdin: when hatui closes the channel it ends, and takes the jobs with it
        return "exec 2>/dev/null; " + " ".join(jobs) + " echo ready; while read -r _; do :; done; kill 0"

    def commands(self) -> dict[str, str]:
        self.cycle += 1
        cfg = self.config
        ka = self.keepalived.commands(self.cycle)
        cmds = {"signums": ka.pop("signums")} if "signums" in ka else {}
        cmds["addr"] = keepalived.IP_ADDR_COMMAND
        cmds.update(ka)
        cmds.update(drbd.live_commands(cfg.drbd.proc_file, cfg.drbd.resource, cfg.drbd.mount_point, self.root))
        cmds["grastate"] = galera.grastate_command(root=self.root)
        cmds["log"] = self.log.command(self.cycle)
        if self._mark is None or self.cycle % self.MARK_EVERY == 0:
            cmds["maintenance"] = maintenance.command(cfg.actions.maintenance_file)
        return cmds

    async def absorb(self, res: dict[str, CommandResult], run_more: RunMore) -> tuple[FailoverEvent, ...]:
        """Complete `res` in place (secrets redacted, the data dump held, what sudo refused taken out of the
        outputs into `res["sudo_refused"]`) and return the new log events."""
        if self.root.unprivileged:
            take_refusals(res)
            fetch = run_more

            async def run_more(cmds: dict[str, str]) -> dict[str, CommandResult]:
                more = await fetch(cmds)
                take_refusals(more)
                if "sudo_refused" in more:
                    before = res["sudo_refused"].output + "\n" if "sudo_refused" in res else ""
                    res["sudo_refused"] = CommandResult(0, before + more.pop("sudo_refused").output)
                return more
        await self.keepalived.absorb(res, run_more)
        if "maintenance" in res:
            self._mark = res["maintenance"]
        elif self._mark is not None:
            res["maintenance"] = self._mark
        return self.log.absorb(res["log"].output if "log" in res else "")


def take_refusals(res: dict[str, CommandResult]) -> None:
    """Move sudo's refusals (marked by privilege.SUDO_FUNCTION) out of each output into one entry,
    `sudo_refused` (one refused command a line), so that no parser reads them."""
    refused: list[str] = []
    for key, result in list(res.items()):
        found, rest = privilege.refusals(result.output)
        if found:
            refused += found
            res[key] = CommandResult(result.exit_status, rest)
    if refused:
        res["sudo_refused"] = CommandResult(0, "\n".join(dict.fromkeys(refused)))


def node_from_raw(config: Config, name: str, res: dict[str, CommandResult],
                  galera_rows: list[tuple[str, str]] | None, mysql_error: str | None) -> NodeSnapshot:
    """Pure: one node's poll (what each command printed, the wsrep rows) → its NodeSnapshot.
    The collector adds the reachability time, log events and latency; replays rerun this on recordings."""
    notes: list[str] = []
    galera_state = None
    if galera_rows is not None:
        parsed = galera.parse_wsrep_status(galera_rows)
        galera_state = parsed.value
        notes.extend(parsed.unparsed)
    empty = CommandResult(None, "")
    vrrp, ka_running, ka_notes = keepalived.vrrp_from_raw(res)
    notes.extend(ka_notes)
    addrs = keepalived.parse_ip_addr(res.get("addr", empty).output)
    notes.extend(addrs.unparsed)
    drbd_res, drbd_notes = drbd.drbd_from_raw(res.get("drbd_proc", empty).output, res.get("drbd_events", empty).output,
                                              config.drbd.device, config.drbd.resource,
                                              res.get("drbd_status", empty).output)
    notes.extend(drbd_notes)
    gra = res.get("grastate", empty)
    grastate = galera.parse_grastate(gra.output).value if gra.ok else None
    mark = maintenance.parse_mark(res["maintenance"].output).value if "maintenance" in res else None
    return NodeSnapshot(
        node=name, reachable=True, poll_age_s=0.0, vrrp=vrrp, addresses=addrs.value or (), drbd=drbd_res,
        galera=galera_state, grastate=grastate, notes=tuple(dict.fromkeys(notes)), keepalived_running=ka_running,
        drbd_mounted=res.get("mounted", empty).ok, mysql_error=mysql_error,
        maintenance_since_epoch_s=mark.since_epoch_s if mark else None, maintenance_set_by=mark.by if mark else None,
        sudo_refused=tuple(printable(x) for x in res["sudo_refused"].output.splitlines() if x.strip())
        if "sudo_refused" in res else ())
