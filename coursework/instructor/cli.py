"""The instructor's commands: release, collect, autograde, feedback, export, report.

Run from the course root (``make release``, ``make autograde`` ... call these):

    python -m coursework.instructor release [ASSIGNMENT ...]
    python -m coursework.instructor collect SOURCE            # a folder or a .zip of downloads
    python -m coursework.instructor autograde [ASSIGNMENT ...] [--workers N] [--force]
    python -m coursework.instructor feedback [ASSIGNMENT ...]
    python -m coursework.instructor formgrader [JUPYTER OPTION ...]    # manual grading in JupyterLab
    python -m coursework.instructor export [--output grades.csv]
    python -m coursework.instructor report [--output reports/grades.png]
    python -m coursework.instructor misconceptions [ASSIGNMENT ...] [--output reports/misconceptions.png]

Without ASSIGNMENT, every assignment of the course (for autograde and
feedback: every one with submissions).
"""

from __future__ import annotations

import argparse
import os
import sys

from ..grading.sandbox import SandboxUnavailable
from .course import Course, CourseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursework.instructor",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--course", default=".", help="the course's root folder (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("release", "generate the student notebooks in exercises/ from solutions/"),
                            ("autograde", "grade every submission in submitted/"),
                            ("feedback", "write HTML feedback for every graded student")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
        if name == "autograde":
            command.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                                 help="sandboxes grading in parallel (default: one per core)")
            command.add_argument("--force", action="store_true", help="regrade students already graded")
    collect_command = commands.add_parser("collect", help="place downloaded submissions in submitted/")
    collect_command.add_argument("source", help="a folder or a .zip of <student-id>_<anything>.ipynb files")
    export_command = commands.add_parser("export", help="write the grades CSV (languages merged)")
    export_command.add_argument("--output", default="grades.csv")
    formgrader_command = commands.add_parser("formgrader",
                                             help="JupyterLab for manual grading (formulas offline)")
    formgrader_command.add_argument("options", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    report_command = commands.add_parser("report", help="histogram of the scores of each assignment")
    report_command.add_argument("--output", default="reports/grades.png")
    misconceptions_command = commands.add_parser(
        "misconceptions", help="per behaviour: who failed it and the misconceptions recognised (table, plot)")
    misconceptions_command.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    misconceptions_command.add_argument("--output", default="reports/misconceptions.png")
    args = parser.parse_args(argv)
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
    elif args.command == "collect":
        from .collect import collect

        print(collect(course, args.source))
    elif args.command == "autograde":
        from .autograde import autograde

        for assignment in _with_submissions(course, args.assignments):
            print(autograde(course, assignment, workers=args.workers, force=args.force))
    elif args.command == "feedback":
        from .feedback import feedback

        for assignment in _with_submissions(course, args.assignments):
            print(f"{assignment}: {len(feedback(course, assignment))} feedback file(s) in {course.feedback}")
    elif args.command == "export":
        from .export import export

        print(f"Grades written to {export(course, course.root / args.output)}")
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
                          "(place them with: make collect FROM=<folder or zip>)")
    return found
