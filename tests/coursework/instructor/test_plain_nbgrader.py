"""Plain `nbgrader autograde`, run by hand, grades in the sandbox too (nbgrader_config.py sets it up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coursekit import (
    chapter_with_cell,
    graded_points,
    load,
    make_course,
    notebook_in,
    put_venv_on_path,
    scores,
    with_answer,
)

from coursework.instructor.cli import main


def test_nbgrader_autograde_uses_the_sandbox_and_never_the_instructors_kernel(tmp_path):
    put_venv_on_path()
    assignment = chapter_with_cell("l1_loss_answer").assignment("en")
    course = make_course(tmp_path / "course", [assignment])
    assert main(["--course", str(course), "release"]) == 0
    solution = load(notebook_in(course, "solutions", assignment))
    marker = tmp_path / "student-code-ran-here"
    # Honest answers, plus a line that would leave a file behind if it ran outside the sandbox.
    cheeky = with_answer(solution, "l1_loss_answer",
                         f"open({str(marker)!r}, 'w').close()\n"
                         + "".join(next(c for c in solution["cells"] if c["metadata"].get("nbgrader", {})
                                        .get("grade_id") == "l1_loss_answer")["source"]))
    target = notebook_in(course, "submitted/kim", assignment)
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(cheeky), encoding="utf-8")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(nbgrader), "autograde", assignment], check=False, cwd=course,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    points = graded_points(solution)
    got = scores(course, assignment)["kim"]
    assert {g: got[g] for g in points} == {g: (0.0 if g == "l1_loss" else p) for g, p in points.items()}
    assert not marker.exists()  # the open() ran in the sandbox, where that path does not exist
