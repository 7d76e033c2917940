"""The course directory as the instructor tools see it: folders, assignments, nbgrader."""

from __future__ import annotations

import functools
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from ..chapters import ASSIGNMENTS, parse_assignment

CONFIG_FILE = "nbgrader_config.py"


class CourseError(RuntimeError):
    """The course directory is not what the instructor tools expect."""


class Course:
    """The course rooted at ``root`` (the folder holding nbgrader_config.py)."""

    def __init__(self, root: str | Path = "."):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise CourseError(f"expected {CONFIG_FILE} in {self.root} (run the instructor commands from "
                              "the course's root folder), found none")
        self.solutions = self.root / "solutions"
        self.exercises = self.root / "exercises"
        self.submitted = self.root / "submitted"
        self.autograded = self.root / "autograded"
        self.feedback = self.root / "feedback"
        self.archive = self.root / "collect_archive"

    @functools.cached_property
    def config(self):
        return PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()

    @functools.cached_property
    def api(self):
        """nbgrader's API on this course (in this process: one writer of the gradebook)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config, root=str(self.root))
        return NbGraderAPI(coursedir=coursedir, config=self.config)

    @property
    def db_url(self) -> str:
        return self.api.coursedir.db_url

    @functools.cached_property
    def assignments(self) -> list[str]:
        """The registry's assignments whose source notebook is in this course's solutions/."""
        return [a for a in ASSIGNMENTS if (self.solutions / a / _notebook(a)).is_file()]

    def notebook_name(self, assignment: str) -> str:
        """The file name of an assignment's notebook (one per assignment, named in the registry)."""
        return _notebook(self.check_assignment(assignment))

    def check_assignment(self, assignment: str) -> str:
        if assignment not in self.assignments:
            raise CourseError(f"expected an assignment of this course ({', '.join(self.assignments)}), "
                              f"got {assignment!r}")
        return assignment

    def check_released(self, assignment: str) -> str:
        """``assignment``, if nbgrader knows its notebook (``make release`` put it in the gradebook);
        CourseError saying which command to run otherwise."""
        from nbgrader.api import Gradebook, MissingEntry

        self.check_assignment(assignment)
        with Gradebook(self.db_url, self.api.coursedir.course_id) as gradebook:
            try:
                released = bool(gradebook.find_assignment(assignment).notebooks)
            except MissingEntry:
                released = False
        if not released:
            raise CourseError(f"expected {assignment} to be released in this course, but nbgrader's "
                              "gradebook does not know its notebook yet: run "
                              f"`make release ASSIGNMENT={assignment}` (or "
                              f"`python -m coursework.instructor release {assignment}`) first")
        return assignment

    def submissions(self, assignment: str) -> list[str]:
        """Ids of the students with a submitted notebook for ``assignment``."""
        name = self.notebook_name(assignment)
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir()
                      if not p.name.startswith(".") and (p / assignment / name).is_file())


def _notebook(assignment: str) -> str:
    chapter, language = parse_assignment(assignment)
    return chapter.notebook(language)
