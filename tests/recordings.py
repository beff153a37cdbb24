"""What the core's tests replay: the lab-like config the recordings were made with, the recorded polls,
and variants of them.  Not a test module: the test modules import this, never each other.

tests/fixtures/lab-config.yaml is the config `hatui lab up` writes for the default lab (checked against
the lab's own renderer in tests/test_lab_config.py), so the core's tests need no lab package."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hatui.config import parse
from hatui.model import ClusterSnapshot
from hatui.replay import load_recording

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"
LAB_CONFIG_FILE = Path(__file__).parent / "fixtures" / "lab-config.yaml"
CONFIG = parse(LAB_CONFIG_FILE.read_text(), LAB_CONFIG_FILE)


def recording(name: str) -> ClusterSnapshot:
    """A poll recorded from the lab (tests/fixtures/snapshots/NAME.json), replayed through the parsers."""
    return load_recording(FIXTURES / f"{name}.json", CONFIG)


def with_node(snap: ClusterSnapshot, name: str, **changes) -> ClusterSnapshot:
    """`snap` with node `name` changed (dataclasses.replace)."""
    return replace(snap, nodes=tuple(replace(n, **changes) if n.node == name else n for n in snap.nodes))
