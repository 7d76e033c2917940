"""Similarity hints: what the fingerprint ignores, what it keeps, and the report over a class."""

from __future__ import annotations

import json

from coursekit import load, make_course, notebook_in, with_answer

from coursework.chapters import CHAPTERS
from coursework.instructor.course import Course
from coursework.instructor.fingerprint import fingerprints
from coursework.instructor.similarity import similarity_report

ORIGINAL = '''
def mse_loss(input, target, reduction="mean"):
    """Mean squared error."""
    if input.shape != target.shape:
        raise ValueError(f"shapes differ: {input.shape} and {target.shape}")
    squared = (input - target) ** 2  # elementwise
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()
'''
DISGUISED = '''
def mse_loss(y_hat, y, reduction='mean'):
    # a copy with other names, no docstring, other messages and spacing
    if y_hat.shape!=y.shape: raise ValueError("no")
    e=(y_hat-y)**2
    if reduction=='none':
        return e
    return e.sum() if reduction=='sum' else e.mean()
'''
DIFFERENT = '''
def mse_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    total = torch.zeros(())
    for a, b in zip(input.flatten(), target.flatten()):
        total = total + (a - b) * (a - b)
    return total / input.numel() if reduction == "mean" else total
'''


def test_names_comments_docstrings_messages_and_formatting_do_not_hide_a_copy():
    original, disguised = fingerprints(ORIGINAL)["mse_loss"], fingerprints(DISGUISED)["mse_loss"]
    assert original.normalised == disguised.normalised
    assert original.resemblance(disguised) == 1.0


def test_what_the_code_does_is_kept():
    original, different = fingerprints(ORIGINAL)["mse_loss"], fingerprints(DIFFERENT)["mse_loss"]
    assert original.resemblance(different) < 0.3
    swapped = fingerprints(ORIGINAL.replace('reduction == "sum"', 'reduction == "mean"'))["mse_loss"]
    assert swapped.normalised != original.normalised  # the strings a function compares to are logic
    assert fingerprints("def broken(:\n") == {}


def test_the_report_groups_identical_submissions_and_names_the_reference(tmp_path):
    chapter = next(c for c in CHAPTERS if "lossfns.functional.mse_loss" in c.graded)
    es, en = chapter.assignments
    course = Course(make_course(tmp_path / "course", [es, en]))
    solution = load(notebook_in(course.root, "solutions", es))
    blank = load(notebook_in(course.root, "solutions", es))
    for cell in blank["cells"]:  # as nbgrader releases it: signature and docstring, then the stub
        if cell["metadata"].get("nbgrader", {}).get("solution") and cell["cell_type"] == "code":
            source = "".join(cell["source"])
            start, end = source.index("### BEGIN SOLUTION"), source.index("### END SOLUTION")
            after = source[end + len("### END SOLUTION"):]
            cell["source"] = source[:start] + "raise NotImplementedError()" + after
    (course.exercises / es).mkdir(parents=True)
    notebook_in(course.root, "exercises", es).write_text(json.dumps(blank))
    own = with_answer(blank, "mse_loss_answer", DIFFERENT)
    disguised = with_answer(blank, "mse_loss_answer", DISGUISED)
    copied = with_answer(blank, "mse_loss_answer", ORIGINAL)
    submissions = {**{f"same{i}": solution for i in range(8)},  # eight byte-identical notebooks
                   "own": own, "disguised": disguised, "copied": copied, "blank": blank}
    for student, notebook in submissions.items():
        path = notebook_in(course.root, f"submitted/{student}", es)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(notebook))
    report = similarity_report(course, chapter.id, tmp_path / "reports")
    # copied and disguised answered only mse_loss, the same way: the same answers too
    assert report.groups == [["copied", "disguised"], [f"same{i}" for i in range(8)]]
    same8 = tuple(f"same{i}" for i in range(8))
    by_function = {c.function: c for c in report.clusters if c.students == same8}
    assert set(by_function) >= {"mse_loss", "l1_loss", "huber_loss"}  # each the same as the solution
    assert all(c.reference.startswith("solutions/") for c in by_function.values())
    everyone = {s for c in report.clusters for s in c.students} | {p.first for p in report.pairs}
    assert "own" not in everyone and "blank" not in everyone  # an own answer, and no answer, are no hint
    page = report.path.read_text(encoding="utf-8")
    assert "disguised" in page and "<pre>" in page and "<script" not in page
    assert "12 submission(s) compared" in str(report)
