"""Autograding time: serial vs parallel, sandboxed vs not, against bare notebook execution; a class at scale.

Usage (from the repository root):
    .venv/bin/python benchmarks/bench_autograde.py       # 40 submissions of the first chapter, in Spanish
    .venv/bin/python benchmarks/bench_autograde.py --assignment <assignment id> --submissions 20
    .venv/bin/python benchmarks/bench_autograde.py --scale --submissions 200 --shards 2
    (the assignment ids: .venv/bin/python -m coursework.chapters)

``--scale`` times what a large class costs: one machine grading every submission
(both passes, ``--workers`` sandboxes), then the same number of fresh submissions
graded as ``--shards`` separate processes (``autograde --shard I/N``, one
worker each) and merged; it prints the per-student rates, the fixed cost of a
shard, the merge's cost per student, the machine's load, and the projected wall
time of 2,000 students on N machines like this one.

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


def make_course(directory: Path, assignment: str, submissions: int, isolated: bool, first: int = 0) -> Path:
    """A course with ``submissions`` distinct copies of the solution of ``assignment`` (numbered from
    ``first``, so that two courses share no verdict)."""
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
    for number in range(first, first + submissions):
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


def scale(assignment: str, n: int, shards: int, workers: int, target: int = 2000) -> None:
    """One machine, then ``shards`` processes and a merge, on ``n`` fresh submissions each; a projection."""
    from coursework.instructor.course import Course
    from coursework.instructor.shards import merge

    print(f"{assignment}, {n} submissions, {os.cpu_count()} cores, load average before: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        course = make_course(Path(tmp) / "single", assignment, n, True)
        sandboxes, gradebook = time_autograde(course, assignment, workers)
        single = sandboxes + gradebook
        print(f"one machine, {workers} workers: {single:.1f} s ({n / single:.2f} students/s; sandboxes "
              f"{sandboxes:.1f} s, gradebook {gradebook:.1f} s); load {os.getloadavg()[0]:.1f}", flush=True)
        course = make_course(Path(tmp) / "sharded", assignment, n, True, first=n)  # fresh: no verdict cached
        command = [sys.executable, "-m", "coursework.instructor", "--course", str(course), "autograde",
                   assignment, "--workers", "1", "--shard"]
        start = time.perf_counter()
        running = [(time.perf_counter(), subprocess.Popen([*command, f"{i}/{shards}"], text=True,
                                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
                   for i in range(shards)]
        walls = []
        for began, process in running:
            out, _ = process.communicate()
            if process.returncode:
                raise SystemExit(f"a shard failed:\n{out}")
            walls.append(time.perf_counter() - began)
        sharded = time.perf_counter() - start
        before_merge = time.perf_counter()
        report = merge(Course(course), assignment)
        merged = time.perf_counter() - before_merge
        if len(report.merged) != n or report.failed:
            raise SystemExit(f"merge lost students: {report}")
        fixed = _empty_shard(course, assignment, command)
    walls_text = ", ".join(f"{w:.1f}" for w in walls)
    print(f"{shards} shards as processes, 1 worker each: {sharded:.1f} s (each {walls_text} s); merge "
          f"{merged:.1f} s ({merged / n * 1000:.0f} ms per student); a shard with no student: {fixed:.1f} s; "
          f"load {os.getloadavg()[0]:.1f}")
    per_student = single / n  # seconds per student on one machine with `workers` sandboxes
    print(f"\nprojection for {target} students (machines like this one, {workers} workers each; "
          f"{per_student:.2f} s per student, {fixed:.0f} s fixed per shard, merge {merged / n:.3f} s per "
          "student); one machine needs no merge:")
    print("| machines | wall time | of which merge |\n|---:|---:|---:|")
    for machines in (1, 2, 4, 8, 16, 32):
        merging = merged / n * target if machines > 1 else 0.0
        wall = (fixed if machines > 1 else 0.0) + per_student * -(-target // machines) + merging
        print(f"| {machines} | {wall / 60:.1f} min | {merging / 60:.1f} min |")


def _empty_shard(course: Path, assignment: str, command: list[str]) -> float:
    """Wall time of a shard that owns no student: the fixed cost of one (start, imports, gradebook copy)."""
    from coursework.instructor.shards import Shard

    students = [p.name for p in (course / "submitted").iterdir()]
    count = 10 * len(students)
    index = next(i for i in range(count) if not any(Shard(i, count).owns(s) for s in students))
    start = time.perf_counter()
    subprocess.run([*command, f"{index}/{count}"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default=CHAPTERS[0].assignment("es"))
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--bare", type=int, default=5, help="notebooks to execute with nbconvert")
    parser.add_argument("--scale", action="store_true",
                        help="one machine vs shards and a merge, and a projection")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    if args.scale:
        scale(args.assignment, args.submissions, args.shards, args.workers)
        return
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
