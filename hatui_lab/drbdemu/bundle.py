"""The emulator as one file for the nodes: a zipapp of this package (stdlib `zipapp`).

The nodes cannot import it from the checkout (it may sit below /tmp or /run, which each node
replaces with its own), so `lab up` writes the archive into the lab's directory, which they share.
"""

from __future__ import annotations

import shutil
import tempfile
import zipapp
from pathlib import Path

PACKAGE = Path(__file__).parent
# Inside the archive the package is the top-level `drbdemu` (its imports are relative).
ENTRY = "import sys\n\nfrom drbdemu.cli import main\n\nsys.exit(main(sys.argv))\n"


def build_zipapp(target: Path) -> Path:
    """Write the emulator's zipapp to `target` (replaced atomically) and return it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="drbdemu-") as tmp:
        root = Path(tmp) / "app"
        (root / "drbdemu").mkdir(parents=True)
        for module in sorted(PACKAGE.glob("*.py")):
            if module.name not in ("bundle.py", "__main__.py"):
                shutil.copy2(module, root / "drbdemu" / module.name)
        (root / "__main__.py").write_text(ENTRY)
        partial = Path(tmp) / target.name
        zipapp.create_archive(root, partial, interpreter="/usr/bin/env python3")
        shutil.move(partial, target)
    return target
