"""Progress bars of the instructor's commands: tqdm's on a terminal, nothing in logs (CI, cron jobs)."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm import tqdm


def progress(items: Iterable, title: str, total: int | None = None) -> tqdm:
    """Iterate over ``items`` with a bar on stderr when it is a terminal (each command prints its own
    summary at the end, so nothing is lost when the bar is off)."""
    return tqdm(items, desc=title, total=total, unit="student", disable=None, dynamic_ncols=True)
