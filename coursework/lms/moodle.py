"""Moodle's assignment formats: the offline grading worksheet and the feedback files zip.

The grading worksheet (Assignment → View all submissions → Grading action →
Download grading worksheet; the assignment needs the "Offline grading
worksheet" feedback type) has one row per participant: ``Identifier``
("Participant 1234"), ``Full name``, the site's identity fields (``Email
address``, ...), ``Status``, ``Grade``, ``Maximum Grade``, ``Grade can be
changed``, ``Last modified (submission)``, ``Last modified (grade)``, ``Feedback
comments``. "Upload grading worksheet" finds its columns by these names and
reads only three of them (mod/assign/feedback/offline/importgradeslib.php):
``Identifier``, ``Grade`` and ``Last modified (grade)``, plus ``Feedback
comments`` when that feedback type is on. An empty grade is skipped; a grade
above the maximum is skipped; a grade changed in Moodle more than a minute after
"Last modified (grade)" is kept unless the instructor ticks "Allow updating
records that have been modified more recently in Moodle than in the spreadsheet".

So the export fills in the worksheet Moodle gave (same columns, same rows,
headers in the site's language), rather than inventing one: every enrolled
student is in it, with the participant id of that very assignment.

"Upload multiple feedback files in a zip" (mod/assign/feedback/file/importziplib.php)
takes files whose name (or folder) starts ``<full name>_<participant id>_<plugin type>_<plugin name>_``;
the participant id finds the student, the rest of the name is the file's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .csvfile import read_csv

# Column names as Moodle writes them in English and in Spanish (language packs en, es: mod/assign's
# recordid, lastmodifiedsubmission, lastmodifiedgrade; core's grade). The full name is always the second
# column, and the email address is found by its values, whatever the site calls it.
IDENTIFIER = ("Identifier", "Identificador")
GRADE = ("Grade", "Calificación")
MAXIMUM = ("Maximum Grade", "Calificación máxima")
SUBMITTED = ("Last modified (submission)", "Última modificación (entrega)")
GRADED = ("Last modified (grade)", "Última modificación (calificación)")
FEEDBACK = ("Feedback comments", "Comentarios de retroalimentación")
MOODLE_TIME_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M")  # Moodle's strftimedatetime (English)
_INVALID_IN_FILE_NAMES = re.compile(r'[\x00-\x1f/\\:*?"<>|]')  # what Moodle's clean_filename removes


@dataclass
class Worksheet:
    """A grading worksheet as Moodle wrote it, with the columns found."""

    header: list[str]
    rows: list[list[str]]

    @classmethod
    def read(cls, path: str | Path) -> Worksheet:
        rows = read_csv(path)
        if not rows:
            raise ValueError(f"expected Moodle's grading worksheet (a CSV), got an empty file: {path}")
        sheet = cls([h.strip() for h in rows[0]], rows[1:])
        for names in (IDENTIFIER, GRADE, GRADED):
            sheet.column(names)  # fails early, naming the columns expected
        if sheet.column(IDENTIFIER) != 0:
            raise ValueError("expected Moodle's grading worksheet, whose first column is the Identifier, "
                             f"got the columns {', '.join(sheet.header)}")
        return sheet

    def column(self, names: tuple[str, ...], required: bool = True) -> int | None:
        for name in names:
            if name in self.header:
                return self.header.index(name)
        if required:
            raise ValueError(f"expected Moodle's grading worksheet with a column {names[0]!r} (Moodle in "
                             f"English or Spanish), got the columns {', '.join(self.header)}")
        return None

    def participants(self) -> dict[str, dict[str, str]]:
        """``{participant id: {'name', 'email', 'submitted'}}``; the id as in Moodle's download."""
        at = {"name": 1, "email": self.email_column(), "submitted": self.column(SUBMITTED, False)}
        result = {}
        for row in self.rows:
            participant = participant_id(row[self.column(IDENTIFIER)])
            if participant:
                result[participant] = {k: (row[i].strip() if i is not None and i < len(row) else "")
                                       for k, i in at.items()}
        return result

    def email_column(self) -> int | None:
        """The column whose values are email addresses (Moodle names it in the site's language)."""
        for index in range(len(self.header)):
            values = [row[index] for row in self.rows if index < len(row) and row[index].strip()]
            if values and sum("@" in value for value in values) * 2 > len(values):
                return index
        return None

    def maximum(self) -> float | None:
        """The assignment's maximum grade, as the worksheet states it (the same on every row)."""
        index = self.column(MAXIMUM, False)
        for row in self.rows:
            try:
                return float(row[index].replace(",", "."))
            except (TypeError, ValueError, IndexError):
                continue
        return None

    def filled(self, grades: dict[str, float | None], comments: dict[str, str] | None = None,
               now: datetime | None = None) -> list[list[str]]:
        """The worksheet with ``grades`` (by participant id; None leaves the cell as it was) and, if given,
        ``comments`` written in, "Last modified (grade)" set to ``now`` for the rows changed."""
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")  # PHP's strtotime reads it
        grade, graded = self.column(GRADE), self.column(GRADED)
        feedback = self.column(FEEDBACK, False)
        rows = [list(self.header)]
        for row in self.rows:
            row = row + [""] * (len(self.header) - len(row))
            participant = participant_id(row[self.column(IDENTIFIER)])
            value = grades.get(participant)
            if value is not None:
                row[grade] = f"{value:.2f}"
                row[graded] = stamp
                if comments and feedback is not None and participant in comments:
                    row[feedback] = comments[participant]
            rows.append(row)
        return rows


def participant_id(identifier: str) -> str:
    """``'Participant 1234'`` (or ``'Participante 1234'``) -> ``'1234'``; '' if there is no number."""
    found = re.search(r"(\d+)\s*$", identifier or "")
    return found.group(1) if found else ""


def submission_time(text: str) -> datetime | None:
    """A worksheet's "Last modified (submission)" (English format, this computer's time zone) in UTC."""
    for pattern in MOODLE_TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).astimezone(UTC)
        except ValueError:
            continue
    return None


def feedback_file_name(full_name: str, participant: str, file_name: str) -> str:
    """The name "Upload multiple feedback files in a zip" gives to ``participant``'s feedback."""
    name = _INVALID_IN_FILE_NAMES.sub("", full_name.replace("_", " ")).strip() or "Participant"
    return f"{name}_{participant}_assignfeedback_file_{file_name}"
