"""AssembleError for the DSL, located at the user's line that made the bad instruction.

Finding the line costs a walk up the call stack, so it is only done when an error is raised;
instructions themselves keep just a code object and a line number (see `Where`).
"""

from __future__ import annotations

import linecache
import os
import sys
from types import CodeType

from ..errors import AssembleError, EncodeError

__all__ = ["AssembleError", "EncodeError", "Where", "caller_where", "dsl_error"]

#: Where a DSL call was made: the caller's code object and line number.
Where = tuple[CodeType, int]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def caller_where() -> Where | None:
    """The innermost frame outside this package (the user's DSL call), as a `Where`."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return None if frame is None else (frame.f_code, frame.f_lineno)


def dsl_error(message: str, where: Where | None = None) -> AssembleError:
    """An AssembleError naming the file and line of the DSL call (`where` or the caller's)."""
    if where is None:
        where = caller_where()
    if where is None:
        return AssembleError(message)
    code, line = where
    source = linecache.getline(code.co_filename, line).strip() or None
    return AssembleError(
        f"{message} (in {code.co_name})",
        filename=code.co_filename,
        line=line,
        source_line=source,
    )
