"""The built site, as a reader sees it: no raw reST, nothing clipped, working from disk.

The site is built once per session with `mkdocs build --strict` (which itself fails on broken
links and anchors, and on a check of the emulator with no published hazard rule), then every
page is read back as HTML.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs tests need mkdocs: see tox.ini's deps")

REPO_DIR = Path(__file__).resolve().parents[2]

#: A Sphinx role as it reaches the page when nobody converts it: ":class:<code>X</code>".
_RAW_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|attr|mod|exc|obj|const):(?:<code>|`)")
_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_HREF = re.compile(r'href="([^"#]*)(?:#[^"]*)?"')


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO_DIR, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stderr[-4000:]}"
    return out


def _pages(site: Path) -> list[Path]:
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    assert len(pages) > 20
    return pages


def _prose(page: Path) -> str:
    """The page's text outside code blocks, tags removed, entities decoded."""
    text = page.read_text(encoding="utf-8")
    article = text[text.find('<article'): text.find('</article>')]
    return html.unescape(_TAG.sub(" ", _PRE.sub(" ", article)))


def test_no_raw_rest_roles_or_double_backticks(site: Path) -> None:
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        role = _RAW_ROLE.search(text)
        assert role is None, f"{page.relative_to(site)} shows a raw reST role: {role.group(0)!r}"
        prose = _prose(page)
        assert "``" not in prose, f"{page.relative_to(site)} shows double backticks in its text"
        assert not re.search(r"\w::(\s|$)", prose), f"{page.relative_to(site)} shows a reST '::' marker"
        assert "\\|" not in html.unescape(_TAG.sub(" ", text)), f"{page.relative_to(site)} shows an escaped pipe"


def test_code_and_output_blocks_wrap_instead_of_clipping(site: Path) -> None:
    css = (site / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    rule = re.search(r"\.md-typeset pre > code\s*\{([^}]*)\}", css)
    assert rule and "white-space: pre-wrap" in rule.group(1), "extra.css must make code blocks wrap"
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        if "<pre" in text:
            assert "stylesheets/extra.css" in text, f"{page.relative_to(site)} does not load extra.css"


def test_links_name_files_so_the_site_works_from_disk(site: Path) -> None:
    for page in _pages(site):
        for href in _HREF.findall(page.read_text(encoding="utf-8")):
            if href.startswith(("http://", "https://", "mailto:")) or not href:
                continue
            assert not href.endswith("/"), f"{page.relative_to(site)} links to a directory: {href!r}"
            target = (page.parent / href).resolve()
            assert target.exists(), f"{page.relative_to(site)} links to a missing file: {href!r}"
    assert (site / "search" / "search_index.js").exists(), "offline search index missing"


def test_every_page_names_the_version(site: Path) -> None:
    from importlib.metadata import version

    for page in _pages(site):
        assert f"version {version('vc6-isa')}" in page.read_text(encoding="utf-8"), page.name


def test_hazard_rules_have_the_anchors_error_messages_cite(site: Path) -> None:
    from vc6_isa.emulator import hazards

    page = (site / "reference" / "rules.html").read_text(encoding="utf-8")
    for rule, _ in hazards.RULES.values():
        anchor = hazards.rule_anchor(rule)
        assert f'id="{anchor}"' in page, f"rule {rule} has no anchor #{anchor} on the rules page"


def test_pages_cite_only_what_the_site_publishes(site: Path) -> None:
    """Readers have the site, not the team's working notes: no pointers into shared/."""
    for page in _pages(site):
        assert "shared/reference" not in _prose(page), f"{page.relative_to(site)} cites shared/reference"
