"""Verdicts already computed, on disk, so that regrading is instant and resumable.

The key covers everything a verdict depends on: the assignment, the answer
cells, the instructor's seed and the source of ``lossfns`` (references and
checks). Files are written whole (temporary file, then rename), so an
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

PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    """A hash of every .py file of lossfns: a change to a check or a reference invalidates the cache."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(assignment: str, sources: list[str], seed: int, limits: dict) -> str:
    text = json.dumps([assignment, sources, seed, limits, code_version()])
    return hashlib.sha256(text.encode()).hexdigest()


def load(directory: str | Path, key: str) -> dict[str, Verdict] | None:
    path = Path(directory) / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {g: Verdict(g, v["points"], v["max_points"], tuple(v["lines"])) for g, v in data.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(directory: str | Path, key: str, verdicts: dict[str, Verdict]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = {g: {"points": v.points, "max_points": v.max_points, "lines": list(v.lines)}
            for g, v in verdicts.items()}
    handle, partial = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=directory)  # one per writer
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(data, ensure_ascii=False))
    os.replace(partial, directory / f"{key}.json")
