"""The graded behaviours of an assignment, looked up through the chapter registry.

The registry (``coursework.chapters``) names each chapter's check module; that
module lists its ``BEHAVIOURS`` (the same grade_ids and points in every language),
the primitives it ``BLOCKED`` and the helpers the sandbox ``PROVIDED``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..chapters import Chapter, parse_assignment
from .behaviour import Behaviour


def check_module(chapter: Chapter) -> ModuleType:
    """The module holding a chapter's behaviours (imported on first use)."""
    return importlib.import_module(chapter.checks)


def behaviours(assignment: str) -> dict[str, Behaviour]:
    """The behaviours of an assignment, by grade_id, in notebook order."""
    chapter, _ = parse_assignment(assignment)
    return {b.grade_id: b for b in check_module(chapter).BEHAVIOURS}
