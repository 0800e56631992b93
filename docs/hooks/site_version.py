"""MkDocs hook: put the installed version of the packages in every page's footer.

The version is read from the installed `vc6-isa` distribution (its pyproject.toml), so the site
names the version it documents without a second place to update.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    try:
        return version("vc6-isa")
    except PackageNotFoundError:  # building from a checkout without the package installed
        return "unreleased"


def on_config(config, **kwargs):
    """Write the version into the footer (the theme shows `copyright` on every page)."""
    config["copyright"] = (
        f"vc6 packages version {_version()} (see the Changelog) · "
        "every example on this site is executed by the test suite"
    )
    return config
