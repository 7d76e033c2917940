"""A temporary copy of the course with its own gradebook, and synthetic student notebooks."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from coursework.chapters import CHAPTERS, Chapter, parse_assignment

ROOT = Path(__file__).resolve().parents[1]


def chapter_with_cell(grade_id: str) -> Chapter:
    """The chapter whose exercise has the cell ``grade_id`` (tests name the cells they use, not chapters)."""
    for chapter in CHAPTERS:
        if grade_id in cells_by_id(load(chapter.solution("en"))):
            return chapter
    raise LookupError(f"no chapter's exercise has a cell {grade_id!r}")


def notebook_in(course: Path, kind: str, assignment: str) -> Path:
    """The notebook of ``assignment`` under ``course/kind`` (solutions, exercises, submitted/<student>...)."""
    chapter, language = parse_assignment(assignment)
    return course / kind / assignment / chapter.notebook(language)


def make_course(directory: Path, assignments: list[str], *, behaviour_timeout: float = 30,
                total_timeout: float = 120) -> Path:
    """Copy nbgrader_config.py and the solutions of ``assignments`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    config += (f"\nc.SandboxGrade.behaviour_timeout = {behaviour_timeout}"
               f"\nc.SandboxGrade.total_timeout = {total_timeout}\n")
    (directory / "nbgrader_config.py").write_text(config, encoding="utf-8")
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, directory / "solutions" / assignment)
    return directory


def put_venv_on_path() -> None:
    """nbgrader runs alembic from PATH when it creates a gradebook."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cells_by_id(notebook: dict) -> dict[str, dict]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"]
            if "nbgrader" in c.get("metadata", {})}


def with_answer(notebook: dict, grade_id: str, source: str) -> dict:
    """A copy of ``notebook`` whose answer cell ``grade_id`` holds ``source``."""
    copy = json.loads(json.dumps(notebook))
    cells_by_id(copy)[grade_id]["source"] = source
    return copy


def graded_points(notebook: dict) -> dict[str, float]:
    """Points of each autograded test cell, from the notebook's nbgrader metadata."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
            for c in notebook["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"]["solution"]}


def scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {grade_id: score}}`` from the course's gradebook."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(assignment).submissions:
            result[submission.student.id] = {g.name: g.score
                                             for nb in submission.notebooks for g in nb.grades}
    return result
