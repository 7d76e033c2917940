"""The nbgrader step that grades in the sandbox instead of executing the notebook.

``nbgrader_config.py`` puts ``SandboxGrade`` where nbgrader's ``Execute``
was, so plain ``nbgrader autograde`` never runs student code in the
instructor's kernel. It grades the answer cells in the sandbox
(``grade.grade_notebook``) and writes each verdict into its test cell as
output: a passing cell gets its message, a failing one an error, which
nbgrader's ``SaveAutoGrades`` then scores as full points or 0. Test cells are
restored from the gradebook by nbgrader before this step, so a student who
edited or deleted them changes nothing.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
from collections.abc import Callable

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

from .. import limits
from . import cache
from .grade import answer_sources, grade_notebook
from .sandbox import Sandbox
from .seed import SEED_FILE, SEED_VARIABLE, instructor_seed
from .verdict import Verdict

log = logging.getLogger(__name__)
CACHE_DIRECTORY = ".grading_cache"
_sandboxes: dict[bool, Sandbox] = {}
_this_run: dict[str, dict[str, Verdict]] = {}  # every verdict of this process, transient ones too


class SandboxGrade(NbGraderPreprocessor):
    """Score the graded test cells from the sandbox's verdicts."""

    isolated = Bool(True, help="Run student code in bubblewrap (False: unprotected, for benchmarks)."
                    ).tag(config=True)
    behaviour_timeout = Float(limits.BEHAVIOUR_SECONDS,
                              help="Seconds one behaviour (one test cell) may run.").tag(config=True)
    total_timeout = Float(limits.NOTEBOOK_SECONDS,
                          help="Seconds all behaviours of one notebook may run.").tag(config=True)
    course_root = Unicode(".", help="The course's root: .instructor_seed and the cache are found there."
                          ).tag(config=True)

    @property
    def options(self) -> dict:
        """The settings a verdict depends on (the instructor's parallel pre-grading uses the same)."""
        return {"isolated": self.isolated, "course_root": self.course_root,
                "behaviour_timeout": self.behaviour_timeout, "total_timeout": self.total_timeout}

    def preprocess(self, nb, resources):
        verdicts = verdicts_for(nb, resources["nbgrader"]["assignment"], **self.options)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                cell.outputs = outputs_of(verdicts.get(meta.get("grade_id")))
                cell.execution_count = None
        return nb, resources


def verdicts_for(nb, assignment: str, *, isolated: bool = True, course_root: str = ".",
                 behaviour_timeout: float = limits.BEHAVIOUR_SECONDS,
                 total_timeout: float = limits.NOTEBOOK_SECONDS,
                 box: Callable[[], Sandbox] | None = None) -> dict[str, Verdict]:
    """The verdicts of one notebook: from the cache, or graded in the sandbox ``box()`` returns
    (called only then; default: this process's sandbox) and cached."""
    seed, is_default = instructor_seed(course_root)
    cache_directory = os.path.join(course_root, CACHE_DIRECTORY)
    if is_default:
        warn_default_seed()
    sources = answer_sources(nb)
    settings = {"behaviour": behaviour_timeout, "total": total_timeout, "isolated": isolated}
    key = cache.cache_key(assignment, sources, seed, settings)
    verdicts = _this_run.get(key) or cache.load(cache_directory, key)
    if verdicts is None:
        verdicts = grade_notebook(nb, assignment, box() if box else sandbox(isolated), seed=seed,
                                  behaviour_timeout=behaviour_timeout, total_timeout=total_timeout)
        _this_run[key] = verdicts
        if not any(v.transient for v in verdicts.values()):  # a timeout may pass on a quieter run
            cache.store(cache_directory, key, verdicts)
    return verdicts


def forget_this_run() -> None:
    """Start a new run: verdicts not on disk (time-outs, crashes) are graded again."""
    _this_run.clear()


def sandbox(isolated: bool = True) -> Sandbox:
    """This process's sandbox (started on first use, closed at exit)."""
    if isolated not in _sandboxes:
        box = Sandbox(isolated=isolated)
        box.start()
        _sandboxes[isolated] = box
        atexit.register(box.close)
    return _sandboxes[isolated]


@functools.cache  # once per process
def warn_default_seed() -> None:
    log.warning("No instructor seed: the hidden test inputs come from the public default seed. "
                "For real grading put a private integer in %s or in the file %s (kept out of git).",
                SEED_VARIABLE, SEED_FILE)


OUTPUT_KEY = "coursework"  # the metadata of the output that records a verdict for the class report


def outputs_of(verdict: Verdict | None) -> list:
    """A passing verdict as printed text; a failing or missing one as an error (0 points). A last,
    empty output records the verdict's diagnosis for the instructor's misconception report."""
    if verdict is None:
        lines = ["✗ No check is defined for this cell / no hay comprobación para esta celda"]
        return [new_output("error", ename="CheckFailed", evalue=lines[0], traceback=lines)]
    if verdict.passed:
        shown = new_output("stream", name="stdout", text=str(verdict) + "\n")
    else:
        shown = new_output("error", ename="CheckFailed", evalue=verdict.lines[0],
                           traceback=list(verdict.lines))
    record = {"grade_id": verdict.grade_id, "passed": verdict.passed, "diagnosis": verdict.diagnosis,
              "attempted": verdict.attempted}
    return [shown, new_output("display_data", data={"text/plain": ""}, metadata={OUTPUT_KEY: record})]
