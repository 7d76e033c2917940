"""Verdicts already computed, on disk, so that regrading is instant and resumable.

The key covers everything a verdict depends on: the assignment, the answer
cells, the instructor's seed and the source of ``lossfns`` (the references)
and of this package (the checks and the sandbox). Files are written whole (temporary file, then rename), so an
interrupted run never leaves a half-written verdict.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from .verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
# What a verdict depends on: the references, the checks, the grading machinery and its limits
# (not the instructor's commands: editing an export must not throw away every verdict).
SOURCES = ("lossfns", "coursework/grading", "coursework/checks", "coursework/limits.py",
           "coursework/chapters.py")


@functools.cache
def code_version() -> str:
    """A hash of every .py file a verdict depends on: a change to a check or a reference invalidates
    the cache."""
    digest = hashlib.sha256()
    files = [p for name in SOURCES for p in ((ROOT / name).rglob("*.py") if (ROOT / name).is_dir()
                                             else [ROOT / name])]
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(assignment: str, sources: list[str], seed: int, limits: dict) -> str:
    text = json.dumps([assignment, sources, seed, limits, code_version()])
    return hashlib.sha256(text.encode()).hexdigest()


def load(directory: str | Path, key: str) -> dict[str, Verdict] | None:
    path = Path(directory) / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {g: Verdict(g, v["points"], v["max_points"], tuple(v["lines"]), diagnosis=v.get("diagnosis"),
                           attempted=v.get("attempted", True)) for g, v in data.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(directory: str | Path, key: str, verdicts: dict[str, Verdict]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = {g: {"points": v.points, "max_points": v.max_points, "lines": list(v.lines),
                "diagnosis": v.diagnosis, "attempted": v.attempted} for g, v in verdicts.items()}
    handle, partial = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=directory)  # one per writer
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(data, ensure_ascii=False))
    os.replace(partial, directory / f"{key}.json")
