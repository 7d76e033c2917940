"""Helpers shared by the tests of the built site (tests/book): where things are, how to read them."""

import functools
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "book" / "_ext"))  # the book's extensions, for their unit tests
from coursework.chapters import CHAPTERS, LANGUAGES

__all__ = ["CHAPTERS", "LANGUAGES", "REPO", "chapter_pages", "equations", "figures", "html_of", "html_pages",
           "is_external", "numbered_references", "parse", "resolve"]
# Sphinx writes these elements the same way on every page; reading them with a regular
# expression is ~1000 times faster than parsing the page, and the tests read many pages.
EQUATION = re.compile(r'id="(equation-[^"]+)">\s*<span class="eqno">(\([^)<]*\))')
FIGURE = re.compile(r'<figure[^>]*\bid="([^"]+)"[^>]*>.*?<span class="caption-number">([^<]*?)\s*</span>',
                    re.DOTALL)
REFERENCE = re.compile(r'<a class="reference internal" href="([^"#]*)#([^"]+)">'
                       r'(?:(\(\d[^)<]*\))|<span class="std std-numref">([^<]*)</span>)</a>')


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def chapter_pages(site: Path, lang: str) -> list[Path]:
    """The built page of every chapter of the registry, in its order."""
    return [site / lang / f"{chapter.page}.html" for chapter in CHAPTERS]


@functools.cache
def parse(path: Path) -> BeautifulSoup:
    """The page's HTML, parsed once per test process (the tests only read it)."""
    return BeautifulSoup(path.read_text(encoding="utf8"), "html.parser")


@functools.cache
def html_of(path: Path) -> str:
    return path.read_text(encoding="utf8")


def equations(path: Path) -> dict[str, str]:
    """Numbered display equations of a page, in order: element id -> "(2.3)"."""
    return dict(EQUATION.findall(html_of(path)))


def figures(path: Path) -> dict[str, str]:
    """Numbered figures of a page, in order: element id -> "Figura 2.1"."""
    return dict(FIGURE.findall(html_of(path)))


def numbered_references(path: Path) -> list[tuple[Path, str, str]]:
    """Every {eq} and {numref} link of a page: (target page, target id, the link's text)."""
    return [(path if not page else resolve(path, page), target, eq or numref)
            for page, target, eq, numref in REFERENCE.findall(html_of(path))]


def resolve(page: Path, href: str) -> Path:
    """The file a relative link on `page` points to (query and fragment dropped)."""
    return (page.parent / unquote(urlsplit(href).path)).resolve()


def is_external(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url.strip(), re.IGNORECASE))
