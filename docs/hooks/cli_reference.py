"""MkDocs hook: the command-line reference, printed from the commands' own argparse parsers.

A marker line `<!-- cli:NAME -->` (NAME: vc6-bench, vc6-isa, v3d_drm) becomes the `--help`
text of the command and of each of its subcommands, so the page cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from unittest import mock

_MARKER = re.compile(r"^<!-- cli:([a-z0-9_-]+) -->$", re.MULTILINE)
_WIDTH = "88"  # columns argparse wraps the help to (it reads $COLUMNS)


def _vc6_bench() -> argparse.ArgumentParser:
    from vc6_bench.cli import build_parser

    return build_parser()


def _vc6_isa() -> argparse.ArgumentParser:
    from vc6_isa.cli import build_parser

    return build_parser()


def _v3d_drm() -> argparse.ArgumentParser:
    from v3d_drm.__main__ import build_parser

    return build_parser()


_PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "vc6-bench": _vc6_bench,
    "vc6-isa": _vc6_isa,
    "v3d_drm": _v3d_drm,
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _block(parser: argparse.ArgumentParser) -> str:
    return "```text\n" + parser.format_help().rstrip() + "\n```"


def _reference(name: str) -> str:
    if name not in _PARSERS:
        raise ValueError(f"unknown command marker {name!r}; known: {', '.join(_PARSERS)}")
    with mock.patch.dict(os.environ, {"COLUMNS": _WIDTH}):
        parser = _PARSERS[name]()
        parts = [_block(parser)]
        for sub_name, sub in _subcommands(parser).items():
            parts.append(f"### {parser.prog} {sub_name}\n\n{_block(sub)}")
    return "\n\n".join(parts)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace every `<!-- cli:NAME -->` marker line with the command's help texts."""
    return _MARKER.sub(lambda match: _reference(match.group(1)), markdown)
