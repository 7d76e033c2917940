"""Autograde one shard of the class on one machine; merge the shards into the gradebook.

``autograde ASSIGNMENT --shard I/N`` (I = 0 … N-1) grades the students whose
id hashes to I (SHA-256 of the id, modulo N: the same split on every machine,
whatever order the files are listed in). ``--shard auto/N`` takes I from the
scheduler: Kubernetes' JOB_COMPLETION_INDEX (an Indexed Job), or Slurm's
SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN (a job array); N may
be ``auto`` too under Slurm (SLURM_ARRAY_TASK_COUNT). A shard never writes the course's gradebook: it grades
into shards/<assignment>/<I>-of-<N>/, holding a copy of the gradebook taken
when it started and the autograded notebooks, and writes result.json last, as
its completion mark. The course folder must be shared by all machines (NFS, a
ReadWriteMany volume); the verdict cache (.grading_cache/) is shared too, so a
shard that is run again only regrades what is missing.

``merge ASSIGNMENT`` checks that all N shards finished, with the same grading
code and seed, and that every student is in exactly one of them; then copies
each student's results into the gradebook with the same rules as a single run
(manual grades kept unless the answer changed) and moves the autograded
notebooks into autograded/.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..grading.cache import code_version
from ..grading.seed import instructor_seed
from .course import Course, CourseError

SHARDS = "shards"
RESULT = "result.json"
MERGED = "merged.json"


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str, environ=os.environ) -> Shard:
        """``'3/8'`` -> Shard(3, 8); ``'auto/8'`` reads I from the scheduler's environment.
        ValueError for anything but I/N with 0 <= I < N."""
        index, _, count = (text or "").strip().partition("/")
        if index == "auto":
            index = environ.get("JOB_COMPLETION_INDEX") or str(
                int(environ.get("SLURM_ARRAY_TASK_ID", "-1")) - int(environ.get("SLURM_ARRAY_TASK_MIN", "0")))
        if count == "auto":
            count = environ.get("SLURM_ARRAY_TASK_COUNT", "")
        if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
            raise ValueError(f"expected --shard I/N with 0 <= I < N (e.g. 0/8 … 7/8, or auto/8 in a "
                             f"Kubernetes Indexed Job or a Slurm array), got {text!r} (I = {index or '?'}, "
                             f"N = {count or '?'})")
        return cls(int(index), int(count))

    def owns(self, student: str) -> bool:
        return int(hashlib.sha256(student.encode()).hexdigest(), 16) % self.count == self.index

    @property
    def name(self) -> str:
        return f"{self.index}-of-{self.count}"


class ShardCourse(Course):
    """The course as one shard sees it: its own gradebook copy and autograded/ folder."""

    def __init__(self, root: str | Path, assignment: str, shard: Shard):
        super().__init__(root)
        self.shard = shard
        self.folder = self.root / SHARDS / assignment / shard.name
        self.autograded = self.folder / "autograded"

    @functools.cached_property
    def api(self):
        api = super().api
        api.coursedir.db_url = f"sqlite:///{self.folder / 'gradebook.db'}"
        api.coursedir.autograded_directory = os.path.relpath(self.autograded, self.root)
        return api

    def start(self) -> None:
        """A fresh shard folder holding a consistent copy of the course's gradebook."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        main = self.root / "gradebook.db"
        with sqlite3.connect(main) as source, sqlite3.connect(self.folder / "gradebook.db") as copy:
            source.backup(copy)

    def finish(self, assignment: str, students: dict[str, list[str]], failed: dict[str, str]) -> Path:
        """Write result.json (last: a shard without it did not finish)."""
        result = {"assignment": assignment, "index": self.shard.index, "count": self.shard.count,
                  "code_version": code_version(), "seed": seed_digest(self.root), "failed": failed,
                  **students}
        partial = self.folder / f".{RESULT}.partial"
        partial.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(self.folder / RESULT)
        return self.folder / RESULT


def seed_digest(root: Path) -> str:
    """Which seed graded (a digest, so result files do not reveal it)."""
    seed, _ = instructor_seed(root)
    return hashlib.sha256(str(seed).encode()).hexdigest()[:16]


@dataclass
class MergeReport:
    assignment: str
    merged: list[str]
    failed: dict[str, str]
    kept: int
    to_review: int
    not_graded: list[str]

    def __str__(self) -> str:
        lines = [(f"{self.assignment}: merged {len(self.merged)} student(s) from the shards "
                 f"({len(self.failed)} scored 0 because they could not be read or graded; {self.kept} manual "
                 f"grade(s) kept, {self.to_review} to review because the answer changed)")]
        lines += [f"  {student}: {reason}" for student, reason in sorted(self.failed.items())]
        if self.not_graded:
            lines.append(f"Not in any shard (submitted after the shards ran): {', '.join(self.not_graded)}; "
                         f"grade them with `python -m coursework.instructor autograde {self.assignment}`")
        return "\n".join(lines)


def merge(course: Course, assignment: str) -> MergeReport:
    """Copy every finished shard of ``assignment`` into the gradebook; CourseError if one is missing."""
    course.check_released(assignment)
    results = _finished_shards(course, assignment)
    owner: dict[str, str] = {}
    for folder, result in results:
        shard = Shard(result["index"], result["count"])
        for student in result["graded"] + result["skipped"] + list(result["failed"]):
            if not shard.owns(student) or student in owner:
                raise CourseError(f"expected each student in exactly one shard, but {student} is in "
                                  f"{owner.get(student, 'another shard')} and {shard.name}: grade the shards "
                                  "again")
            owner[student] = shard.name
    from nbgrader.api import Gradebook

    merged, failed, kept, to_review = [], {}, 0, 0
    course_id = course.api.coursedir.course_id
    with Gradebook(course.db_url, course_id) as main:  # one session for the whole merge
        for folder, result in results:
            students = result["graded"] + list(result["failed"])
            with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", course_id) as shard:
                k, r = copy_submissions(shard, main, assignment, students)
            main.db.commit()
            kept, to_review = kept + k, to_review + r
            for student in students:
                _move_notebooks(folder / "autograded" / student / assignment,
                                course.autograded / student / assignment)
            merged += students
            failed.update(result["failed"])
            (folder / RESULT).replace(folder / MERGED)  # kept as the record; the copies are no longer needed
            (folder / "gradebook.db").unlink()
            shutil.rmtree(folder / "autograded", ignore_errors=True)
    not_graded = sorted(set(course.submissions(assignment)) - set(owner))
    return MergeReport(assignment, sorted(merged), failed, kept, to_review, not_graded)


def _finished_shards(course: Course, assignment: str) -> list[tuple[Path, dict]]:
    base = course.root / SHARDS / assignment
    folders = sorted(base.glob("*-of-*")) if base.is_dir() else []
    pending = [f for f in folders if (f / RESULT).is_file()]
    if not pending:
        raise CourseError(f"expected finished shards of {assignment} in {base}, found none to merge (run "
                          f"`python -m coursework.instructor autograde {assignment} --shard I/N`, "
                          "I = 0 … N-1)")
    results = [(f, json.loads((f / RESULT).read_text(encoding="utf-8"))) for f in pending]
    counts = {r["count"] for _, r in results}
    if len(counts) != 1:
        raise CourseError(f"expected shards of one split, got results of splits into {sorted(counts)} in "
                          f"{base}: remove the old shard folders and grade again")
    count = counts.pop()
    missing = sorted(set(range(count)) - {r["index"] for _, r in results})
    if missing:
        raise CourseError(f"expected all {count} shards of {assignment} to have finished, missing "
                          f"{', '.join(f'{i}/{count}' for i in missing)}: run `python -m "
                          f"coursework.instructor autograde {assignment} --shard I/{count}` for each")
    for folder, result in results:
        if result["code_version"] != code_version() or result["seed"] != seed_digest(course.root):
            raise CourseError(f"expected every shard graded with this course's checks and seed, but "
                              f"{folder.name} used others (the code or .instructor_seed changed since): "
                              "grade that shard again")
    return results


def copy_submissions(shard, main, assignment: str, students: list[str]) -> tuple[int, int]:
    """Copy the students' autograde results from a shard's gradebook into the course's (both open).

    The shard graded on a copy of the gradebook and kept manual grades by the regrade rule; if a grade
    was changed by hand in the course's gradebook since the copy was taken, the course's stays.
    Each side is read in a few queries for all students (a query per grade made the merge as slow as
    grading). Returns ``(manual grades kept, manual grades to review)``.
    """
    theirs = _results(shard, assignment)
    new = sorted(set(students) - set(_results(main, assignment)["submission"]))
    _insert_new(main, theirs, new)  # graded for the first time: the shard's rows, as they are
    mine = _results(main, assignment)
    wanted = set(students)
    kept = to_review = 0
    for student in students:
        mine["submission"][student].timestamp = theirs["submission"][student].timestamp
    for key, notebook in theirs["notebook"].items():
        if key[0] in wanted:
            mine["notebook"][key].late_submission_penalty = notebook.late_submission_penalty
    for key, grade in theirs["grade"].items():
        if key[0] not in wanted:
            continue
        copy = mine["grade"][key]
        copy.auto_score = grade.auto_score
        if copy.manual_score == grade.manual_score:
            copy.needs_manual_grade = grade.needs_manual_grade
        if grade.manual_score is not None and grade.needs_manual_grade:
            to_review += 1
        elif grade.manual_score is not None:
            kept += 1
    for key, comment in theirs["comment"].items():
        if key[0] in wanted:
            mine["comment"][key].auto_comment = comment.auto_comment
    return kept, to_review


def _insert_new(main, theirs: dict[str, dict], students: list[str]) -> None:
    """Add the shard's rows of students the course's gradebook has no submission of (same ids: the
    shard's gradebook started as a copy, so the assignment, notebooks and cells are the same rows)."""
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    wanted = set(students)
    known = {s.id for s in main.students}
    rows = []
    for student in students:
        source = theirs["submission"][student]
        if student not in known:
            person = source.student
            rows.append(Student(id=student, first_name=person.first_name, last_name=person.last_name,
                                email=person.email, lms_user_id=person.lms_user_id))
        rows.append(SubmittedAssignment(id=source.id, assignment_id=source.assignment_id, student_id=student,
                                        timestamp=source.timestamp, extension=source.extension))
    columns = {"notebook": (SubmittedNotebook, ("id", "assignment_id", "notebook_id", "flagged",
                                                "late_submission_penalty")),
               "grade": (Grade, ("id", "notebook_id", "cell_id", "auto_score", "manual_score", "extra_credit",
                                 "needs_manual_grade")),
               "comment": (Comment, ("id", "notebook_id", "cell_id", "auto_comment", "manual_comment"))}
    for kind, (table, names) in columns.items():
        rows += [table(**{name: getattr(row, name) for name in names})
                 for key, row in theirs[kind].items() if key[0] in wanted]
    main.db.add_all(rows)
    main.db.flush()


def _results(gradebook, assignment: str) -> dict[str, dict]:
    """Every submission of ``assignment`` and its notebooks, grades and comments, keyed by
    (student[, notebook[, cell]]), in four queries."""
    from nbgrader.api import (
        Assignment,
        BaseCell,
        Comment,
        Grade,
        Notebook,
        SubmittedAssignment,
        SubmittedNotebook,
    )

    db = gradebook.db
    submissions = (db.query(SubmittedAssignment)
                   .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                   .filter(Assignment.name == assignment))
    notebooks = (db.query(SubmittedNotebook, SubmittedAssignment.student_id, Notebook.name)
                 .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                 .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                 .filter(Assignment.name == assignment))
    result = {"submission": {s.student_id: s for s in submissions},
              "notebook": {(student, name): n for n, student, name in notebooks}}
    for kind, table in (("grade", Grade), ("comment", Comment)):
        rows = (db.query(table, SubmittedAssignment.student_id, Notebook.name, BaseCell.name)
                .join(SubmittedNotebook, table.notebook_id == SubmittedNotebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .join(BaseCell, table.cell_id == BaseCell.id)
                .filter(Assignment.name == assignment))
        result[kind] = {(student, notebook, cell): row for row, student, notebook, cell in rows}
    return result


def _move_notebooks(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
