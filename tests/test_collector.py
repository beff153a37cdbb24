"""The collector's cycle logic with a scripted transport (no SSH): which reads it asks for, and that the
VRRP view it builds is never a mix of a fresh priority with stale track-script statuses."""

from __future__ import annotations

import json
from pathlib import Path

from hatui.collector import Collector
from hatui.model import CommandResult
from hatui.transport import TransportError
from tests.recordings import CONFIG

LAB = Path(__file__).parent / "fixtures" / "lab"
JSON_80 = (LAB / "keepalived.json-v2.2.7-node1-lab.txt").read_text()  # node1 MASTER, 80 (chk_drbd BAD)
DATA_80 = (LAB / "keepalived.data-v2.2.7-node1-lab.txt").read_text()


def json_with_priority(prio: int) -> str:
    doc = json.loads(JSON_80)
    doc[0]["data"]["effective_priority"] = prio
    return json.dumps(doc)


# the same dump after chk_drbd passed (the node was promoted): 100
DATA_100 = DATA_80.replace("   Status = BAD", "   Status = GOOD").replace("Effective priority = 80",
                                                                          "Effective priority = 100")


class ScriptedTransport:
    """Answers each batch from the current 'node state'; records what was asked."""

    def __init__(self) -> None:
        self.json, self.data = JSON_80, DATA_80
        self.batches: list[set[str]] = []

    async def batch(self, commands: dict[str, str], timeout_s: float | None = None) -> dict[str, CommandResult]:
        self.batches.append(set(commands))
        out = {"ka_json": self.json, "ka_data": self.data, "signums": "36 10", "ka_pid": "123", "log": "0\n",
               "addr": "", "drbd_proc": "", "grastate": ""}
        return {k: CommandResult(0, out.get(k, "")) for k in commands}

    async def mysql_socket(self, socket: str) -> str:
        raise TransportError("no MariaDB in this test")


def scripts(snap) -> dict[str, str]:
    return {s.name: s.status for s in snap.vrrp[0].track_scripts}


async def test_priority_change_refreshes_stale_script_statuses() -> None:
    col = Collector(CONFIG)
    fake = ScriptedTransport()
    col._loops["node1"].transport = fake  # type: ignore[assignment]
    snap = await col._poll("node1")  # first cycle: both dumps
    assert snap.vrrp[0].effective_priority == 80 and scripts(snap)["chk_drbd"] == "BAD"
    snap = await col._poll("node1")  # nothing moved: the data dump is not read again
    assert "ka_data" not in fake.batches[-1] and len(fake.batches) == 2
    assert scripts(snap)["chk_drbd"] == "BAD"
    await col._poll("node1")  # every 3rd cycle reads it anyway
    assert "ka_data" in fake.batches[-1] and len(fake.batches) == 3
    # chk_drbd passes: keepalived's JSON says 100; the data dump held is from before
    fake.json, fake.data = json_with_priority(100), DATA_100
    snap = await col._poll("node1")
    assert snap.vrrp[0].effective_priority == 100
    assert fake.batches[-1] == {"ka_data"}, fake.batches  # one extra small round trip, only on a change
    assert scripts(snap) == {"chk_mysql": "GOOD", "chk_galera": "GOOD", "chk_drbd": "GOOD"}
    snap = await col._poll("node1")  # steady again: no extra round trip
    assert "ka_data" not in fake.batches[-1] and fake.batches[-1] != {"ka_data"}
    assert scripts(snap)["chk_drbd"] == "GOOD"
