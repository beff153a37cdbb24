"""`python3 -m hatui_lab.drbdemu TOOL ARGS` (and, inside the zipapp, `python3 drbdemu.pyz TOOL ARGS`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
