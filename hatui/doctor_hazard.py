"""One configuration hazard found by `hatui doctor`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HazardSeverity = Literal["critical", "warning", "info"]


@dataclass(frozen=True)
class Hazard:
    severity: HazardSeverity
    code: str  # stable identifier (docs/doctor.md)
    title: str
    why: str  # why it matters
    fix: str
    nodes: tuple[str, ...] = ()
    where: tuple[str, ...] = ()  # "node:path[:line]"; never a value


def hz(severity: HazardSeverity, code: str, title: str, why: str, fix: str, *nodes: str,
       where: tuple[str, ...] = ()) -> Hazard:
    return Hazard(severity, code, title, why, fix, tuple(dict.fromkeys(nodes)), where)
