"""Where the tests find Mesa's V3D 4.2 golden vector files.

The public files ship with the tests in ``tests/data/`` (instruction words and the text Mesa's
disassembler prints for them, generated from Mesa commit 953ac9da, V3D 4.2; columns and
provenance in ``tests/data/README.md``), so a plain clone runs every vector test. The
environment variable ``VC6_VECTORS`` overrides the folder, e.g. to test against a newer export;
a folder named that way must hold both files.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).parent / "data"
DISASM_FILE = "vc6-mesa-disasm-public.tsv"
INVALID_FILE = "vc6-mesa-invalid-public.tsv"


def vectors_dir() -> Path:
    """The folder holding both vector files: ``$VC6_VECTORS`` when set, else ``tests/data``."""
    override = os.environ.get("VC6_VECTORS")
    directory = Path(override) if override else DATA
    missing = [name for name in (DISASM_FILE, INVALID_FILE) if not (directory / name).is_file()]
    if missing:
        where = f"VC6_VECTORS={override}" if override else f"the tests' data folder {directory}"
        raise FileNotFoundError(
            f"{', '.join(missing)} not found in {where}; unset VC6_VECTORS to use the files "
            f"shipped in {DATA}"
        )
    return directory
