"""The exercise notebooks: shape, es/en parity, no outputs, in sync with nbgrader, graded as promised."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from coursework.chapters import ASSIGNMENTS, CHAPTERS, parse_assignment
from coursework.grading import behaviours
from coursework.grading.grade import grade_notebook
from coursework.grading.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCSTRING = {"es": '"""Comprueba que ', "en": '"""Check that '}


def path(kind: str, assignment: str) -> Path:
    """The notebook of ``assignment`` in ``kind`` ('solutions' or 'exercises'), from the registry."""
    chapter, language = parse_assignment(assignment)
    return chapter.solution(language) if kind == "solutions" else chapter.exercise(language)


def notebook(kind: str, assignment: str) -> dict:
    return json.loads(path(kind, assignment).read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


@pytest.mark.parametrize("kind", ["solutions", "exercises"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_are_stored_without_outputs(kind, assignment):
    nb = notebook(kind, assignment)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert nb["metadata"]["lossfns"]["assignment"] == assignment


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.id)
def test_spanish_and_english_notebooks_match_cell_for_cell(chapter):
    es, en = notebook("solutions", chapter.assignment("es")), notebook("solutions", chapter.assignment("en"))
    keys = ("grade_id", "points", "grade", "solution", "locked")
    assert [(c["cell_type"], {k: nbgrader_meta(c).get(k) for k in keys}) for c in es["cells"]] == \
           [(c["cell_type"], {k: nbgrader_meta(c).get(k) for k in keys}) for c in en["cells"]]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_test_cell_checks_one_behaviour_with_its_points(assignment):
    _, language = parse_assignment(assignment)
    expected = {b.grade_id: b.points for b in behaviours(assignment).values()}
    cells = [c for c in notebook("solutions", assignment)["cells"] if is_test_cell(c)]
    assert {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in cells} == expected
    for cell in cells:
        grade_id = nbgrader_meta(cell)["grade_id"]
        first, *rest = source(cell).splitlines()
        assert first.startswith(DOCSTRING[language]), (grade_id, first)
        assert f'check("{grade_id}")' in rest


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_notebook_has_a_setup_cell_parts_with_points_and_one_written_answer(assignment):
    _, language = parse_assignment(assignment)
    cells = notebook("solutions", assignment)["cells"]
    setup = [c for c in cells if nbgrader_meta(c).get("grade_id") == "setup"]
    assert len(setup) == 1 and f'Checker("{assignment}")' in source(setup[0])
    written = [c for c in cells if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    written_ids = [(c["cell_type"], nbgrader_meta(c)["grade_id"]) for c in written]
    assert written_ids == [("markdown", "written_answer")]
    word = {"es": "punto", "en": "point"}[language]
    headings = [line for c in cells if c["cell_type"] == "markdown" for line in source(c).splitlines()
                if line.startswith("## ")]
    assert headings and all(re.search(rf"\(\d+ {word}s?\)$", h) for h in headings), headings


def test_exercises_are_what_nbgrader_generates_from_solutions(tmp_path):
    """exercises/ is committed for the book; it must be exactly `make release`'s output."""
    from coursekit import make_course, put_venv_on_path

    from coursework.instructor.cli import main

    put_venv_on_path()
    course = make_course(tmp_path / "course", list(ASSIGNMENTS))
    assert main(["--course", str(course), "release"]) == 0
    for assignment in ASSIGNMENTS:
        generated = (course / path("exercises", assignment).relative_to(ROOT)).read_text(encoding="utf-8")
        committed = path("exercises", assignment).read_text(encoding="utf-8")
        assert generated == committed, f"exercises/{assignment} is out of date: run `make release`"
    assert sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir()) == sorted(ASSIGNMENTS)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as box:
        yield box


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_score_full_marks_and_released_notebooks_zero(assignment, sandbox):
    def grade(kind):
        return grade_notebook(nbformat.read(path(kind, assignment), 4), assignment, sandbox, seed=12345)

    solution, released = grade("solutions"), grade("exercises")
    points = {g: b.points for g, b in behaviours(assignment).items()}
    assert {g: v.points for g, v in solution.items()} == points
    assert {g: v.points for g, v in released.items()} == dict.fromkeys(behaviours(assignment), 0.0)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebooks_run_top_to_bottom_as_a_student_would(assignment, tmp_path):
    """Executed in a kernel like a student's: every cell runs and every check prints ✓."""
    from nbclient import NotebookClient

    nb = nbformat.read(path("solutions", assignment), 4)
    shutil.copy(path("solutions", assignment), tmp_path)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    for cell in nb.cells:
        if is_test_cell(cell):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "✓" in text and not any(o.output_type == "error" for o in cell.outputs), text
