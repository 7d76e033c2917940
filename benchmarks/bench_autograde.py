"""Autograding time: serial vs parallel, sandboxed vs not, against bare notebook execution.

Usage (from the repository root):
    .venv/bin/python benchmarks/bench_autograde.py       # 40 submissions of the first chapter, in Spanish
    .venv/bin/python benchmarks/bench_autograde.py --assignment <assignment id> --submissions 20
    (the assignment ids: .venv/bin/python -m coursework.chapters)

In one temporary course, the same N submissions (the solution notebook, each
with its own comment so that no verdict is reused from the cache) are
autograded with ``coursework.instructor`` four ways, from scratch each time
(no gradebook, no cache): sandboxed with 1 worker, sandboxed with 2 workers,
unsandboxed (``isolated = False``: the same runner as a plain subprocess) with
1 worker (each timed in its two passes: the sandboxes, then nbgrader writing
the gradebook), and, for reference, a few of the same notebooks executed with plain
``jupyter nbconvert --execute`` (what nbgrader's own autograde does per
notebook, without nbgrader's bookkeeping). Reported: seconds in all and per
submission, and the ratios the issues set targets for: per-submission
autograde / bare execution (target <= 1.3) and sandboxed / unsandboxed
(target <= 1.3).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmark the working tree
from coursework.chapters import CHAPTERS


def make_course(directory: Path, assignment: str, submissions: int, isolated: bool) -> Path:
    """A course with ``submissions`` distinct copies of the solution of ``assignment``."""
    from coursework.instructor.course import Course
    from coursework.instructor.release import release

    if directory.exists():
        shutil.rmtree(directory)
    (directory / "solutions").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / assignment, directory / "solutions" / assignment)
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    (directory / "nbgrader_config.py").write_text(config + f"\nc.SandboxGrade.isolated = {isolated}\n",
                                                   encoding="utf-8")
    release(Course(directory), assignment)
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    solution = json.loads(source.read_text(encoding="utf-8"))
    for number in range(submissions):
        notebook = json.loads(json.dumps(solution))
        answer = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        answer["source"] = "".join(answer["source"]) + f"\n# student {number}\n"
        target = directory / "submitted" / f"s{number:03d}" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(notebook), encoding="utf-8")
    return directory


def time_autograde(directory: Path, assignment: str, workers: int) -> tuple[float, float]:
    """Seconds of the two passes: the sandboxes (answer cells), then nbgrader writing the gradebook."""
    from coursework.grading.autograde_step import forget_this_run
    from coursework.instructor.autograde import autograde, pregrade
    from coursework.instructor.course import Course

    course = Course(directory)
    forget_this_run()  # nothing from the previous run of this process
    start = time.perf_counter()
    pregrade(course, assignment, course.submissions(assignment), workers)
    middle = time.perf_counter()
    report = autograde(course, assignment, workers=workers)  # finds every verdict in the cache
    end = time.perf_counter()
    if report.failed or not report.graded:
        raise SystemExit(f"autograde failed: {report}")
    return middle - start, end - middle


def time_nbconvert(directory: Path, assignment: str, count: int) -> float:
    """Mean seconds of ``jupyter nbconvert --execute`` on ``count`` submitted notebooks."""
    jupyter = Path(sys.executable).parent / "jupyter"
    seconds = []
    for number in range(count):
        notebook = directory / "submitted" / f"s{number:03d}" / assignment / f"{assignment}.ipynb"
        start = time.perf_counter()
        subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(notebook),
                        "--output-dir", str(directory / "executed")], check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return sum(seconds) / len(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default=CHAPTERS[0].assignment("es"))
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--bare", type=int, default=5, help="notebooks to execute with nbconvert")
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    n = args.submissions
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        runs, passes = {}, {}
        for label, isolated, workers in (("sandboxed, 1 worker", True, 1), ("sandboxed, 2 workers", True, 2),
                                         ("not sandboxed, 1 worker", False, 1)):
            course = make_course(Path(tmp) / "course", args.assignment, n, isolated)
            sandboxes, gradebook = time_autograde(course, args.assignment, workers)
            runs[label] = sandboxes + gradebook
            passes[label] = sandboxes
            print(f"{label:<26} {runs[label]:7.1f} s  {runs[label] / n:6.2f} s per submission "
                  f"(sandboxes {sandboxes:.1f} s, gradebook {gradebook:.1f} s)", flush=True)
        bare = time_nbconvert(course, args.assignment, args.bare)
    print(f"{'nbconvert --execute':<26} {bare * n:7.1f} s  {bare:6.2f} s per submission "
          f"(mean of {args.bare}, times {n})")
    per_submission = runs["sandboxed, 1 worker"] / n
    print(f"\n{args.assignment}, {n} submissions, {os.cpu_count()} cores")
    one, two = "sandboxed, 1 worker", "sandboxed, 2 workers"
    print(f"parallel speed-up (1 -> 2 workers):          {runs[one] / runs[two]:.2f}x in all, "
          f"{passes[one] / passes[two]:.2f}x for the sandbox pass (the gradebook pass is serial)")
    print(f"autograde per submission / bare execution:   {per_submission / bare:.2f}  (target <= 1.3)")
    bare_pass = passes["not sandboxed, 1 worker"]
    unsandboxed = runs["not sandboxed, 1 worker"]
    print(f"sandboxed / not sandboxed (1 worker):        {runs[one] / unsandboxed:.2f} in all, "
          f"{passes[one] / bare_pass:.2f} for the sandbox pass  (target <= 1.3)")


if __name__ == "__main__":
    main()
