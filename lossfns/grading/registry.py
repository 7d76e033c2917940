"""Assignments of the course: one per chapter and language, e.g. ``ch1-es``.

Each chapter module (``ch1`` ... ``ch5``) lists its ``BEHAVIOURS``; the
grade_ids and points are the same in both languages.
"""

from __future__ import annotations

import importlib

from .behaviour import Behaviour
from .messages import LANGUAGES

CHAPTERS = ("ch1", "ch2", "ch3", "ch4", "ch5")
ASSIGNMENTS = tuple(f"{chapter}-{language}" for chapter in CHAPTERS for language in LANGUAGES)


def parse_assignment(assignment: str) -> tuple[str, str]:
    """``'ch1-es'`` -> ``('ch1', 'es')``; ValueError for anything else."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"expected an assignment id such as 'ch1-es' (one of {', '.join(ASSIGNMENTS)}), "
                         f"got {assignment!r}")
    chapter, language = assignment.split("-")
    return chapter, language


def chapter_module(chapter: str):
    """The module holding a chapter's behaviours (imported on first use)."""
    return importlib.import_module(f"{__package__}.{chapter}")


def behaviours(assignment: str) -> dict[str, Behaviour]:
    """The behaviours of an assignment, by grade_id, in notebook order."""
    chapter, _ = parse_assignment(assignment)
    return {b.grade_id: b for b in chapter_module(chapter).BEHAVIOURS}
