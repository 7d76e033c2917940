"""A one-line progress bar on stderr (a plain log line per step when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import Self


class Progress:
    """``with Progress("autograde ch1-es", total) as bar: bar.advance(note)``."""

    def __init__(self, title: str, total: int, stream=None):
        self.title, self.total, self.done = title, total, 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.tty = self.stream.isatty()

    def __enter__(self) -> Self:
        self._draw("")
        return self

    def __exit__(self, *exc) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def advance(self, note: str = "") -> None:
        self.done += 1
        self._draw(note)

    def _draw(self, note: str) -> None:
        width = 30
        filled = width * self.done // max(self.total, 1)
        elapsed = time.monotonic() - self.start
        line = (f"{self.title} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.1f} s {note}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
        elif self.done or not self.total:
            self.stream.write(line + "\n")
        self.stream.flush()
