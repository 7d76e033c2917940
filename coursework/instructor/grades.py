"""The grade of every class-list student in every chapter, from nbgrader's gradebook.

A student hands in each chapter in one language; the Spanish and English
assignments of a chapter have the same points, so they make one grade: the
submitted one, or the better of the two when both were handed in (Spanish on
a tie). Students of the class list who handed nothing in get a grade with no
submission, which each export writes as missing or 0, as the instructor chooses.
Per-part scores follow the notebook's "Part A / Parte A" headings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..chapters import CHAPTERS, Chapter, parse_assignment
from ..lms.roster import Person, Roster
from .course import Course

PART_HEADING = re.compile(r"^#{1,3}\s*(?:Parte|Part)\s+([A-Z])\b", re.MULTILINE)


@dataclass(frozen=True)
class ChapterGrade:
    student_id: str
    chapter: Chapter
    max_score: float
    score: float | None = None  # None: nothing handed in
    language: str = ""
    auto_score: float = 0.0
    manual_pending: bool = False
    late_penalty: float = 0.0
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)  # "A" -> (score, max)

    @property
    def submitted(self) -> bool:
        return self.score is not None

    def value(self, missing_as_zero: bool) -> float | None:
        """The grade to export (nbgrader's late penalty subtracted, if one is configured), None if missing."""
        if self.score is None:
            return 0.0 if missing_as_zero else None
        return round(max(0.0, self.score - self.late_penalty), 4)


@dataclass
class GradeTable:
    chapters: list[Chapter]  # those released in this course, in course order
    people: list[Person]  # the class list, plus students graded who are not on it
    grades: dict[tuple[str, str], ChapterGrade]  # (student_id, chapter id)
    not_on_roster: list[str]
    maxima: dict[str, float]  # chapter id -> its points (the same in both languages)

    def of(self, student_id: str, chapter: Chapter) -> ChapterGrade:
        return self.grades[(student_id, chapter.id)]


def grade_table(course: Course) -> GradeTable:
    """Every (student, chapter) grade of the course; ValueError if nothing is released yet."""
    from nbgrader.api import Gradebook

    roster = Roster.load(course.root)
    best: dict[tuple[str, str], ChapterGrade] = {}
    maxima: dict[str, float] = {}
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for assignment in gradebook.assignments:
            if assignment.name not in course.assignments or not assignment.notebooks:
                continue
            chapter, language = parse_assignment(assignment.name)
            maxima.setdefault(chapter.id, assignment.max_score)
            parts = part_of_grade(course, assignment.name)
            for submission in assignment.submissions:
                grade = _chapter_grade(submission, chapter, language, parts)
                key = (grade.student_id, chapter.id)
                old = best.get(key)
                if old is None or (grade.score, language == "es") > (old.score, old.language == "es"):
                    best[key] = grade
    chapters = [c for c in CHAPTERS if c.id in maxima]
    if not chapters:
        raise ValueError("expected released assignments in the gradebook, found none (run `make release`)")
    graded = sorted({student for student, _ in best})
    people = list(roster) + [Person(s, "") for s in graded if s not in roster.people]
    for person in people:
        for chapter in chapters:
            best.setdefault((person.student_id, chapter.id), ChapterGrade(person.student_id, chapter,
                                                                          maxima[chapter.id]))
    return GradeTable(chapters, people, best, [s for s in graded if s not in roster.people] if roster else [],
                      maxima)


def part_of_grade(course: Course, assignment: str) -> dict[str, str]:
    """``{grade_id: part letter}`` from the headings of the assignment's source notebook."""
    path = course.solutions / assignment / course.notebook_name(assignment)
    parts, current = {}, ""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = PART_HEADING.search(source) if cell["cell_type"] == "markdown" else None
        if heading:
            current = heading.group(1)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and cell["metadata"]["nbgrader"].get("grade"):
            parts[grade_id] = current or grade_id
    return parts


def _chapter_grade(submission, chapter: Chapter, language: str, parts: dict[str, str]) -> ChapterGrade:
    grades = [g for notebook in submission.notebooks for g in notebook.grades]
    by_part: dict[str, tuple[float, float]] = {}
    for grade in grades:
        part = parts.get(grade.name, grade.name)
        score, maximum = by_part.get(part, (0.0, 0.0))
        by_part[part] = (score + (grade.score or 0.0), maximum + grade.max_score)
    return ChapterGrade(
        submission.student.id, chapter, round(submission.max_score, 4), round(submission.score, 4), language,
        round(sum(g.auto_score or 0.0 for g in grades), 4), any(g.needs_manual_grade for g in grades),
        round(sum(n.late_submission_penalty or 0.0 for n in submission.notebooks), 4),
        dict(sorted(by_part.items())))
