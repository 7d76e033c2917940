"""The course directory as the instructor tools see it: folders, assignments, nbgrader."""

from __future__ import annotations

import functools
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

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
        """Assignment ids: the folders of solutions/ holding a notebook."""
        return sorted(p.name for p in self.solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def notebook_name(self, assignment: str) -> str:
        """The file name of an assignment's notebook (one per assignment), e.g. ``ch1-es.ipynb``."""
        self.check_assignment(assignment)
        return next((self.solutions / assignment).glob("*.ipynb")).name

    def check_assignment(self, assignment: str) -> str:
        if assignment not in self.assignments:
            raise CourseError(f"expected an assignment of this course ({', '.join(self.assignments)}), "
                              f"got {assignment!r}")
        return assignment

    def submissions(self, assignment: str) -> list[str]:
        """Ids of the students with a submitted notebook for ``assignment``."""
        name = self.notebook_name(assignment)
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir()
                      if not p.name.startswith(".") and (p / assignment / name).is_file())
