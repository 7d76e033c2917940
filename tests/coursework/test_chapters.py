"""The chapter registry (coursework/chapters.py) names every chapter, once, and everything agrees with it."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest
from build_book import table_of_contents
from myst_nb.core.read import is_myst_markdown_notebook

from coursework import chapters
from coursework.chapters import CHAPTERS, LANGUAGES, ROOT
from coursework.grading.registry import behaviours, check_module

IDS = [chapter.id for chapter in CHAPTERS]


def test_ids_numbers_and_pages_are_unique_and_in_order():
    assert len(set(IDS)) == len(IDS)
    assert [chapter.number for chapter in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))
    assert len({chapter.page for chapter in CHAPTERS}) == len(CHAPTERS)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*", chapter.id) for chapter in CHAPTERS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_file_of_a_chapter_exists_in_both_languages(chapter, language):
    for path in (chapter.page_path(language), chapter.solution(language), chapter.exercise(language)):
        assert path.is_file(), f"{chapter.id}: expected {path.relative_to(ROOT)}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_the_registry_title_is_the_heading_of_the_page(chapter, language):
    text = chapter.page_path(language).read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    assert heading == f"# {chapter.titles[language]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_the_check_module_and_the_graded_functions_exist(chapter):
    module = check_module(chapter)
    assert module.BEHAVIOURS and isinstance(module.BLOCKED, tuple) and isinstance(module.PROVIDED, tuple)
    assert {b.grade_id for b in module.BEHAVIOURS} == set(behaviours(chapter.assignment(LANGUAGES[0])))
    for dotted in chapter.graded:
        owner, _, name = dotted.rpartition(".")
        assert owner.split(".")[0] == "lossfns" and callable(getattr(importlib.import_module(owner), name))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chapter_page_and_notebook_of_the_repository_is_in_the_registry(language):
    pages = {p.stem for p in (ROOT / "book" / language).glob("*.md")
             if is_myst_markdown_notebook(p.read_text(encoding="utf-8"))}
    assert pages == {chapter.page for chapter in CHAPTERS}
    toc = table_of_contents(language)
    listed = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert [page for page in listed if page in pages] == [chapter.page for chapter in CHAPTERS]
    for kind in ("solutions", "exercises"):
        notebooks = {p.relative_to(ROOT) for p in (ROOT / kind).rglob("*.ipynb")
                     if ".ipynb_checkpoints" not in p.parts}
        registered = {getattr(c, kind[:-1] if kind == "solutions" else "exercise")(lang).relative_to(ROOT)
                      for c in CHAPTERS for lang in LANGUAGES}
        assert notebooks == registered, kind


def test_assignments_parse_back_to_their_chapter_and_unknown_ones_are_refused():
    for chapter in CHAPTERS:
        for language in LANGUAGES:
            assert chapters.parse_assignment(chapter.assignment(language)) == (chapter, language)
    with pytest.raises(ValueError, match="expected an assignment id"):
        chapters.parse_assignment(f"{IDS[0]}-fr")
    with pytest.raises(ValueError, match="expected a chapter id"):
        chapters.chapter("chapter-one")


def test_one_command_finds_everything_about_a_graded_function(capsys):
    name = CHAPTERS[0].graded[0].rpartition(".")[2]
    assert chapters.main([name]) == 0
    out = capsys.readouterr().out
    folders = "book|solutions|exercises|coursework|lossfns|tests"
    for path in re.findall(rf"(?:{folders})/[\w./-]+\.(?:md|ipynb|py)", out):
        assert (ROOT / path).is_file(), path
    assert CHAPTERS[0].page_path("es").relative_to(ROOT).as_posix() in out
    assert chapters.main(["no-such-thing"]) == 1


# ---------------------------------------------------------------- no chapter named outside the registry

CODE_SUFFIXES = {".py", ".toml", ".yml", ".yaml", ".cfg", ".js", ".j2", ".html", ".sh"}


def chapter_literals() -> re.Pattern:
    """Chapter ids (alone or in an assignment id) and book page names, as whole words."""
    words = [re.escape(c.id) for c in CHAPTERS] + [re.escape(c.page) for c in CHAPTERS]
    return re.compile(rf"(?<![\w-])({'|'.join(words)})(?![\w])")


def own_files() -> set[Path]:
    """The registry and each chapter's own code: its check module and the tests of that module."""
    files = {ROOT / "coursework" / "chapters.py"}
    for chapter in CHAPTERS:
        module = ROOT / f"{chapter.checks.replace('.', '/')}.py"
        files |= {module, ROOT / "tests" / "coursework" / "checks" / f"test_{module.stem}.py"}
    return files


def test_no_code_or_configuration_names_a_chapter_outside_the_registry_and_its_own_files():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    paths = [ROOT / name for name in tracked.stdout.splitlines()]
    code = [p for p in paths if (p.suffix in CODE_SUFFIXES or p.name in ("Makefile", "run")) and p.is_file()]
    pattern, exempt = chapter_literals(), own_files()
    found = [f"{p.relative_to(ROOT)}:{number}: {line.strip()}"
             for p in code if p not in exempt
             for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if pattern.search(line)]
    assert not found, "chapter named outside coursework/chapters.py:\n" + "\n".join(found)
