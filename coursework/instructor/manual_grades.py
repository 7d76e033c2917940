"""Hand-graded work survives a regrade, unless the student's answer changed.

nbgrader's autograde marks every grade that has a manual score as "needs
manual grade" again (SaveAutoGrades), so regrading a class would send every
written answer back to the formgrader queue. Around each student's autograde
this module notes the manual grades and what they graded (the answer cells of
the notebook graded before), then puts back their "graded" state where that
answer is unchanged. Where it changed, the manual score stays as a starting
point and the grade stays flagged for review.

A submission that cannot be read at all is closed: every grade 0, nothing
left pending (formgrader cannot show a notebook that does not exist), the
reason in its comments.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from .course import Course


@dataclass(frozen=True)
class ManualGrade:
    notebook: str
    grade_id: str
    manual_score: float
    needs_manual_grade: bool
    answer: str  # digest of what the grade judged (its answer cell, or all answer cells for a test cell)


def snapshot(course: Course, assignment: str, students: list[str],
             autograded: Path) -> dict[str, list[ManualGrade]]:
    """The manual grades of the students' submissions, with the answers they graded in ``autograded``
    (the autograded/ folder of the last grading), read in one go before a regrade."""
    from nbgrader.api import Gradebook, MissingEntry

    wanted = set(students)
    found: dict[str, list[ManualGrade]] = {}
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        try:
            submissions = gradebook.find_assignment(assignment).submissions
        except MissingEntry:
            return found
        for submission in submissions:
            student = submission.student.id
            if student not in wanted:
                continue
            grades = [ManualGrade(notebook.name, grade.name, grade.manual_score, grade.needs_manual_grade,
                                  answer_digest(autograded / student / assignment / f"{notebook.name}.ipynb",
                                                grade.name))
                      for notebook in submission.notebooks for grade in notebook.grades
                      if grade.manual_score is not None]
            if grades:
                found[student] = grades
    return found


def restore(course: Course, assignment: str, student: str, before: list[ManualGrade]) -> tuple[int, int]:
    """After a regrade, give each manual grade back its state if its answer is unchanged.

    Returns ``(kept, to_review)``: grades kept as they were, and grades left for review because their
    answer changed.
    """
    from nbgrader.api import Gradebook

    kept = to_review = 0
    if not before:
        return kept, to_review
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for old in before:
            grade = gradebook.find_grade(old.grade_id, old.notebook, assignment, student)
            now = answer_digest(course.autograded / student / assignment / f"{old.notebook}.ipynb",
                                old.grade_id)
            if now == old.answer and grade.manual_score == old.manual_score:
                grade.needs_manual_grade = old.needs_manual_grade
                kept += 1
            else:
                grade.needs_manual_grade = True
                to_review += 1
        gradebook.db.commit()
    return kept, to_review


def close_unreadable(course: Course, assignment: str, student: str, reason: str) -> None:
    """Give an unreadable submission 0 on every grade, nothing pending, and the reason as its comment."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # left behind by nbgrader's failed attempt
        gradebook.update_or_create_student(student)
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = gradebook.add_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = 0.0, None, False
            for comment in notebook.comments:
                comment.auto_comment = reason
        gradebook.db.commit()


def answer_digest(notebook: Path, grade_id: str) -> str:
    """A digest of the answer a grade judges in ``notebook``: its own cell if it is an answer (a written
    answer), else every answer cell (what a test cell runs); '' if the notebook cannot be read."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        answers = [c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        own = [c for c in answers if c["metadata"]["nbgrader"].get("grade_id") == grade_id]
        chosen = own or answers
        text = json.dumps(["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                           for c in chosen])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return hashlib.sha256(text.encode()).hexdigest()
