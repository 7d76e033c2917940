"""The instructor's seed of the hidden test inputs, kept out of git.

Looked up in this order: the environment variable ``LOSSFNS_GRADING_SEED``,
the file ``.instructor_seed`` next to ``nbgrader_config.py`` (gitignored), and
last a public default, which only suits practice runs (the grader warns).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

DEFAULT_SEED = 20261123
SEED_FILE = ".instructor_seed"
SEED_VARIABLE = "LOSSFNS_GRADING_SEED"


def instructor_seed(course_root: str | Path | None = None) -> tuple[int, bool]:
    """Return ``(seed, is_default)``; ``course_root`` defaults to the current folder.

    Raises:
        ValueError: the variable or the file holds something other than an integer.
    """
    text, origin = os.environ.get(SEED_VARIABLE), SEED_VARIABLE
    if text is None:
        path = Path(course_root or ".") / SEED_FILE
        if not path.is_file():
            return DEFAULT_SEED, True
        text, origin = path.read_text(encoding="utf-8"), str(path)
    try:
        return int(text.strip()), False
    except ValueError:
        raise ValueError(f"expected an integer seed in {origin}, got {text.strip()[:40]!r}") from None


def behaviour_generator(seed: int, grade_id: str) -> torch.Generator:
    """A generator for one behaviour's hidden inputs: a new grade_id never shifts the others."""
    digest = hashlib.sha256(f"{seed}:{grade_id}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
