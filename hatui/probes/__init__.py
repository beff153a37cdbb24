"""What to run on a node and pure parsers of what comes back, one module per subsystem.

Every parser takes text (or rows) and returns `hatui.model.Parsed`; none raises on odd input.  Every
command is a constant or is built from a validated name with `shlex.quote`.  This module holds the
few helpers they share."""

from __future__ import annotations

import functools
import math
import re
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

UINT64_MAX = 2**64 - 1  # "-1" printed as unsigned by Galera and others

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9_./@+-]*$")


def strip_ansi(text: str) -> str:
    """Remove colour escapes (`ssh -t` makes drbd-utils colour its states)."""
    return _ANSI_RE.sub("", text)


def to_int(text: str | None) -> int | None:
    """`"64,800"` → 64800; `"-1"` → -1; anything else → None."""
    if text is None:
        return None
    text = text.strip().replace(",", "")
    if not re.fullmatch(r"[-+]?\d+", text):
        return None
    return int(text)


def to_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def to_bool(text: str | None) -> bool | None:
    """yes/no, ON/OFF, true/false, 1/0 → bool; anything else → None."""
    if text is None:
        return None
    low = text.strip().lower()
    if low in ("yes", "on", "true", "1"):
        return True
    if low in ("no", "off", "false", "0"):
        return False
    return None


def valid_name(name: str) -> str:
    """A resource/instance name safe to use in a command; raises ValueError (a config error, not a
    parse error) otherwise.  Callers still shlex.quote it."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"{name!r} is not a valid name: expected letters, digits and _.+- (max 128)")
    return name


def valid_path(path: str) -> str:
    if not isinstance(path, str) or not _PATH_RE.match(path) or "/../" in f"{path}/":
        raise ValueError(f"{path!r} is not a valid absolute path")
    return path


def quote(arg: str) -> str:
    return shlex.quote(arg)


def snippet(text: str, limit: int = 80) -> str:
    """A short printable excerpt of odd input for an `unparsed` note."""
    text = text.replace("\x00", "\\0")
    return repr(text if len(text) <= limit else text[:limit] + "…")


def dedupe(notes: list[str]) -> tuple[str, ...]:
    """Notes in first-seen order, repeats counted: `"x (×13)"` rather than thirteen lines."""
    counts: dict[str, int] = {}
    for n in notes:
        counts[n] = counts.get(n, 0) + 1
    return tuple(n if c == 1 else f"{n} (×{c})" for n, c in counts.items())


INTERNAL_ERROR = "internal parser error"
_F = TypeVar("_F", bound=Callable[..., Any])


def never_raises(redactor: Callable[[str], str] | None = None) -> Callable[[_F], _F]:
    """Last line of the "parsers never raise" promise: a bug on odd input becomes an `unparsed` note
    (starting with INTERNAL_ERROR, which the robustness tests look for) instead of a crash."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def safe(source: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(source, *args, **kwargs)
            except Exception as exc:
                from hatui.model import Parsed

                raw = source if isinstance(source, str) else ""
                return Parsed(None, (f"{INTERNAL_ERROR} in {fn.__name__}: {type(exc).__name__}: {exc}",),
                              redactor(raw) if redactor else raw)

        return safe  # type: ignore[return-value]

    return wrap


def short(text: object, limit: int = 60) -> str:
    """A name from the input, cut to fit in a note."""
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "…"
