"""Run every runnable example of the documentation and compare its output with the page.

See doc_examples.py (and docs/docs-tests.md) for the convention. Run: pytest docs/tests
"""

from __future__ import annotations

import difflib

import pytest
from doc_examples import (
    all_pages,
    find_examples,
    find_quotes,
    output_matches,
    quote_is_current,
    run_example,
)

EXAMPLES = [example for page in all_pages() for example in find_examples(page)]
QUOTES = [quote for page in all_pages() for quote in find_quotes(page)]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_prints_what_the_page_shows(example) -> None:
    # The pages promise that every example runs in the emulator's strict mode (the default).
    assert (
        "'strict': False" not in example.source
        and '"strict": False' not in example.source
    )
    actual = run_example(example)
    if not output_matches(example.expected, actual):
        diff = "\n".join(
            difflib.unified_diff(
                example.expected.splitlines(),
                actual.rstrip("\n").splitlines(),
                "shown on the page",
                "printed",
                lineterm="",
            )
        )
        pytest.fail(
            f"docs/{example.id} printed something else than its Output block:\n{diff}"
        )


def test_the_cookbook_has_runnable_examples() -> None:
    """Every cookbook recipe page carries at least one executed program."""
    recipes = [
        p for p in all_pages() if p.parent.name == "cookbook" and p.name != "index.md"
    ]
    assert recipes, "no cookbook pages found"
    for page in recipes:
        assert find_examples(page), (
            f"{page.name} has no runnable example (python block + Output:)"
        )


@pytest.mark.parametrize("quote", QUOTES, ids=[q.id for q in QUOTES])
def test_quoted_source_is_still_in_the_file(quote) -> None:
    assert quote_is_current(quote), (
        f"docs/{quote.id} quotes {quote.path}, but those lines are no longer there (in that order); "
        "update the quotation"
    )


def test_every_output_block_belongs_to_an_example() -> None:
    """An `Output:` line not right after a python block would be shown but never checked."""
    for page in all_pages():
        shown = sum(
            1
            for line in page.read_text(encoding="utf-8").splitlines()
            if line.strip() == "Output:"
        )
        assert shown == len(find_examples(page)), (
            f"{page.name}: an 'Output:' block does not follow a python block, so it is not tested"
        )


def _qpu_function(source: str, name: str) -> str:
    """The `@qpu def name` block of an example, through its last indented line."""
    lines = source.splitlines()
    start = lines.index(f"def {name}(asm, depth):") - 1
    assert lines[start] == "@qpu"
    end = start + 2
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(" ")):
        end += 1
    return "\n".join(lines[start:end]).rstrip()


def test_the_profiling_page_profiles_the_summation_recipe() -> None:
    """The profiling page shows the recipe's own program, not a look-alike that could drift."""
    pages = {p.name: p for p in all_pages() if p.parent.name == "cookbook"}
    recipe = _qpu_function(find_examples(pages["summation.md"])[0].source, "summation")
    profiled = _qpu_function(find_examples(pages["profiling.md"])[0].source, "summation")
    assert profiled == recipe, "docs/cookbook/profiling.md: copy the summation recipe's program again"
    assert len(recipe.splitlines()) > 30


def test_the_profiling_page_shows_the_timeline_the_build_draws() -> None:
    """The page links the picture that docs/hooks/profile_timeline.py adds to the site."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
    import profile_timeline

    page = next(p for p in all_pages() if p.as_posix().endswith(profile_timeline.PAGE))
    assert f"]({Path(profile_timeline.PICTURE).name})" in page.read_text(encoding="utf-8")
    png = profile_timeline.picture(page.parents[1])
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
