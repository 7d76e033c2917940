"""Course-specific build rules shared by both languages of the book.

* Execution cache keyed by the code the pages run: ``nb_execution_cache_path`` becomes
  ``<cache>/<hash>/<lang>``, where <hash> covers every file of the ``lossfns`` package
  (code and corpus), the pinned requirements and book/matplotlibrc. A change there gives a
  new, empty cache and (the path is an "env" config value) makes Sphinx re-read and
  re-execute every page, so the site never shows outputs computed by an older ``lossfns``.
* Executed notebooks and their images go to ``<doctreedir>/jupyter_execute`` (myst-nb
  would put them next to the output dir, shared by the es and en builds running in parallel).
* Kernels inherit ``KERAS_BACKEND=torch`` and the figures' style (book/matplotlibrc)
  however the build is started.
* ``{exercise}`label``` links a chapter page to its released notebook in the page's language,
  looked up in the chapter registry (coursework/chapters.py); the file must exist at build
  time (else a warning, an error under -W). The site assembler (scripts/build_book.py)
  copies ``exercises/`` to ``<site>/exercises/``.
* ``bibtex_bibfiles`` are per language: resolved against book/<lang>/, not the conf dir.
* Bibliography and citation styles whose joining words are in the page's language.
* Framework tabs: consecutive code cells tagged ``tab-pytorch`` / ``tab-keras`` become one
  sphinx-design tab-set ("PyTorch" | "Keras", synced across the page and the site). myst-nb
  cannot nest code cells in a ``{tab-set}`` directive, so the cells are regrouped in the
  doctree right after reading (the pickled doctree, hence a warm rebuild, keeps the tabs);
  sphinx-design's own HTML post-transform then renders them like any ``{tab-set}``.
"""

import dataclasses
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from docutils import nodes
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, names, optional, sentence, words
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from sphinx_design.shared import create_component
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the chapter registry, also when lossfns and coursework are not installed
from coursework.chapters import by_page

logger = logging.getLogger(__name__)
# Inputs whose change must invalidate every executed output.
CACHE_KEY_FILES = ("requirements.txt", "constraints.txt", "pyproject.toml", "book/matplotlibrc")
CACHE_KEY_TREES = ("lossfns",)
AND = {"es": "y", "en": "and"}
EDITION = {"es": "edición", "en": "edition"}
# Cell tag -> tab label (the same in both languages).
FRAMEWORK_TABS = {"tab-pytorch": "PyTorch", "tab-keras": "Keras"}
FRAMEWORK_SYNC_GROUP = "framework"  # choosing Keras in one tab-set selects it in every other


def tree_hash(files, trees, repo: Path = REPO) -> str:
    """Short hash of the names and contents of the given files and directory trees."""
    digest = hashlib.sha256()
    paths = [repo / name for name in files]
    for tree in trees:
        paths += [p for p in (repo / tree).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def code_hash(repo: Path = REPO) -> str:
    """Hash of every file the executed pages depend on (package code, corpus, pins)."""
    return tree_hash(CACHE_KEY_FILES, CACHE_KEY_TREES, repo)


def _configure(app: Sphinx, config: Config) -> None:
    lang = config.language
    base = Path(config.nb_execution_cache_path or "_build/.jupyter_cache")
    base = base if base.is_absolute() else REPO / base
    key = code_hash()
    config.nb_execution_cache_path = str(base / key / lang)
    # An "env" value: when the extensions or the registry change, Sphinx re-reads (not re-executes)
    # every page.
    config.course_extensions_key = tree_hash(["coursework/chapters.py"], ["book/_ext"])
    _prune_stale_caches(base, key, lang)
    # Each language has its own bibliography under the same name (book/<lang>/references.bib);
    # sphinxcontrib-bibtex would look next to conf.py.
    bibfiles = [Path(app.srcdir, name) for name in config.bibtex_bibfiles]
    for bib in bibfiles:
        if not bib.is_file():
            raise FileNotFoundError(f"expected the bibliography {bib} (bibtex_bibfiles), got no such file")
    config.bibtex_bibfiles = [str(bib) for bib in bibfiles]
    _register_bib_styles(lang)


def _prune_stale_caches(base: Path, key: str, lang: str) -> None:
    """Delete this language's caches for older versions of the code (they can never hit again)."""
    if not base.is_dir():
        return
    for old in base.iterdir():
        if old.name != key and re.fullmatch(r"[0-9a-f]{16}", old.name) and (old / lang).is_dir():
            shutil.rmtree(old / lang, ignore_errors=True)
            try:
                old.rmdir()  # only once the other language has pruned its copy too
            except OSError:
                pass


def _register_bib_styles(lang: str) -> None:
    word = AND.get(lang, "and")
    last_sep = f" {word} " if lang == "es" else f", {word} "  # no serial comma in Spanish

    class CourseStyle(UnsrtStyle):
        # Labels such as [GBC16] are the same on every page (numbers would restart per chapter).
        default_label_style = "alpha"

        def format_names(self, role, as_sentence=True):
            formatted = names(role, sep=", ", sep2=f" {word} ", last_sep=last_sep)
            return sentence[formatted] if as_sentence else formatted

        def format_edition(self, e):
            edition = field("edition", apply_func=lambda x: x.lower())
            return optional[words[edition, EDITION.get(lang, "edition")]]

    def make_person():
        return PersonStyle(sep2=f" {word} ", last_sep=last_sep)

    def parentheses():
        return BracketStyle(left="(", right=")")

    @dataclasses.dataclass
    class CourseReferenceStyle(AuthorYearReferenceStyle):  # {cite:t} Cover y Thomas (2006)
        person: PersonStyle = dataclasses.field(default_factory=make_person)
        bracket_textual: BracketStyle = dataclasses.field(default_factory=parentheses)
        bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=parentheses)

    pybtex.plugin.register_plugin("pybtex.style.formatting", "course", CourseStyle, force=True)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", "course", CourseReferenceStyle, force=True)


def _private_output_folder(app: Sphinx) -> None:
    # Runs after myst-nb's own builder-inited handler, which set output_folder to <outdir>/..
    folder = Path(app.doctreedir) / "jupyter_execute"
    app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder.resolve()))


class exercise_link(nodes.reference):
    """A download link to a released exercise notebook."""


def _visit_exercise_html(self, node: exercise_link) -> None:
    self.body.append(self.starttag(node, "a", "", href=node["refuri"], download="",
                                   CLASS="reference download exercise-link"))


def _depart_exercise_html(self, node: exercise_link) -> None:
    self.body.append("</a>")


class ExerciseRole(SphinxRole):
    """``{exercise}`label``` -> a download link to this chapter's released notebook in this page's
    language, found in the chapter registry (coursework/chapters.py) from the page's name."""

    def run(self):
        chapter = by_page(Path(self.env.docname).name)
        if chapter is None:
            return self._warn(f"expected a chapter page of the registry (coursework/chapters.py), "
                              f"got {self.env.docname!r}")
        target = chapter.exercise(self.config.language)
        if not target.is_file():
            return self._warn(f"expected the released notebook {target}, got no such file (make release)")
        self.env.note_dependency(str(target))
        exercises = REPO / "exercises"
        root = "../" * (self.env.docname.count("/") + 1)
        relative = target.relative_to(exercises).as_posix()
        node = exercise_link(self.rawtext, refuri=f"{root}exercises/{relative}")
        node += nodes.literal(self.text, self.text) if self.text.endswith(".ipynb") else nodes.Text(self.text)
        return [node], []

    def _warn(self, message: str):
        msg = self.inliner.reporter.warning(f"exercise link: {message}", line=self.lineno)
        return [nodes.problematic(self.rawtext, self.rawtext)], [msg]


def _framework_tags(node: nodes.Node) -> list[str]:
    """The ``tab-*`` tags of a myst-nb code cell container ([] for any other node)."""
    if not (isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"):
        return []
    return [tag for tag in node.get("cell_metadata", {}).get("tags", []) if tag in FRAMEWORK_TABS]


def _framework_tag(node: nodes.Node) -> str | None:
    tags = _framework_tags(node)
    return tags[0] if tags else None


def _framework_runs(parent: nodes.Element) -> list[list[nodes.container]]:
    """Runs of adjacent tagged cells of ``parent``; a repeated tag starts a new run."""
    runs, run = [], []
    for child in parent.children:
        tag = _framework_tag(child)
        if tag is None or tag in {_framework_tag(cell) for cell in run}:
            if run:
                runs.append(run)
            run = [] if tag is None else [child]
        else:
            run.append(child)
    if run:
        runs.append(run)
    return runs


def _framework_tab_set(cells: list[nodes.container]) -> nodes.container:
    """The nodes sphinx-design's ``{tab-set}`` / ``{tab-item}`` directives create, around the cells."""
    tab_set = create_component("tab-set", classes=["sd-tab-set", "framework-tabs"])
    tab_set.source, tab_set.line = cells[0].source, cells[0].line
    for cell in cells:
        tag = _framework_tag(cell)
        label = nodes.rubric(FRAMEWORK_TABS[tag], nodes.Text(FRAMEWORK_TABS[tag]), classes=["sd-tab-label"],
                             sync_group=FRAMEWORK_SYNC_GROUP, sync_id=tag.removeprefix("tab-"))
        content = create_component("tab-content", classes=["sd-tab-content"], children=[cell])
        tab_set += create_component("tab-item", classes=["sd-tab-item"], children=[label, content])
    return tab_set


def _group_framework_tabs(app: Sphinx, doctree: nodes.document) -> None:
    """Wrap each run of adjacent ``tab-pytorch`` / ``tab-keras`` cells in one tab-set."""
    cells = list(doctree.findall(_framework_tag))
    for cell in cells:
        if len(_framework_tags(cell)) > 1:
            logger.warning(f"framework tabs: expected one of {', '.join(FRAMEWORK_TABS)} per cell, "
                           f"got {', '.join(_framework_tags(cell))}", location=cell, type="course",
                           subtype="tabs")
    parents = {id(cell.parent): cell.parent for cell in cells}
    for parent in parents.values():
        for run in _framework_runs(parent):
            if len(run) == 1:
                tag = _framework_tag(run[0])
                other = " / ".join(t for t in FRAMEWORK_TABS if t != tag)
                logger.warning(f"framework tabs: expected a cell tagged {tag} to be followed or preceded "
                               f"by a cell tagged {other} (together they become one tab-set), got it alone",
                               location=run[0], type="course", subtype="tabs")
            index = parent.index(run[0])
            for cell in run:
                parent.remove(cell)
            parent.insert(index, _framework_tab_set(run))


def setup(app: Sphinx) -> dict:
    # Kernels inherit the builder's environment, however the build was started.
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MATPLOTLIBRC", str(REPO / "book" / "matplotlibrc"))
    app.add_config_value("course_extensions_key", "", "env", str)
    app.connect("config-inited", _configure, priority=800)
    app.connect("builder-inited", _private_output_folder, priority=900)
    app.add_node(exercise_link, html=(_visit_exercise_html, _depart_exercise_html))
    app.add_role("exercise", ExerciseRole())
    app.connect("doctree-read", _group_framework_tabs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
