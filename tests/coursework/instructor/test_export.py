"""The grade files: one row per class-list student, one column per chapter, as each LMS imports them.

The gradebook here is filled through nbgrader's API (no grading): each case sets the scores it needs.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from coursekit import (
    canvas_gradebook_export,
    graded_points,
    load,
    make_course,
    notebook_in,
    put_venv_on_path,
    write_csv,
)

from coursework.chapters import CHAPTERS
from coursework.instructor.class_list import import_class_list
from coursework.instructor.course import Course
from coursework.instructor.export import export
from coursework.lms import moodle

CHAPTER = CHAPTERS[0]
ES, EN = CHAPTER.assignments


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Ana handed in both languages (better in English), Luis only Spanish (late, with a penalty),
    Eva nothing; Bo is graded but on no class list."""
    from nbgrader.api import Gradebook

    put_venv_on_path()
    folder = tmp_path_factory.mktemp("export")
    course = Course(make_course(folder / "course", [ES, EN]))
    import_class_list(course, write_csv(folder / "roster.csv", [
        ["name", "email", "lms_user_id", "institutional_id", "section", "sortable_name"],
        ["Ana García", "ana@uni.mx", "11", "A1", "S1", "García, Ana"],
        ["Luis Pérez", "luis@uni.mx", "12", "A2", "S2", "Pérez, Luis"],
        ["Eva Díaz", "eva@uni.mx", "", "A3", "S1", ""]]))
    scores = {(ES, "a1"): 0.5, (EN, "a1"): 1.0, (ES, "a2"): 1.0, (ES, "bo"): 0.0}  # fraction of each cell
    with Gradebook(course.db_url) as gradebook:
        for assignment in (ES, EN):
            gradebook.update_or_create_assignment(assignment)
            gradebook.update_or_create_notebook(assignment, assignment)
            for cell in load(notebook_in(course.root, "solutions", assignment))["cells"]:
                meta = cell["metadata"].get("nbgrader", {})
                if meta.get("grade"):
                    gradebook.update_or_create_grade_cell(meta["grade_id"], assignment, assignment,
                                                          max_score=meta["points"],
                                                          cell_type=cell["cell_type"])
        for (assignment, student), fraction in scores.items():
            gradebook.update_or_create_student(student)
            submission = gradebook.add_submission(assignment, student)
            for grade in submission.notebooks[0].grades:
                grade.auto_score, grade.needs_manual_grade = grade.max_score * fraction, False
            if student == "a2":
                submission.notebooks[0].late_submission_penalty = 1.0
        gradebook.db.commit()
    return course


@pytest.fixture
def fresh(course, tmp_path):
    """A copy of the course, for a test that imports more of the class list."""
    return Course(shutil.copytree(course.root, tmp_path / "course"))


def maximum(course):
    solution = load(notebook_in(course.root, "solutions", ES))
    return sum(graded_points(solution).values()) + sum(
        c["metadata"]["nbgrader"]["points"] for c in solution["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade") and c["metadata"]["nbgrader"].get("solution"))


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_one_row_per_student_the_better_language_and_missing_as_chosen(course, tmp_path):
    top = maximum(course)
    export(course, tmp_path / "blank", lms="none")
    export(course, tmp_path / "zero", lms="none", missing_as_zero=True)
    blank = {r[0]: r for r in rows_of(tmp_path / "blank" / "grades.csv")[1:]}
    zero = {r[0]: r for r in rows_of(tmp_path / "zero" / "grades.csv")[1:]}
    assert set(blank) == {"a1", "a2", "a3", "bo"}
    assert float(blank["a1"][3]) == pytest.approx(top) and blank["a1"][-1] == f"{CHAPTER.id}:en"  # the better
    assert float(blank["a2"][3]) == pytest.approx(top - 1.0)  # nbgrader's late penalty, subtracted
    assert blank["a3"][3] == "" and zero["a3"][3] == "0"


def test_canvas_columns_follow_its_gradebook_and_scores_scale_to_its_points(fresh, tmp_path):
    course = fresh
    export_file = canvas_gradebook_export(
        tmp_path / "canvas.csv",
        [("García, Ana", 11, "A1", "ana", "S1"), ("Pérez, Luis", 12, "A2", "luis", "S2")],
        [(f"Capítulo {CHAPTER.number}: práctica", 555, 100.0), ("Quiz", 556, 5.0)])
    import_class_list(course, export_file)
    report = export(course, tmp_path / "out", lms="canvas", parts=True)
    rows = rows_of(tmp_path / "out" / "canvas" / "grades-import.csv")
    header, points = rows[0], rows[1]
    assert header[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                          f"Capítulo {CHAPTER.number}: práctica (555)"]
    assert header[6].startswith(f"{CHAPTER.id} Part ")  # --parts: one more column per part
    assert points[5] == "100"  # the Canvas assignment's points, unchanged
    by_id = {row[1]: row for row in rows[2:]}
    assert set(by_id) == {"11", "12"}  # Eva has no Canvas id: not in the file, and said so
    assert float(by_id["11"][5]) == pytest.approx(100.0)
    assert float(by_id["12"][5]) == pytest.approx(round((maximum(course) - 1) * 100 / maximum(course), 2))
    assert any("scaled by" in note for note in report.notes)
    assert any("a3" in note and "no Canvas user id" in note for note in report.notes)
    with pytest.raises(ValueError, match="expected Canvas assignment 999"):
        export(course, tmp_path / "again", lms="canvas", canvas_assignments={CHAPTER.id: "999"})


def test_a_spanish_moodle_worksheet_is_filled_in_its_own_columns(fresh, tmp_path):
    course = fresh
    header = ["Identificador", "Nombre completo", "Dirección de correo", "Estado", "Calificación",
              "Calificación máxima", "La calificación puede ser cambiada", "Última modificación (entrega)",
              "Última modificación (calificación)", "Comentarios de retroalimentación"]
    sheet = write_csv(tmp_path / "hoja.csv", [header] + [
        [f"Participante {p}", name, email, "", "", "10,00", "Sí", "-", "-", ""]
        for p, name, email in ((7, "Ana García", "ana@uni.mx"), (8, "Luis Pérez", "luis@uni.mx"),
                               (9, "Eva Díaz", "eva@uni.mx"), (10, "Otra Persona", "otra@uni.mx"))])
    (course.root / "lms" / "moodle").mkdir(parents=True)  # the chapter's worksheet, not (yet) the class list
    shutil.copyfile(sheet, course.root / "lms" / "moodle" / f"{CHAPTER.id}-grading-worksheet.csv")
    report = export(course, tmp_path / "out", lms="moodle", missing_as_zero=True)
    rows = rows_of(tmp_path / "out" / "moodle" / f"{CHAPTER.id}-grading-worksheet.csv")
    assert rows[0] == header
    grades = {moodle.participant_id(r[0]): r[4] for r in rows[1:]}
    top = maximum(course)
    assert grades == {"7": "10.00", "8": f"{(top - 1) * 10 / top:.2f}", "9": "0.00", "10": ""}
    assert any("Otra Persona" in note for note in report.notes)
