"""End to end, as an instructor works: LMS downloads in, grades and feedback for the LMS out.

One course (the chapter whose exercise has mse_loss), a class list, a Moodle download and a Canvas
download of that chapter's assignment, made the way each LMS names its files. Synthetic students:
perfect, partially right, blank, renamed downloads, an answer that raises, one that loops forever
(short time limit here), a file that is not JSON, a late one, a student of no class list, a student
who sent nothing. Expected scores follow from how each notebook was made: the solution's points where
the answer is the solution, 0 where it is the stub.

The graded course is built once per test run (shared by the xdist workers under a file lock); tests
that change it work on a copy.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile

import pytest
from coursekit import canvas_name as canvas_file
from coursekit import (
    cells_by_id,
    chapter_with_cell,
    graded_points,
    load,
    make_course,
    moodle_path,
    moodle_worksheet,
    notebook_in,
    put_venv_on_path,
    scores,
    with_answer,
    write_csv,
    write_zip,
)
from filelock import FileLock

from coursework.instructor.cli import main as cli_main
from coursework.lms.ledger import HELD, NOT_READ, PLACED, Ledger

CHAPTER = chapter_with_cell("mse_loss_answer")
ES, EN = CHAPTER.assignment("es"), CHAPTER.assignment("en")
MSE_BEHAVIOURS = {"mse_loss_mean", "mse_loss_reductions"}
# The 1/(2N) convention of some textbooks: a misconception the grader names (key "half-mse").
HALF_MSE = ("def mse_loss(input, target, reduction='mean'):\n"
            "    squared = (input - target) ** 2 / 2\n"
            "    return {'mean': squared.mean(), 'sum': squared.sum(), 'none': squared}[reduction]\n")
DUE = "2026-03-01T23:59:00-06:00"
# name, email, Canvas user id, institutional id (-> the student id), sortable name, how they submit
PEOPLE = [
    ("Ana García", "ana@uni.mx", "2101", "A0001", "García, Ana", ("moodle", 101, ES, "perfect", "folder")),
    ("Luis Pérez", "luis@uni.mx", "2102", "A0002", "Pérez, Luis", ("moodle", 102, ES, "partial", "folder")),
    ("Marta Ruiz", "marta@uni.mx", "2103", "A0003", "Ruiz, Marta", ("moodle", 103, ES, "perfect", "folder")),
    ("Juan Soto", "juan@uni.mx", "2104", "A0004", "Soto, Juan", ("moodle", 104, EN, "perfect", "flat")),
    ("Pia Kim", "pia@uni.mx", "2105", "A0005", "Kim, Pia", ("moodle", 105, ES, "raises", "trailing")),
    ("Óscar Núñez", "oscar@uni.mx", "2106", "A0006", "Núñez, Óscar", ("moodle", 106, ES, "broken", "folder")),
    ("John Smith", "john@uni.mx", "2201", "A0101", "Smith, John", ("canvas", 9001, EN, "perfect", "")),
    ("Ann Lee", "ann@uni.mx", "2202", "A0102", "Lee, Ann", ("canvas", 9002, EN, "perfect", "late")),
    ("Bo Brown", "bo@uni.mx", "2203", "A0103", "Brown, Bo", ("canvas", 9003, EN, "blank", "")),
    ("Kai Loop", "kai@uni.mx", "2204", "A0104", "Loop, Kai", ("canvas", 9004, ES, "loops", "")),
    ("Hal Mitad", "hal@uni.mx", "2206", "A0106", "Mitad, Hal", ("canvas", 9006, EN, "half", "")),
    ("Sin Entrega", "sin@uni.mx", "2205", "A0105", "Entrega, Sin", None),
]
FILE_NAMES = {"a0001": "{nb}", "a0002": "entrega_cap2.ipynb", "a0003": "entrega_cap2.ipynb",
              "a0004": "Lab_2.ipynb",
              "a0005": "{stem} (1).ipynb", "a0006": "{nb}", "a0101": "{nb}", "a0102": "{stem} (1).ipynb",
              "a0103": "Copy of {nb}", "a0104": "{nb}", "a0106": "{nb}"}


def assignment_points(course) -> float:
    """All the points of the chapter's notebook: its test cells and its written answers."""
    cells = load(notebook_in(course, "solutions", ES))["cells"]
    return sum(c["metadata"]["nbgrader"]["points"] for c in cells
               if c["metadata"].get("nbgrader", {}).get("grade"))


def student_id(person) -> str:
    return person[3].lower()


def notebook_of(course, assignment, kind):
    """(contents or None for a non-JSON file, expected {grade_id: points}) of one kind of student."""
    solution = load(notebook_in(course, "solutions", assignment))
    released = load(notebook_in(course, "exercises", assignment))
    points = graded_points(solution)
    zero = dict.fromkeys(points, 0.0)
    return {
        "perfect": (solution, points),
        "partial": (with_answer(released, "mse_loss_answer",
                                cells_by_id(solution)["mse_loss_answer"]["source"]),
                    {g: (p if g in MSE_BEHAVIOURS else 0.0) for g, p in points.items()}),
        "blank": (released, zero),
        "raises": (with_answer(released, "mse_loss_answer", "raise RuntimeError('boom')"), zero),
        "loops": (with_answer(solution, "l1_loss_answer", "def l1_loss(input, target, reduction='mean'):\n"
                              "    while True:\n        pass\n"),
                  {g: (0.0 if g == "l1_loss" else p) for g, p in points.items()}),
        "broken": (None, zero),
        "half": (with_answer(solution, "mse_loss_answer", HALF_MSE),
                 {g: 0.0 if g in MSE_BEHAVIOURS else p for g, p in points.items()}),
    }[kind]


def build(course):
    """Everything an instructor does before reading the results: release, class list, import, grade,
    feedback, export, similarity. Returns the expected scores."""
    def main(*argv):
        assert cli_main(["--course", str(course), *argv]) == 0, argv

    main("release")
    write_csv(course / "roster.csv", [["name", "email", "lms_user_id", "institutional_id", "sortable_name"]]
              + [list(p[:5]) for p in PEOPLE])
    main("roster", str(course / "roster.csv"))
    moodle_worksheet(course / "worksheet.csv", [(p[5][1], p[0], p[1], "Sunday, 1 March 2026, 8:00 PM")
                                                for p in PEOPLE if p[5] and p[5][0] == "moodle"]
                     + [(107, "Sin Entrega", "sin@uni.mx", "")], maximum=10)
    main("roster", str(course / "worksheet.csv"), "--chapter", CHAPTER.id)
    moodle, canvas, expected = {}, {}, {}
    for person in PEOPLE:
        if person[5] is None:
            continue
        lms, lms_id, assignment, kind, style = person[5]
        chapter_notebook = CHAPTER.notebook(assignment[-2:])
        name = FILE_NAMES[student_id(person)].format(nb=chapter_notebook, stem=chapter_notebook[:-6])
        content, points = notebook_of(course, assignment, kind)
        data = b'{"cells": [ this is not json' if content is None else json.dumps(content).encode()
        expected[(student_id(person), assignment)] = points
        if lms == "moodle":
            path = moodle_path(person[0], lms_id, name, folders=style != "flat", trailing=style == "trailing")
            moodle[path] = data
        else:
            canvas[canvas_file(person[4], int(person[2]), lms_id, name, late=style == "late")] = data
    moodle[moodle_path("Pia Kim", 105, "notes.pdf", trailing=True)] = b"%PDF"
    moodle[moodle_path("Nadie Conocido", 199, CHAPTER.notebook("es"))] = data
    canvas[canvas_file("Stranger, A", 2999, 9999, CHAPTER.notebook("en"))] = data
    # Moodle's zip as Info-ZIP writes it: accented names as raw UTF-8, no UTF-8 flag.
    write_zip(course / "moodle.zip", moodle, raw_names={n: n.encode() for n in moodle if not n.isascii()})
    write_zip(course / "canvas.zip", canvas)
    main("import", str(course / "moodle.zip"), "--assignment", CHAPTER.id)
    main("import", str(course / "canvas.zip"), "--assignment", CHAPTER.id, "--due", DUE)
    shutil.copyfile(course / "gradebook.db", course.parent / "gradebook-before-autograde.db")
    submitted = {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (course / "submitted").rglob("*.ipynb")}
    (course.parent / "submitted.json").write_text(json.dumps(submitted))
    main("autograde", "--workers", "2")
    shutil.copyfile(course / "gradebook.db", course.parent / "gradebook-single-run.db")
    main("feedback")
    main("export", "--parts")
    main("similarity", CHAPTER.id)
    return expected


@pytest.fixture(scope="session")
def graded(tmp_path_factory, request):
    """(course folder, expected scores), built once for all xdist workers."""
    put_venv_on_path()
    base = tmp_path_factory.getbasetemp()
    worker = hasattr(request.config, "workerinput")  # an xdist worker: the run's folder is the parent
    shared = (base.parent if worker else base) / "lms-workflow"
    with FileLock(f"{shared}.lock"):
        if not (shared / "expected.json").is_file():
            shared.mkdir(exist_ok=True)
            course = make_course(shared / "course", [ES, EN], behaviour_timeout=2, total_timeout=20)
            expected = build(course)
            (shared / "expected.json").write_text(json.dumps([[k, v] for k, v in expected.items()]))
    expected = {tuple(k): v for k, v in json.loads((shared / "expected.json").read_text())}
    return shared / "course", expected


@pytest.fixture
def copy_of(graded, tmp_path):
    """A copy of the graded course for a test that changes it."""
    return shutil.copytree(graded[0], tmp_path / "course", symlinks=True)


@pytest.fixture
def shared(graded):
    """The folder holding the graded course and the gradebooks saved while it was built."""
    return graded[0].parent


def run(course, *argv):
    return cli_main(["--course", str(course), *argv])


def test_every_student_gets_the_exact_score_of_each_test_cell(graded):
    course, expected = graded
    got = {a: scores(course, a) for a in (ES, EN)}
    for (student, assignment), points in expected.items():
        assert {g: got[assignment][student][g] for g in points} == pytest.approx(points), student


def test_every_file_of_both_downloads_is_placed_or_reported(graded):
    course, expected = graded
    fates = {(e.download, e.member): e for e in Ledger(course).entries}
    placed = {(e.student_id, e.assignment) for e in fates.values() if e.action == PLACED}
    assert placed == set(expected)  # each honest notebook where it belongs, by LMS identity
    held = {e.member for e in fates.values() if e.action == HELD}
    assert held == {canvas_file("Stranger, A", 2999, 9999, CHAPTER.notebook("en")),
                    moodle_path("Nadie Conocido", 199, CHAPTER.notebook("es"))}
    assert [e.member for e in fates.values() if e.action == NOT_READ] == [
        moodle_path("Pia Kim", 105, "notes.pdf", trailing=True)]
    late = [e for e in fates.values() if e.late]
    assert [(e.student_id, e.timestamp) for e in late] == [("a0102", "2026-03-02T05:59:01+00:00")]
    report = (course / "reports" / f"import-{CHAPTER.id}.txt").read_text(encoding="utf-8")
    assert "No submission from 1 student(s)" in report and "a0105" in report


def test_the_unreadable_submission_is_closed_at_zero_with_its_reason(graded):
    course, _ = graded
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ES, "a0006")
        grades = [g for n in submission.notebooks for g in n.grades]
        comments = [c.auto_comment for n in submission.notebooks for c in n.comments]
        assert submission.score == 0 and not any(g.needs_manual_grade for g in grades)
        assert comments and all("not a readable notebook" in c for c in comments)


def test_submitted_notebooks_are_never_modified(shared):
    for path, digest in json.loads((shared / "submitted.json").read_text()).items():
        with open(path, "rb") as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == digest


def test_feedback_exists_for_every_student_in_the_notebook_language(graded):
    course, expected = graded
    for student, assignment in expected:
        page = notebook_in(course, f"feedback/{student}", assignment).with_suffix(".html").read_text("utf-8")
        if student == "a0006":
            assert "no se pudo leer" in page
        elif student == "a0104":
            assert "se agotó el tiempo" in page
        else:
            assert ("Comprueba que" if assignment == ES else "Check that") in page


def gradebook_totals(course):
    """{student: score of their submission} (one language each here)."""
    return {s: sum(g.values()) for a in (ES, EN) for s, g in scores(course, a).items()}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_the_plain_table_has_every_class_list_student_and_the_gradebook_numbers(graded):
    course, _ = graded
    rows = read_csv(course / "exports" / "grades.csv")
    header, rows = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert header[:4] == ["student_id", "name", "email", CHAPTER.id]
    assert set(rows) == {student_id(p) for p in PEOPLE}
    totals = gradebook_totals(course)
    for student, row in rows.items():
        if student in totals:
            assert float(row[CHAPTER.id]) == pytest.approx(totals[student])
            parts = [float(row[h]) for h in header if h.startswith(f"{CHAPTER.id} part")]
            assert sum(parts) == pytest.approx(totals[student])  # written answers 0 until graded by hand
        else:
            assert row[CHAPTER.id] == ""  # nothing handed in: missing, not 0 (the default)


def test_the_canvas_file_has_canvas_columns_and_the_gradebook_numbers(graded):
    course, _ = graded
    rows = read_csv(course / "exports" / "canvas" / "grades-import.csv")
    header, points, students = rows[0], rows[1], rows[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]  # Canvas's columns
    column = header.index(next(h for h in header if h.startswith(f"{CHAPTER.id} ")))
    assert "Points Possible" in points[0] and float(points[column]) == assignment_points(course)
    by_id = {row[1]: row for row in students}
    assert set(by_id) == {p[2] for p in PEOPLE}  # every student of the class list, by Canvas user id
    totals = gradebook_totals(course)
    for person in PEOPLE:
        row = by_id[person[2]]
        assert (row[0], row[2]) == (person[4], person[3])
        value = row[column]
        assert (float(value) == pytest.approx(totals[student_id(person)])) if student_id(person) in totals \
            else value == ""


def test_the_moodle_worksheet_is_moodles_own_filled_in(graded):
    course, _ = graded
    rows = read_csv(course / "exports" / "moodle" / f"{CHAPTER.id}-grading-worksheet.csv")
    original = read_csv(course / "lms" / "moodle" / f"{CHAPTER.id}-grading-worksheet.csv")
    assert rows[0] == original[0]  # the same columns, in Moodle's order
    assert [r[0] for r in rows[1:]] == [r[0] for r in original[1:]]  # the same participants
    header = rows[0]
    grade, graded_at = header.index("Grade"), header.index("Last modified (grade)")
    totals = gradebook_totals(course)
    maximum = assignment_points(course)
    by_email = {r[header.index("Email address")]: r for r in rows[1:]}
    for person in PEOPLE:
        row = by_email.get(person[1])
        if person[5] is None:
            assert row[grade] == ""  # Moodle skips an empty grade
        elif person[5][0] == "moodle":
            assert float(row[grade]) == pytest.approx(round(totals[student_id(person)] * 10 / maximum, 2))
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row[graded_at])  # for strtotime


def test_feedback_packages_follow_each_lms_naming_and_show_formulas_alone(graded, browser, tmp_path):
    course, _ = graded
    entries = {(e.student_id, e.assignment): e for e in Ledger(course).entries if e.action == PLACED}
    with zipfile.ZipFile(course / "exports" / "moodle" / f"{CHAPTER.id}-feedback.zip") as bundle:
        moodle_names = bundle.namelist()
        page = bundle.read(next(n for n in moodle_names if n.startswith("Ana García_101_")))
    with zipfile.ZipFile(course / "exports" / "canvas" / f"{CHAPTER.id}-feedback.zip") as bundle:
        canvas_names = bundle.namelist()
    # Moodle's importziplib.php: explode('_', name, 5) -> participant id, 'assignfeedback', 'file'.
    moodle_students = {(k, e.lms_key) for k, e in entries.items() if e.layout == "moodle"}
    assert len(moodle_names) == len(moodle_students) == 6
    for name in moodle_names:
        fullname, participant, subtype, plugin, rest = name.split("_", 4)
        assert (subtype, plugin) == ("assignfeedback", "file") and rest.startswith("feedback-")
        assert any(p[0] == fullname and str(p[5][1]) == participant for p in PEOPLE if p[5])
    # Canvas's Assignment#infer_comment_context_from_filename: the first two all-digit parts.
    canvas_ids = {(e.lms_key, e.file_id) for e in entries.values() if e.layout == "canvas"}
    assert {tuple([p for p in n.split("_") if p.isdigit()][:2]) for n in canvas_names} == canvas_ids
    assert any("_LATE_" in name for name in canvas_names)
    text = page.decode("utf-8")
    assert "<script" not in text and "_static" not in text and "cdnjs" not in text
    alone = tmp_path / "alone.html"  # as a student downloads it: no folder of MathJax next to it
    alone.write_bytes(page)
    dom = browser(alone.as_uri())
    assert len(dom.select("mjx-container svg")) >= 5, "formulas not typeset"
    assert not dom.select("mjx-merror")


def test_similarity_flags_the_identical_answers_and_the_reference(graded):
    course, _ = graded
    page = (course / "reports" / f"similarity-{CHAPTER.id}.html").read_text(encoding="utf-8")
    perfect = ["a0001", "a0003", "a0004", "a0101", "a0102", "a0104"]  # a0104 differs only in l1_loss
    group = re.search(r"<h2>Same answers.*?<li>(.*?)</li>", page, re.DOTALL).group(1)
    assert group.split(", ") == [s for s in perfect if s != "a0104"]  # Spanish and English alike
    mse = re.search(r"<tr><td>mse_loss</td><td>(.*?)</td><td>(.*?)</td>", page).groups()
    assert mse == ("a0001, a0002, a0003, a0004, a0101, a0102, a0104", f"solutions/{ES}")
    assert "<pre>" in page and "<script" not in page


def test_regrading_everyone_keeps_manual_grades_and_their_graded_state(copy_of, capsys):
    from nbgrader.api import Gradebook

    db = f"sqlite:///{copy_of / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        for student in ("a0001", "a0003"):
            grade = gradebook.find_grade("written_answer", ES, ES, student)
            grade.manual_score, grade.needs_manual_grade = 1.5, False
        gradebook.db.commit()
    before = {a: scores(copy_of, a) for a in (ES, EN)}
    assert run(copy_of, "autograde", ES) == 0
    out = capsys.readouterr().out  # resumes: only the unreadable one has nothing to resume
    assert "0 graded, 5 already graded" in out and "1 scored 0" in out
    assert run(copy_of, "autograde", ES, "--force") == 0
    assert "manual grades: 2 kept, 0 to review" in capsys.readouterr().out
    assert {a: scores(copy_of, a) for a in (ES, EN)} == before
    with Gradebook(db) as gradebook:
        for student in ("a0001", "a0003"):
            grade = gradebook.find_grade("written_answer", ES, ES, student)
            assert (grade.manual_score, grade.needs_manual_grade) == (1.5, False)


def test_regrading_one_student_after_a_new_submission_flags_only_their_changed_answer(copy_of, capsys):
    from nbgrader.api import Gradebook

    db = f"sqlite:///{copy_of / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        for student in ("a0001", "a0003"):
            grade = gradebook.find_grade("written_answer", ES, ES, student)
            grade.manual_score, grade.needs_manual_grade = 2.0, False
        gradebook.db.commit()
    resubmission = load(notebook_in(copy_of, "solutions", ES))
    cells_by_id(resubmission)["written_answer"]["source"] = "Una respuesta nueva, escrita de otra forma."
    write_zip(copy_of / "again.zip", {moodle_path("Marta Ruiz", 103, "entrega_cap2.ipynb"):
                                      json.dumps(resubmission).encode()})
    assert run(copy_of, "import", str(copy_of / "again.zip"), "--assignment", CHAPTER.id) == 0
    assert "replaced" in capsys.readouterr().out
    assert len(list((copy_of / "collect_archive" / "a0003").rglob("*.ipynb"))) == 1  # the older one, kept
    assert run(copy_of, "autograde", ES, "--student", "a0003") == 0
    out = capsys.readouterr().out
    assert "1 graded" in out and "0 kept, 1 to review" in out
    with Gradebook(db) as gradebook:
        marta = gradebook.find_grade("written_answer", ES, ES, "a0003")
        ana = gradebook.find_grade("written_answer", ES, ES, "a0001")
        assert (marta.manual_score, marta.needs_manual_grade) == (2.0, True)
        assert (ana.manual_score, ana.needs_manual_grade) == (2.0, False)


def gradebook_rows(path):
    """Every grade and comment of every submission, as comparable tuples."""
    submission = ("FROM submitted_notebook sn JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
                  "JOIN assignment a ON sa.assignment_id = a.id")
    with sqlite3.connect(path) as db:
        grades = db.execute(
            "SELECT a.name, sa.student_id, c.name, g.auto_score, g.manual_score, g.needs_manual_grade "
            f"{submission} JOIN grade g ON g.notebook_id = sn.id JOIN base_cell c ON g.cell_id = c.id"
        ).fetchall()
        comments = db.execute(
            f"SELECT a.name, sa.student_id, c.name, cm.auto_comment {submission} "
            "JOIN comment cm ON cm.notebook_id = sn.id JOIN base_cell c ON cm.cell_id = c.id").fetchall()
        submissions = db.execute(f"SELECT a.name, sa.student_id, sa.timestamp, sn.late_submission_penalty "
                                 f"{submission}").fetchall()
    return sorted(grades, key=repr), sorted(comments, key=repr), sorted(submissions, key=repr)


def test_shards_run_as_separate_processes_merge_to_the_single_run_gradebook(copy_of, shared, capsys):
    shutil.copyfile(shared / "gradebook-before-autograde.db", copy_of / "gradebook.db")
    shutil.rmtree(copy_of / "autograded")
    command = [sys.executable, "-m", "coursework.instructor", "--course", str(copy_of), "autograde",
               "--workers", "1", "--shard"]
    shards = [subprocess.Popen([*command, f"{i}/2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for i in range(2)]
    for shard in shards:
        out, err = shard.communicate(timeout=600)
        assert shard.returncode == 0, err[-2000:]
        assert "merge with" in out
    assert run(copy_of, "merge") == 0
    out = capsys.readouterr().out
    merged = sum(int(n) for n in re.findall(r"merged (\d+) student", out))
    assert merged == len(json.loads((shared / "submitted.json").read_text()))
    assert gradebook_rows(copy_of / "gradebook.db") == gradebook_rows(shared / "gradebook-single-run.db")
    assert run(copy_of, "merge") == 1  # merged already: nothing is counted twice
    assert "found none to merge" in capsys.readouterr().err


def test_the_report_draws_one_histogram_per_assignment(graded, tmp_path, capsys):
    course, _ = graded
    assert run(course, "report", "--output", str(tmp_path / "grades.png")) == 0
    assert (tmp_path / "grades.png").stat().st_size > 10_000
    table = capsys.readouterr().out
    assert ES in table and EN in table


def test_feedback_pages_render_their_formulas_offline(graded, browser):
    course, _ = graded
    for student, assignment in (("a0001", ES), ("a0004", EN)):
        page = notebook_in(course, f"feedback/{student}", assignment).with_suffix(".html")
        assert "cdnjs" not in page.read_text(encoding="utf-8")
        dom = browser(page.as_uri())
        assert len(dom.select("mjx-container")) >= 5, f"{page.name}: formulas not typeset"
        assert not dom.select("mjx-merror")


def test_formgrader_shows_formulas_offline(graded, browser, tmp_path):
    import socket
    import time
    import urllib.request

    from coursework.instructor.formgrader import jupyter_command

    course, _ = graded
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
        for _ in range(240):  # a loaded machine can take a minute to start Jupyter
            try:
                urllib.request.urlopen(f"{base}/api", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        with sqlite3.connect(course / "gradebook.db") as db:
            notebook_id, = db.execute(
                "SELECT submitted_notebook.id FROM submitted_notebook JOIN submitted_assignment "
                "ON submitted_notebook.assignment_id = submitted_assignment.id "
                "WHERE student_id = 'a0001' LIMIT 1").fetchone()
        assert urllib.request.urlopen(f"{base}/static/mathjax/tex-chtml.js", timeout=10).status == 200
        dom = browser(f"{base}/formgrader/submissions/{notebook_id}/")
        assert dom.select("mjx-container") and not dom.select("mjx-merror")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_misconception_report_counts_match_the_gradebook(copy_of, capsys):
    course = copy_of
    from coursework.grading.registry import behaviours
    from coursework.instructor.course import Course
    from coursework.instructor.misconceptions import OTHER, count

    assert run(course, "misconceptions", "--output", str(course / "reports" / "misconceptions.png")) == 0
    printed = capsys.readouterr().out
    assert (course / "reports" / "misconceptions.png").stat().st_size > 10_000
    assert (course / "reports" / "misconceptions.md").read_text(encoding="utf-8").strip() in printed
    for assignment in (ES, EN):
        gradebook = scores(course, assignment)
        maximum = {g: b.points for g, b in behaviours(assignment).items()}
        for entry in count(Course(course), assignment):
            failed = {s for s, got in gradebook.items() if got[entry.grade_id] < maximum[entry.grade_id]}
            assert entry.graded == len(gradebook) and entry.failed == len(failed)
            assert entry.not_attempted + sum(entry.diagnoses.values()) == entry.failed
            if entry.grade_id in MSE_BEHAVIOURS and assignment == EN:
                assert entry.diagnoses["half-mse"] == 1  # Hal's 1/(2N), named
                assert entry.not_attempted == 1  # Bo's blank notebook
            if entry.grade_id in MSE_BEHAVIOURS and assignment == ES:
                assert entry.diagnoses[OTHER] == 2  # Pia's cell raises, Óscar's file was never read
    assert "half-mse (1)" in printed and "1/(2N)" in printed
