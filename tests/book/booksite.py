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

__all__ = ["CHAPTERS", "LANGUAGES", "REPO", "chapter_pages", "html_pages", "is_external", "parse", "resolve"]


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def chapter_pages(site: Path, lang: str) -> list[Path]:
    """The built page of every chapter of the registry, in its order."""
    return [site / lang / f"{chapter.page}.html" for chapter in CHAPTERS]


@functools.cache
def parse(path: Path) -> BeautifulSoup:
    """The page's HTML, parsed once per test process (the tests only read it)."""
    return BeautifulSoup(path.read_text(encoding="utf8"), "html.parser")


def resolve(page: Path, href: str) -> Path:
    """The file a relative link on `page` points to (query and fragment dropped)."""
    return (page.parent / unquote(urlsplit(href).path)).resolve()


def is_external(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url.strip(), re.IGNORECASE))
