"""Maintainer tool: run the examples of one page and rewrite its Output blocks with what they print.

    python docs/tests/rewrite_outputs.py docs/cookbook/hello.md

Lines of the old Output block that contain the ``…`` placeholder and still match are kept as
they are, so volatile values stay hidden. Review the diff before committing: the page must show
what the code really prints, which is exactly what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from doc_examples import _line_matches, find_examples, run_example


def rewrite(page: Path) -> int:
    lines = page.read_text(encoding="utf-8").splitlines()
    examples = find_examples(page.resolve())
    for example in reversed(
        examples
    ):  # from the bottom, so earlier line numbers stay valid
        actual = run_example(example).rstrip("\n").split("\n")
        old = example.expected.split("\n")
        if len(old) == len(actual):
            actual = [
                o if "…" in o and _line_matches(o, a) else a
                for o, a in zip(old, actual)
            ]
        lines[example.expected_start : example.expected_end] = [
            a.rstrip() for a in actual
        ]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(examples)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {rewrite(Path(name))} examples rewritten")
