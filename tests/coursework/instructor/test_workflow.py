"""End to end: release, collect a zip, autograde in parallel, feedback, export, report.

Synthetic students per language: perfect, partially right, blank, a renamed
download, one whose answer cell raises, one that loops forever (short time
limit here), one whose file is not JSON. Expected scores follow from how each
notebook was made: the solution's points where the answer is the solution, 0
where it is the stub.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile

import pytest
from coursekit import (
    cells_by_id,
    chapter_with_cell,
    graded_points,
    load,
    make_course,
    notebook_in,
    put_venv_on_path,
    scores,
    with_answer,
)

from coursework.instructor.cli import main as cli_main

CHAPTER = chapter_with_cell("mse_loss_answer")
ASSIGNMENTS = list(CHAPTER.assignments)
MSE_BEHAVIOURS = {"mse_loss_mean", "mse_loss_reductions"}
# The 1/(2N) convention of some textbooks: a misconception the grader names (key "half-mse").
HALF_MSE = ("def mse_loss(input, target, reduction='mean'):\n"
            "    squared = (input - target) ** 2 / 2\n"
            "    return {'mean': squared.mean(), 'sum': squared.sum(), 'none': squared}[reduction]\n")


def students(course, assignment):
    """{file name in the zip: (contents, expected {grade_id: points})}."""
    solution = load(notebook_in(course, "solutions", assignment))
    released = load(notebook_in(course, "exercises", assignment))
    points = graded_points(solution)
    zero = dict.fromkeys(points, 0.0)
    mse_only = json_with(released, "mse_loss_answer", cells_by_id(solution)["mse_loss_answer"]["source"])
    lang = assignment[-2:]
    return {
        f"perfect-{lang}_{assignment}.ipynb": (solution, points),
        f"partial-{lang}_{assignment}.ipynb": (mse_only, {g: (p if g in MSE_BEHAVIOURS else 0.0)
                                                         for g, p in points.items()}),
        f"blank-{lang}_{assignment}.ipynb": (released, zero),
        f"renamed-{lang}_{CHAPTER.id} (1).ipynb": (solution, points),
        f"raises-{lang}_{assignment}.ipynb": (json_with(released, "mse_loss_answer",
                                                         "raise RuntimeError('boom')"), zero),
        f"loops-{lang}_{assignment}.ipynb": (json_with(solution, "l1_loss_answer",
                                                        "def l1_loss(input, target, reduction='mean'):\n"
                                                        "    while True:\n        pass\n"),
                                              {g: (0.0 if g == "l1_loss" else p) for g, p in points.items()}),
        f"broken-{lang}_{assignment}.ipynb": (None, zero),
        f"half-{lang}_{assignment}.ipynb": (json_with(solution, "mse_loss_answer", HALF_MSE),
                                            {g: 0.0 if g in MSE_BEHAVIOURS else p
                                             for g, p in points.items()}),
    }


def json_with(notebook, grade_id, source):
    return with_answer(notebook, grade_id, source)


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    put_venv_on_path()
    course = make_course(tmp_path_factory.mktemp("course"), ASSIGNMENTS, behaviour_timeout=2,
                         total_timeout=20)

    def main(argv):
        return cli_main(["--course", str(course), *argv])

    assert main(["release"]) == 0
    expected = {}
    archive = course / "downloads.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for assignment in ASSIGNMENTS:
            for name, (notebook, points) in students(course, assignment).items():
                text = '{"cells": [ this is not json' if notebook is None else json.dumps(notebook)
                bundle.writestr(name, text)
                expected[(name.split("_")[0], assignment)] = points
        bundle.writestr("README.txt", "not a submission")
        bundle.writestr("no-student-id.ipynb", "{}")
    assert main(["collect", str(archive)]) == 0
    submitted = {p: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (course / "submitted").rglob("*.ipynb")}
    assert main(["autograde", "--workers", "2"]) == 0
    assert main(["feedback"]) == 0
    assert main(["export", "--output", str(course / "grades.csv")]) == 0
    assert main(["report", "--output", str(course / "reports" / "grades.png")]) == 0
    return course, expected, submitted


def run(course, *argv):
    return cli_main(["--course", str(course), *argv])


def test_every_student_gets_the_exact_score_of_each_test_cell(graded_course):
    course, expected, _ = graded_course
    for assignment in ASSIGNMENTS:
        got = scores(course, assignment)
        for (student, of_assignment), points in expected.items():
            if of_assignment == assignment:
                assert {g: got[student][g] for g in points} == pytest.approx(points), (student, assignment)


def test_the_gradebook_holds_every_student_including_the_unreadable_one(graded_course):
    course, expected, _ = graded_course
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert {s.id for s in gradebook.students} == {student for student, _ in expected}


def test_submitted_notebooks_are_never_modified(graded_course):
    _course, _, submitted = graded_course
    for path, digest in submitted.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_feedback_exists_for_every_student_in_the_notebook_language(graded_course, capsys):
    course, expected, _ = graded_course
    for student, assignment in expected:
        page = notebook_in(course, f"feedback/{student}", assignment).with_suffix(".html")
        page = page.read_text(encoding="utf-8")
        if student.startswith("broken"):
            assert ("no se pudo leer" if assignment.endswith("es") else "could not be read") in page
        elif student.startswith("loops"):
            assert ("se agotó el tiempo" if assignment.endswith("es") else "time ran out") in page
        else:
            assert ("Comprueba que" if assignment.endswith("es") else "Check that") in page


def test_the_csv_matches_the_gradebook(graded_course):
    course, expected, _ = graded_course
    with open(course / "grades.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    totals = {}
    for assignment in ASSIGNMENTS:
        for student, grades in scores(course, assignment).items():
            totals[(student, assignment[-2:])] = sum(grades.values())
    assert len(rows) == len({student for student, _ in expected})
    for row in rows:
        assert row["chapter"] == CHAPTER.id
        assert float(row["score"]) == pytest.approx(totals[(row["student_id"], row["language"])])


def test_collect_lists_the_files_it_could_not_place(graded_course, capsys):
    course, _, _ = graded_course
    run(course, "collect", str(course / "downloads.zip"))
    out = capsys.readouterr().out
    assert "README.txt: not a notebook" in out and "no-student-id.ipynb: the name does not start" in out
    assert "Placed 0 submission(s)" in out  # nothing changed since the first collect


def test_regrading_is_idempotent_and_resumable(graded_course, capsys):
    course, _, _ = graded_course
    before = {a: scores(course, a) for a in ASSIGNMENTS}
    assert run(course, "autograde", ASSIGNMENTS[0]) == 0
    out = capsys.readouterr().out  # the unreadable one is tried again: it has nothing to resume
    assert "0 graded, 7 already graded" in out and "1 scored 0" in out
    assert run(course, "autograde", ASSIGNMENTS[0], "--force") == 0
    assert {a: scores(course, a) for a in ASSIGNMENTS} == before


def test_the_report_draws_one_histogram_per_assignment(graded_course, capsys):
    course, _, _ = graded_course
    assert (course / "reports" / "grades.png").stat().st_size > 10_000
    run(course, "report", "--output", str(course / "reports" / "again.png"))
    table = capsys.readouterr().out
    assert all(assignment in table for assignment in ASSIGNMENTS)


def test_the_misconception_report_counts_match_the_gradebook(graded_course, capsys):
    from coursework.grading.registry import behaviours
    from coursework.instructor.course import Course
    from coursework.instructor.misconceptions import OTHER, count

    course, _, _ = graded_course
    assert run(course, "misconceptions", "--output", str(course / "reports" / "misconceptions.png")) == 0
    printed = capsys.readouterr().out
    assert (course / "reports" / "misconceptions.png").stat().st_size > 10_000
    assert (course / "reports" / "misconceptions.md").read_text(encoding="utf-8").strip() in printed
    for assignment in ASSIGNMENTS:
        gradebook = scores(course, assignment)
        maximum = {g: b.points for g, b in behaviours(assignment).items()}
        for entry in count(Course(course), assignment):
            failed = {s for s, got in gradebook.items() if got[entry.grade_id] < maximum[entry.grade_id]}
            assert entry.graded == len(gradebook) and entry.failed == len(failed)
            assert entry.not_attempted + sum(entry.diagnoses.values()) == entry.failed
            if entry.grade_id in MSE_BEHAVIOURS:
                assert entry.diagnoses["half-mse"] == 1  # the half-MSE student, named
                assert entry.not_attempted == 1  # blank
                assert entry.diagnoses[OTHER] == 2  # raises (its cell crashed) and broken (never read)
        assert "half-mse (1)" in printed and "1/(2N)" in printed


def test_feedback_pages_render_their_formulas_offline(graded_course, browser):
    course, _, _ = graded_course
    for assignment in ASSIGNMENTS:
        page = notebook_in(course, "feedback/perfect-" + assignment[-2:], assignment).with_suffix(".html")
        assert "cdnjs" not in page.read_text(encoding="utf-8")
        dom = browser(page.as_uri())
        assert len(dom.select("mjx-container")) >= 5, f"{page.name}: formulas not typeset"
        assert not dom.select("mjx-merror")


def test_formgrader_shows_formulas_offline(graded_course, browser, tmp_path):
    import os
    import socket
    import sqlite3
    import subprocess
    import time
    import urllib.request

    from coursework.instructor.formgrader import jupyter_command

    course, _, _ = graded_course
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--IdentityProvider.token=",
               "--ServerApp.password=", f"--ServerApp.runtime_dir={tmp_path / 'runtime'}"]
    if os.geteuid() == 0:
        options.append("--allow-root")
    server = subprocess.Popen(jupyter_command("server", *options), cwd=course, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        with sqlite3.connect(course / "gradebook.db") as db:
            notebook_id, = db.execute(
                "SELECT submitted_notebook.id FROM submitted_notebook JOIN submitted_assignment "
                "ON submitted_notebook.assignment_id = submitted_assignment.id "
                "WHERE student_id LIKE 'perfect-%' LIMIT 1").fetchone()
        assert urllib.request.urlopen(f"{base}/static/mathjax/tex-chtml.js", timeout=10).status == 200
        dom = browser(f"{base}/formgrader/submissions/{notebook_id}/")
        assert dom.select("mjx-container") and not dom.select("mjx-merror")
    finally:
        server.terminate()
        server.wait(timeout=30)
