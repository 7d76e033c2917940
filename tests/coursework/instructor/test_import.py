"""Importing Moodle and Canvas downloads (and plain folders): every file placed or reported, nothing lost.

No grading here (see test_workflow.py): each download follows the LMS's documented naming and holds the
cases instructors meet, and each test checks where every file went.
"""

from __future__ import annotations

import json
import shutil

import pytest
from coursekit import (
    canvas_name,
    load,
    make_course,
    moodle_path,
    moodle_worksheet,
    notebook_in,
    put_venv_on_path,
    write_csv,
    write_zip,
)

from coursework.chapters import CHAPTERS
from coursework.instructor.class_list import import_class_list
from coursework.instructor.cli import main
from coursework.instructor.course import Course
from coursework.instructor.importer import import_download
from coursework.lms.ledger import HELD, NOT_READ, PLACED, REPLACED, Ledger

CHAPTER, OTHER = CHAPTERS[1], CHAPTERS[0]
ES, EN = CHAPTER.assignment("es"), CHAPTER.assignment("en")
NB_ES, NB_EN = CHAPTER.notebook("es"), CHAPTER.notebook("en")
RENAMED_ES, RENAMED_EN = f"{ES} (1).ipynb", f"{EN} (1).ipynb"  # as a browser renames a second download
ROSTER = [["name", "email", "lms_user_id", "institutional_id", "section"],
          ["Ana García", "ana@uni.mx", "4001", "A0001", "1"],
          ["Luis Pérez", "luis@uni.mx", "4002", "A0002", "1"],
          ["Marta Ruiz", "marta@uni.mx", "4003", "A0003", "2"],
          ["Juan Soto", "juan@uni.mx", "4004", "A0004", "2"],
          ["Óscar Núñez", "oscar@uni.mx", "4005", "A0005", "2"],
          ["Pia Kim", "pia@uni.mx", "4006", "A0006", "1"],
          ["Sin Entrega", "sin@uni.mx", "4007", "A0007", "1"]]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A course with the class list imported (creating nbgrader's gradebook once per module)."""
    put_venv_on_path()
    folder = tmp_path_factory.mktemp("template")
    course = Course(make_course(folder / "course", [ES, EN, OTHER.assignment("es")]))
    import_class_list(course, write_csv(folder / "roster.csv", ROSTER))
    return course.root


@pytest.fixture
def course(template, tmp_path):
    return Course(shutil.copytree(template, tmp_path / "course"))


def notebook(course, assignment, marker=""):
    data = load(notebook_in(course.root, "solutions", assignment))
    data["cells"][0]["source"] = "".join(data["cells"][0]["source"]) + marker
    return json.dumps(data).encode()


def submitted(course, student, assignment):
    return notebook_in(course.root, f"submitted/{student}", assignment)


def fates(course):
    """{file in the download: (action, student, assignment)} from the ledger."""
    return {e.member: (e.action, e.student_id, e.assignment) for e in Ledger(course.root).entries}


def test_a_moodle_download_in_folders_places_every_honest_notebook_and_reports_the_rest(course, tmp_path):
    moodle_worksheet(tmp_path / "worksheet.csv", [
        (101, "Ana García", "ana@uni.mx", "Monday, 2 March 2026, 9:05 AM"),
        (102, "Luis Pérez", "luis@uni.mx", "Sunday, 1 March 2026, 8:00 PM"),
        (103, "Marta Ruiz", "marta@uni.mx", "Sunday, 1 March 2026, 8:00 PM"),
        (104, "Juan Soto", "juan@uni.mx", ""), (105, "Óscar Núñez", "oscar@uni.mx", ""),
        (106, "Pia Kim", "pia@uni.mx", ""), (107, "Sin Entrega", "sin@uni.mx", "")], maximum=10)
    import_class_list(course, tmp_path / "worksheet.csv", CHAPTER.id)
    files = {
        moodle_path("Ana García", 101, CHAPTER.notebook("es")): notebook(course, ES, "ana"),
        moodle_path("Luis Pérez", 102, "entrega_cap2.ipynb"): notebook(course, ES, "luis"),
        moodle_path("Marta Ruiz", 103, "entrega_cap2.ipynb"): notebook(course, ES, "marta"),  # same name
        moodle_path("Juan Soto", 104, "Lab_2.ipynb", trailing=True): notebook(course, EN, "juan"),
        moodle_path("Óscar Núñez", 105, "Copy of x.ipynb"): b"{ not json",  # placed by the chapter: graded 0
        moodle_path("Pia Kim", 106, "a.ipynb"): notebook(course, ES, "pia a"),
        moodle_path("Pia Kim", 106, "b.ipynb"): notebook(course, ES, "pia b"),
        moodle_path("Pia Kim", 106, "notes.pdf"): b"%PDF",
        moodle_path("Nadie Conocido", 199, CHAPTER.notebook("es")): notebook(course, ES, "nobody"),
        moodle_path("Ana García", 101, OTHER.notebook("es")): notebook(course, OTHER.assignment("es")),
        "Ana García_101_assignsubmission_onlinetext/onlinetext.html": b"<p>hola</p>",
    }
    # Made by Info-ZIP: names stored as raw UTF-8 bytes, without the zip's UTF-8 flag.
    raw = {n: n.encode() for n in files if not n.isascii()}
    archive = write_zip(tmp_path / "moodle.zip", files, raw_names=raw)
    report = import_download(course, archive, target=CHAPTER.id)
    got = fates(course)
    assert {k: v for k, v in got.items() if v[0] == PLACED} == {
        moodle_path("Ana García", 101, CHAPTER.notebook("es")): (PLACED, "a0001", ES),
        moodle_path("Luis Pérez", 102, "entrega_cap2.ipynb"): (PLACED, "a0002", ES),
        moodle_path("Marta Ruiz", 103, "entrega_cap2.ipynb"): (PLACED, "a0003", ES),
        moodle_path("Juan Soto", 104, "Lab_2.ipynb", trailing=True): (PLACED, "a0004", EN),
        moodle_path("Óscar Núñez", 105, "Copy of x.ipynb"): (PLACED, "a0005", ES)}
    for student, marker in (("a0001", "ana"), ("a0002", "luis"), ("a0003", "marta")):
        assert submitted(course, student, ES).read_bytes() == notebook(course, ES, marker)
    assert submitted(course, "a0004", EN).read_bytes() == notebook(course, EN, "juan")
    reasons = {e.member: e.note for e in report.entries if e.action in (HELD, NOT_READ)}
    assert "several notebooks" in reasons[moodle_path("Pia Kim", 106, "a.ipynb")]
    assert "several notebooks" in reasons[moodle_path("Pia Kim", 106, "b.ipynb")]
    stranger = moodle_path("Nadie Conocido", 199, CHAPTER.notebook("es"))
    assert "does not list this participant" in reasons[stranger]
    assert f"chapter {CHAPTER.id}'s" in reasons[moodle_path("Ana García", 101, OTHER.notebook("es"))]
    assert reasons[moodle_path("Pia Kim", 106, "notes.pdf")] == "not a notebook (.ipynb)"
    assert reasons["Ana García_101_assignsubmission_onlinetext/onlinetext.html"] == "not a notebook (.ipynb)"
    assert all("[copy: lms/held/" in note for member, note in reasons.items() if member.endswith(".ipynb"))
    assert len(list((course.root / "lms" / "held").iterdir())) == 4  # every notebook not placed is kept
    assert [p.student_id for p in report.missing] == ["a0006", "a0007"]  # Pia's choice is pending
    stamp = submitted(course, "a0001", ES).with_name("timestamp.txt")
    assert stamp.read_text().startswith("2026-03-02 09:05")
    text = str(report)
    assert "No submission from 2 student(s)" in text and "Kept aside in lms/held/" in text


def test_a_moodle_download_without_folders_and_names_matched_without_a_worksheet(course, tmp_path):
    archive = write_zip(tmp_path / "flat.zip", {
        moodle_path("ana garcia", 7, RENAMED_ES, folders=False): notebook(course, ES),
        moodle_path("Desconocida", 8, NB_ES, folders=False): notebook(course, ES)})
    import_download(course, archive, target=ES)
    got = fates(course)
    assert got[moodle_path("ana garcia", 7, RENAMED_ES, folders=False)] == (PLACED, "a0001", ES)
    assert got[moodle_path("Desconocida", 8, NB_ES, folders=False)][0] == HELD


def test_a_canvas_download_keeps_user_and_file_ids_and_the_late_marker(course, tmp_path, capsys):
    files = {canvas_name("García, Ana", 4001, 9001, "entrega_cap2.ipynb"): notebook(course, ES),
             canvas_name("Pérez, Luis", 4002, 9002, RENAMED_EN, late=True): notebook(course, EN),
             canvas_name("Stranger, A", 5555, 9003, NB_ES): notebook(course, ES),
             f"anon_x7Kq2_9004_{NB_ES}": notebook(course, ES)}
    archive = write_zip(tmp_path / "canvas.zip", files)
    assert main(["--course", str(course.root), "import", str(archive), "--assignment", CHAPTER.id,
                 "--due", "2026-03-01T23:59:00-06:00"]) == 0
    assert "[late]" in capsys.readouterr().out
    entries = {e.member: e for e in Ledger(course.root).entries}
    ana = entries[canvas_name("García, Ana", 4001, 9001, "entrega_cap2.ipynb")]
    assert (ana.action, ana.student_id, ana.assignment, ana.lms_key, ana.file_id, ana.late) == (
        PLACED, "a0001", ES, "4001", "9001", "")
    luis = entries[canvas_name("Pérez, Luis", 4002, 9002, RENAMED_EN, late=True)]
    assert (luis.student_id, luis.assignment, luis.late, luis.timestamp) == (
        "a0002", EN, "yes", "2026-03-02T05:59:01+00:00")  # Canvas gives no time: just after the due date
    stamp = submitted(course, "a0002", EN).with_name("timestamp.txt")
    assert stamp.read_text().startswith("2026-03-02 05:59:01")
    assert entries[canvas_name("Stranger, A", 5555, 9003, NB_ES)].action == HELD
    assert "anonymous grading" in entries[f"anon_x7Kq2_9004_{NB_ES}"].note


def test_a_plain_folder_normalises_case_and_refuses_names_without_an_id(course, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / f"A0001_{CHAPTER.notebook('es')}").write_bytes(notebook(course, ES, "upper"))
    (folder / RENAMED_ES).write_bytes(notebook(course, ES))
    (folder / f"Copy of {NB_ES}").write_bytes(notebook(course, ES))
    (folder / "Lab_2.ipynb").write_bytes(notebook(course, ES))  # "Lab" is no student of the class list
    import_download(course, folder)
    got = fates(course)
    assert got[f"A0001_{CHAPTER.notebook('es')}"] == (PLACED, "a0001", ES)
    assert {got[name][0] for name in (RENAMED_ES, f"Copy of {NB_ES}", "Lab_2.ipynb")} == {HELD}
    (folder / f"a0001_{CHAPTER.notebook('es')}").write_bytes(notebook(course, ES, "lower"))
    (folder / f"A0001_{CHAPTER.notebook('es')}").unlink()
    import_download(course, folder)  # the same student in lower case: a newer copy replaces the older one
    assert submitted(course, "a0001", ES).read_bytes() == notebook(course, ES, "lower")
    assert fates(course)[f"a0001_{CHAPTER.notebook('es')}"] == (REPLACED, "a0001", ES)
    archived = list(course.archive.rglob("*.ipynb"))
    assert [p.read_bytes() for p in archived] == [notebook(course, ES, "upper")]


def test_importing_twice_changes_nothing(course, tmp_path):
    archive = write_zip(tmp_path / "m.zip", {moodle_path("Ana García", 1, "x.ipynb"): notebook(course, ES),
                                             moodle_path("Zed", 2, "y.ipynb"): notebook(course, ES, "z")})
    import_download(course, archive, target=CHAPTER.id)
    ledger = (course.root / "lms" / "imports.csv").read_bytes()
    again = import_download(course, archive, target=CHAPTER.id)
    assert (course.root / "lms" / "imports.csv").read_bytes() == ledger
    assert [e.action for e in again.entries if e.member.endswith("x.ipynb")] == ["unchanged"]
    assert "placed 0 submission(s), 1 already there unchanged" in str(again)


def test_a_hostile_zip_is_reported_file_by_file_and_writes_nothing_outside(course, tmp_path):
    import zipfile

    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("../../escape.ipynb", notebook(course, ES))
        bundle.writestr("/abs/escape.ipynb", notebook(course, ES))
        bundle.writestr(moodle_path("Ana García", 1, "bomb.ipynb"), b" " * (16 * 2**20))  # ~1000 times
        bundle.writestr(moodle_path("Ana García", 1, CHAPTER.notebook("es")), notebook(course, ES))
    report = import_download(course, archive, target=CHAPTER.id)
    notes = {e.member: e.note for e in report.entries}
    assert "outside the download" in notes["../../escape.ipynb"]
    assert "outside the download" in notes["/abs/escape.ipynb"]
    assert "zip bomb" in notes[moodle_path("Ana García", 1, "bomb.ipynb")]
    assert submitted(course, "a0001", ES).is_file()
    assert not (tmp_path / "escape.ipynb").exists() and not (course.root.parent / "escape.ipynb").exists()


def test_commands_that_need_a_release_say_which_command_to_run(course, tmp_path, capsys):
    (course.submitted / "a0001" / ES).mkdir(parents=True)
    submitted(course, "a0001", ES).write_bytes(notebook(course, ES))
    assert main(["--course", str(course.root), "autograde", ES]) == 1
    error = capsys.readouterr().err
    assert f"expected {ES} to be released" in error and f"make release ASSIGNMENT={ES}" in error
    assert not (course.root / ".grading_cache").exists()  # no sandbox was started


def test_unknown_sources_and_chapters_get_clear_messages(course, tmp_path, capsys):
    assert main(["--course", str(course.root), "import", str(tmp_path / "missing")]) == 1
    assert "not found" in capsys.readouterr().err
    (tmp_path / "subs.zip").write_text("hello")
    assert main(["--course", str(course.root), "import", str(tmp_path / "subs.zip")]) == 1
    assert "not a zip file" in capsys.readouterr().err
    assert main(["--course", str(course.root), "import", str(tmp_path), "--assignment", "ch99"]) == 1
    assert "expected a chapter id" in capsys.readouterr().err
    assert main(["--course", str(tmp_path), "export"]) == 1
    assert "expected nbgrader_config.py" in capsys.readouterr().err
