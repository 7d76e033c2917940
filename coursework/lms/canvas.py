"""Canvas's formats: the gradebook CSV (export and import) and re-uploaded feedback files.

The gradebook export (Grades → Export → Export Entire Gradebook) and the file
"Grades → Import" takes have the same shape (app/models/gradebook_importer.rb):
a header ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
assignment titled ``<name> (<assignment id>)``; an optional second row whose
first cell contains "Points Possible"; then one row per student. Canvas finds
the student by ``ID`` (then by SIS User ID, SIS Login ID, name), the assignment
by the id in parentheses (then by its exact title; a column that matches no
assignment becomes a new assignment); an empty cell changes nothing; scores are
compared at two decimals. Columns such as "Current Score" are read-only and
ignored.

"Re-Upload Submissions" (on the assignment's page, after "Download
Submissions") takes a zip of files named as Canvas named the downloaded ones:
it reads the first two all-digit parts of the name, split at ``_``, as the user
id and the id of a file of that user's submission (Assignment#infer_comment_context_from_filename),
and attaches the file to a submission comment. So a feedback page keeps the
prefix of the notebook it comments on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..chapters import Chapter
from .csvfile import read_csv

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"  # as Canvas writes it
_TITLE_AND_ID = re.compile(r"^(?P<title>.*)\s\((?P<id>\d+)\)$")
NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                   "Final Grade", "Override Score", "Override Grade", "Override Status", "Unposted",
                   "Integration ID", "Root Account")


@dataclass(frozen=True)
class Column:
    """An assignment column of Canvas's gradebook."""

    header: str  # "Capítulo 2 (12345)"
    title: str
    assignment_id: str
    points_possible: float | None


def assignment_columns(path) -> list[Column]:
    """The assignment columns of a Canvas gradebook export, with their points possible."""
    rows = read_csv(path)
    header = rows[0]
    points = next((row for row in rows[1:] if row and "Points Possible" in row[0]), [])
    columns = []
    for index, name in enumerate(header[len(STUDENT_COLUMNS):], start=len(STUDENT_COLUMNS)):
        found = _TITLE_AND_ID.match(name.strip())
        if found and not any(word in name for word in NOT_ASSIGNMENTS):
            columns.append(Column(name.strip(), found["title"], found["id"], _number(points, index)))
    return columns


def column_for(chapter: Chapter, columns: list[Column]) -> Column | None:
    """The one column whose title names ``chapter`` (its id, "Chapter 2", "Capítulo 2", or a title)."""
    number = re.compile(rf"\b(?:ch|cap|cap[ií]tulo|chapter|tema|unit|unidad)[\s._-]*0*{chapter.number}\b",
                        re.IGNORECASE)
    titles = {t.casefold() for t in chapter.titles.values()}
    found = [c for c in columns if number.search(c.title) or chapter.id in c.title.casefold().split()
             or c.title.casefold() in titles]
    return found[0] if len(found) == 1 else None


def feedback_file_name(canvas_name: str, late: bool, user_id: str, file_id: str, file_name: str) -> str:
    """The name under which "Re-Upload Submissions" attaches ``file_name`` to that submission."""
    return "_".join([canvas_name, *(["LATE"] if late else []), user_id, file_id, file_name])


def _number(row: list[str], index: int) -> float | None:
    try:
        return float(row[index].replace(",", "."))
    except (IndexError, ValueError):
        return None
