"""The maintenance hook's keepalived snippet, shown when a switchover refuses, is the config's own."""

from __future__ import annotations

from dataclasses import replace

from hatui.actions.switchover import plan_switchover
from tests.recordings import CONFIG, recording, with_node


def test_the_hook_snippet_names_this_configs_instance_file_and_track_file():
    """The refusal's snippet is the config's own: its vrrp_instance, its maintenance_file and the
    track_file name the live view looks for (that file's basename), not a fixed VI_1 and path."""
    cfg = replace(CONFIG, keepalived_instance="VI_DB",
                  actions=replace(CONFIG.actions, maintenance_file="/etc/keepalived/hatui-pin"))
    snap = recording("healthy")
    n1 = snap.node("node1")
    snap = with_node(snap, "node1", vrrp=tuple(replace(v, name="VI_DB", track_files=()) for v in n1.vrrp))
    snap = with_node(snap, "node2", vrrp=tuple(replace(v, name="VI_DB") for v in snap.node("node2").vrrp))
    plan = plan_switchover(snap, cfg, "node2")
    assert not plan.runnable and "no maintenance hook" in plan.refusal, plan.render()
    assert "track_file hatui-pin {" in plan.refusal and 'file "/etc/keepalived/hatui-pin"' in plan.refusal
    assert "vrrp_instance VI_DB {" in plan.refusal and "        hatui-pin\n" in plan.refusal
    assert "VI_1" not in plan.refusal and "/etc/keepalived/maintenance" not in plan.refusal
    assert "named hatui-pin, the basename of /etc/keepalived/hatui-pin" in plan.refusal
