"""The docs say what the code does (issue 16): each statement that once disagreed, checked where a test
can check it.  The config keys are in tests/test_config.py, the finding codes in
tests/test_poller_truth.py, the JSON shape in tests/test_status_schema.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def text(path: str) -> str:
    return (ROOT / path).read_text()


def test_status_json_md_names_every_field_of_the_schema():
    schema = json.loads(text("docs/status.schema.json"))
    doc = text("docs/status-json.md")
    words = set(re.findall(r"[a-z0-9_]+", doc))
    fields = set(schema["properties"]) | {k for d in schema["$defs"].values() for k in d["properties"]}
    assert not fields - words, sorted(fields - words)
    assert f'"schema": {schema["properties"]["schema"]["const"]}' in doc


@pytest.mark.parametrize("path", ["README.md", "config.example.yaml", "docs/lab.md"])
def test_one_host_key_behaviour_everywhere(path):
    """The code (collector, diagnosis): unreachable, a critical host-key-mismatch finding, no reconnect
    until the operator presses r.  No doc may say it "stops hatui"."""
    t = text(path)
    assert "host-key-mismatch" in t
    assert not re.search(r"key[^.]*\bstops\b", t), path


def test_the_finding_code_is_spelled_as_the_code_emits_it():
    for path in ["README.md", *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]:
        assert "galera-non-Primary" not in text(path), path
    assert '"galera-non-primary"' in text("hatui/diagnosis.py")


def test_the_recommended_checks_are_not_said_to_fail_over_as_promised():
    for path in ("docs/lab.md", "hatui_lab/cli.py"):
        assert "as promised" not in text(path), path
    assert "takes the VIP back" in text("docs/lab.md")


def test_readme_statements():
    t = " ".join(text("README.md").split())
    assert "on every node that answers" in t and "on both nodes" not in t
    assert "a second, small one when keepalived's state or priority moved" in t
    assert "40 reconstructed" in t and "tested on real samples" not in t
    assert "but for its cache" in t
    reconstructed = text("tests/fixtures/PROVENANCE.md").count("[RECONSTRUCTED]")
    assert reconstructed == 40, f"README says 40 reconstructed fixtures, PROVENANCE.md marks {reconstructed}"


def test_actions_md_statements():
    t = " ".join(text("docs/actions.md").split())
    assert "$XDG_STATE_HOME/hatui/audit.log" in t
    assert "ctrl+c on the CLI, ctrl+a in the TUI's wizard" in t
    assert "`connect` on the survivor only when the survivor is StandAlone" in t
    assert "`hatui lock show` / `hatui lock break [--yes]` | palette" in t
