"""`python3 -m hatui_lab ARGS` is `hatui lab ARGS`, also in a checkout where hatui is not installed."""

from __future__ import annotations

import argparse
import sys

from hatui_lab.cli import add_parser, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hatui_lab")
    add_parser(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(["lab", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
