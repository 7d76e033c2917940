"""The built site works offline in a real browser, in both languages.

The pages of the session's build (tests/book/conftest.py) are checked as files (links,
images, head tags, no external resources) and in headless Chromium (MathJax typesets the
math, search finds pages, the root chooser remembers the language).
"""

import json
import re
from urllib.parse import urljoin

import pytest
from booksite import CHAPTERS, LANGUAGES, chapter_pages, html_pages, is_external, parse, resolve

from coursework.chapters import grading

CHAPTER = grading("kl_div")[0].page  # a page with math, figures and citations
# Building from a cold execution cache runs every page's kernel; the first test pays for it.
pytestmark = pytest.mark.timeout(900)


# --- pages as files -----------------------------------------------------------------------


def test_both_languages_and_the_root_chooser_are_built(site):
    for lang in LANGUAGES:
        assert (site / lang / "index.html").is_file()
        assert (site / lang / f"{CHAPTER}.html").is_file()
    chooser = parse(site / "index.html")
    targets = {a["href"] for a in chooser.select("a.choice")}
    assert targets == {f"{lang}/index.html" for lang in LANGUAGES}
    assert "localStorage" in str(chooser)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_are_in_their_language(site, lang):
    other = {"es": "en", "en": "es"}[lang]
    words = {"es": ("Búsqueda", "Contenido"), "en": ("Search", "Contents")}
    for page in chapter_pages(site, lang):
        soup = parse(page)
        assert soup.html["lang"] == lang, page
        text = soup.get_text(" ")
        for word in words[lang]:
            assert word in text, f"{page.name}: theme text {word!r} missing"
        assert words[other][1] not in text, f"{page.name}: theme text in {other}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_links_the_same_page_in_the_other_language(site, lang):
    pages = [p for p in (site / lang).glob("*.html")]
    assert len(pages) >= 8
    for page in pages:
        links = parse(page).select("a.langswitch-link")
        assert len(links) == 1, f"{page.name}: expected one language switch, got {len(links)}"
        other = links[0]["hreflang"]
        assert other != lang
        target = resolve(page, links[0]["href"])
        assert target == (site / other / page.name).resolve(), f"{page.name} -> {links[0]['href']}"
        assert target.is_file()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_has_hreflang_alternates_that_resolve(site, lang):
    for page in (site / lang).glob("*.html"):
        alternates = {link["hreflang"]: link["href"]
                      for link in parse(page).select('head link[rel="alternate"][hreflang]')}
        assert set(alternates) == {*LANGUAGES, "x-default"}, page.name
        for code in LANGUAGES:
            assert resolve(page, alternates[code]) == (site / code / page.name).resolve()
        assert resolve(page, alternates["x-default"]) == (site / "index.html").resolve()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_links_its_exercise_notebook_and_the_file_is_in_the_site(site, lang):
    chapters = chapter_pages(site, lang)
    assert len(chapters) == 5
    for page in chapters:
        links = parse(page).select("a.exercise-link")
        assert links, f"{page.name}: no exercise link"
        for link in links:
            target = resolve(page, link["href"])
            assert target.is_relative_to((site / "exercises").resolve()), link["href"]
            assert target.is_file() and target.stat().st_size > 0, link["href"]
            notebook = json.loads(target.read_text(encoding="utf-8"))
            chapter = int(page.name[:2])
            assert notebook["metadata"]["lossfns"]["assignment"] == f"ch{chapter}-{lang}", link["href"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_figures_have_alt_text_and_nonempty_image_files(site, lang):
    for page in chapter_pages(site, lang):
        images = parse(page).select("figure img, div.cell_output img")
        assert images, f"{page.name}: no figure"
        for img in images:
            assert img.get("alt", "").strip(), f"{page.name}: image without alt text"
            path = resolve(page, img["src"])
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG\r\n\x1a\n") or b"<svg" in data[:2048], path


def test_no_page_loads_scripts_styles_or_images_from_another_host(site):
    # The build itself ran with every HTTP(S) proxy pointing at a closed port (conftest.py).
    offenders = []
    for page in html_pages(site):
        soup = parse(page)
        for tag, attr in [("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                          ("source", "src"), ("object", "data"), ("embed", "src")]:
            for element in soup.find_all(tag):
                url = element.get(attr)
                if url and is_external(url):
                    offenders.append(f"{page.relative_to(site)}: <{tag} {attr}={url}>")
        for script in soup.find_all("script", src=False):  # inline code that would fetch a URL
            urls = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}/[^\s'\"]*", script.get_text())
            offenders += [f"{page.relative_to(site)}: inline <script> with {url}" for url in urls]
    css_url = re.compile(r"(?:url\(|@import\s+)['\"]?([^'\")\s]+)")
    for stylesheet in site.rglob("*.css"):
        for url in css_url.findall(stylesheet.read_text(errors="ignore")):
            if is_external(url):
                offenders.append(f"{stylesheet.relative_to(site)}: {url}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mathjax_is_served_from_the_site(site, lang):
    scripts = [s["src"] for s in parse(site / lang / f"{CHAPTER}.html").find_all("script", src=True)]
    mathjax = [src for src in scripts if "mathjax" in src.lower()]
    assert mathjax, "no MathJax script"
    page = site / lang / f"{CHAPTER}.html"
    assert all(resolve(page, src).is_file() for src in mathjax)


# --- pages in a browser -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_math_is_typeset_and_figures_are_present_in_the_browser(server, browser, lang):
    dom = browser(urljoin(server, f"{lang}/{CHAPTER}.html"))
    assert dom.select("mjx-container[display='true']"), "display math not typeset by MathJax"
    assert not dom.select("mjx-merror"), "MathJax reported a TeX error"
    assert len(dom.select("mjx-container")) >= 3
    figures = dom.select("figure img[alt]")
    assert figures and all(img["alt"].strip() for img in figures)


@pytest.mark.parametrize(("lang", "query", "expected"), [
    ("es", "entropías", f"{CHAPTER}.html"),          # Spanish stemming: plural -> entropía
    ("en", "backpropagating", f"{grading('Network')[0].page}.html"),   # English stemming
])
def test_search_finds_the_chapter_in_each_language(server, browser, lang, query, expected):
    dom = browser(urljoin(server, f"{lang}/search.html?q={query}"))
    hits = [a["href"].split("#")[0].split("?")[0] for a in dom.select("#search-results ul.search li a")]
    assert expected in hits, f"search for {query!r} found {hits}"


def test_root_chooser_sends_back_to_the_remembered_language(server, browser, site):
    # A page of the same origin stores the choice the way the chooser's links do, then opens
    # the root: the chooser must redirect to the English book.
    (site / "_remember-en.html").write_text(
        "<!DOCTYPE html><script>localStorage.setItem('course-language', 'en');"
        "location.replace('index.html');</script>", encoding="utf8")
    dom = browser(urljoin(server, "_remember-en.html"))
    assert dom.html["lang"] == "en"
    assert dom.select("a.langswitch-link[hreflang='es']")


def test_root_chooser_shows_both_languages_without_a_remembered_choice(server, browser):
    dom = browser(urljoin(server, "index.html"))
    assert {a["hreflang"] for a in dom.select("a.choice")} == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_1_shows_pytorch_and_keras_code_in_synced_tabs(site, lang):
    # Adjacent cells tagged tab-pytorch / tab-keras become one sphinx-design tab-set
    # (book/_ext/course.py), whose tabs share a sync group across the page.
    page = parse(site / lang / f"{CHAPTERS[0].page}.html")
    tab_sets = page.select("div.sd-tab-set.framework-tabs")
    assert tab_sets, "chapter 1: no PyTorch | Keras tab-set"
    for tab_set in tab_sets:
        labels = tab_set.find_all("label", class_="sd-tab-label", recursive=False)
        assert [label.get_text(strip=True) for label in labels] == ["PyTorch", "Keras"]
        assert [label.get("data-sync-id") for label in labels] == ["pytorch", "keras"]
        assert {label.get("data-sync-group") for label in labels} == {"framework"}
        panels = tab_set.find_all("div", class_="sd-tab-content", recursive=False)
        assert len(panels) == 2
        for panel, tag in zip(panels, ("tab-pytorch", "tab-keras")):
            code = panel.select_one(f"div.cell.tag_{tag} div.cell_input pre")
            assert code is not None and code.get_text().strip(), f"{tag}: tab without code"
        assert "keras" in panels[1].get_text()
    # Every tagged cell of the page ended up inside a tab.
    for cell in page.select("div.cell.tag_tab-pytorch, div.cell.tag_tab-keras"):
        assert cell.find_parent("div", class_="sd-tab-content") is not None
