"""The Spanish and English books have the same shape, and no notebook stores outputs.

Parses the MyST sources (no build): every page in the table of contents, same heading
levels in the same order, same number of code cells and of figures on every page. The
words are free to differ; the structure is not, so the language switch always lands on
the matching place and the exercises line up.
"""

import fnmatch
import json
import os
from pathlib import Path

import pytest
from build_book import table_of_contents
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "book"
LANGUAGES = ("es", "en")
FIGURE_DIRECTIVES = ("{figure}", "{image}", "{glue:figure}")
MD = MarkdownIt("commonmark").use(colon_fence_plugin)


def toc_files(lang: str) -> list[str]:
    """Every file of the table of contents of ``lang`` (book/_toc.yml + the registry), root first."""
    toc = table_of_contents(lang)
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return files


def page_shape(path: Path) -> dict:
    """Heading levels, code cells and figures of one MyST page (notebook or plain Markdown)."""
    text = path.read_text(encoding="utf8")
    if is_myst_markdown_notebook(text):
        notebook = read_myst_markdown_notebook(text)
        markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    else:
        if text.startswith("---\n"):
            text = text.split("\n---\n", 1)[1]
        markdown, code = [text], []
    headings, figures = [], 0
    for source in markdown:
        for token in MD.parse(source):
            if token.type == "heading_open":
                headings.append(int(token.tag[1]))
            elif token.type in ("fence", "colon_fence") and token.info.strip().startswith(FIGURE_DIRECTIVES):
                figures += 1
            elif token.type == "inline":
                figures += sum(child.type == "image" for child in token.children or [])
    figures += sum(bool({"figure", "image"} & set(cell.metadata.get("mystnb", {}))) for cell in code)
    return {"headings": headings, "code_cells": len(code), "figures": figures}


def chapter_notebooks(lang: str) -> list[Path]:
    return [path for path in sorted((BOOK / lang).glob("*.md"))
            if is_myst_markdown_notebook(path.read_text(encoding="utf8"))]


def test_both_languages_list_the_same_pages_in_the_same_order():
    assert toc_files("es") == toc_files("en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_source_is_in_the_table_of_contents(lang):
    # only_build_toc_files silently skips a page missing from the toc: make it loud here.
    sources = sorted(p.stem for p in (BOOK / lang).glob("*.md"))
    assert sources == sorted(toc_files(lang))


@pytest.mark.parametrize("page", toc_files("es"))
def test_page_has_same_headings_code_cells_and_figures_in_both_languages(page):
    es, en = (page_shape(BOOK / lang / f"{page}.md") for lang in LANGUAGES)
    assert es == en, f"{page}: es {es} != en {en}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_notebooks_declare_the_python3_kernel(lang):
    notebooks = chapter_notebooks(lang)
    assert notebooks, f"expected MyST notebooks in book/{lang}"
    for path in notebooks:
        metadata = read_myst_markdown_notebook(path.read_text(encoding="utf8")).metadata
        assert metadata.get("file_format") == "mystnb", path
        assert metadata.get("kernelspec", {}).get("name") == "python3", path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_figure_cell_has_alt_text_and_a_caption(lang):
    for path in chapter_notebooks(lang):
        notebook = read_myst_markdown_notebook(path.read_text(encoding="utf8"))
        for cell in notebook.cells:
            options = cell.metadata.get("mystnb", {})
            if cell.cell_type == "code" and {"figure", "image"} & set(options):
                alt = options.get("image", {}).get("alt", "")
                caption = options.get("figure", {}).get("caption", "")
                assert alt.strip(), f"{path.name}: figure without alt text (mystnb.image.alt)"
                assert caption.strip(), f"{path.name}: figure without caption (mystnb.figure.caption)"


def _ignored_dirs() -> list[str]:
    """Directory patterns from .gitignore (entries ending in '/'), plus the git metadata."""
    patterns = [".git"]
    for line in (REPO / ".gitignore").read_text(encoding="utf8").splitlines():
        line = line.strip()
        if line.endswith("/") and not line.startswith("#"):
            patterns.append(line.rstrip("/"))
    return patterns


def repo_notebooks() -> list[Path]:
    """Every .ipynb of the repository outside git-ignored directories."""
    ignored = _ignored_dirs()

    def kept(rel: Path) -> bool:
        return not any(fnmatch.fnmatch(rel.name, p) or fnmatch.fnmatch(rel.as_posix(), p) for p in ignored)

    found = []
    for folder, dirs, files in os.walk(REPO):
        rel = Path(folder).relative_to(REPO)
        dirs[:] = [d for d in dirs if kept(rel / d)]
        found += [Path(folder) / name for name in files if name.endswith(".ipynb")]
    return sorted(found)


def test_no_notebook_in_the_repository_stores_outputs():
    stored = []
    for path in repo_notebooks():
        notebook = json.loads(path.read_text(encoding="utf8"))
        for index, cell in enumerate(notebook.get("cells", [])):
            executed = cell.get("outputs") or cell.get("execution_count") is not None
            if cell.get("cell_type") == "code" and executed:
                stored.append(f"{path.relative_to(REPO)} cell {index}")
    assert not stored, "notebooks with stored outputs (run nbstripout): " + ", ".join(stored)
