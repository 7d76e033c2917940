"""Formulas in nbgrader's pages without a CDN: the same MathJax 3 the book ships.

nbconvert's templates load MathJax 2 from cdnjs, so offline the feedback pages and
formgrader's manual-grading view show LaTeX source. ``jupyter/`` here holds a
replacement for nbconvert's ``mathjax`` macro; putting it first on ``JUPYTER_PATH``
(``nbgrader_config.py`` does, for every nbgrader command run from the course root)
makes every nbgrader page load MathJax from the course instead:

- a feedback page gets the relative path of ``feedback/_static/mathjax`` (copied once
  from the book's package, sphinx-mathjax-offline), so it renders opened as a file;
- a formgrader page loads ``<base_url>/static/mathjax``, which ``make formgrader``
  serves with Jupyter's ``extra_static_paths``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "jupyter"
PLACEHOLDER = "course-mathjax:tex-chtml.js"
STATIC = "_static"
# What tex-chtml.js loads at run time: the fonts, TeX extensions on demand, the context menu.
NEEDED = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "sre")


def mathjax_source() -> Path:
    """The MathJax 3 folder of sphinx-mathjax-offline (the package the book uses)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("expected the package sphinx-mathjax-offline (requirements.txt), got none")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def static_folder() -> Path:
    """The folder to serve as Jupyter's extra static path: it holds ``mathjax/``."""
    return mathjax_source().parent


def use_course_templates(environ=os.environ) -> None:
    """Put the course's mathjax macro first on JUPYTER_PATH (where nbconvert looks for templates)."""
    paths = [p for p in environ.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != str(TEMPLATES)]
    environ["JUPYTER_PATH"] = os.pathsep.join([str(TEMPLATES), *paths])


def install(root: Path) -> Path:
    """Copy MathJax into ``root/_static/mathjax`` unless it is there; return that folder."""
    target = root / STATIC / "mathjax"
    if not (target / "tex-chtml.js").is_file():
        source = mathjax_source()
        for name in NEEDED:
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target / name)
    return target


def localize(page: Path, root: Path) -> None:
    """Point a feedback page under ``root`` at ``root/_static/mathjax`` (relative, so it works as a file)."""
    text = page.read_text(encoding="utf-8")
    if PLACEHOLDER not in text:
        raise ValueError(f"expected {page} to load MathJax through the course's template "
                         f"({PLACEHOLDER}), got none: is JUPYTER_PATH set by nbgrader_config.py?")
    script = Path(os.path.relpath(install(root) / "tex-chtml.js", page.parent)).as_posix()
    page.write_text(text.replace(PLACEHOLDER, script), encoding="utf-8")
