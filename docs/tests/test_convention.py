"""The example finder and the output comparison themselves (so a broken finder cannot pass silently)."""

from __future__ import annotations

from doc_examples import find_examples, output_matches

PAGE = """# A page

```python
print("not run: no Output block")
```

```python
print("hello")
print(3 * 7)
```

Output:

```text
hello
21
```
"""


def test_finds_only_blocks_followed_by_output(tmp_path, monkeypatch) -> None:
    import doc_examples

    monkeypatch.setattr(doc_examples, "DOCS_DIR", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    examples = find_examples(page)
    assert [e.line for e in examples] == [7]
    assert examples[0].expected == "hello\n21"
    assert "print(3 * 7)" in examples[0].source


def test_comparison_is_exact_except_for_the_placeholder() -> None:
    assert output_matches("a\nb", "a\nb\n")
    assert not output_matches("a\nb", "a\nc")
    assert not output_matches("a", "a\nb")
    assert output_matches("took … s", "took 0.25 s")
    assert not output_matches("took … s", "took 0.25 ms")
    assert not output_matches("x = 1", "x = 12")
