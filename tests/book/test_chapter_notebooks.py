"""Every chapter page offers itself as an executable notebook (book/_ext/chapter_notebook.py).

Unit tests of the MyST -> Jupyter conversion on a small page (no build), then the
notebooks of the session's build: valid, without outputs, nothing MyST-only left, the same
numbers as the HTML page, linked from the page, and one of them run top to bottom.
"""

import html
import re
import tempfile

import nbformat
import pytest
from booksite import CHAPTERS, LANGUAGES, equations, figures, html_of, numbered_references, parse, resolve
from chapter_notebook import GLUE_IMPORT, Converter, local_glue, to_notebook
from myst_nb.core.read import read_myst_markdown_notebook
from nbclient import NotebookClient

from coursework.chapters import grading

pytestmark = pytest.mark.timeout(900)  # the site fixture may build the book first
# MyST-only syntax that Jupyter would show raw: a role (not inside inline code), a directive
# fence, a target, a labelled $$.
MYST_LEFTOVERS = re.compile(r"(?P<code>(`+).+?\2)|\{[\w:.+-]+\}`|^\s*(?:`{3,}|:{3,})\{|^\s*\([^()\s]+\)=\s*$"
                            r"|^[ \t]*\$\$[ \t]*\(", re.MULTILINE)
RUN_PAGE = ("es", grading("one_hot")[0].page)  # the notebook the suite runs (one language, a small chapter)
SAMPLE = CHAPTERS[1]  # the chapter the sample page below pretends to be


class FakeBook:
    """Stands in for Sphinx: records what the converter asks and answers in a recognisable way."""

    language = "es"

    def __init__(self):
        self.warnings = []

    def xref(self, domain, kind, target, title):
        return title if title else f"<{domain}:{kind}:{target}>"

    def equation_number(self, label):
        return {"eq-a": "2.1", "eq-b": "2.2"}[label]

    def figure_number(self, name):
        return {"fig-a": "Figura 2.1"}[name]

    def glue(self, key, kind, fmt):
        return format(0.25, fmt) if fmt else "**bold**"

    def bibliography(self):
        return ["[CT06] Cover y Thomas. *Elements of Information Theory*."]

    def warn(self, message):
        self.warnings.append(message)


PAGE = '''---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

(ch02)=
# Entropía

Ver {ref}`ch01`, {ref}`el capítulo 1 <ch01>` y {numref}`fig-a`; la {eq}`eq-a` según
{cite:t}`cover2006`. Vale {glue:text}`h:.2f` nats; en código, `{ref}` se queda igual.

$$
H(p) = -\\sum_k p_k \\log p_k
$$ (eq-a)

```{code-cell} ipython3
import torch
from myst_nb import glue

glue("h", 0.25, display=False)
```

```{code-cell} ipython3
---
tags: [hide-input]
mystnb:
  figure:
    caption: "Curva de {eq}`eq-b`."
    name: fig-a
---
print(1)
```

:::{admonition} Errores comunes
:class: warning pitfalls
- **Uno.** Mal: $x$.

$$
y = 1
$$ (eq-b)
:::

```{bibliography}
:filter: docname in docnames
```

''' + f"Cuaderno: {{exercise}}`{SAMPLE.notebook('es')}`; página: {{notebook}}`{SAMPLE.page}.ipynb`.\n"


@pytest.fixture(scope="module")
def converted():
    book = FakeBook()
    notebook = to_notebook(PAGE, book, SAMPLE)
    return notebook, book


def myst_leftover(text: str) -> str | None:
    """The first piece of MyST-only syntax in ``text``, or None."""
    return next((m.group(0) for m in MYST_LEFTOVERS.finditer(text) if not m.group("code")), None)


def markdown_of(notebook) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_conversion_resolves_roles_to_the_books_texts(converted):
    notebook, book = converted
    text = markdown_of(notebook)
    assert "Ver <std:ref:ch01>, el capítulo 1 y <std:numref:fig-a>; la <math:eq:eq-a> según" in text
    assert "<cite:t:cover2006>. Vale 0.25 nats; en código, `{ref}` se queda igual." in text
    assert f"Cuaderno: `{SAMPLE.notebook('es')}`; página: `{SAMPLE.page}.ipynb`." in text
    assert book.warnings == []


def test_conversion_numbers_labelled_equations_with_the_books_numbers(converted):
    text = markdown_of(converted[0])
    assert "$$\nH(p) = -\\sum_k p_k \\log p_k\n\\tag{2.1}\n$$" in text
    assert "> $$\n> y = 1\n> \\tag{2.2}\n> $$" in text  # inside the admonition's block quote


def test_conversion_turns_directives_into_markdown(converted):
    notebook, _ = converted
    text = markdown_of(notebook)
    assert "> **Errores comunes**\n>\n> - **Uno.** Mal: $x$." in text
    assert "- [CT06] Cover y Thomas. *Elements of Information Theory*." in text
    assert notebook.cells[0].source == "# 2. Entropía"  # the chapter's number, target dropped
    assert myst_leftover(text) is None, myst_leftover(text)
    assert myst_leftover("a {ref}`x` b") == "{ref}`"  # the detector itself


def test_conversion_keeps_code_cells_without_outputs_and_captions_figures(converted):
    notebook, _ = converted
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.source.splitlines()[-1] for cell in code] == ['glue("h", 0.25, display=False)', "print(1)"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert code[1].metadata == {"tags": ["hide-input"]}  # the book's own options (mystnb) are dropped
    after_figure = notebook.cells[notebook.cells.index(code[1]) + 1]
    assert after_figure.source == "**Figura 2.1.** Curva de <math:eq:eq-b>."
    assert notebook.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}
    nbformat.validate(notebook)


def test_glue_import_becomes_a_local_function_that_shows_the_value_only_when_asked(converted, monkeypatch):
    import IPython.display

    code = next(cell.source for cell in converted[0].cells if cell.cell_type == "code")
    assert GLUE_IMPORT not in code and "import myst_nb" not in code
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    namespace = {}
    exec(code.replace("import torch\n", ""), namespace)  # noqa: S102 - the converted cell, minus torch
    assert shown == []  # glue("h", 0.25, display=False) in the cell
    namespace["glue"]("y", 2.5)
    assert shown == [2.5]


def test_unknown_roles_and_directives_are_build_warnings():
    book = FakeBook()
    convert = Converter(book)
    assert convert.markdown("Un {kbd}`Ctrl` y {foo}`bar`.") == "Un `Ctrl` y bar."
    convert.markdown("```{tab-set}\ncontenido\n```")
    assert len(book.warnings) == 2
    assert "{foo}" in book.warnings[0] and "{tab-set}" in book.warnings[1]


# --- the notebooks of the built site -----------------------------------------------------------


def notebook_file(site, lang, page):
    return site / lang / "_sources" / f"{page}.ipynb"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_notebook_is_valid_and_without_outputs(site, lang):
    for entry in CHAPTERS:
        path = notebook_file(site, lang, entry.page)
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3", path.name
        assert notebook.metadata.lossfns == {"chapter": entry.id, "language": lang, "page": entry.page}
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        leftover = myst_leftover(markdown_of(notebook))
        assert leftover is None, f"{path.name}: MyST left in the notebook: {leftover!r}"
        # the page's code cells, in order (only the glue import is rewritten)
        page = read_myst_markdown_notebook(entry.page_path(lang).read_text(encoding="utf8"))
        expected = [cell.source for cell in page.cells if cell.cell_type == "code"]
        got = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        assert len(got) == len(expected), path.name
        assert got == [source.replace(GLUE_IMPORT, local_glue(lang)) for source in expected], path.name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_notebooks_show_the_numbers_of_the_html_page(site, lang):
    """Equation tags, figure numbers, {numref} texts and glued values: as the HTML page shows them."""
    for entry in CHAPTERS:
        page = site / lang / f"{entry.page}.html"
        text = markdown_of(nbformat.read(notebook_file(site, lang, entry.page), as_version=4))
        tags = [f"({tag})" for tag in re.findall(r"\\tag\{([^}]*)\}", text)]
        assert tags == list(equations(page).values()), entry.page
        captions = re.findall(r"^\*\*(\S+ \d+\.\d+)\.\*\* ", text, re.MULTILINE)
        assert captions == list(figures(page).values()), entry.page
        for _, _, number in numbered_references(page):
            assert number in text, f"{entry.page}: {number} missing from the notebook"
        position = 0
        for pasted in re.findall(r'<span class="pasted-text">([^<]*)</span>', html_of(page)):
            position = text.find(html.unescape(pasted), position)
            assert position >= 0, f"{entry.page}: glued value {pasted!r} missing or out of order"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_links_its_notebook_next_to_its_exercise_notebook(site, lang):
    heading = {"es": "Ejercicios", "en": "Exercises"}[lang]
    for entry in CHAPTERS:
        page = site / lang / f"{entry.page}.html"
        soup = parse(page)
        links = soup.select("a.notebook-link")
        assert len(links) == 1, f"{page.name}: expected one chapter-notebook link, got {len(links)}"
        section = links[0].find_parent("section")
        assert section.find(["h2"]).get_text(strip=True).rstrip("#") == heading, page.name
        exercise = section.select("a.exercise-link")
        assert [a.get_text() for a in exercise] == [entry.notebook(lang)], page.name
        assert links[0].get_text() == f"{entry.page}.ipynb" and links[0].has_attr("download")
        target = resolve(page, links[0]["href"])
        assert target == notebook_file(site, lang, entry.page).resolve()
        assert nbformat.read(target, as_version=4).metadata.lossfns.language == lang
        # and in the header's download menu, next to the page source
        menu = [a["href"] for a in soup.select(".dropdown-download-buttons a")]
        assert links[0]["href"] in menu, f"{page.name}: download menu {menu}"


def test_default_notebooks_have_no_install_cell(site):
    for lang in LANGUAGES:
        for entry in CHAPTERS:
            notebook = nbformat.read(notebook_file(site, lang, entry.page), as_version=4)
            assert not any("%pip" in cell.source for cell in notebook.cells), entry.page


def test_a_chapter_notebook_runs_top_to_bottom_in_a_kernel(site):
    lang, page = RUN_PAGE
    notebook = nbformat.read(notebook_file(site, lang, page), as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    with tempfile.TemporaryDirectory() as folder:  # as a student would: not from the repository
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": folder}}).execute()  # raises on the first error
    assert all(cell.execution_count is not None for cell in code)
    figures = [cell for cell in code if any("image/png" in out.get("data", {}) for out in cell.outputs)]
    page_figures = [c for c in read_myst_markdown_notebook(chapter_page_text(lang, page)).cells
                    if "figure" in c.metadata.get("mystnb", {})]
    assert len(figures) >= len(page_figures) > 0


def chapter_page_text(lang, page):
    entry = next(entry for entry in CHAPTERS if entry.page == page)
    return entry.page_path(lang).read_text(encoding="utf8")
