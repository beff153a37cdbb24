"""A DRBD emulator for the hatui rehearsal lab (the lab's kernel has no DRBD module).

Stdlib only, no import of the rest of hatui_lab; delivered to the nodes as one file, a zipapp
(bundle.py, built at `lab up`), and run as ``python3 drbdemu.pyz <kernel|drbdadm|drbdsetup|mount|umount> ...``
(in a checkout: ``python3 -m hatui_lab.drbdemu ...``) with
``DRBDEMU_CONF`` naming a JSON config (see ``Config``). Both nodes share ``state_dir`` (state.json, a
lock, one kernel log per node ``kern-<node>.log``). Each node runs one ``kernel`` daemon, standing in
for the module: UDP heartbeats to the peer, the state machine, replication of the Primary's
``backing_dir`` into the peer's, and a rewritten ``proc_file`` (the node's /proc/drbd).

Model (one resource, one volume):
* Per node: up (resource configured), role, disk state, net (has a net config: connect/disconnect),
  open (mounted through the ``mount`` wrapper), data generation (current and bitmap UUID; history is
  collapsed), out-of-sync KiB, counters. The link is up when both daemons are alive, both have the
  resource up with a net config, and each heard the other's heartbeat within the live window.
* Data generations: a Primary that loses its peer, or is promoted while disconnected, moves its
  current UUID to the bitmap UUID (if empty) and takes a new current UUID. On connect
  (drbd_uuid_compare() reduced): equal current -> no resync (unless one side crashed as Primary:
  it becomes SyncSource); my bitmap == peer current -> I am SyncSource; both bitmaps equal and
  currents differ -> split brain (``--discard-my-data`` on one side resolves it); otherwise
  unrelated data. An Inconsistent disk facing an UpToDate one always becomes SyncTarget.
* Out-of-sync: while Connected it is 0 (the Primary's changes are copied continuously, like
  protocol C). While a Primary is disconnected it is the size of the files that differ from the
  last state known to be on the peer (each file rounded up to 4 KiB), plus a 4 MiB floor (one
  activity-log extent) once anything differs; a Primary that crashed gets the same 4 MiB floor on
  reboot. On reconnect the resync total is the larger side's count (the sum of both sides after a
  resolved split brain), capped at size_kib; invalidate/invalidate-remote/verify cover size_kib.
  Resync and verify advance at resync_rate_kib_s of wall time (paused time excluded); the data is
  copied from source to target (rsync -a --delete --checksum) when the resync completes; a verify
  compares the two directories when it completes and reports what differs as out-of-sync.

CLI: ``kernel`` (daemon, until SIGTERM); ``drbdadm`` status [res] [-v] [-s], role|cstate|dstate res
(res:peer on 9), primary [--force], secondary, connect [--discard-my-data], disconnect, invalidate,
invalidate-remote, verify, pause-sync, resume-sync, up, down (res may be ``all``), -V, -d; ``drbdsetup``
status [res] [-v] [-s] [--json], events2 [--now] [--statistics] [--timestamps] [res|all], and the same
role/state commands; ``mount`` and ``umount`` (any other arguments go to /usr/bin/mount, umount).
Heartbeats are UDP datagrams from local_addr:port to peer_addr:peer_port: blocking that traffic
partitions the pair like a broken replication link.

Modules, bottom to top (a module imports only from those above it in this list):
config (Config, constants), store (the shared state.json), machine (state machine, one node's view),
proctext (/proc/drbd) | status (drbdsetup status text and JSON) | data (snapshots, copies),
kernel (the daemon) | events (events2), commands (drbdsetup's state changes and queries),
cli (drbdadm, drbdsetup, mount, umount, main).
"""
