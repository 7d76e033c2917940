"""Import the class list from an LMS export into lms/roster.csv and nbgrader's student table.

``roster FILE`` takes Canvas's gradebook export, a Moodle grading worksheet or
a plain CSV (``coursework.lms.roster`` describes them). A Moodle worksheet
given with ``--chapter`` is also kept as that chapter's worksheet
(lms/moodle/<chapter>-grading-worksheet.csv): its participant ids identify the
download's folders, its submission times become nbgrader's, and the grade export
fills it in. Canvas's export is kept as lms/canvas/gradebook-export.csv: the
grade export takes its assignment columns from it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..chapters import chapter as chapter_named
from ..lms.roster import Roster, read_class_list
from .course import Course
from .importer import worksheet_path

CANVAS_EXPORT = Path("lms") / "canvas" / "gradebook-export.csv"


@dataclass
class ClassListReport:
    kind: str
    added: list[str] = field(default_factory=list)
    updated: int = 0
    problems: list[str] = field(default_factory=list)
    kept_as: str = ""

    def __str__(self) -> str:
        lines = [(f"Class list ({self.kind}): {len(self.added)} student(s) added, {self.updated} already "
                 "known (ids kept, names and sections updated).")]
        if self.kept_as:
            lines.append(f"Kept as {self.kept_as}.")
        if self.problems:
            lines.append(f"Rows not imported: {len(self.problems)}")
            lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def import_class_list(course: Course, path: str | Path, chapter_id: str | None = None) -> ClassListReport:
    """Merge the people of ``path`` into the course's roster and nbgrader's student table."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected a CSV class list exported from the LMS, got {path} (not found)")
    kind, people = read_class_list(path)
    roster = Roster.load(course.root)
    before = set(roster.people)
    report = ClassListReport(kind, problems=roster.merge(people))
    report.added = sorted(set(roster.people) - before)
    report.updated = len(people) - len(report.added) - len(report.problems)
    roster.save(course.root)
    fill_students(course, roster)
    if kind == "moodle" and chapter_id:
        target = worksheet_path(course, chapter_named(chapter_id))
        report.kept_as = _keep(path, target, course.root)
    elif kind == "canvas":
        report.kept_as = _keep(path, course.root / CANVAS_EXPORT, course.root)
    return report


def fill_students(course: Course, roster: Roster) -> None:
    """Create or update every roster student in nbgrader's student table."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for person in roster:
            first, last = person.first_and_last
            gradebook.update_or_create_student(person.student_id, first_name=first, last_name=last,
                                               email=person.email or None,
                                               lms_user_id=person.lms_user_id or None)


def _keep(source: Path, target: Path, root: Path) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target.relative_to(root).as_posix()
