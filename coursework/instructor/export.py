"""Export the grades: a plain table, and the files Moodle and Canvas import.

Into ``exports/`` (one row per class-list student, non-submitters as missing
or 0 as the instructor chooses, one column per chapter: its total, and with
``parts`` one more per part):

- ``grades.csv``: student_id, name, email, a column per chapter, total, maximum,
  the chapters still waiting for a manual grade, the language of each chapter;
- ``canvas/grades-import.csv``: Canvas's gradebook import (Student, ID, SIS User
  ID, SIS Login ID, Section, then "<assignment> (<id>)" per chapter and a
  "Points Possible" row), for a class list imported from Canvas;
- ``moodle/<chapter>-grading-worksheet.csv``: Moodle's grading worksheet of
  each chapter whose worksheet was imported (``make roster ... CHAPTER=``),
  filled in; and ``moodle/gradebook-import.csv`` (Email address, ID number,
  Full name, a column per chapter) for Moodle's gradebook CSV import.

When the LMS assignment is out of another maximum than the chapter (a Moodle
assignment "out of 100", a Canvas assignment worth 100 points), grades are
scaled to it and the export says so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..chapters import Chapter
from ..lms import canvas, moodle
from ..lms.roster import Person, Roster
from .class_list import CANVAS_EXPORT
from .course import Course
from .grades import GradeTable, grade_table
from .importer import worksheet_path

PART_LABEL = {"es": "Parte", "en": "Part"}


@dataclass
class ExportReport:
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"Written: {path}" for path in self.files]
        return "\n".join(lines + [f"Note: {note}" for note in self.notes])


def export(course: Course, output: str | Path, *, lms: str = "all", missing_as_zero: bool = False,
           parts: bool = False, canvas_assignments: dict[str, str] | None = None) -> ExportReport:
    """Write the grade files into the folder ``output``; ``lms`` is 'all', 'moodle', 'canvas' or 'none'."""
    if lms not in ("all", "moodle", "canvas", "none"):
        raise ValueError(f"expected --lms all, moodle, canvas or none, got {lms!r}")
    table = grade_table(course)
    output = Path(output)
    report = ExportReport()
    report.files.append(write_plain(table, output / "grades.csv", missing_as_zero, parts))
    if table.not_on_roster:
        report.notes.append(f"graded but not on the class list (left out of the LMS files): "
                            f"{', '.join(table.not_on_roster)}")
    if lms in ("all", "canvas"):
        if any(p.lms_user_id for p in table.people):
            report.files.append(write_canvas(course, table, output / "canvas" / "grades-import.csv",
                                             missing_as_zero, parts, canvas_assignments or {}, report.notes))
        elif lms == "canvas":
            raise ValueError("expected a class list with Canvas user ids for the Canvas export (import "
                             "Canvas's gradebook export with `make roster`), got none")
    if lms in ("all", "moodle"):
        for chapter in table.chapters:
            sheet = worksheet_path(course, chapter)
            if sheet.is_file():
                target = output / "moodle" / sheet.name
                report.files.append(write_moodle_worksheet(table, chapter, sheet, target, missing_as_zero,
                                                           parts, report.notes))
            elif lms == "moodle":
                report.notes.append(f"no Moodle grading worksheet for {chapter.id}: download it from Moodle "
                                    f"and import it with `make roster FROM=<worksheet> CHAPTER={chapter.id}`")
        if any(p.email for p in table.people):
            report.files.append(write_moodle_gradebook(table, output / "moodle" / "gradebook-import.csv",
                                                       missing_as_zero))
    return report


def write_plain(table: GradeTable, path: Path, missing_as_zero: bool, parts: bool) -> Path:
    header = ["student_id", "name", "email"]
    for chapter in table.chapters:
        header += [chapter.id] + ([f"{chapter.id} part {p}" for p in _parts(table, chapter)] if parts else [])
    header += ["total", "max_total", "manual_pending", "languages"]
    rows = []
    for person in table.people:
        grades = [table.of(person.student_id, c) for c in table.chapters]
        row = [person.student_id, person.name, person.email]
        for grade in grades:
            row.append(_number(grade.value(missing_as_zero)))
            if parts:
                row += [_number(grade.parts[p][0]) if p in grade.parts else ""
                        for p in _parts(table, grade.chapter)]
        values = [g.value(missing_as_zero) for g in grades]
        row += [_number(sum(v for v in values if v is not None)), _number(sum(g.max_score for g in grades)),
                " ".join(g.chapter.id for g in grades if g.manual_pending),
                " ".join(f"{g.chapter.id}:{g.language}" for g in grades if g.language)]
        rows.append(row)
    return _write(path, [header, *rows])


def write_canvas(course: Course, table: GradeTable, path: Path, missing_as_zero: bool, parts: bool,
                 chosen: dict[str, str], notes: list[str]) -> Path:
    export_file = course.root / CANVAS_EXPORT
    columns = canvas.assignment_columns(export_file) if export_file.is_file() else []
    header, points, scales = list(canvas.STUDENT_COLUMNS), [canvas.POINTS_POSSIBLE, "", "", "", ""], []
    for chapter in table.chapters:
        column = _canvas_column(chapter, columns, chosen.get(chapter.id))
        maximum = table.maxima[chapter.id]
        if column is None:
            header.append(f"{chapter.id} {chapter.titles['es']} / {chapter.titles['en']}")
            notes.append(f"Canvas: no assignment column of the gradebook export names {chapter.id}; the "
                         f"import creates a new assignment (or give --canvas-assignment {chapter.id}=<id>)")
            scale, points_possible = 1.0, maximum
        else:
            header.append(column.header)
            points_possible = column.points_possible or maximum
            scale = points_possible / maximum if maximum else 1.0
            if abs(scale - 1) > 1e-9:
                notes.append(f"Canvas: {column.header} is worth {points_possible:g} points, {chapter.id} "
                             f"{maximum:g}: its grades are scaled by {scale:g}")
        points.append(_number(points_possible))
        scales.append((chapter, scale))
        if parts:
            for part in _parts(table, chapter):
                header.append(f"{chapter.id} {PART_LABEL['en']} {part}")
                points.append(_number(_part_max(table, chapter, part)))
    rows = [header, points]
    skipped = []
    for person in table.people:
        if not person.lms_user_id:
            skipped.append(person.student_id)
            continue
        row = [person.sortable_name or person.name, person.lms_user_id, person.institutional_id,
               person.login_id, person.section]
        for chapter, scale in scales:
            grade = table.of(person.student_id, chapter)
            value = grade.value(missing_as_zero)
            row.append(_number(None if value is None else value * scale))
            if parts:
                empty = _number(0.0 if missing_as_zero else None)
                row += [_number(grade.parts[p][0]) if p in grade.parts else empty
                        for p in _parts(table, chapter)]
        rows.append(row)
    if skipped:
        notes.append(f"Canvas: no Canvas user id, so not in the Canvas file: {', '.join(skipped)}")
    return _write(path, rows)


def write_moodle_worksheet(table: GradeTable, chapter: Chapter, sheet_path: Path, path: Path,
                           missing_as_zero: bool, parts: bool, notes: list[str]) -> Path:
    sheet = moodle.Worksheet.read(sheet_path)
    roster = Roster(table.people)
    maximum = table.maxima[chapter.id]
    moodle_max = sheet.maximum() or maximum
    scale = moodle_max / maximum if maximum else 1.0
    if abs(scale - 1) > 1e-9:
        notes.append(f"Moodle: {chapter.id}'s assignment is out of {moodle_max:g}, the chapter of "
                     f"{maximum:g}: grades scaled by {scale:g}")
    grades, comments, unknown = {}, {}, []
    for participant, row in sheet.participants().items():
        person = _moodle_person(roster, row)
        if person is None:
            unknown.append(f"{row['name']} (Participant {participant})")
            continue
        grade = table.of(person.student_id, chapter)
        value = grade.value(missing_as_zero)
        grades[participant] = None if value is None else round(value * scale, 2)
        if parts and grade.submitted:
            label = PART_LABEL[grade.language or "es"]
            comments[participant] = " · ".join(f"{label} {p}: {s:g}/{m:g}"
                                               for p, (s, m) in grade.parts.items())
    if unknown:
        notes.append(f"Moodle {chapter.id}: worksheet participants not on the class list (left as they "
                     f"were): {', '.join(unknown)}")
    return _write(path, sheet.filled(grades, comments if parts else None))


def write_moodle_gradebook(table: GradeTable, path: Path, missing_as_zero: bool) -> Path:
    header = ["Email address", "ID number", "Full name"]
    header += [f"{c.id} {c.titles['es']}" for c in table.chapters]
    rows = [header]
    for person in table.people:
        if person.email:
            values = [table.of(person.student_id, c).value(missing_as_zero) for c in table.chapters]
            rows.append([person.email, person.institutional_id, person.name] + [_number(v) for v in values])
    return _write(path, rows)


def _moodle_person(roster: Roster, row: dict[str, str]) -> Person | None:
    if row.get("email") and roster.find(row["email"]):
        return roster.find(row["email"])
    named = roster.by_name(row.get("name", ""))
    return named[0] if len(named) == 1 else None


def _canvas_column(chapter: Chapter, columns: list[canvas.Column],
                   chosen: str | None) -> canvas.Column | None:
    if chosen:
        found = [c for c in columns if c.assignment_id == chosen]
        if not found:
            found_headers = ", ".join(c.header for c in columns) or "none"
            raise ValueError(f"expected Canvas assignment {chosen} (given for {chapter.id}) among the "
                             f"columns of lms/canvas/gradebook-export.csv, got {found_headers}")
        return found[0]
    return canvas.column_for(chapter, columns)


def _parts(table: GradeTable, chapter: Chapter) -> list[str]:
    return sorted({p for g in table.grades.values() if g.chapter == chapter for p in g.parts})


def _part_max(table: GradeTable, chapter: Chapter, part: str) -> float:
    return max((g.parts[part][1] for g in table.grades.values() if g.chapter == chapter and part in g.parts),
               default=0.0)


def _number(value: float | None) -> str:
    """A grade as the LMSs read it: a dot, at most two decimals, no trailing zeros; '' for none."""
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    partial.replace(path)
    return path
