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
