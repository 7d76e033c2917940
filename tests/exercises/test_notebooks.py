"""The exercise notebooks: shape, es/en parity, no outputs, in sync with nbgrader, graded as promised.

Also what the points reward: at most a tenth for input validation (a notebook that validates and computes
nothing earns no more, graded in the sandbox), at least 70% autograded, a rubric for every written answer
(gone from the released notebook), and Run All on a half-done notebook reaching the end.
"""

from __future__ import annotations

import ast
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
    assert headings and all(re.search(rf"\((\d+(\.\d+)?) {word}s?\)$", h) for h in headings), headings
    assert source(cells[-1]).endswith("check.summary()") and nbgrader_meta(cells[-1])["locked"]


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


# -- what the points reward ----------------------------------------------------------------------------

def points_by_kind(assignment: str) -> dict[str, float]:
    """Points of the notebook by kind: validation, values, derivation (autograded) and written."""
    found = {"validation": 0.0, "values": 0.0, "derivation": 0.0}
    for behaviour in behaviours(assignment).values():
        found[behaviour.kind] += behaviour.points
    found["written"] = sum(nbgrader_meta(c)["points"] for c in notebook("solutions", assignment)["cells"]
                           if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution"))
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validation_is_at_most_a_tenth_and_autograding_at_least_seventy_percent(assignment):
    kinds = points_by_kind(assignment)
    auto = kinds["validation"] + kinds["values"] + kinds["derivation"]
    assert kinds["validation"] <= 0.1 * auto
    assert auto >= 0.7 * (auto + kinds["written"])


RUBRIC = {"es": "**Rúbrica", "en": "**Rubric"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_written_answer_has_a_rubric_that_the_release_removes(assignment):
    _, language = parse_assignment(assignment)
    written, released = ([c for c in notebook(kind, assignment)["cells"]
                          if nbgrader_meta(c).get("grade_id") == "written_answer"]
                         for kind in ("solutions", "exercises"))
    text = source(written[0])
    assert RUBRIC[language] in text and "### BEGIN SOLUTION" in text
    points = nbgrader_meta(written[0])["points"]
    assert re.search(rf"\({points:g} (puntos|points)", text)
    assert RUBRIC[language] not in source(released[0]) and "BEGIN SOLUTION" not in source(released[0])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_try_it_cells_survive_a_function_not_written_yet(assignment):
    """Cells that call the student's functions run them inside check.trying(): Run All goes on."""
    functions = {b.function for b in behaviours(assignment).values()}
    for cell in notebook("solutions", assignment)["cells"]:
        if cell["cell_type"] != "code" or nbgrader_meta(cell):
            continue
        calls = {node.func.id for node in ast.walk(ast.parse(source(cell)))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        if calls & functions:
            assert "with check.trying():" in source(cell), source(cell)[:200]


def _computing_nothing(cell_source: str) -> str:
    """The answer cell with every ``return X`` of its functions replaced by zeros shaped like X: the input
    validation is kept, nothing is computed."""
    tree = ast.parse(cell_source)

    class Zero(ast.NodeTransformer):
        def visit_Return(self, node):
            if node.value is not None:
                node.value = ast.Call(ast.Name("_nothing", ast.Load()), [node.value], [])
            return node

    return ast.unparse(ast.fix_missing_locations(Zero().visit(tree)))


NOTHING = ('def _nothing(value):\n'
           '    if isinstance(value, torch.Tensor):\n        return torch.zeros_like(value)\n'
           '    if isinstance(value, (tuple, list)):\n'
           '        return type(value)(_nothing(v) for v in value)\n'
           '    if isinstance(value, dict):\n        return {k: _nothing(v) for k, v in value.items()}\n'
           '    return 0.0\n')


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validating_without_computing_earns_at_most_a_tenth_of_the_autograded_points(assignment, sandbox):
    nb = nbformat.read(path("solutions", assignment), 4)
    answers = [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    for cell in answers:
        cell.source = _computing_nothing(cell.source)
    answers[0].source = NOTHING + answers[0].source
    verdicts = grade_notebook(nb, assignment, sandbox, seed=12345)
    validation = {g for g, b in behaviours(assignment).items() if b.kind == "validation"}
    assert {g for g, v in verdicts.items() if v.passed} == validation  # the validation still passes
    earned = sum(v.points for v in verdicts.values())
    assert earned <= 0.1 * sum(b.points for b in behaviours(assignment).values())


def test_run_all_on_a_half_done_notebook_reaches_the_end_and_says_where_each_part_is(tmp_path):
    """Spanish chapter-1 notebook: MSE written, MAE wrong, the rest still the released stubs."""
    from nbclient import NotebookClient

    from coursework.chapters import CHAPTERS

    assignment = CHAPTERS[0].assignment("es")
    nb = nbformat.read(path("exercises", assignment), 4)
    solved = {nbgrader_meta(c).get("grade_id"): c
              for c in nbformat.read(path("solutions", assignment), 4).cells}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id == "mse_loss_answer":
            cell.source = solved[grade_id].source
        elif grade_id == "l1_loss_answer":
            cell.source = ("def l1_loss(input, target, reduction='mean'):\n"
                           "    return (input - target).mean()\n")
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    summary = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert re.search(r"mse_loss\s+✓ lista", summary) and re.search(r"l1_loss\s+✗ falla", summary)
    assert re.search(r"huber_loss\s+· sin intentar", summary) and "Diagnóstico" in summary
