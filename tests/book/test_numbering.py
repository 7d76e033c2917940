"""Equations and figures are numbered per chapter, "chapter.n", on the built pages.

The chapters' part of the table of contents is numbered (scripts/build_book.py), so Sphinx
(numfig, math_numfig) numbers each chapter's labelled equations (2.1), (2.2), ... and its
figures "Figura 2.1", ..., with the chapter's number from the registry; every {eq} and
{numref} reads the number of its target.
"""

import re

import pytest
from booksite import CHAPTERS, LANGUAGES, equations, figures, html_of, numbered_references

pytestmark = pytest.mark.timeout(900)  # the site fixture may build the book first
FIGURE = {"es": "Figura", "en": "Fig."}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_equations_and_figures_are_numbered_chapter_dot_n(site, lang):
    for entry in CHAPTERS:
        page = site / lang / f"{entry.page}.html"
        heading = re.search(r'<h1><span class="section-number">([^<]*)</span>', html_of(page))
        assert heading and heading.group(1).strip() == f"{entry.number}.", entry.page
        numbers = list(equations(page).values())
        assert numbers, f"{entry.page}: no numbered equation"
        assert numbers == [f"({entry.number}.{n})" for n in range(1, len(numbers) + 1)], entry.page
        captions = list(figures(page).values())
        assert captions, f"{entry.page}: no numbered figure"
        assert captions == [f"{FIGURE[lang]} {entry.number}.{n}" for n in range(1, len(captions) + 1)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_equation_and_figure_references_read_their_targets_number(site, lang):
    checked = 0
    for entry in CHAPTERS:
        page = site / lang / f"{entry.page}.html"
        for target_page, target, text in numbered_references(page):
            numbers = equations(target_page) if target.startswith("equation-") else figures(target_page)
            assert numbers.get(target) == text, f"{entry.page}: {text} -> #{target} {numbers.get(target)}"
            checked += 1
    assert checked >= 20  # the chapters do refer to their equations and figures
