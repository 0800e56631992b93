"""What the API reference pages render, read with griffe (the library mkdocstrings uses).

`rendered_objects()` loads every object a reference page names with `::: identifier`, and the
members mkdocstrings shows with it; `problems(obj)` says what its docstring lacks: a parameter
without an entry under Args, a return value without Returns, a dataclass field without an
entry under Attributes, or reST markup that the site would show raw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import griffe

REPO_DIR = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_DIR / "docs" / "reference"
SEARCH_PATHS = [str(REPO_DIR / "packages" / p / "src") for p in ("v3d-drm", "vc6-isa", "vc6-kernels", "vc6-bench")]

#: reST that mkdocstrings does not turn into Markdown: roles, double backticks, `::` blocks.
REST_MARKUP = re.compile(
    r":(?:py:)?(?:class|func|meth|data|attr|mod|exc|obj|const):`|(?<!`)``(?!`)|::\s*$", re.MULTILINE
)

_IDENT = re.compile(r"^::: ([\w.]+)", re.MULTILINE)


def _sections(obj: griffe.Object) -> dict[str, griffe.DocstringSection]:
    if obj.docstring is None:
        return {}
    return {s.kind.value: s for s in obj.docstring.parse(griffe.Parser.google, warnings=False)}


def _documented(section: griffe.DocstringSection | None) -> set[str]:
    return set() if section is None else {item.name.lstrip("*") for item in section.value}


def rendered_objects() -> Iterator[tuple[str, griffe.Object]]:
    """(identifier, object) for every object the reference pages render, with its members."""
    loader = griffe.GriffeLoader(search_paths=SEARCH_PATHS, docstring_parser=griffe.Parser.google)
    packages: dict[str, griffe.Object] = {}
    for page in sorted(REFERENCE_DIR.glob("*.md")):
        for ident in _IDENT.findall(page.read_text(encoding="utf-8")):
            top, _, rest = ident.partition(".")
            if top not in packages:
                packages[top] = loader.load(top)
                loader.resolve_aliases(implicit=True, external=False)
            obj = packages[top][rest] if rest else packages[top]
            obj = obj.final_target if obj.is_alias else obj
            yield ident, obj
            if obj.is_class:
                for name, member in obj.members.items():
                    if not name.startswith("_") or name == "__init__":
                        member = member.final_target if member.is_alias else member
                        if member.is_function:
                            yield f"{ident}.{name}", member


def _function_problems(func: griffe.Function) -> list[str]:
    if func.docstring is None:
        return [] if func.name == "__init__" else ["no docstring"]
    sections = _sections(func)
    params = [p.name for p in func.parameters if p.name not in ("self", "cls") and not p.name.startswith("_")]
    missing = [p for p in params if p not in _documented(sections.get("parameters"))]
    found = [f"parameter {p!r} not under Args" for p in missing]
    returns = str(func.returns) if func.returns is not None else "None"
    gives = returns != "None" and func.name != "__init__" and "property" not in func.labels
    if gives and "returns" not in sections and "yields" not in sections:
        found.append(f"returns {returns} but has no Returns section")
    return found


def _class_problems(cls: griffe.Class) -> list[str]:
    if cls.docstring is None:
        return ["no docstring"]
    if "dataclass" not in cls.labels and not any(b.name == "NamedTuple" for b in cls.resolved_bases if hasattr(b, "name")):
        return []
    documented = _documented(_sections(cls).get("attributes"))
    fields = [n for n, m in cls.members.items() if m.is_attribute and not n.startswith("_")]
    return [f"field {n!r} not under Attributes" for n in fields if n not in documented and cls.members[n].docstring is None]


def problems(obj: griffe.Object) -> list[str]:
    """What the rendered docstring of `obj` lacks, or shows raw."""
    found = []
    if obj.docstring is not None and REST_MARKUP.search(obj.docstring.value):
        found.append(f"reST markup in the docstring: {REST_MARKUP.search(obj.docstring.value).group(0)!r}")
    if obj.is_function:
        found += _function_problems(obj)
    elif obj.is_class:
        found += _class_problems(obj)
    return found
