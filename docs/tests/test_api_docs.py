"""The API reference documents every parameter, return value and field it shows, in Markdown."""

from __future__ import annotations

import pytest

griffe = pytest.importorskip("griffe", reason="griffe comes with mkdocstrings: pip install 'mkdocstrings[python]'")

from api_docs import problems, rendered_objects

OBJECTS = list(rendered_objects())


def test_the_reference_pages_render_objects() -> None:
    assert len(OBJECTS) > 100


@pytest.mark.parametrize("ident,obj", OBJECTS, ids=[ident for ident, _ in OBJECTS])
def test_docstring_is_complete_markdown(ident, obj) -> None:
    found = problems(obj)
    assert not found, f"{ident} ({obj.filepath}:{obj.lineno}): " + "; ".join(found)
