"""Find the runnable examples in the documentation pages, run them, and compare their output.

The convention (also explained to readers on docs/docs-tests.md):

* A fenced `python` block is a *runnable example* when the next non-blank line after its
  closing fence is exactly `Output:` and a fenced `text` block follows that.
* The example runs in a fresh namespace (as `__main__`), on the default device, which is the
  emulator on a machine without a Pi; its standard output must equal the `text` block.
* Lines are compared after removing trailing spaces. In the expected text, `…` (one
  character, U+2026) stands for any run of characters within one line: it is the placeholder
  for values that change from run to run, such as wall-clock times. Nothing else is fuzzy.

Python blocks without an `Output:` block are fragments shown for reading; they are not run.
A fragment quoted from the project's source is marked by the line
`<!-- quote: path/from/repo/root.py -->` right before its fence; the test then checks that
the fragment's lines still appear, in order, in that file, so quotations cannot go stale either.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import re
from dataclasses import dataclass
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER = "…"

_FENCE_OPEN = re.compile(r"^(`{3,})\s*([A-Za-z0-9_+-]*)(.*)$")
_QUOTE = re.compile(r"^<!-- quote: (\S+) -->$")
REPO_DIR = DOCS_DIR.parent


@dataclass(frozen=True)
class Example:
    """One runnable example: its source, the output shown under it, and where it is."""

    page: str  # path relative to docs/
    line: int  # 1-based line of the opening ``` of the python block
    source: str
    expected: str
    expected_start: (
        int  # 0-based index of the first line of the expected text in the page
    )
    expected_end: int  # 0-based index one past its last line

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _read_fence(lines: list[str], start: int) -> tuple[str, str, int]:
    """Return (language, body, index after the closing fence) of the fence opening at `start`."""
    match = _FENCE_OPEN.match(lines[start].strip())
    assert match is not None
    ticks, language = match.group(1), match.group(2)
    end = start + 1
    while end < len(lines) and lines[end].strip() != ticks:
        end += 1
    if end == len(lines):
        raise ValueError(f"unclosed code fence opened on line {start + 1}")
    return language, "\n".join(lines[start + 1 : end]), end + 1


def _next_nonblank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def find_examples(page: Path) -> list[Example]:
    """Every runnable example of one Markdown page, in page order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    rel = page.relative_to(DOCS_DIR).as_posix()
    examples = []
    i = 0
    while i < len(lines):
        if not _FENCE_OPEN.match(lines[i].strip()):
            i += 1
            continue
        language, body, after = _read_fence(lines, i)
        j = _next_nonblank(lines, after)
        if language == "python" and j < len(lines) and lines[j].strip() == "Output:":
            k = _next_nonblank(lines, j + 1)
            if k == len(lines) or not lines[k].strip().startswith("```text"):
                raise ValueError(
                    f"{rel}:{j + 1}: 'Output:' must be followed by a ```text block"
                )
            _, expected, out_after = _read_fence(lines, k)
            examples.append(Example(rel, i + 1, body, expected, k + 1, out_after - 1))
            after = out_after
        i = after
    return examples


def all_pages() -> list[Path]:
    """The Markdown pages of the site (the tests folder is not part of it)."""
    return sorted(
        p
        for p in DOCS_DIR.rglob("*.md")
        if "tests" not in p.relative_to(DOCS_DIR).parts
    )


def run_example(example: Example) -> str:
    """Run one example in a fresh `__main__` namespace and return what it printed."""
    filename = f"docs/{example.id}"
    # Register the text the way IPython does for notebook cells, so that tracebacks show it
    # and inspect.getsource() works (vc6_isa.lang compiles kernels from their source).
    lines = example.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(example.source), None, lines, filename)
    code = compile(example.source, filename, "exec")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {"__name__": "__main__"})  # noqa: S102 - running the page's example is the point
    return out.getvalue()


def _normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def _line_matches(expected: str, actual: str) -> bool:
    if PLACEHOLDER not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(PLACEHOLDER))
    return re.fullmatch(pattern, actual) is not None


def output_matches(expected: str, actual: str) -> bool:
    """True when `actual` equals `expected` line by line, `…` matching anything in a line."""
    want, got = _normalise(expected), _normalise(actual)
    return len(want) == len(got) and all(
        _line_matches(w, g) for w, g in zip(want, got, strict=True)
    )


@dataclass(frozen=True)
class Quote:
    """A code fragment the page says is quoted from a source file of the repository."""

    page: str
    line: int
    path: str  # relative to the repository root
    text: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def find_quotes(page: Path) -> list[Quote]:
    """Every `<!-- quote: path -->` fragment of one page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    rel = page.relative_to(DOCS_DIR).as_posix()
    quotes = []
    for i, line in enumerate(lines):
        match = _QUOTE.match(line.strip())
        if match:
            j = _next_nonblank(lines, i + 1)
            if j == len(lines) or not _FENCE_OPEN.match(lines[j].strip()):
                raise ValueError(
                    f"{rel}:{i + 1}: a quote marker must be followed by a code block"
                )
            _, body, _ = _read_fence(lines, j)
            quotes.append(Quote(rel, j + 1, match.group(1), body))
    return quotes


def quote_is_current(quote: Quote) -> bool:
    """True when the fragment's non-blank lines appear, in order, in the quoted file."""
    source = [
        line.strip()
        for line in (REPO_DIR / quote.path).read_text(encoding="utf-8").splitlines()
    ]
    position = 0
    for wanted in (line.strip() for line in quote.text.splitlines() if line.strip()):
        try:
            position = source.index(wanted, position) + 1
        except ValueError:
            return False
    return True
