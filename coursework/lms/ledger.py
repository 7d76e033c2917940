"""The record of every file an import saw, and what became of it (``lms/imports.csv``).

One row per file and outcome: placed, unchanged, replaced (the older copy is
kept in collect_archive/), held (kept in lms/held/, no roster student matches it
or the student sent several notebooks), refused or not read, with the reason.
The same file with the same outcome is recorded once, and a file found
unchanged is not recorded again, so importing a download twice leaves the
ledger as it was. Exports read it back for what the LMS needs
to take feedback (Canvas's user and file ids, Moodle's participant id).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

LEDGER_FILE = Path("lms") / "imports.csv"
PLACED, UNCHANGED, REPLACED, HELD, REFUSED, NOT_READ = ("placed", "unchanged", "replaced", "held", "refused",
                                                         "not read")
KEPT = (PLACED, UNCHANGED, REPLACED)  # the file is the student's submission in submitted/


@dataclass(frozen=True)
class Entry:
    imported_at: str
    download: str  # the zip or folder's name
    member: str  # the file's path inside the download
    action: str
    layout: str = ""
    lms_key: str = ""  # Moodle participant id, Canvas user id, or the student id the file name gave
    name: str = ""  # the name the LMS wrote
    student_id: str = ""
    assignment: str = ""
    sha256: str = ""
    late: str = ""  # "yes" when the LMS marked it late
    timestamp: str = ""  # what nbgrader records as the submission time (UTC), if known
    file_id: str = ""  # Canvas's id of the uploaded file
    note: str = ""

    def key(self) -> tuple:
        """What makes two rows the same record (the time and the download's name do not)."""
        return (self.member, self.action, self.sha256, self.student_id, self.assignment, self.note)


class Ledger:
    def __init__(self, root: Path):
        self.path = Path(root) / LEDGER_FILE
        self.entries: list[Entry] = []
        if self.path.is_file():
            with self.path.open(newline="", encoding="utf-8") as stream:
                names = {f.name for f in fields(Entry)}
                self.entries = [Entry(**{k: v for k, v in row.items() if k in names})
                                for row in csv.DictReader(stream)]

    def record(self, entries: list[Entry]) -> int:
        """Append the entries not recorded yet; return how many were new."""
        seen = {entry.key() for entry in self.entries}
        new = [entry for entry in entries if entry.key() not in seen and entry.action != UNCHANGED]
        if not new:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exists = self.path.is_file()
        with self.path.open("a", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, [f.name for f in fields(Entry)])
            if not exists:
                writer.writeheader()
            writer.writerows(asdict(entry) for entry in new)
        self.entries += new
        return len(new)

    def current(self, student_id: str, assignment: str) -> Entry | None:
        """The latest record of the file that is ``student_id``'s submission of ``assignment``."""
        return next((e for e in reversed(self.entries)
                     if e.student_id == student_id and e.assignment == assignment and e.action in KEPT), None)
