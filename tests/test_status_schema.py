"""`hatui status --json` against docs/status.schema.json: every recorded snapshot's output validates, and
the schema names exactly the model's fields (a field added to the model without the schema fails here,
even in an object no recording holds)."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import jsonschema
import pytest

from hatui import cli, doctor_run, model, predict, report
from tests.config_reads import reads
from tests.recordings import CONFIG, FIXTURES, LAB_CONFIG_FILE, recording, with_node

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "status.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
RECORDINGS = sorted(p.stem for p in FIXTURES.glob("*.json"))


def status_json(monkeypatch, capsys, snap) -> dict:
    """What `hatui status --json` prints for `snap`, the nodes' configuration being the lab's."""

    async def taken(config):
        return snap

    async def read_all(config):
        return reads()

    monkeypatch.setattr(cli, "_snapshot", taken)
    monkeypatch.setattr(doctor_run, "read_all", read_all)
    assert cli.main(["--config", str(LAB_CONFIG_FILE), "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema"]["const"] == report.JSON_SCHEMA_VERSION


def variants():
    """Each recording, and the shapes no recording has: a host-key refusal, a DRBD resource with an
    unconfigured or suspended state."""
    for name in RECORDINGS:
        yield name, recording(name)
    healthy = recording("healthy")
    yield "host-key", with_node(healthy, "node2", reachable=False, error="host key CHANGED", error_kind="host-key",
                                vrrp=(), drbd=(), galera=None, grastate=None)
    n1 = healthy.node("node1")
    r = dataclasses.replace(n1.drbd[0], suspended="user", unconfigured=True)
    yield "drbd-odd", with_node(healthy, "node1", drbd=(r,), sudo_refused=("/usr/sbin/drbdsetup status r0",))


@pytest.mark.parametrize("name, snap", list(variants()), ids=[n for n, _ in variants()])
def test_status_json_of_every_recording_validates(monkeypatch, capsys, name, snap):
    doc = status_json(monkeypatch, capsys, snap)
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:10])
    if predict.settling(snap, reads(), CONFIG):
        # the pair is about to move on its own (the resync recording: the seed's chk_drbd fails on
        # cs:SyncSource, so node2 drops below node1): predicting a fault from it would race the move
        assert doc["fault_predictions"] == []
    else:
        assert doc["fault_predictions"], "the lab's configuration predicts every fault"


def test_the_recordings_reach_the_objects_they_should():
    """The validation above is only as good as what it sees: the recordings hold every object kind."""
    seen: set[str] = set()

    def walk(value):
        if dataclasses.is_dataclass(value):
            seen.add(type(value).__name__)
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple):
            for v in value:
                walk(v)

    for name in RECORDINGS:
        walk(recording(name))
    assert {"NodeSnapshot", "VrrpInstance", "TrackScript", "Vip", "IpAddress", "DrbdResource", "DrbdVolume",
            "DrbdConnection", "DrbdPeerDevice", "GaleraState", "GraState", "FailoverEvent", "Finding",
            "WebCheck"} <= seen, seen


def model_fields(cls: type, found: dict[str, set[str]]) -> dict[str, set[str]]:
    """Every dataclass reachable from `cls` by its fields' types, with its field names."""
    if cls.__name__ in found:
        return found
    found[cls.__name__] = {f.name for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, vars(model) | vars(predict))
    stack = list(hints.values())
    while stack:
        tp = stack.pop()
        if dataclasses.is_dataclass(tp):
            model_fields(tp, found)
        stack.extend(typing.get_args(tp))
    return found


def test_the_schema_names_exactly_the_model_fields():
    want = model_fields(model.ClusterSnapshot, {})
    model_fields(predict.FaultPrediction, want)
    want["GaleraState"].discard("variables")  # dropped by report.to_json: large, and the typed fields say it
    snapshot = want.pop("ClusterSnapshot")
    defs = SCHEMA["$defs"]
    got = {name: set(d["properties"]) for name, d in defs.items() if name != "Summary"}
    assert got == want
    for name, d in defs.items():
        assert d["additionalProperties"] is False and set(d["required"]) == set(d["properties"]), name
    top = set(SCHEMA["properties"])
    assert snapshot <= top and top - snapshot == {"schema", "config", "vip", "summary", "fault_predictions"}
    assert set(defs["Summary"]["properties"]) == set(report.summary(recording("healthy"),
                                                                     cli_config()).keys())


def cli_config():
    from tests.recordings import CONFIG

    return CONFIG


def test_a_field_the_schema_does_not_know_fails_the_validation(monkeypatch, capsys):
    """The check can fail: an extra key anywhere (here in a DRBD volume) is an error."""
    doc = status_json(monkeypatch, capsys, recording("healthy"))
    doc["nodes"][0]["drbd"][0]["volumes"][0]["new_field"] = 1
    with pytest.raises(jsonschema.ValidationError, match="new_field"):
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
