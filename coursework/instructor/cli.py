"""The instructor's commands: from the LMS's download to the LMS's grade import.

Run from the course root (the Makefile's targets call these):

    python -m coursework.instructor release [ASSIGNMENT ...]
    python -m coursework.instructor roster FILE [--chapter CHAPTER]     # the class list, from the LMS
    python -m coursework.instructor import SOURCE [--assignment CHAPTER] [--layout L] [--due WHEN]
    python -m coursework.instructor autograde [ASSIGNMENT ...] [--workers N] [--force] [--student ID ...]
                                              [--shard I/N]
    python -m coursework.instructor merge ASSIGNMENT ...                # the shards into the gradebook
    python -m coursework.instructor feedback [ASSIGNMENT ...]
    python -m coursework.instructor similarity [CHAPTER ...]
    python -m coursework.instructor formgrader [JUPYTER OPTION ...]    # manual grading in JupyterLab
    python -m coursework.instructor export [--lms all|moodle|canvas|none] [--missing blank|zero] [--parts]
    python -m coursework.instructor report [--output reports/grades.png]
    python -m coursework.instructor misconceptions [ASSIGNMENT ...] [--output reports/misconceptions.png]

Without ASSIGNMENT, every assignment of the course (for autograde, feedback
and merge: every one with submissions). ``collect`` is the old name of
``import``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from ..grading.sandbox import SandboxUnavailable
from .course import Course, CourseError


def parser() -> argparse.ArgumentParser:
    """The command line (also used to check the cluster examples' commands)."""
    parser = argparse.ArgumentParser(prog="python -m coursework.instructor",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--course", default=".", help="the course's root folder (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("release", "generate the student notebooks in exercises/ from solutions/"),
                            ("autograde", "grade the submissions in submitted/"),
                            ("feedback", "write HTML feedback for every graded student"),
                            ("merge", "combine the shards of an autograde into the gradebook")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
        if name == "autograde":
            command.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                                 help="sandboxes grading in parallel (default: one per core)")
            command.add_argument("--force", action="store_true", help="regrade students already graded")
            command.add_argument("--student", action="append", default=[], metavar="ID",
                                 help="(re)grade only this student (repeat for more)")
            command.add_argument("--shard", metavar="I/N",
                                 help="grade only shard I of N (0 <= I < N), for merge")
    roster_command = commands.add_parser("roster", help="import the class list exported from the LMS")
    roster_command.add_argument("file", help="Canvas's gradebook export, a Moodle grading worksheet or a CSV")
    roster_command.add_argument("--chapter", help="the chapter whose Moodle grading worksheet this is")
    for name in ("import", "collect"):
        command = commands.add_parser(name, help="place an LMS download's notebooks in submitted/")
        command.add_argument("source", help="the zip or folder downloaded from Moodle or Canvas, or a folder "
                             "of <student id>_*.ipynb")
        command.add_argument("--assignment", help="the chapter (or assignment) the download belongs to")
        command.add_argument("--layout", default="auto", choices=("auto", "moodle", "canvas", "plain"))
        command.add_argument("--due", type=_when, help="due date, ISO 8601 (e.g. 2026-03-01T23:59-06:00)")
    similarity_command = commands.add_parser("similarity", help="hints of copied answers, in an HTML report")
    similarity_command.add_argument("chapters", nargs="*", metavar="CHAPTER")
    similarity_command.add_argument("--output-dir", default="reports")
    export_command = commands.add_parser("export", help="write the grade files and the LMS feedback packages")
    export_command.add_argument("--output-dir", default="exports")
    export_command.add_argument("--lms", default="all", choices=("all", "moodle", "canvas", "none"))
    export_command.add_argument("--missing", default="blank", choices=("blank", "zero"),
                                help="how a student who handed nothing in appears (default: blank)")
    export_command.add_argument("--parts", action="store_true", help="add the score of each part")
    export_command.add_argument("--canvas-assignment", action="append", default=[], metavar="CHAPTER=ID",
                                help="the Canvas assignment id of a chapter (when its title does not say)")
    formgrader_command = commands.add_parser("formgrader",
                                             help="JupyterLab for manual grading (formulas offline)")
    formgrader_command.add_argument("options", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    report_command = commands.add_parser("report", help="histogram of the scores of each assignment")
    report_command.add_argument("--output", default="reports/grades.png")
    misconceptions_command = commands.add_parser(
        "misconceptions", help="per behaviour: who failed it and the misconceptions recognised (table, plot)")
    misconceptions_command.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    misconceptions_command.add_argument("--output", default="reports/misconceptions.png")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(Course(args.course), args)
    except (CourseError, SandboxUnavailable, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def run(course: Course, args) -> int:
    if args.command == "release":
        from .release import release

        for assignment in args.assignments or course.assignments:
            print(release(course, assignment))
    elif args.command == "roster":
        from .class_list import import_class_list

        print(import_class_list(course, args.file, args.chapter))
    elif args.command in ("import", "collect"):
        from .importer import import_download

        report = import_download(course, args.source, target=args.assignment, layout=args.layout,
                                 due=args.due)
        print(report)
        _save_report(course, f"import-{report.chapter.id if report.chapter else 'all'}.txt", str(report))
    elif args.command == "autograde":
        from .autograde import autograde
        from .shards import Shard

        shard = Shard.parse(args.shard) if args.shard else None
        for assignment in _with_submissions(course, args.assignments):
            print(autograde(course, assignment, workers=args.workers, force=args.force,
                            students=args.student or None, shard=shard))
    elif args.command == "merge":
        from .shards import merge

        for assignment in _with_submissions(course, args.assignments):
            print(merge(course, assignment))
    elif args.command == "feedback":
        from .feedback import feedback

        for assignment in _with_submissions(course, args.assignments):
            print(f"{assignment}: {len(feedback(course, assignment))} feedback file(s) in {course.feedback}")
    elif args.command == "similarity":
        from .similarity import similarity_report

        for chapter_id in args.chapters or sorted({a.split("-")[0] for a in _with_submissions(course, [])}):
            print(similarity_report(course, chapter_id, course.root / args.output_dir))
    elif args.command == "export":
        from .export import export
        from .lms_feedback import package_feedback

        chosen = dict(item.split("=", 1) for item in args.canvas_assignment if "=" in item)
        report = export(course, course.root / args.output_dir, lms=args.lms,
                        missing_as_zero=args.missing == "zero", parts=args.parts, canvas_assignments=chosen)
        if args.lms != "none":
            report.files += package_feedback(course, course.root / args.output_dir, args.lms, report.notes)
        print(report)
    elif args.command == "formgrader":
        from .formgrader import run as run_formgrader

        run_formgrader(course.root, *args.options)
    elif args.command == "report":
        from .report import report

        path, table = report(course, course.root / args.output)
        print(table)
        print(f"Histograms written to {path}")
    elif args.command == "misconceptions":
        from .misconceptions import misconceptions

        path, text, _ = misconceptions(course, _with_submissions(course, args.assignments),
                                       course.root / args.output)
        print(text)
        print(f"Figure written to {path}, table to {path.with_suffix('.md')}")
    return 0


def _with_submissions(course: Course, assignments: list[str]) -> list[str]:
    if assignments:
        return [course.check_assignment(a) for a in assignments]
    found = [a for a in course.assignments if course.submissions(a)]
    if not found:
        raise CourseError(f"expected submissions in {course.submitted}, found none "
                          "(place them with: make import FROM=<LMS download> ASSIGNMENT=<chapter>)")
    return found


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date and time in ISO 8601 (2026-03-01T23:59-06:00), "
                                         f"got {text!r}") from None
    return when if when.tzinfo else when.astimezone()  # no zone given: this computer's


def _save_report(course: Course, name: str, text: str) -> None:
    path = course.root / "reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
