"""Galera parsers: wsrep status in every form a user may hand us, grastate.dat, the recovered position."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.probes import galera as ga

FIX = Path(__file__).parent / "fixtures"


def fx(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


def test_wsrep_lab_capture_mariadb_10_11():
    p = ga.parse_wsrep_status(fx("lab/show-global-status-wsrep-batch-mariadb10.11-node1-lab.txt"))
    assert p.unparsed == ()
    g = p.value
    assert (g.cluster_size, g.cluster_status, g.local_state, g.local_state_comment) == (2, "Primary", 4, "Synced")
    assert (g.ready, g.connected, g.conf_id, g.evs_state) == (True, True, 2, "OPERATIONAL")
    assert g.cluster_state_uuid == g.local_state_uuid == "4eb9b0df-e898-11f1-99eb-c234e316a248"
    assert g.incoming_addresses == ("198.18.0.11:0", "198.18.0.12:0")
    assert g.provider_version == "4.23(rXXXX)" and g.flow_control_active is False and g.local_index == 0
    assert dict(g.variables)["wsrep_evs_delayed"] == ""  # empty value after the TAB


def test_wsrep_synced_reconstructed():
    g = ga.parse_wsrep_status(fx("galera/show-global-status-wsrep-batch-2node-synced-reconstructed.txt")).value
    assert (g.conf_id, g.last_committed, g.recv_queue, g.flow_control_paused) == (2, 1352215, 0, 0.0)
    assert g.provider_version == "26.4.16(r7dce5149)"
    assert dict(g.variables)["wsrep_provider_vendor"] == "Codership Oy <info@codership.com>"


def test_wsrep_non_primary_sentinel_conf_id():
    text = fx("galera/show-global-status-wsrep-batch-2node-peer-lost-nonprimary-reconstructed.txt")
    g = ga.parse_wsrep_status(text).value
    assert (g.cluster_status, g.cluster_size, g.ready, g.connected) == ("non-Primary", 1, False, True)
    assert g.conf_id is None  # 18446744073709551615
    assert (g.local_state, g.local_state_comment) == (0, "Initialized")


def test_wsrep_from_pymysql_rows_any_order():
    rows = [("wsrep_ready", "OFF"), ("wsrep_local_state_comment", "Joining: receiving State Transfer"),
            ("wsrep_cluster_conf_id", "18446744073709551615"), (b"wsrep_cluster_size", b"1"),
            ("wsrep_flow_control_paused", "0.184353"), ("wsrep_incoming_addresses", None)]
    p = ga.parse_wsrep_status(rows)
    g = p.value
    assert p.unparsed == ()
    assert g.ready is False and g.local_state_comment == "Joining: receiving State Transfer"
    assert g.conf_id is None and g.cluster_size == 1 and g.flow_control_paused == 0.184353
    assert g.incoming_addresses == () and "wsrep_ready\tOFF" in p.raw


def test_wsrep_comment_with_tab_split_only_once():
    g = ga.parse_wsrep_status("wsrep_local_state_comment\tDonor/Desynced\twith\ttabs\n").value
    assert g.local_state_comment == "Donor/Desynced\twith\ttabs"


@pytest.mark.parametrize("name, size, status", [
    ("galera/codership-doc-status-variable-tables.txt", 15, "Primary"),
    ("galera/show-status-vertical-G-format-netdata6934.txt", 1, "Primary"),
    ("galera/show-status-wsrep-cluster-rows-excerpt-bitnami22091.txt", 3, "Primary"),
])
def test_wsrep_table_and_vertical_forms(name, size, status):
    p = ga.parse_wsrep_status(fx(name))
    assert p.unparsed == () and (p.value.cluster_size, p.value.cluster_status) == (size, status)


def test_wsrep_doc_tables_values():
    g = ga.parse_wsrep_status(fx("galera/codership-doc-status-variable-tables.txt")).value
    assert g.conf_id == 34 and g.flow_control_paused == 0.184353 and g.desync_count == 1
    assert g.incoming_addresses == ("10.0.0.1:3306", "10.0.02:3306", "undefined")


def test_wsrep_not_a_status():
    p = ga.parse_wsrep_status(fx("galera/mtr-result-not-prepared-error.txt"))
    assert p.value is None and any("no wsrep_" in n for n in p.unparsed)
    assert ga.parse_wsrep_status([]).value is None


@pytest.mark.parametrize("name, uuid, seqno, safe", [
    ("galera/grastate.dat-safe_to_bootstrap-1-mariadb-docs.txt", "9acf4d34-acdb-11e6-bcc3-d3e36276629f", 15, True),
    ("galera/grastate.dat-safe_to_bootstrap-0-seqno-positive-mariadb-docs.txt", "d38587ce-246c-11e5-bcce-6bbd0831cc0f",
     1352215, False),
    ("galera/grastate.dat-crash-seqno-minus1-codership-doc.txt", "220dcdcb-1629-11e4-add3-aec059ad3734", -1, False),
    ("galera/grastate.dat-old-galera3-cert_index-codership-doc.txt", "5ee99582-bb8d-11e2-b8e3-23de375c1d30",
     8204503945773, None),
    ("galera/grastate.dat-old-galera3-crashed-seqno-minus1-codership-doc.txt", "5ee99582-bb8d-11e2-b8e3-23de375c1d30",
     -1, None),
    ("lab/grastate.dat-running-lab.txt", "4eb9b0df-e898-11f1-99eb-c234e316a248", -1, False),
])
def test_grastate(name, uuid, seqno, safe):
    p = ga.parse_grastate(fx(name))
    assert p.unparsed == () and (p.value.uuid, p.value.seqno, p.value.safe_to_bootstrap) == (uuid, seqno, safe)
    assert p.value.version == "2.1"


def test_grastate_padding_after_shorter_rewrite():
    # write_file() pads with spaces to the old length after the final newline: no newline at the end
    text = fx("galera/grastate.dat-safe_to_bootstrap-1-mariadb-docs.txt") + " " * 40
    p = ga.parse_grastate(text)
    assert p.unparsed == () and p.value.safe_to_bootstrap is True and p.value.seqno == 15


def test_commands():
    assert ga.grastate_command("/var/lib/mysql/") == \
        "[ -r /var/lib/mysql/grastate.dat ] && printf '%s\\n' \"$(< /var/lib/mysql/grastate.dat)\""
    with pytest.raises(ValueError):
        ga.grastate_command("/var/lib/mysql; id")
