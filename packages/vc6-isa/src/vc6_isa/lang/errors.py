"""`LangError`: a kernel that is outside the language, located at the kernel's source line.

The message leads with what is wrong, then where (file:line, the source line and a caret under
the offending expression), then how to fix it, one part per line (STYLE.md, "Errors that teach").
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["LangError", "SourceInfo"]


@dataclass(frozen=True)
class SourceInfo:
    """Where a kernel's text came from.

    Attributes:
        filename: The file that defines the function.
        first_line: The file line number of the text's first line.
        lines: The function's source lines, dedented as parsed.
        indent: The number of columns removed by dedenting.
        name: The function's name.
    """

    filename: str
    first_line: int
    lines: tuple[str, ...]
    indent: int
    name: str


class LangError(Exception):
    """A kernel uses something outside the language, mixes types, or cannot be compiled.

    Raised at compile time, before any device is touched. `str(err)` reads:

    ```text
    Int + Float needs an explicit conversion
      File "demo.py", line 7, in kernel gcd
        a = p[0] + 1.5
            ^^^^^^^^^^
    fix: write to_float(x) or to_int(x) so both operands have the same type
    ```

    Attributes:
        what: What is wrong.
        hint: How to fix it ('' when there is nothing useful to say).
        filename: The kernel's file (None when unknown).
        line: The line number in that file (None when unknown).
    """

    def __init__(
        self,
        what: str,
        hint: str = "",
        *,
        source: SourceInfo | None = None,
        node: ast.AST | None = None,
        line: int | None = None,
    ) -> None:
        self.what = what
        self.hint = hint
        self.filename = source.filename if source else None
        self.line = None
        parts = [what]
        lineno = getattr(node, "lineno", None) if node is not None else line
        if source is not None and lineno is not None:
            self.line = source.first_line + lineno - 1
            parts.append(
                f'  File "{source.filename}", line {self.line}, in kernel {source.name}'
            )
            if 1 <= lineno <= len(source.lines):
                text = source.lines[lineno - 1]
                stripped = text.lstrip()
                lead = len(text) - len(stripped)
                parts.append("    " + stripped.rstrip())
                col = getattr(node, "col_offset", None)
                if node is None:
                    parts.append("    " + "^" * len(stripped.rstrip()))
                elif col is not None and col >= lead:
                    end = getattr(node, "end_col_offset", None)
                    if getattr(node, "end_lineno", lineno) != lineno or end is None:
                        end = len(text.rstrip())
                    width = max(1, end - col)
                    parts.append("    " + " " * (col - lead) + "^" * width)
        if hint:
            parts.append(f"fix: {hint}")
        super().__init__("\n".join(parts))
