"""Adversarial regression suite: every known way to cheat, crash or corrupt grading scores 0.

(The routes around a task's rules, class by class and chapter by chapter, are in test_shortcuts.py.)

One course, graded end to end with ``make autograde``'s code path (parallel
sandboxes, nbgrader writing the gradebook), holding honest students and one
student per attack in each language. Each attack replaces the answer cell of
``mse_loss`` in the chapter 1 solution, so the parts it attacks must score 0
while the untouched parts keep their points; attacks that take the whole
notebook down score 0 everywhere. The honest students, graded in the same run
before and after the attackers, keep full marks, and the gradebook and the
other students' files stay intact.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
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

ROOT = Path(__file__).resolve().parents[3]
CHAPTER = chapter_with_cell("mse_loss_answer")  # every generic attack replaces that answer cell
ASSIGNMENTS = list(CHAPTER.assignments)
ATTACKED = {"mse_loss_mean", "mse_loss_reductions"}
WRONG = "def mse_loss(input, target, reduction='mean'):\n    return torch.zeros(())\n"

# name -> (answer cell of mse_loss, what it takes down: "mse" or "all")
ATTACKS = {
    "torch-functional": (("def mse_loss(input, target, reduction='mean'):\n"
                         "    return torch.nn.functional.mse_loss(input, target, reduction=reduction)\n"), "mse"),
    "torch-module": (("def mse_loss(input, target, reduction='mean'):\n"
                     "    return torch.nn.MSELoss(reduction=reduction)(input, target)\n"), "mse"),
    "torch-c-nn": (("def mse_loss(input, target, reduction='mean'):\n"
                   "    return torch._C._nn.mse_loss(input, target, {'none': 0, 'mean': 1, 'sum': 2}[reduction])\n"),
                   "mse"),
    "aten-op": (("def mse_loss(input, target, reduction='mean'):\n"
                "    return torch.ops.aten.mse_loss.default(input, target, {'none': 0, 'mean': 1, 'sum': 2}[reduction])\n"),
                "mse"),
    "jit-operation": (("def mse_loss(input, target, reduction='mean'):\n"
                      "    op = torch._C._jit_get_operation('aten::mse_loss')[0]\n"
                      "    return op(input, target, {'none': 0, 'mean': 1, 'sum': 2}[reduction])\n"), "mse"),
    "reload-functional": (("import importlib, sys\nsys.meta_path.clear()\n"
                          "F = importlib.reload(torch.nn.functional)\n"
                          "def mse_loss(input, target, reduction='mean'):\n"
                          "    return F.mse_loss(input, target, reduction=reduction)\n"), "mse"),
    "import-lossfns": ("from lossfns.functional import mse_loss\n", "mse"),
    "undo-the-blocks": (("import gc, sys\nfor obj in gc.get_objects():\n"
                        "    if isinstance(obj, torch.library.Library):\n        obj._destroy()\n"
                        "try:\n    import blocking\nexcept ImportError:\n"
                        "    blocking = sys.modules.get('blocking')\nif blocking:\n"
                        "    [library._destroy() for library in blocking._libraries]\n"
                        "def mse_loss(input, target, reduction='mean'):\n"
                        "    return torch.nn.functional.mse_loss(input, target, reduction=reduction)\n"), "mse"),
    "fallthrough-kernel": (("try:\n    lib = torch.library.Library('aten', 'IMPL')\n"
                           "    for key in ('CPU', 'CompositeImplicitAutograd', 'CompositeExplicitAutograd'):\n"
                           "        lib.impl('mse_loss', torch.library.fallthrough_kernel, key)\n"
                           "except Exception:\n    pass\n"
                           "def mse_loss(input, target, reduction='mean'):\n"
                           "    return torch.nn.functional.mse_loss(input, target, reduction=reduction)\n"), "mse"),
    "import-keras": (("import keras\ndef mse_loss(input, target, reduction='mean'):\n"
                     "    return keras.losses.mean_squared_error(input, target)\n"), "mse"),
    "read-solutions": ((f"import json\nnb = json.load(open({str(CHAPTER.solution('en'))!r}))\n"
                       "exec(''.join(next(c['source'] for c in nb['cells'] if 'def mse_loss' in ''.join(c['source']))))\n"),
                       "mse"),
    "read-hidden-checks": (f"exec(open({str(ROOT / CHAPTER.checks.replace('.', '/'))!r} + '.py').read())\n"
                           + WRONG, "mse"),
    "patch-comparisons": ("import builtins, math, numpy.testing\n"
                          "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                          "torch.testing.assert_close = lambda *a, **k: None\n"
                          "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                          "math.isclose = lambda *a, **k: True\nbuiltins.isinstance = lambda *a: True\n"
                          "torch.Tensor.__eq__ = lambda *a: torch.tensor(True)\n" + WRONG, "all"),  # breaks its own l1 too
    "input-transformer": ("get_ipython().input_transformers_post.append(\n"
                          "    lambda lines: ['try:\\n'] + ['    ' + l for l in lines] + ['except BaseException:\\n    pass\\n'])\n"
                          + WRONG, "mse"),
    "number-beyond-float": ("def mse_loss(input, target, reduction='mean'):\n    return 10 ** 400\n", "mse"),
    "always-equal": (("class Anything(float):\n    def __eq__(self, other): return True\n"
                     "    def __bool__(self): return True\n    def __float__(self): return 0.0\n"
                     "def mse_loss(input, target, reduction='mean'):\n    return Anything()\n"), "mse"),
    "tensor-subclass": (("class Agree(torch.Tensor):\n    def __eq__(self, other): return True\n"
                        "def mse_loss(input, target, reduction='mean'):\n"
                        "    return torch.zeros(()).as_subclass(Agree)\n"), "mse"),
    "sys-exit": (WRONG + "import sys\nsys.exit(0)\n", "mse"),
    "os-exit": ("import os\nos._exit(0)\n", "all"),
    "kill-the-grader": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)\n",
                        "all"),
    "infinite-loop": ("def mse_loss(input, target, reduction='mean'):\n    while True:\n        pass\n", "mse"),
    "memory-bomb": (("def mse_loss(input, target, reduction='mean'):\n"
                    "    hog = [bytearray(2**26) for _ in range(4)] + [torch.empty(2**36)]\n"
                    "    return torch.zeros(())\n"), "mse"),
    "huge-output": (("print('spam' * 10**7)\ndef mse_loss(input, target, reduction='mean'):\n"
                    "    return torch.zeros(2 * 10**7)\n"), "mse"),
    "fork-bomb": (("import os\ndef mse_loss(input, target, reduction='mean'):\n    while True:\n"
                  "        try:\n            os.fork()\n        except OSError:\n            pass\n"), "mse"),
    "write-gradebook-and-others": ("for path in ['{course}/gradebook.db', '{course}/nbgrader_config.py',\n"
                                   "             '{honest}']:\n"
                                   "    try:\n        open(path, 'w').write('')\n"
                                   "    except OSError:\n        pass\n" + WRONG, "mse"),
    "leave-a-daemon": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(1)\n    while True:\n"
                       "        for name in os.listdir('/proc'):\n            try:\n"
                       "                os.kill(int(name), 9)\n            except (ValueError, OSError):\n"
                       "                pass\n        time.sleep(0.01)\n" + WRONG, "mse"),
}


@pytest.fixture(scope="module")
def attacked_course(tmp_path_factory):
    put_venv_on_path()
    course = make_course(tmp_path_factory.mktemp("adversarial"), ASSIGNMENTS,
                         behaviour_timeout=1.5, total_timeout=20)
    assert main(["--course", str(course), "release"]) == 0
    expected = {}
    honest = notebook_in(course, "submitted/aa-honest-es", CHAPTER.assignment("es"))
    for assignment in ASSIGNMENTS:
        solution = load(notebook_in(course, "solutions", assignment))
        points = graded_points(solution)
        honest_slow = with_answer(solution, "l1_loss_answer",
                                  "import time\ndef l1_loss(input, target, reduction='mean'):\n"
                                  "    time.sleep(0.05)\n"
                                  "    d = [abs(a - b) for a, b in zip(input.flatten().tolist(), target.flatten().tolist())]\n"
                                  "    out = torch.tensor(d, dtype=input.dtype).reshape(input.shape)\n"
                                  "    return {'mean': out.mean(), 'sum': out.sum(), 'none': out}[reduction]\n")
        submissions = {"aa-honest": (solution, points), "zz-honest": (solution, points),
                       "honest-but-slow": (honest_slow, points)}
        for name, (source, reach) in ATTACKS.items():
            submissions[name] = (with_answer(solution, "mse_loss_answer", source.replace("{course}", str(course)).replace("{honest}", str(honest))),
                                 {g: 0.0 if reach == "all" or g in ATTACKED else p for g, p in points.items()})
        edited = json.loads(json.dumps(load(notebook_in(course, "exercises", assignment))))
        for cell in edited["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade") and cell["cell_type"] == "code":
                cell["source"] = "print('✓')"
        edited["cells"] = [c for c in edited["cells"]
                           if c["metadata"].get("nbgrader", {}).get("grade_id") != "huber_loss"]
        submissions["edit-and-delete-tests"] = (edited, dict.fromkeys(points, 0.0))
        for student, (notebook, want) in submissions.items():
            target = notebook_in(course, f"submitted/{student}-{assignment[-2:]}", assignment)
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(notebook), encoding="utf-8")
            expected[(f"{student}-{assignment[-2:]}", assignment)] = want
    files = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (course / "submitted").rglob("*.ipynb")}
    assert main(["--course", str(course), "autograde", "--workers", "2"]) == 0
    return course, expected, files


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_attack_scores_zero_on_what_it_attacks_and_honest_work_keeps_full_marks(attacked_course,
                                                                                     assignment):
    course, expected, _ = attacked_course
    got = scores(course, assignment)
    wrong = {student: (got.get(student), want) for (student, a), want in expected.items()
             if a == assignment and {g: got.get(student, {}).get(g) for g in want} != want}
    assert not wrong, wrong


def test_the_gradebook_is_intact_and_holds_every_student(attacked_course):
    course, expected, _ = attacked_course
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        students = {row[0] for row in db.execute("SELECT id FROM student")}
    assert students == {student for student, _ in expected}


def test_no_submitted_notebook_was_touched(attacked_course):
    _, _, files = attacked_course
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == digest for p, digest in files.items())


def test_regrading_after_the_attacks_gives_the_same_scores(attacked_course):
    course, _, _ = attacked_course
    before = {a: scores(course, a) for a in ASSIGNMENTS}
    (course / ".grading_cache").rename(course / ".grading_cache.old")  # really run the sandboxes again
    assert main(["--course", str(course), "autograde", ASSIGNMENTS[0], "--force", "--workers", "2"]) == 0
    assert {a: scores(course, a) for a in ASSIGNMENTS} == before


def test_feedback_says_why_in_the_student_language(attacked_course):
    course, _, _ = attacked_course
    from coursework.instructor.course import Course
    from coursework.instructor.feedback import feedback

    spanish = CHAPTER.assignment("es")
    feedback(Course(course), spanish)
    page = notebook_in(course, "feedback/torch-functional-es", spanish).with_suffix(".html").read_text("utf-8")
    assert "no está permitida al calificar" in page
    page = notebook_in(course, "feedback/infinite-loop-es", spanish).with_suffix(".html").read_text("utf-8")
    assert "se agotó el tiempo" in page
