"""Helpers for the tests of the chapters' check modules: verdicts of a namespace of student functions."""

from __future__ import annotations

from coursework.grading import Checker
from coursework.grading.verdict import Verdict


def verdicts(assignment: str, namespace: dict, grade_ids=None) -> dict[str, Verdict]:
    """Every behaviour's verdict (or those of ``grade_ids``) on the functions of ``namespace``."""
    checker = Checker(assignment)
    return {g: checker.verdict(g, namespace) for g in grade_ids or checker.behaviours}


def failing(assignment: str, namespace: dict, grade_ids=None) -> set[str]:
    return {g for g, v in verdicts(assignment, namespace, grade_ids).items() if not v.passed}


def of_function(assignment: str, function: str) -> list[str]:
    """The grade_ids of the behaviours of one function."""
    return [g for g, b in Checker(assignment).behaviours.items() if b.function == function]


def stub(*args, **kwargs):
    """What the released notebook's answer cells hold."""
    raise NotImplementedError()
