"""Record, replay and the incident timeline (docs/record.md).

store.py     the SQLite file: one writer, changes only, compressed, retention
recorder.py  the collector's hooks → the store (never raises; says why it stopped)
rebuild.py   recorded cycles → ClusterSnapshots (the same parsers and diagnosis as a live poll)
navigate.py  replay navigation over recorded frames (pure)
timeline.py  snapshots in, change events out (pure); timeline_format.py prints them
cli.py       `hatui record`, `hatui replay`, `hatui timeline`

Nothing here imports textual: the replay screen lives in hatui/tui/replay.py.
"""
