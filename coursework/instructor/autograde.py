"""Autograde every submission of an assignment: sandboxes in parallel, one gradebook writer.

Two passes. First the answer cells of all submissions are graded in
sandboxes, one per worker thread, and the verdicts cached (the slow part,
in parallel across cores). Then nbgrader's own autograde runs for each
student in this process, the only one that writes the gradebook; its
SandboxGrade step finds the cached verdicts. Interrupted runs resume: cached
verdicts and already autograded students (unless ``force``) are skipped.
A submission nbgrader cannot read still gets a 0 in the gradebook, with the
reason reported.
"""

from __future__ import annotations

import concurrent.futures
import threading
from dataclasses import dataclass, field

import nbformat

from ..grading.autograde_step import SandboxGrade, forget_this_run, verdicts_for
from ..grading.sandbox import Sandbox, SandboxUnavailable
from .course import Course
from .progress import progress


@dataclass
class AutogradeReport:
    assignment: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> reason (scored 0)

    def __str__(self) -> str:
        lines = [(f"{self.assignment}: {len(self.graded)} graded, {len(self.skipped)} already graded "
                 f"(use --force to regrade), {len(self.failed)} scored 0 because they could not be read "
                 "or graded")]
        lines += [f"  {student}: {reason}" for student, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def autograde(course: Course, assignment: str, *, workers: int = 2, force: bool = False) -> AutogradeReport:
    """Grade every student who submitted ``assignment``; return who was graded and who failed."""
    course.check_assignment(assignment)
    forget_this_run()
    report = AutogradeReport(assignment)
    students = course.submissions(assignment)
    todo = [s for s in students if force or not _is_graded(course, assignment, s)]
    report.skipped = [s for s in students if s not in todo]
    unreadable = pregrade(course, assignment, todo, workers)
    for student in progress(todo, f"gradebook {assignment}"):
        result = course.api.autograde(assignment, student, force=True, create=True)
        if result["success"]:
            report.graded.append(student)
        else:
            report.failed[student] = unreadable.get(student) or _last_error(result)
            record_zero(course, assignment, student)
    return report


def pregrade(course: Course, assignment: str, students: list[str], workers: int) -> dict[str, str]:
    """Grade the answer cells of ``students`` in parallel sandboxes; return the unreadable ones."""
    options = SandboxGrade(config=course.config).options
    local = threading.local()
    boxes: list[Sandbox] = []
    lock = threading.Lock()
    name = course.notebook_name(assignment)

    def grade(student: str) -> str | None:
        try:
            notebook = nbformat.read(course.submitted / student / assignment / name, as_version=4)
        except Exception as error:  # noqa: BLE001 (any unreadable file is reported, not fatal)
            return f"{name} is not a readable notebook ({type(error).__name__}: {str(error)[:120]})"
        try:
            verdicts_for(notebook, assignment, box=thread_sandbox, **options)
        except SandboxUnavailable:
            raise  # no sandbox, no grading at all
        except Exception as error:  # noqa: BLE001 (one odd notebook must not stop the class)
            return f"{name} could not be graded ({type(error).__name__}: {str(error)[:120]})"
        return None

    def thread_sandbox() -> Sandbox:
        """This worker thread's sandbox, started on its first cache miss."""
        if not hasattr(local, "box"):
            local.box = Sandbox(isolated=options["isolated"])
            with lock:
                boxes.append(local.box)
            local.box.start()
        return local.box

    unreadable = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
            graded = zip(students, pool.map(grade, students))
            for student, reason in progress(graded, f"sandbox {assignment}", total=len(students)):
                if reason:
                    unreadable[student] = reason
    finally:
        for box in boxes:
            box.close()
    return unreadable


def record_zero(course: Course, assignment: str, student: str) -> None:
    """Make sure the gradebook holds the student and a (zero) submission for the assignment."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # left behind by nbgrader's failed attempt
        gradebook.update_or_create_student(student)
        try:
            gradebook.find_submission(assignment, student)
        except MissingEntry:
            gradebook.add_submission(assignment, student)


def _is_graded(course: Course, assignment: str, student: str) -> bool:
    name = course.notebook_name(assignment)
    graded = course.autograded / student / assignment / name
    submitted = course.submitted / student / assignment / name
    return graded.is_file() and graded.stat().st_mtime >= submitted.stat().st_mtime


def _last_error(result: dict) -> str:
    text = (result.get("log") or "") + (result.get("error") or "")
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "nbgrader could not grade it"
