"""README: it opens with exactly the two set-up commands, then says how to run hatui on your own pair."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_opens_with_the_two_lab_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert [ln.split("#")[0].strip() for ln in first_block.splitlines()] == ["make demo", "make test"]
    assert README.index("make test") < README.index("## On your own cluster") < README.index("## Use")


def test_on_your_own_cluster_covers_install_nodes_host_keys_init_and_run():
    section = README.split("## On your own cluster", 1)[1].split("\n## ", 1)[0]
    for needed in ("pipx install", "wheel", "keepalived", "JSON", "track_file maintenance", "SSH", "unix_socket",
                   "fingerprint", "yes", "--known-hosts", "hatui init", "hatui sudoers", "`hatui`"):
        assert needed in section, needed
