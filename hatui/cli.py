"""hatui's command line: the TUI (default), one-shot status, and the rehearsal lab."""

from __future__ import annotations

import argparse
import sys

from hatui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hatui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hatui {__version__}")
    sub = parser.add_subparsers(dest="cmd")
    from hatui.lab.cli import add_parser as add_lab

    add_lab(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd == "lab":
        from hatui.lab.cli import run

        return run(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
