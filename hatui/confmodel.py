"""What hatui reads of a node's configuration (for `hatui doctor` and the fault predictions), and the
facts derived from it that both use: which checks fail on a healthy standby, which states the notify
script handles, the maintenance hook, Galera's size and arbitrator.  Pure: no transport here."""

from __future__ import annotations

from dataclasses import dataclass, field

from hatui.config import Config
from hatui.probes.confread import DrbdResourceConf, GaleraConf, duration_s
from hatui.probes.kaconf import InstanceConf, KeepalivedBuild, KeepalivedConf, VrrpScriptConf
from hatui.probes.scripts import CheckKind, NotifyHandling, parse_check, parse_notify, script_path

GALERA_SUSPECT_DEFAULT_S = 5.0  # evs.suspect_timeout PT5S (Galera's documented default)


@dataclass(frozen=True)
class NodeConfigRead:
    """One node's configuration as read by `hatui doctor` (and, less often, by the live loop)."""

    node: str
    reachable: bool
    error: str | None = None
    keepalived: KeepalivedConf | None = None
    build: KeepalivedBuild | None = None
    # path → text (printable, passwords redacted); out of repr: a script may hold a secret (doctor names it)
    scripts: dict[str, str] = field(default_factory=dict, repr=False)
    missing_scripts: tuple[str, ...] = ()  # referenced, but could not be read
    drbd: tuple[DrbdResourceConf, ...] | None = None
    drbd_error: str | None = None
    galera: GaleraConf | None = None
    addresses: tuple[str, ...] = ()  # the node's own IPv4 addresses (VIP excluded)
    hostname: str | None = None
    notes: tuple[str, ...] = ()
    drbd9_proc: bool | None = None  # the DRBD status file has DRBD 9's header only (None: not read)

    def instance(self, cfg: Config) -> InstanceConf | None:
        return self.keepalived.instance(cfg.keepalived_instance) if self.keepalived else None


@dataclass(frozen=True)
class TrackedCheck:
    name: str
    weight: int  # effective (the track_script line's override, else the vrrp_script's)
    conf: VrrpScriptConf | None
    path: str | None
    kind: CheckKind | None  # None when the script could not be read

    @property
    def role_dependent(self) -> bool:
        return bool(self.kind and self.kind.wants_primary_role and self.weight < 0)


def tracked_checks(read: NodeConfigRead, cfg: Config) -> list[TrackedCheck]:
    inst = read.instance(cfg)
    if inst is None or read.keepalived is None:
        return []
    out = []
    for name, override in inst.track_scripts:
        conf = read.keepalived.scripts.get(name)
        weight = override if override is not None else (conf.weight if conf else 0)
        path = script_path(conf.script) if conf else None
        text = read.scripts.get(path) if path else None
        kind = parse_check(text).value if text is not None else None
        out.append(TrackedCheck(name, weight, conf, path, kind))
    return out


@dataclass(frozen=True)
class NotifyFacts:
    scripts: tuple[str, ...]  # the notify commands' files
    states: frozenset[str]  # states something is done for (beyond logging)
    promotes_on_master: bool
    mounts_on_master: bool
    read: bool  # every notify script could be read
    demotes_in: frozenset[str] = frozenset()  # states in which it unmounts and demotes DRBD


def notify_facts(read: NodeConfigRead, cfg: Config) -> NotifyFacts | None:
    inst = read.instance(cfg)
    if inst is None:
        return None
    states: set[str] = set()
    promotes = mounts = False
    demotes: set[str] = set()
    paths, ok = [], True
    for key, command in inst.notify:
        path = script_path(command)
        if path is None:
            continue
        paths.append(path)
        text = read.scripts.get(path)
        if text is None:
            ok = False
            continue
        handling: NotifyHandling | None = parse_notify(text).value
        if handling is None:
            ok = False
            continue
        if key == "notify":
            states |= set(handling.states)
            demotes |= set(handling.demotes_in)
            promotes |= handling.promotes_on_master
            mounts |= handling.mounts_on_master
        else:  # notify_master etc.: the whole script is that state's branch
            state = key.removeprefix("notify_").upper()
            states.add(state)
            if state != "MASTER" and "secondary" in text and "drbd" in text:
                demotes.add(state)
            if state == "MASTER":
                whole = parse_notify(f'case "$S" in\nMASTER)\n{text}\n;;\nesac\n').value
                promotes |= bool(whole and whole.promotes_on_master)
                mounts |= bool(whole and whole.mounts_on_master)
    return NotifyFacts(tuple(paths), frozenset(states), promotes, mounts, ok, frozenset(demotes))


def hook_name(cfg: Config) -> str:
    """The keepalived track_file name the live view looks for: the basename of `actions.maintenance_file`
    (keepalived's data dump names a track_file, not its path)."""
    return cfg.actions.maintenance_file.rsplit("/", 1)[-1]


def hook_snippet(cfg: Config) -> str:
    """The keepalived.conf lines of the maintenance hook, with this config's file, name and instance."""
    name = hook_name(cfg)
    return (f"track_file {name} {{\n    file \"{cfg.actions.maintenance_file}\"\n    weight 1\n    init_file 0\n}}\n"
            f"vrrp_instance {cfg.keepalived_instance} {{\n    ...\n    track_file {{\n        {name}\n    }}\n}}")


def maintenance_hook(read: NodeConfigRead, cfg: Config) -> tuple[str, int] | None:
    """(track_file name, weight) of the hook hatui's switchover writes, if the instance tracks it."""
    inst = read.instance(cfg)
    if inst is None or read.keepalived is None:
        return None
    for name, override in inst.track_files:
        tf = read.keepalived.track_files.get(name)
        if tf is not None and tf.file == cfg.actions.maintenance_file:
            return name, override if override is not None else tf.weight
    return None


@dataclass(frozen=True)
class GaleraFacts:
    data_nodes: int  # members of wsrep_cluster_address
    live_size: int | None
    arbitrator: bool  # the live cluster has more members than data nodes (garbd)
    weights: dict[str, float]  # node → pc.weight (1 by default)
    suspect_timeout_s: float


def galera_facts(reads: list[NodeConfigRead], cfg: Config) -> GaleraFacts | None:
    confs = {r.node: r.galera for r in reads if r.galera is not None}
    if not confs:
        return None
    members = max(len(g.members) for g in confs.values()) or cfg.mariadb.expected_cluster_size
    sizes = [g.cluster_size for g in confs.values() if g.cluster_size is not None]
    live = max(sizes) if sizes else None
    weights = {}
    for node, g in confs.items():
        try:
            weights[node] = float(g.provider_options.get("pc.weight", "1"))
        except ValueError:
            weights[node] = 1.0
    suspect = next((duration_s(g.provider_options.get("evs.suspect_timeout")) for g in confs.values()
                    if g.provider_options.get("evs.suspect_timeout")), None)
    return GaleraFacts(members, live, live is not None and live > members, weights,
                       suspect or GALERA_SUSPECT_DEFAULT_S)


def roles(reads: list[NodeConfigRead], cfg: Config) -> tuple[NodeConfigRead, NodeConfigRead] | None:
    """(the designed master, the designed standby): the higher base priority, then `state MASTER`."""
    have = [(r, r.instance(cfg)) for r in reads if r.instance(cfg) is not None]
    if len(have) < 2:
        return None
    have.sort(key=lambda ri: (-(ri[1].priority if ri[1] else 0), 0 if ri[1] and ri[1].state == "MASTER" else 1))
    return have[0][0], have[1][0]
