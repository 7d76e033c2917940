"""Every chapter page as an executable Jupyter notebook, generated at build time.

The chapter pages are MyST Markdown notebooks. For each chapter of the registry
(coursework/chapters.py) the build writes ``<site>/<lang>/_sources/<page>.ipynb``: the page's
own cells, read with myst-nb's reader, **without outputs** (the student runs it; the book
already shows the outputs, and stored ones would be stale the day ``lossfns`` changes), with
the page's kernelspec, and with the MyST-only syntax that Jupyter cannot render turned into
plain Markdown:

* ``{ref}``, ``{numref}``, ``{eq}``, ``{doc}``, ``{cite:*}`` -> the text the HTML page shows
  ("Figura 2.1", "(2.3)", "Cover y Thomas (2006)", the section title), resolved by Sphinx;
* ``{glue:text}`` / ``{glue:md}`` -> the value the build computed (the student's run prints
  the same number); ``{exercise}`` / ``{notebook}`` -> the file name;
* labelled equations ``$$ ... $$ (label)`` -> ``$$ ... \\tag{2.3} $$``, the book's number;
* admonitions -> a block quote with the title in bold; ``{math}`` -> ``$$``; ``{bibliography}``
  -> the list of the page's references; ``(label)=`` targets are dropped;
* a figure's caption -> a Markdown cell "**Figura 2.1.** caption" after the cell that draws it;
* ``from myst_nb import glue`` -> a three-line local ``glue`` that only displays the value, so
  the notebook runs where myst-nb is not installed (and skips its slow import).

Any other directive or role is a build warning (an error under -W): nothing MyST-only reaches
the notebook silently. The page links the file with ``{notebook}`label```, and the theme's
download menu offers it (``.ipynb``). Launch buttons (launch_buttons.py) may add a first cell
that installs the course package.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import nbformat
from docutils import nodes
from docutils.nodes import make_id
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the chapter registry
from coursework.chapters import Chapter, by_page

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "_sources"  # next to the page sources; the theme's ".ipynb" download points here
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
ADMONITIONS = {  # directive -> title when it has no argument, by language
    "note": {"es": "Nota", "en": "Note"}, "tip": {"es": "Sugerencia", "en": "Tip"},
    "hint": {"es": "Pista", "en": "Hint"}, "important": {"es": "Importante", "en": "Important"},
    "warning": {"es": "Advertencia", "en": "Warning"}, "caution": {"es": "Precaución", "en": "Caution"},
    "attention": {"es": "Atención", "en": "Attention"}, "danger": {"es": "Peligro", "en": "Danger"},
    "error": {"es": "Error", "en": "Error"}, "seealso": {"es": "Ver también", "en": "See also"},
    "admonition": {"es": "", "en": ""}, "dropdown": {"es": "", "en": ""},
}
TEXT = {
    "es": {"intro": "*Este cuaderno es el capítulo {number} del libro, generado a partir de su página. "
                    "Ejecuta las celdas en orden, de arriba abajo: las salidas y las figuras aparecen al "
                    "ejecutarlas.*",
           "glue": "en el libro pasa el valor al texto; aquí solo lo muestra"},
    "en": {"intro": "*This notebook is chapter {number} of the book, generated from its page. Run the "
                    "cells in order, top to bottom: the outputs and figures appear as you run them.*",
           "glue": "in the book it hands the value to the text; here it only shows it"},
}
GLUE_IMPORT = "from myst_nb import glue"

TARGET = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:.+-]+)\}\s*(?P<argument>.*)$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
LABELLED_EQUATION = re.compile(r"^(?P<indent>\s*)\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
# A role, or inline code (left alone, so that `{ref}` written as code stays code).
ROLE_OR_CODE = re.compile(r"\{(?P<name>[\w:.+-]+)\}`(?P<content>[^`]*)`|(?P<code>(?P<ticks>`+).+?(?P=ticks))",
                          re.DOTALL)
EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


class Resolver(Protocol):
    """What the conversion asks of the book: the texts the HTML page shows."""

    language: str

    def xref(self, domain: str, kind: str, target: str, title: str | None) -> str: ...
    def equation_number(self, label: str) -> str: ...
    def figure_number(self, name: str) -> str: ...
    def glue(self, key: str, kind: str, fmt: str | None) -> str: ...
    def bibliography(self) -> list[str]: ...
    def warn(self, message: str) -> None: ...


@dataclass
class Converter:
    """MyST Markdown (a page of the book) -> Jupyter Markdown, one cell at a time."""

    resolver: Resolver
    roles: dict[str, Callable[[str], str]] = field(init=False, repr=False)  # role name -> its plain form

    def __post_init__(self):
        xref = self._xref
        self.roles = {
            "ref": lambda c: xref("std", "ref", c), "numref": lambda c: xref("std", "numref", c),
            "doc": lambda c: xref("std", "doc", c), "term": lambda c: xref("std", "term", c),
            "eq": lambda c: xref("math", "eq", c),
            "math": lambda c: f"${c}$",
            "exercise": _code_or_text, "notebook": _code_or_text, "download": lambda c: _explicit(c)[0],
            "code": lambda c: f"`{c}`", "kbd": lambda c: f"`{c}`", "abbr": lambda c: _explicit(c)[0],
            "sub": lambda c: f"<sub>{c}</sub>", "sup": lambda c: f"<sup>{c}</sup>",
        }

    def _xref(self, domain: str, kind: str, content: str) -> str:
        title, target = _explicit(content)
        return self.resolver.xref(domain, kind, target, title if title != target else None)

    # --- inline ------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        """Replace every role of ``text`` (not those shown as inline code) by plain Markdown."""
        def replace(match: re.Match) -> str:
            if match.group("code"):
                return match.group("code")
            return self._role(match.group("name"), match.group("content"))

        return ROLE_OR_CODE.sub(replace, text)

    def _role(self, name: str, content: str) -> str:
        if name.startswith("cite"):
            kind = name.partition(":")[2] or "p"
            return self.resolver.xref("cite", kind, content, None)
        if name.startswith("glue"):
            kind = name.partition(":")[2] or "any"
            key, _, fmt = content.partition(":") if kind == "text" else (content, "", "")
            return self.resolver.glue(key, kind, fmt or None)
        if name in self.roles:
            return self.roles[name](content)
        self.resolver.warn(f"chapter notebook: no plain-Markdown form for the role {{{name}}}, "
                           f"expected one of {', '.join(sorted(self.roles))}, cite:*, glue:*")
        return content

    # --- blocks ------------------------------------------------------------------------

    def markdown(self, source: str) -> str:
        """A Markdown cell of the page -> Markdown that Jupyter renders."""
        return "\n".join(self._blocks(source.split("\n"))).strip("\n")

    def _blocks(self, lines: list[str]) -> list[str]:
        out, text, i = [], [], 0  # text: a run of ordinary lines (a role may span two of them)

        def flush():
            out.extend(self.inline("\n".join(text)).split("\n") if text else [])
            text.clear()

        while i < len(lines):
            line = lines[i]
            fence = FENCE.match(line)
            math_end = None  # a display equation opened by a line "$$" or "$$ x" (not "$$ x $$")
            if line.strip() == "$$" or (line.strip().startswith("$$") and not line.strip().endswith("$$")):
                closing = (j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("$$"))
                math_end = next(closing, None)
            if fence:
                flush()
                end = _closing(lines, i, fence.group("fence"))
                directive = DIRECTIVE.match(fence.group("info").strip())
                if directive:
                    out += self._directive(directive.group("name"), directive.group("argument"),
                                           lines[i + 1:end])
                else:  # an ordinary code block: verbatim
                    out += lines[i:end + 1]
                i = end + 1
            elif TARGET.match(line):
                i += 1
            elif math_end is not None:
                flush()
                out += self._display_math(lines[i:math_end + 1])
                i = math_end + 1
            else:
                text.append(line)
                i += 1
        flush()
        return out

    def _display_math(self, lines: list[str]) -> list[str]:
        labelled = LABELLED_EQUATION.match(lines[-1])
        if not labelled:
            return lines
        number = self.resolver.equation_number(labelled.group("label"))
        return [*lines[:-1], f"{labelled.group('indent')}\\tag{{{number}}}", f"{labelled.group('indent')}$$"]

    def _directive(self, name: str, argument: str, body: list[str]) -> list[str]:
        options, body = _options(body)
        lang = self.resolver.language
        if name in ADMONITIONS:
            title = self.inline(argument.strip()) or ADMONITIONS[name][lang]
            inner = self._blocks(body)
            while inner and not inner[0].strip():
                inner.pop(0)
            quoted = [f"> {line}" if line.strip() else ">" for line in inner]
            return ["", *([f"> **{title}**", ">"] if title else []), *quoted, ""]
        if name == "math":
            label = options.get("label")
            tag = [f"\\tag{{{self.resolver.equation_number(label)}}}"] if label else []
            return ["$$", *body, *tag, "$$"]
        if name == "bibliography":
            return [f"- {entry}" for entry in self.resolver.bibliography()]
        if name in ("code-block", "code", "sourcecode"):
            return [f"```{argument.strip()}", *body, "```"]
        self.resolver.warn(f"chapter notebook: no plain-Markdown form for the directive {{{name}}}")
        return self._blocks(body)

    # --- cells -------------------------------------------------------------------------

    def code(self, source: str) -> str:
        """A code cell as on the page, except ``from myst_nb import glue`` (see ``local_glue``)."""
        lines = source.split("\n")
        if GLUE_IMPORT not in lines:
            return source
        glue = local_glue(self.resolver.language)
        return "\n".join(glue if line == GLUE_IMPORT else line for line in lines)

    def caption(self, metadata: dict) -> str | None:
        """The Markdown cell that follows a figure cell: "**Figura 2.1.** caption"."""
        figure = metadata.get("mystnb", {}).get("figure", {})
        if not figure.get("caption"):
            return None
        number = self.resolver.figure_number(figure["name"]) if figure.get("name") else ""
        caption = self.inline(figure["caption"])
        return f"**{number}.** {caption}" if number else f"*{caption}*"


def to_notebook(text: str, resolver: Resolver, chapter: Chapter, first_cells: list | None = None):
    """The MyST Markdown notebook ``text`` (a chapter page) -> an nbformat v4 notebook, no outputs.

    ``first_cells`` go right after the title and the note on where the notebook comes from.
    """
    from myst_nb.core.read import read_myst_markdown_notebook

    source = read_myst_markdown_notebook(text)
    convert = Converter(resolver)
    lang = resolver.language
    cells = []
    for cell in source.cells:
        if cell.cell_type == "markdown":
            markdown = convert.markdown(cell.source)
            if markdown.strip():
                cells.append(nbformat.v4.new_markdown_cell(markdown))
        elif cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            cells.append(nbformat.v4.new_code_cell(convert.code(cell.source),
                                                   metadata={"tags": tags} if tags else {}))
            caption = convert.caption(cell.metadata)
            if caption:
                cells.append(nbformat.v4.new_markdown_cell(caption))
        else:
            cells.append(nbformat.v4.new_raw_cell(cell.source))
    # The title with the chapter's number, as the book shows it ("# 2. Entropía..."), then the note.
    title = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                  and re.search(r"^# ", c.source, re.MULTILINE)), None)
    if title is not None:
        source_text = re.sub(r"^# (?!\d+\. )", f"# {chapter.number}. ", cells[title].source,
                             count=1, flags=re.MULTILINE)
        end = re.search(r"^# .*$", source_text, re.MULTILINE).end()
        heading, rest = source_text[:end], source_text[end:]
        cells[title].source = heading  # the page's opening text follows the note below
        if rest.strip():
            cells.insert(title + 1, nbformat.v4.new_markdown_cell(rest.strip("\n")))
    intro = nbformat.v4.new_markdown_cell(TEXT[lang]["intro"].format(number=chapter.number))
    after = 0 if title is None else title + 1
    cells[after:after] = [intro, *(first_cells or [])]
    kernelspec = {**KERNELSPEC, **source.metadata.get("kernelspec", {})}
    metadata = {"kernelspec": kernelspec, "language_info": {"name": kernelspec["language"]},
                "lossfns": {"chapter": chapter.id, "language": lang, "page": chapter.page}}
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    nbformat.validate(notebook)
    return notebook


def local_glue(language: str) -> str:
    """What replaces ``from myst_nb import glue``: in the book, glue hands a value to the text; here it
    only shows the value if asked, so the notebook neither needs myst-nb nor pays for importing it."""
    return (f"\ndef glue(name, variable, display=True):  # {TEXT[language]['glue']}\n"
            "    if display:\n"
            "        from IPython.display import display as show\n\n"
            "        show(variable)\n")


def _explicit(content: str) -> tuple[str, str]:
    """``"title <target>"`` -> (title, target); ``"target"`` -> (target, target)."""
    match = EXPLICIT.match(content.strip())
    if match and match.group("title"):
        return match.group("title"), match.group("target").strip()
    return content.strip(), content.strip()


def _code_or_text(content: str) -> str:
    title = _explicit(content)[0]
    return f"`{title}`" if title.endswith(".ipynb") else title


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes the fence opened at ``start`` (the last line if none)."""
    char, length = fence[0], len(fence)
    closing = re.compile(rf"^ {{0,3}}{re.escape(char)}{{{length},}}\s*$")
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    return len(lines) - 1


def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split a directive's ``:key: value`` lines (or ``---`` YAML block) from its content."""
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":
        end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), 0)
        for line in body[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        return options, body[end + 1:]
    i = 0
    while i < len(body) and OPTION.match(body[i]):
        match = OPTION.match(body[i])
        options[match.group("key")] = match.group("value")
        i += 1
    return options, body[i:]


# --- Sphinx ------------------------------------------------------------------------------


class SphinxResolver:
    """Resolves references as the HTML page does, once the environment knows every number."""

    def __init__(self, app: Sphinx, docname: str):
        self.app, self.env, self.docname = app, app.env, docname
        self.language = app.config.language
        self._glue = None

    def warn(self, message: str) -> None:
        logger.warning(message, location=self.docname, type="course", subtype="notebook")

    def xref(self, domain: str, kind: str, target: str, title: str | None) -> str:
        if domain == "std" and kind in ("ref", "term"):
            target = target.lower() if kind == "ref" else target
        text = title or target
        contnode = nodes.inline(text, text)
        node = addnodes.pending_xref("", contnode, refdomain=domain, reftype=kind, reftarget=target,
                                     refexplicit=title is not None, refdoc=self.docname, refwarn=True)
        node.source, node.line = self.env.doc2path(self.docname), 1
        resolved = self.env.get_domain(domain).resolve_xref(self.env, self.docname, self.app.builder,
                                                            kind, target, node, contnode)
        if resolved is None:
            self.warn(f"chapter notebook: could not resolve {{{domain}:{kind}}}`{target}`")
            return text
        return " ".join(resolved.astext().split())

    def equation_number(self, label: str) -> str:
        docname, number = self.env.get_domain("math").equations.get(label, (None, None))
        if docname is None:
            self.warn(f"chapter notebook: no equation labelled {label!r}")
            return label
        # As sphinx.domains.math does for {eq}: the number numfig gave the displayed equation.
        numbers = self.env.toc_fignumbers.get(docname, {}).get("displaymath", {}).get(
            make_id(f"equation-{label}"))
        return ".".join(map(str, numbers)) if numbers else str(number)

    def figure_number(self, name: str) -> str:
        numbers = self.env.toc_fignumbers.get(self.docname, {}).get("figure", {}).get(name)
        if not numbers:
            self.warn(f"chapter notebook: no numbered figure named {name!r}")
            return ""
        return self.app.config.numfig_format["figure"] % ".".join(map(str, numbers))

    def glue(self, key: str, kind: str, fmt: str | None) -> str:
        from myst_nb.core.variables import format_plain_text

        if self._glue is None:
            path = Path(self.env.mystnb_config.output_folder, *f"{self.docname}.glue.json".split("/"))
            self._glue = json.loads(path.read_text(encoding="utf8")) if path.is_file() else {}
        data = self._glue.get(key, {}).get("data", {})
        if kind == "md" and "text/markdown" in data:
            return data["text/markdown"]
        if "text/plain" not in data:
            self.warn(f"chapter notebook: no glued value {key!r} (text/plain) on this page")
            return key
        return format_plain_text(data["text/plain"], fmt or "")

    def bibliography(self) -> list[str]:
        import pybtex.plugin

        markdown = pybtex.plugin.find_plugin("pybtex.backends", "markdown")()
        entries = [citation.formatted_entry for citation in self.env.get_domain("cite").citations
                   if citation.bibliography_key.docname == self.docname]
        return [f"[{entry.label}] " + " ".join(entry.text.render(markdown).split()) for entry in entries]


def notebook_uri(docname: str) -> str:
    """URL of a page's notebook, relative to the page."""
    return "../" * docname.count("/") + f"{NOTEBOOK_DIR}/{docname}.ipynb"


def chapter_of(docname: str) -> Chapter | None:
    """The registry's chapter whose page is ``docname``, or None."""
    return by_page(Path(docname).name)


def _write_notebook(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """After Sphinx resolved the page (every number known): write its notebook."""
    chapter = chapter_of(docname)
    if chapter is None or app.builder.format != "html":
        return
    from launch_buttons import install_cells  # it imports this module

    resolver = SphinxResolver(app, docname)
    text = Path(app.env.doc2path(docname)).read_text(encoding="utf8")
    notebook = to_notebook(text, resolver, chapter, first_cells=install_cells(app.config, resolver.language))
    target = Path(app.outdir, NOTEBOOK_DIR, *f"{docname}.ipynb".split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(notebook) + "\n", encoding="utf8")


def _offer_in_download_menu(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # sphinx-book-theme adds ".ipynb" to the page's download menu when this is set (priority 501).
    if doctree is not None and chapter_of(pagename) is not None:
        context["ipynb_source"] = f"{pagename}.ipynb"


class notebook_link(nodes.reference):
    """A download link to the page's own notebook."""


def _visit_notebook_link(self, node: notebook_link) -> None:
    self.body.append(self.starttag(node, "a", "", href=node["refuri"], download="",
                                   CLASS="reference download notebook-link"))


def _depart_notebook_link(self, node: notebook_link) -> None:
    self.body.append("</a>")


class NotebookRole(SphinxRole):
    """``{notebook}`label``` -> a download link to this chapter page as a notebook."""

    def run(self):
        if chapter_of(self.env.docname) is None:
            msg = self.inliner.reporter.warning(
                f"notebook link: expected a chapter page of the registry (coursework/chapters.py), "
                f"got {self.env.docname!r}", line=self.lineno)
            return [nodes.problematic(self.rawtext, self.rawtext)], [msg]
        node = notebook_link(self.rawtext, refuri=notebook_uri(self.env.docname))
        node += nodes.literal(self.text, self.text) if self.text.endswith(".ipynb") else nodes.Text(self.text)
        return [node], []


def setup(app: Sphinx) -> dict:
    app.setup_extension("launch_buttons")
    app.add_node(notebook_link, html=(_visit_notebook_link, _depart_notebook_link))
    app.add_role("notebook", NotebookRole())
    app.connect("doctree-resolved", _write_notebook)
    app.connect("html-page-context", _offer_in_download_menu, priority=500)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
