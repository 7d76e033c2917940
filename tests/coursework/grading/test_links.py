"""Links from feedback to the book: built from the registry and a MyST label, in the student's language,
under the course's base URL; every label an exercise links to is in both languages' chapter."""

from __future__ import annotations

import re

import pytest

from coursework.chapters import CHAPTERS, LANGUAGES
from coursework.grading import links
from coursework.grading.registry import check_module


def linked_labels() -> set[str]:
    """Every label a check module links to: its behaviours' sections and their misconceptions'."""
    found = set()
    for chapter in CHAPTERS:
        for behaviour in check_module(chapter).BEHAVIOURS:
            found |= {behaviour.section} if behaviour.section else set()
            found |= {m.section for m in behaviour.misconceptions}
    return found


def page_labels(language: str) -> dict[str, set[str]]:
    label = re.compile(r"^\(([\w-]+)\)=$", re.MULTILINE)
    return {c.page: set(label.findall(c.page_path(language).read_text(encoding="utf-8"))) for c in CHAPTERS}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_linked_label_is_in_its_chapter(language):
    labels = page_labels(language)
    missing = {label for label in linked_labels() if label not in labels[links.page_of(label)]}
    assert not missing, sorted(missing)


def test_a_link_lands_on_the_page_in_the_students_language(monkeypatch):
    monkeypatch.setenv(links.URL_VARIABLE, "https://course.example/book/")
    chapter = CHAPTERS[1]
    assert links.section_url(f"ch0{chapter.number}-entropy", "es") == \
        f"https://course.example/book/es/{chapter.page}.html#ch0{chapter.number}-entropy"
    english = links.section_url(f"ch{chapter.number}", "en")
    assert english.endswith(f"/en/{chapter.page}.html#ch{chapter.number}")


def test_without_a_setting_links_point_to_the_book_built_here(monkeypatch):
    monkeypatch.delenv(links.URL_VARIABLE, raising=False)
    monkeypatch.setattr(links, "_configured_url", lambda: None)
    assert links.book_url() == links.LOCAL_BUILD.as_uri()


def test_the_config_s_baseurl_is_the_setting(monkeypatch, tmp_path):
    monkeypatch.delenv(links.URL_VARIABLE, raising=False)
    config = tmp_path / "_config.yml"
    config.write_text("html:\n  baseurl: https://uni.example/loss/\n", encoding="utf-8")
    monkeypatch.setattr(links, "CONFIG", config)
    links._configured_url.cache_clear()
    try:
        assert links.book_url() == "https://uni.example/loss"
    finally:
        links._configured_url.cache_clear()


@pytest.mark.parametrize("label", ["intro", "ch99-nowhere", "chapter2"])
def test_a_label_of_no_registered_chapter_is_refused(label):
    with pytest.raises(ValueError, match="expected a label"):
        links.page_of(label)
