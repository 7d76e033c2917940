"""Feedback pages made self-contained for the LMS: formulas typeset in advance, nothing a student
wrote runs."""

from __future__ import annotations

from bs4 import BeautifulSoup

from coursework.instructor.static_math import sanitize, self_contained

HOSTILE = ('<p onclick="steal()">$x^2$ and <a href=" java\tscript:alert(1)">a link</a></p>'
           '<script>alert(1)</script><iframe src="https://example.com"></iframe>'
           '<img src="x" onerror="alert(1)">'
           '<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>'
           '<object data="data:text/html,<script>alert(1)</script>"></object>')


def test_sanitize_removes_everything_that_could_run_and_keeps_the_text():
    soup = BeautifulSoup(sanitize(HOSTILE), "html.parser")
    assert not soup.find_all(["script", "iframe", "object", "animate"])
    assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")]
    assert soup.a is not None and "href" not in soup.a.attrs
    assert "$x^2$" in soup.get_text() and "a link" in soup.get_text()


def test_a_hostile_page_comes_out_typeset_and_inert():
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><script src="x.js"></script></head>'
            f"<body>{HOSTILE}<p>$$H(p) = -\\sum_k p_k \\log p_k$$</p></body></html>")
    out, = self_contained([page])
    soup = BeautifulSoup(out, "html.parser")
    assert not soup.find_all(["script", "iframe", "object"]) and "javascript:" not in out.lower()
    assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")]
    assert len(soup.select("mjx-container")) == 2  # $x^2$ and H(p), typeset as SVG
    assert soup.select("mjx-container svg") and not soup.select("mjx-merror")
