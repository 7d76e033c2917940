"""Grading of the exercise notebooks, shared by the notebooks and the grader.

Each chapter's check module (named in ``coursework.chapters``) lists the
behaviours its graded test cells check. In a notebook,
``Checker(assignment)(grade_id)`` judges the student's function in place; the
grader judges it from the sandbox instead.
"""

from .behaviour import Behaviour, Case, Misconception
from .checker import Checker
from .registry import behaviours
from .verdict import Verdict

__all__ = ["Behaviour", "Case", "Checker", "Misconception", "Verdict", "behaviours"]
