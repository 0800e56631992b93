"""The pip command that installs the emulator (vc6-isa) next to this v3d-drm, for fix hints.

A hint must work when followed literally, so it names this interpreter's pip (the venv that
imported v3d-drm, not whichever `pip` is first on PATH) and installs vc6-isa the way v3d-drm
itself was installed, as recorded by pip in `direct_url.json` (PEP 610): from the same source
tree (`packages/vc6-isa` beside `packages/v3d-drm`), or from the folder of wheels v3d-drm's
own wheel came from; otherwise by name from the package index.
"""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

EMULATOR_PACKAGE = "vc6-isa"
EMULATOR_REQUIREMENT = "vc6-isa[fast]"  # with numba: the emulator compiled, not interpreted


def _installed_from() -> dict | None:
    """v3d-drm's `direct_url.json` (None when it was installed by name from an index)."""
    try:
        text = metadata.distribution("v3d-drm").read_text("direct_url.json")
        return json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        return None


def emulator_install_command(direct_url: dict | None = None, python: str | None = None) -> str:
    """A shell command that installs vc6-isa into `python` (default: this interpreter).

    Args:
        direct_url: v3d-drm's PEP 610 record; read from the installed distribution when None.
        python: the interpreter whose environment gets the package.

    Returns:
        The command, quoted for a POSIX shell.
    """
    pip = f"{shlex.quote(python or sys.executable)} -m pip install"
    record = direct_url if direct_url is not None else _installed_from()
    url = urlparse((record or {}).get("url", ""))
    path = Path(unquote(url.path)) if url.scheme == "file" else None
    if path is not None and "dir_info" in record:
        sibling = path.parent / EMULATOR_PACKAGE
        if (sibling / "pyproject.toml").is_file():
            editable = "-e " if record["dir_info"].get("editable") else ""
            return f"{pip} {editable}{shlex.quote(f'{sibling}[fast]')}"
    if path is not None and path.suffix == ".whl" and any(path.parent.glob("vc6_isa-*.whl")):
        return f"{pip} --find-links {shlex.quote(str(path.parent))} {shlex.quote(EMULATOR_REQUIREMENT)}"
    return f"{pip} {shlex.quote(EMULATOR_REQUIREMENT)}"
