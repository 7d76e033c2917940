"""Start Jupyter for manual grading (nbgrader's formgrader), with formulas rendered offline.

``make formgrader`` runs this from the course root: JupyterLab, whose *Nbgrader →
Formgrader* view shows each written answer next to its rubric. The course's MathJax
is served as Jupyter's ``/static/mathjax`` (see ``offline_math``), and
``nbgrader_config.py`` makes formgrader's pages load it from there.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .offline_math import static_folder, use_course_templates


def jupyter_command(app: str = "lab", *options: str) -> list[str]:
    """The command line of Jupyter ``app`` ('lab' or 'server') serving the course's MathJax."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    return [jupyter, app, f"--ServerApp.extra_static_paths={[str(static_folder())]!r}", *options]


def run(course_root: Path, *options: str) -> None:
    """Replace this process by JupyterLab in ``course_root`` (never returns)."""
    use_course_templates()
    os.chdir(course_root)
    command = jupyter_command("lab", *options)
    os.execv(command[0], command)
