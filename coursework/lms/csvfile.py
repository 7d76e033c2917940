"""CSV files as LMSs and spreadsheets write them."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def read_csv(path: str | Path) -> list[list[str]]:
    """All rows of a CSV written by an LMS or a spreadsheet (UTF-8, with or without a byte-order mark;
    comma or semicolon separated, as Canvas and Moodle accept)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            if any(cell.strip() for cell in row)]
