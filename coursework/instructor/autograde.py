"""Autograde the submissions of an assignment: sandboxes in parallel, one gradebook writer.

Two passes. First the answer cells of all submissions are graded in
sandboxes, one per worker thread, and the verdicts cached (the slow part,
in parallel across cores). Then nbgrader's own autograde runs for each
student in this process, the only one that writes the gradebook; its
SandboxGrade step finds the cached verdicts. Interrupted runs resume: cached
verdicts and already autograded students (unless ``force``) are skipped.

Regrading (``force``, or naming students) keeps hand grades and their
"graded" state where the answer they graded is unchanged (``manual_grades``).
A submission nbgrader cannot read gets 0 on every grade with the reason, and
nothing left pending. ``shard`` grades one part of the class into its own
folder, for ``merge`` to combine (``shards``).
"""

from __future__ import annotations

import concurrent.futures
import threading
from dataclasses import dataclass, field

import nbformat

from ..grading.autograde_step import SandboxGrade, forget_this_run, verdicts_for
from ..grading.sandbox import Sandbox, SandboxUnavailable
from . import manual_grades
from .course import Course, CourseError
from .progress import progress
from .shards import Shard, ShardCourse


@dataclass
class AutogradeReport:
    assignment: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> reason (scored 0)
    kept: int = 0  # manual grades kept through the regrade
    to_review: int = 0  # manual grades whose answer changed: flagged for review
    shard: Shard | None = None

    def __str__(self) -> str:
        where = f" (shard {self.shard.index}/{self.shard.count}: merge with `merge {self.assignment}`)" \
            if self.shard else ""
        lines = [(f"{self.assignment}{where}: {len(self.graded)} graded, {len(self.skipped)} already graded "
                 f"(use --force to regrade), {len(self.failed)} scored 0 because they could not be read "
                 "or graded")]
        if self.kept or self.to_review:
            lines.append(f"  manual grades: {self.kept} kept, {self.to_review} to review in formgrader "
                         "(the answer they graded changed)")
        lines += [f"  {student}: {reason}" for student, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def autograde(course: Course, assignment: str, *, workers: int = 2, force: bool = False,
              students: list[str] | None = None, shard: Shard | None = None) -> AutogradeReport:
    """Grade the students who submitted ``assignment`` (all, the ones named, or one shard's);
    return who was graded and who failed. Named students are regraded even if graded already."""
    course.check_released(assignment)  # before any sandbox work
    forget_this_run()
    report = AutogradeReport(assignment, shard=shard)
    everyone = course.submissions(assignment)
    unknown = sorted(set(students or []) - set(everyone))
    if unknown:
        raise CourseError(f"expected students with a submission of {assignment}, got {', '.join(unknown)} "
                          f"(submitted/<student>/{assignment}/ holds no notebook)")
    selected = [s for s in everyone if s in students] if students else everyone
    if shard is not None:
        selected = [s for s in selected if shard.owns(s)]
    todo = [s for s in selected if force or students or not _is_graded(course, assignment, s)]
    report.skipped = [s for s in selected if s not in todo]
    graded_before = course.autograded  # what the manual grades judged
    if shard is not None:
        course = ShardCourse(course.root, assignment, shard)
        course.start()
    unreadable = pregrade(course, assignment, todo, workers)
    manual = manual_grades.snapshot(course, assignment, todo, graded_before)
    for student in progress(todo, f"gradebook {assignment}"):
        before = manual.get(student, [])
        result = course.api.autograde(assignment, student, force=True, create=True)
        if result["success"]:
            report.graded.append(student)
            kept, to_review = manual_grades.restore(course, assignment, student, before)
            report.kept, report.to_review = report.kept + kept, report.to_review + to_review
        else:
            report.failed[student] = unreadable.get(student) or _last_error(result)
            manual_grades.close_unreadable(course, assignment, student, report.failed[student])
    if shard is not None:
        course.finish(assignment, {"graded": report.graded, "skipped": report.skipped}, report.failed)
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


def _is_graded(course: Course, assignment: str, student: str) -> bool:
    name = course.notebook_name(assignment)
    graded = course.autograded / student / assignment / name
    submitted = course.submitted / student / assignment / name
    return graded.is_file() and graded.stat().st_mtime >= submitted.stat().st_mtime


def _last_error(result: dict) -> str:
    text = (result.get("log") or "") + (result.get("error") or "")
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "nbgrader could not grade it"
