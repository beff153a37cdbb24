"""The lab's nodes' configuration as the doctor reads it (keepalived.conf, the check and notify scripts,
Galera's settings), rendered by hatui_lab.nodefiles and parsed by hatui.doctor_run: what the fault
predictions and `status --json`'s prediction block are computed from in the tests."""

from __future__ import annotations

from hatui.doctor_run import read_from_raw, script_commands
from hatui.model import CommandResult
from hatui_lab import nodefiles
from hatui_lab.netplan import plan
from tests.recordings import CONFIG

LIVE = "wsrep_provider_options\tevs.suspect_timeout = PT5S; pc.weight = {w}\nwsrep_cluster_size\t{size}\n"


def reads(checks: str = "seed", notify: str = "lab", weights=(1, 1), size: int = 2, conf_edit=lambda c: c):
    np = plan()
    out = []
    for n, w in zip(("node1", "node2"), weights, strict=True):
        ok = lambda t: CommandResult(0, t)  # noqa: E731
        first = {"ka_conf": ok(conf_edit(nodefiles.render_keepalived(np, n, "pw"))), "ka_version": ok(""),
                 "drbd_xml": CommandResult(1, ""), "drbd_text": CommandResult(1, ""),
                 "galera_defaults": ok("--wsrep_cluster_address=gcomm://198.18.0.11,198.18.0.12\n"),
                 "galera_live": ok(LIVE.format(w=w, size=size)), "addr": ok(""), "hostname": ok(n)}
        files = nodefiles.render_checks(checks, nodefiles.DRBD_PROC_FILE)
        files["notify.sh"] = nodefiles.render_notify(notify)
        second = {k: ok(files[k.rsplit("/", 1)[1]]) for k in script_commands(first)}
        out.append(read_from_raw(n, first, second, CONFIG.vip))
    return out
