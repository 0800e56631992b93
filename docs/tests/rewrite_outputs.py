"""Maintainer tool: run the examples of one page and rewrite its Output blocks with what they print.

    python docs/tests/rewrite_outputs.py docs/cookbook/hello.md

A printed line that matches a line of the old Output block containing the `…` placeholder
is written as that placeholder line, so volatile values stay hidden; new volatile lines must
be given a placeholder by hand. Review the diff before committing: the page must show what
the code really prints, which is exactly what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from doc_examples import _line_matches, find_examples, run_example


def rewrite(page: Path) -> int:
    """Rewrite every Output block of `page`; return how many examples it ran."""
    lines = page.read_text(encoding="utf-8").splitlines()
    examples = find_examples(page.resolve())
    for example in reversed(
        examples
    ):  # bottom first, so earlier line numbers stay valid
        printed = run_example(example).rstrip("\n").split("\n")
        placeholders = [line for line in example.expected.split("\n") if "…" in line]
        new = [
            next((p for p in placeholders if _line_matches(p, a)), a).rstrip()
            for a in printed
        ]
        lines[example.expected_start : example.expected_end] = new
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(examples)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {rewrite(Path(name))} examples rewritten")
