"""Cached verdicts: reused when nothing they depend on changed, never kept for a time-out."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from coursekit import chapter_with_cell, load, with_answer

from coursework.grading.autograde_step import CACHE_DIRECTORY, verdicts_for
from coursework.grading.sandbox import Sandbox

ASSIGNMENT = chapter_with_cell("l1_loss_answer").assignment("en")


def notebook(answer_source=None):
    chapter = chapter_with_cell("l1_loss_answer")
    solution = load(chapter.solution("en"))
    if answer_source:
        solution = with_answer(solution, "l1_loss_answer", answer_source)
    return nbformat.reads(json.dumps(solution), 4)


def test_stable_verdicts_are_cached_and_timeouts_are_not(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSFNS_GRADING_SEED", "99")
    cache = tmp_path / CACHE_DIRECTORY
    with Sandbox() as box:
        honest = verdicts_for(notebook(), ASSIGNMENT, course_root=str(tmp_path), box=lambda: box,
                              behaviour_timeout=1, total_timeout=20)
        assert all(v.passed for v in honest.values()) and len(list(cache.glob("*.json"))) == 1
        looping = notebook("def l1_loss(input, target, reduction='mean'):\n    while True:\n        pass\n")
        verdicts = verdicts_for(looping, ASSIGNMENT, course_root=str(tmp_path), box=lambda: box,
                                behaviour_timeout=1, total_timeout=20)
        assert verdicts["l1_loss"].points == 0 and verdicts["l1_loss"].transient
        assert len(list(cache.glob("*.json"))) == 1  # the time-out was not stored

    def no_sandbox():
        raise AssertionError("a cached verdict must not need the sandbox")

    again = verdicts_for(notebook(), ASSIGNMENT, course_root=str(tmp_path), box=no_sandbox,
                         behaviour_timeout=1, total_timeout=20)
    assert {g: v.points for g, v in again.items()} == {g: v.points for g, v in honest.items()}
    monkeypatch.setenv("LOSSFNS_GRADING_SEED", "100")  # another seed: other hidden inputs, no reuse
    with pytest.raises(AssertionError, match="must not need the sandbox"):
        verdicts_for(notebook(), ASSIGNMENT, course_root=str(tmp_path), box=no_sandbox,
                     behaviour_timeout=1, total_timeout=20)


def test_the_code_version_follows_checks_and_references_not_the_instructor_commands(tmp_path, monkeypatch):
    from coursework.grading import cache

    root = cache.ROOT
    for name in ("lossfns", "coursework"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "ROOT", tmp_path)

    def version():
        cache.code_version.cache_clear()
        return cache.code_version()

    before = version()
    (tmp_path / "coursework" / "instructor" / "export.py").write_text("# edited\n", encoding="utf-8")
    assert version() == before
    (tmp_path / "coursework" / "checks" / "new_check.py").write_text("# a new check\n", encoding="utf-8")
    assert version() != before
    cache.code_version.cache_clear()
