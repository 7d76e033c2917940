"""The class list: who the students are in the LMS and in nbgrader.

Imported from what the LMS exports (``read_class_list``):

- Canvas's gradebook export (Grades → Export): ``Student`` (the sortable name,
  "García, Ana"), ``ID`` (the Canvas user id), ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then the assignments; its "Points Possible" row and Canvas's
  "Student, Test" are skipped;
- Moodle's grading worksheet of an assignment (Grading action → Download grading
  worksheet): ``Identifier`` ("Participant 1234"), ``Full name``, ``Email address``
  and whatever identity fields the site adds (``ID number``, ``Username``);
- any CSV with the columns ``name``, ``email``, ``lms_user_id`` and optionally
  ``institutional_id``, ``login_id``, ``section``.

It is kept in ``lms/roster.csv`` (one row per student, the nbgrader id first)
and copied into nbgrader's student table. Importing again updates names and
sections but never changes an id once given (``identity`` explains the rule).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from . import identity, moodle
from .csvfile import read_csv

ROSTER_FILE = Path("lms") / "roster.csv"
CANVAS_TEST_STUDENT = "Student, Test"


@dataclass(frozen=True)
class Person:
    """One student, as the LMS and nbgrader know them."""

    student_id: str
    name: str  # "Ana García"
    email: str = ""
    lms_user_id: str = ""  # Canvas's "ID"
    institutional_id: str = ""  # Canvas's "SIS User ID", Moodle's "ID number"
    login_id: str = ""  # Canvas's "SIS Login ID", Moodle's "Username"
    section: str = ""
    sortable_name: str = ""  # "García, Ana", as Canvas writes it

    @property
    def first_and_last(self) -> tuple[str, str]:
        """(first name, last name) for nbgrader's student table."""
        if "," in self.sortable_name:
            last, _, first = self.sortable_name.partition(",")
            return first.strip(), last.strip()
        first, _, last = self.name.strip().rpartition(" ")
        return (first, last) if first else (last, "")


class Roster:
    """The students of the course, found by any id the LMS uses."""

    def __init__(self, people: list[Person] | None = None):
        self.people: dict[str, Person] = {p.student_id: p for p in people or []}
        self._index: dict[str, dict[str, list[str]]] | None = None  # key -> student ids, built on first use

    def __len__(self) -> int:
        return len(self.people)

    def __iter__(self):
        return iter(sorted(self.people.values(), key=lambda p: p.student_id))

    @classmethod
    def load(cls, root: Path) -> Roster:
        path = Path(root) / ROSTER_FILE
        if not path.is_file():
            return cls()
        with path.open(newline="", encoding="utf-8") as stream:
            return cls([Person(**{f.name: row.get(f.name, "") or "" for f in fields(Person)})
                        for row in csv.DictReader(stream)])

    def save(self, root: Path) -> Path:
        path = Path(root) / ROSTER_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, [f.name for f in fields(Person)])
            writer.writeheader()
            writer.writerows(asdict(p) for p in self)
        partial.replace(path)
        return path

    def find(self, key: str) -> Person | None:
        """The student whose nbgrader id, institutional id, login, LMS user id or email is ``key``
        (compared without case or accents)."""
        found = self._lookup("any", identity.fold(key))
        return found[0] if found else None

    def by_lms_user(self, lms_user_id: str) -> Person | None:
        found = self._lookup("lms_user_id", lms_user_id.strip())
        return found[0] if found else None

    def by_name(self, name: str) -> list[Person]:
        """Everyone whose name (or sortable name) is ``name`` without case, accents or punctuation."""
        return self._lookup("name", _squeezed(name))  # Canvas writes "garcíaana" for "García, Ana"

    def _lookup(self, kind: str, key: str) -> list[Person]:
        if self._index is None:
            self._index = {"any": {}, "lms_user_id": {}, "name": {}}
            for person in self:
                self._add_to_index(person)
        ids = dict.fromkeys(self._index[kind].get(key, [])) if key else {}
        return [self.people[i] for i in ids if i in self.people]

    def _add_to_index(self, person: Person) -> None:
        if self._index is None:
            return  # built from scratch on the next lookup
        keys = (person.student_id, person.institutional_id, person.login_id, person.lms_user_id, person.email)
        for value in {identity.fold(v) for v in keys if v}:
            self._index["any"].setdefault(value, []).append(person.student_id)
        if person.lms_user_id:
            self._index["lms_user_id"].setdefault(person.lms_user_id, []).append(person.student_id)
        for value in {_squeezed(n) for n in (person.name, person.sortable_name) if n}:
            self._index["name"].setdefault(value, []).append(person.student_id)

    def merge(self, incoming: list[Person]) -> list[str]:
        """Add or update ``incoming`` people (their student_id is ignored: ids are kept or given here).

        Returns the problems (rows that could not be added), one sentence each.
        """
        problems = []
        for person in incoming:
            known = self._same_person(person)
            if known is not None:
                self.people[known.student_id] = _updated(known, person)
                self._add_to_index(self.people[known.student_id])
                continue
            try:
                new_id = identity.student_id(institutional_id=person.institutional_id,
                                             lms_user_id=person.lms_user_id, email=person.email)
            except ValueError:
                problems.append(f"{person.name or '(no name)'}: no institutional id, LMS user id or email, "
                                "so no student id can be made (row skipped)")
                continue
            if new_id in self.people:
                other = self.people[new_id]
                problems.append(f"{person.name}: would get the id {new_id!r} of {other.name} "
                                f"({other.email or other.lms_user_id}); the two rows disagree (row skipped)")
                continue
            self.people[new_id] = replace(person, student_id=new_id)
            self._add_to_index(self.people[new_id])
        self._index = None  # rebuilt without the keys of the values that changed
        return problems

    def _same_person(self, person: Person) -> Person | None:
        """The known student with the same LMS user id, institutional id or email."""
        if person.lms_user_id and self.by_lms_user(person.lms_user_id):
            return self.by_lms_user(person.lms_user_id)
        for value, field in ((person.institutional_id, "institutional_id"), (person.email, "email")):
            for known in self._lookup("any", identity.fold(value)) if value else []:
                if identity.fold(getattr(known, field)) == identity.fold(value):
                    return known
        return None


def _squeezed(name: str) -> str:
    return identity.fold(name).replace(" ", "")


def _updated(known: Person, new: Person) -> Person:
    """``known`` with the non-empty fields of ``new`` (the id stays)."""
    changes = {f.name: getattr(new, f.name) for f in fields(Person)
               if f.name != "student_id" and getattr(new, f.name)}
    return replace(known, **changes)


def read_class_list(path: str | Path) -> tuple[str, list[Person]]:
    """``(kind, people)`` from a Canvas gradebook export, a Moodle grading worksheet or a plain CSV;
    ``kind`` is 'canvas', 'moodle' or 'csv'. ValueError, naming the columns expected, for anything else."""
    rows = read_csv(path)
    if not rows:
        raise ValueError(f"expected a CSV class list with a header row, got an empty file: {path}")
    header = [h.strip() for h in rows[0]]
    if len(header) > 3 and header[0].startswith("Student") and header[1] == "ID":
        return "canvas", _canvas_people(header, rows[1:])
    if header[0] in moodle.IDENTIFIER:
        return "moodle", _moodle_people(moodle.Worksheet(header, rows[1:]))
    lowered = [h.lower() for h in header]
    if "name" in lowered and ({"email", "lms_user_id", "institutional_id"} & set(lowered)):
        return "csv", _plain_people(lowered, rows[1:])
    raise ValueError("expected a Canvas gradebook export (Student, ID, SIS User ID, SIS Login ID, Section, "
                     "...), a Moodle grading worksheet (Identifier, Full name, Email address, ...) or a CSV "
                     "with the columns name, email, lms_user_id[, institutional_id, section]; got "
                     f"{', '.join(header[:8])} in {path}")


def _column(header: list[str], *names: str) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _canvas_people(header: list[str], rows: list[list[str]]) -> list[Person]:
    at = {name: _column(header, name) for name in ("SIS User ID", "SIS Login ID", "Section")}
    people = []
    for row in rows:
        cells = row + [""] * (len(header) - len(row))
        sortable, user = cells[0].strip(), cells[1].strip()
        if "Points Possible" in sortable or not user.isdigit() or sortable == CANVAS_TEST_STUDENT:
            continue
        last, _, first = sortable.partition(",")
        people.append(Person("", f"{first.strip()} {last.strip()}".strip(), lms_user_id=user,
                             institutional_id=_cell(cells, at["SIS User ID"]),
                             login_id=_cell(cells, at["SIS Login ID"]), section=_cell(cells, at["Section"]),
                             sortable_name=sortable))
    return people


def _moodle_people(sheet: moodle.Worksheet) -> list[Person]:
    email = sheet.email_column()
    number = _column(sheet.header, "ID number", "Número de ID")
    username = _column(sheet.header, "Username", "Nombre de usuario")
    return [Person("", row[1].strip(), email=_cell(row, email), institutional_id=_cell(row, number),
                   login_id=_cell(row, username)) for row in sheet.rows if len(row) > 1 and row[0].strip()]


def _plain_people(lowered: list[str], rows: list[list[str]]) -> list[Person]:
    at = {name: _column(lowered, name) for name in ("name", "email", "lms_user_id", "institutional_id",
                                                      "login_id", "section", "sortable_name")}
    return [Person("", **{name: _cell(row, index) for name, index in at.items()}) for row in rows]


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""
