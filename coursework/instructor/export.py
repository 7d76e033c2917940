"""Export the grades as CSV: one row per student and chapter, both languages merged.

A student does each chapter in the language of their choice; when they
handed in both, the row keeps the better score (Spanish on a tie).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..chapters import parse_assignment
from .course import Course

COLUMNS = ("student_id", "chapter", "language", "score", "max_score", "auto_score", "manual_pending")


@dataclass(frozen=True)
class Row:
    student_id: str
    chapter: str
    language: str
    score: float
    max_score: float
    auto_score: float
    manual_pending: bool


def grade_rows(course: Course) -> list[Row]:
    """One row per student and chapter they submitted, from the gradebook."""
    from nbgrader.api import Gradebook

    best: dict[tuple[str, str], Row] = {}
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for assignment in gradebook.assignments:
            chapter, language = parse_assignment(assignment.name)
            for submission in assignment.submissions:
                grades = [g for nb in submission.notebooks for g in nb.grades]
                row = Row(submission.student.id, chapter.id, language, round(submission.score, 4),
                          round(submission.max_score, 4),
                          round(sum(g.auto_score or 0 for g in grades if g.auto_score is not None), 4),
                          any(g.needs_manual_grade for g in grades))
                key = (row.student_id, chapter.id)
                if key not in best or (row.score, row.language == "es") > (best[key].score,
                                                                            best[key].language == "es"):
                    best[key] = row
    return sorted(best.values(), key=lambda r: (r.student_id, r.chapter))


def export(course: Course, output: str | Path) -> Path:
    """Write the grades CSV to ``output`` and return its path."""
    rows = grade_rows(course)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(output.suffix + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for row in rows:
            pending = "yes" if row.manual_pending else "no"
            writer.writerow([row.student_id, row.chapter, row.language, f"{row.score:g}",
                             f"{row.max_score:g}", f"{row.auto_score:g}", pending])
    partial.replace(output)
    return output
