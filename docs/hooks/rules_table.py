"""MkDocs hook: the table of the emulator's checks on the hazard-rules page, made from its code.

A marker line `<!-- rules:checked -->` becomes a table of every check in
`vc6_isa.emulator.hazards.RULES`, in the words of its error message, linked to the rule's
anchor on the page. The strict build fails on a link to a missing anchor, so a check with no
published rule cannot go unnoticed.
"""

from __future__ import annotations

from vc6_isa.emulator import hazards

_MARKER = "<!-- rules:checked -->"


def _sort_key(rule: str) -> tuple:
    head = rule.split()[0]
    section, _, number = head.partition("/")
    return (*(int(p) for p in section.split(".")), int(number or 0))


def _mode(code: int) -> str:
    """When the emulator reports a check: `always`, in strict mode (`hardware`), or `mesa` only."""
    if code in getattr(hazards, "MESA_ONLY", ()):
        return "mesa"
    return "hardware" if code in hazards.STRICT_ONLY else "always"


def _table() -> str:
    rows = ["| rule | what the emulator reports | mode |", "|---|---|---|"]
    checks = sorted(hazards.RULES.items(), key=lambda item: _sort_key(item[1][0]))
    for code, (rule, what) in checks:
        mode = _mode(code)
        anchor = hazards.rule_anchor(rule)
        rows.append(f"| [{rule}](#{anchor}) | {what} | {mode} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace the marker line with the table of checks."""
    return markdown.replace(_MARKER, _table()) if _MARKER in markdown else markdown
