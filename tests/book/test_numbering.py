"""Equations and figures are numbered per chapter, "chapter.n", on the built pages.

The chapters' part of the table of contents is numbered (scripts/build_book.py), so Sphinx
(numfig, math_numfig) numbers each chapter's labelled equations (2.1), (2.2), ... and its
figures "Figura 2.1", ..., with the chapter's number from the registry; every {eq} and
{numref} reads the number of its target.
"""

import re

import pytest
from booksite import CHAPTERS, LANGUAGES, parse, resolve

pytestmark = pytest.mark.timeout(900)  # the site fixture may build the book first
FIGURE = {"es": "Figura", "en": "Fig."}


def number_of(element) -> str:
    """"(2.3)" from an equation's number, "Figura 2.1" from a caption (without the pilcrow)."""
    return element.get_text(" ", strip=True).rstrip("#").strip()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_equations_and_figures_are_numbered_chapter_dot_n(site, lang):
    for entry in CHAPTERS:
        html = parse(site / lang / f"{entry.page}.html")
        heading = html.select_one("section > h1 span.section-number")
        assert heading is not None and heading.get_text().strip() == f"{entry.number}.", entry.page
        equations = [number_of(span) for span in html.select("span.eqno")]
        assert equations, f"{entry.page}: no numbered equation"
        assert equations == [f"({entry.number}.{n})" for n in range(1, len(equations) + 1)], entry.page
        figures = [number_of(span) for span in html.select("figcaption span.caption-number")]
        assert figures, f"{entry.page}: no numbered figure"
        assert figures == [f"{FIGURE[lang]} {entry.number}.{n}" for n in range(1, len(figures) + 1)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_equation_and_figure_references_read_their_targets_number(site, lang):
    checked = 0
    for entry in CHAPTERS:
        page = site / lang / f"{entry.page}.html"
        for link in parse(page).select("a.reference.internal[href*='#']"):
            text = link.get_text(strip=True)
            is_equation = "#equation-" in link["href"] and re.fullmatch(r"\(\d+\.\d+\)", text)
            is_figure = link.select_one("span.std-numref") is not None
            if not (is_equation or is_figure):
                continue
            target = parse(page if link["href"].startswith("#") else resolve(page, link["href"]))
            element = target.find(id=link["href"].split("#", 1)[1])
            assert element is not None, f"{entry.page}: {link['href']} has no target"
            if is_equation:
                number = element.select_one("span.eqno")
                assert number_of(number) == text, f"{entry.page}: {text} -> {number_of(number)}"
            else:
                caption = element.select_one("figcaption span.caption-number")
                assert number_of(caption) == text, f"{entry.page}: {text} -> {number_of(caption)}"
            checked += 1
    assert checked >= 20  # the chapters do refer to their equations and figures
