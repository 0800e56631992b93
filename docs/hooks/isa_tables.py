"""MkDocs hook: fill the ISA summary's tables from vc6_isa.encoding, the one source of ISA facts.

A page writes a marker such as `<!-- isa:add-ops -->` on a line of its own; at build time the
marker becomes a Markdown table made from the encoding table, so the site can never disagree
with the encoder, decoder, disassembler and emulator (they are all derived from the same data).
Markers: add-ops, mul-ops, signals, magic, small-immediates.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping

from vc6_isa import encoding

_MARKER = re.compile(r"^<!-- isa:([a-z-]+) -->$", re.MULTILINE)


def _opcode_text(spec) -> str:
    low, high = spec.opcodes
    return str(low) if low == high else f"{low}–{high}"


def _modifiers(spec) -> str:
    parts = []
    if spec.unpack == "f32":
        parts.append("input unpack `.abs .l .h`")
    elif spec.unpack == "f16":
        parts.append("input unpack `.ff .ll .hh .swp`")
    if spec.pack:
        parts.append("output pack `.l .h`")
    return ", ".join(parts)


def _result_ready(spec) -> str:
    """When the op's result can be read, by the hazard rules (see the hazard-rules page)."""
    if not spec.has_dst:
        return "(no result)"
    if spec.sfu is not None:  # rule 13.2/11: an SFU op's result lands at t+2; a read at t+1 stalls
        return "t+2 (a read at t+1 stalls)"
    return "t+1"


def _ops_table(ops: Mapping) -> str:
    rows = [
        "| op | what it computes (per lane) | sources | result readable at | opcode(s) | modifiers |",
        "|---|---|---|---|---|---|",
    ]
    for name, spec in ops.items():
        if not spec.meaning:
            raise ValueError(f"encoding row {spec.alu} {name!r} has no meaning= text")
        meaning = spec.meaning.replace("|", "\\|")
        rows.append(
            f"| `{name}` | {meaning} | {spec.nsrc} | {_result_ready(spec)} "
            f"| {_opcode_text(spec)} | {_modifiers(spec)} |"
        )
    return "\n".join(rows)


def _signals_table() -> str:
    rows = ["| sig field | signal set |", "|---|---|"]
    for code, signals in sorted(encoding.SIGNAL_SETS.items()):
        text = ", ".join(f"`{s}`" for s in sorted(signals)) or "(none)"
        rows.append(f"| {code} | {text} |")
    return "\n".join(rows)


def _magic_table() -> str:
    rows = ["| waddr | name |", "|---|---|"]
    for waddr, name in sorted(encoding.MAGIC_NAMES.items()):
        rows.append(f"| {waddr} | `{name}` |")
    return "\n".join(rows)


def _small_immediates_table() -> str:
    rows = ["| index | bits | as int32 | as float32 |", "|---|---|---|---|"]
    for index, bits in enumerate(encoding.SMALL_IMMEDIATES):
        as_int = struct.unpack("<i", struct.pack("<I", bits))[0]
        as_float = struct.unpack("<f", struct.pack("<I", bits))[0]
        rows.append(f"| {index} | `{bits:#010x}` | {as_int} | {as_float:g} |")
    return "\n".join(rows)


_TABLES: dict[str, Callable[[], str]] = {
    "add-ops": lambda: _ops_table(encoding.ADD_OPS),
    "mul-ops": lambda: _ops_table(encoding.MUL_OPS),
    "signals": _signals_table,
    "magic": _magic_table,
    "small-immediates": _small_immediates_table,
}


def _replace(match: re.Match) -> str:
    name = match.group(1)
    if name not in _TABLES:
        raise ValueError(
            f"unknown ISA table marker {name!r}; known: {', '.join(_TABLES)}"
        )
    return _TABLES[name]()


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace every `<!-- isa:NAME -->` marker line with the generated table."""
    return _MARKER.sub(_replace, markdown)
