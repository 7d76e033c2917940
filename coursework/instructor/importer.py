"""Import an LMS download into nbgrader's layout: submitted/<student>/<assignment>/<notebook>.

The download is a zip or a folder, as Moodle or Canvas give it, or a plain
folder of files named by student id (``coursework.lms.senders`` tells who sent
each file). The student comes from the LMS's naming and the class list
(``make roster``); the assignment from the notebook's own metadata, so a renamed
file ("entrega_cap2.ipynb", "Copy of <assignment>.ipynb") is accepted when it is the
only notebook that student sent for the chapter. Nothing is lost: a file that
cannot be placed is kept in lms/held/ and listed with the reason, a replaced
submission is kept in collect_archive/, and every outcome is recorded in
lms/imports.csv. Importing the same download again changes nothing.

The submission time nbgrader stores (``timestamp.txt``, which its late penalty
reads) comes from Moodle's grading worksheet when it was imported for the
chapter; a Canvas download has no times, only its LATE marker: with the due
date given (``--due``) a late file is recorded as submitted just after it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from ..chapters import Chapter, parse_assignment
from ..chapters import chapter as chapter_named
from ..limits import HELD_FILES
from ..lms import identity, moodle, senders
from ..lms.download import Member, read_download
from ..lms.ledger import HELD, NOT_READ, PLACED, REFUSED, REPLACED, UNCHANGED, Entry, Ledger
from ..lms.roster import Person, Roster
from .course import Course, CourseError

HELD_FOLDER = Path("lms") / "held"


@dataclass
class Candidate:
    """A readable notebook of the download, attributed to a student and an assignment."""

    member: Member
    sender: senders.Sender
    person: Person
    assignment: str
    note: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.member.data).hexdigest()

    @property
    def file_name(self) -> str:
        """The name the student gave the file (without the LMS's prefix)."""
        return PurePosixPath(self.sender.original or self.member.path).name


@dataclass
class ImportReport:
    download: str
    layout: str
    chapter: Chapter | None
    entries: list[Entry] = field(default_factory=list)
    missing: list[Person] = field(default_factory=list)
    unchecked_ids: bool = False  # no class list: ids taken from file names as they are

    def of(self, *actions: str) -> list[Entry]:
        return [e for e in self.entries if e.action in actions]

    def __str__(self) -> str:
        what = f"chapter {self.chapter.id}" if self.chapter else "every chapter"
        placed, unchanged = self.of(PLACED, REPLACED), self.of(UNCHANGED)
        lines = [(f"{self.download} ({self.layout} layout, {what}): placed {len(placed)} submission(s), "
                 f"{len(unchanged)} already there unchanged.")]
        lines += [f"  {e.student_id:>14}  {e.assignment}  <- {e.member}"
                  + ("  [late]" if e.late else "") + (f"  ({e.note})" if e.note else "") for e in placed]
        for action, title in ((HELD, "Kept aside in lms/held/ (not placed; fix and import again)"),
                              (REFUSED, "Refused"), (NOT_READ, "Not read")):
            found = self.of(action)
            if found:
                lines.append(f"{title}: {len(found)} file(s)")
                lines += [f"  {e.member}: {e.note}" for e in found]
        if self.missing:
            lines.append(f"No submission from {len(self.missing)} student(s) of the class list:")
            lines += [f"  {p.student_id:>14}  {p.name}  {p.email}" for p in self.missing]
        if self.unchecked_ids:
            lines.append("No class list: student ids were taken from the file names unchecked "
                         "(import one with `make roster FROM=<LMS export>`).")
        return "\n".join(lines)


def import_download(course: Course, source: str | Path, *, target: str | None = None, layout: str = "auto",
                    due: datetime | None = None) -> ImportReport:
    """Place every notebook of ``source`` (a zip or a folder) in submitted/; ``target`` names the chapter
    (or one of its assignments) the download belongs to."""
    chapter, language = _target(course, target)
    members = read_download(source)
    layout = senders.detect([m.path for m in members]) if layout == "auto" else layout
    if layout not in senders.LAYOUTS:
        raise ValueError(f"expected a layout in {', '.join(senders.LAYOUTS)} or auto, got {layout!r}")
    roster = Roster.load(course.root)
    report = ImportReport(Path(source).name, layout, chapter, unchecked_ids=not roster)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entry = _entry_maker(now, report.download, layout)
    if due is not None:
        set_due_date(course, chapter, due)
    candidates = []
    for member in members:
        if member.data is None:
            report.entries.append(entry(member, NOT_READ, note=member.problem))
            continue
        sender = senders.PARSERS[layout](member.path)
        assignment, why_not = _assignment(course, member, chapter, language)
        if isinstance(sender, str) or why_not:
            reason = sender if isinstance(sender, str) else why_not
            report.entries.append(_hold(course, member, entry(member, HELD, sender=sender, note=reason)))
            continue
        person = _person(course, roster, sender, parse_assignment(assignment)[0])
        if isinstance(person, str):
            report.entries.append(_hold(course, member, entry(member, HELD, sender=sender, note=person)))
            continue
        candidates.append(Candidate(member, sender, person, assignment))
    due_of = functools.cache(lambda assignment: due or due_date(course, assignment))  # one read each
    for chosen, others in _one_per_student(candidates).values():
        for other in others:
            report.entries.append(_hold(course, other.member, entry(
                other.member, HELD, sender=other.sender, candidate=other,
                note=f"{chosen.person.student_id} sent several notebooks for {chosen.assignment}; "
                     f"{chosen.file_name if chosen.note != 'ambiguous' else 'none'} was placed")))
        if chosen.note == "ambiguous":
            report.entries.append(_hold(course, chosen.member, entry(
                chosen.member, HELD, sender=chosen.sender, candidate=chosen,
                note=f"{chosen.person.student_id} sent several notebooks for {chosen.assignment} and none "
                     f"is named {course.notebook_name(chosen.assignment)}: keep one in the LMS (or in the "
                     "folder) and import again")))
            continue
        report.entries.append(_place(course, chosen, entry, due_of))
    if chapter is not None and roster:
        handed_in = {e.student_id for e in report.entries if e.action in (PLACED, REPLACED, UNCHANGED)}
        handed_in |= {s for a in chapter.assignments if a in course.assignments
                      for s in course.submissions(a)}
        report.missing = [p for p in roster if p.student_id not in handed_in]
    Ledger(course.root).record(report.entries)
    return report


def set_due_date(course: Course, chapter: Chapter | None, due: datetime) -> None:
    """Record ``due`` as nbgrader's due date of the chapter's assignments (its late penalty reads it)."""
    from nbgrader.api import Gradebook

    if chapter is None:
        raise ValueError("expected a chapter with --due (the due date of which assignment?), got none")
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for assignment in chapter.assignments:
            if assignment in course.assignments:
                gradebook.update_or_create_assignment(assignment, duedate=due.astimezone(UTC)
                                                      .replace(tzinfo=None))


def due_date(course: Course, assignment: str) -> datetime | None:
    """nbgrader's due date of ``assignment`` (UTC), if it has one."""
    from nbgrader.api import Gradebook, MissingEntry

    if course.db_url.startswith("sqlite:///") and not Path(course.db_url[len("sqlite:///"):]).is_file():
        return None  # no gradebook yet (nothing released): no due date, and none is created just to ask
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        try:
            found = gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return None
    return found.replace(tzinfo=UTC) if found else None


def _target(course: Course, target: str | None) -> tuple[Chapter | None, str | None]:
    if not target:
        return None, None
    try:
        chapter, language = parse_assignment(target)
    except ValueError:
        chapter, language = chapter_named(target), None
    if not any(a in course.assignments for a in chapter.assignments):
        raise CourseError(f"expected chapter {chapter.id} in this course's solutions/, found none of "
                          f"{', '.join(chapter.assignments)}")
    return chapter, language


def _entry_maker(now: str, download: str, layout: str):
    def entry(member: Member, action: str, *, sender=None, candidate: Candidate | None = None,
              **values) -> Entry:
        if isinstance(sender, senders.Sender):
            values.update(lms_key=sender.key, name=sender.name, late="yes" if sender.late else "",
                          file_id=sender.file_id)
        if candidate is not None:
            values.update(student_id=candidate.person.student_id, assignment=candidate.assignment,
                          sha256=candidate.sha256)
        elif member.data is not None:
            values.setdefault("sha256", hashlib.sha256(member.data).hexdigest())
        return Entry(now, download, member.path, action, layout, **values)

    return entry


def _assignment(course: Course, member: Member, chapter: Chapter | None,
                language: str | None) -> tuple[str, str]:
    """``(assignment id, '')`` for the member, or ``('', why it cannot be placed)``."""
    named = _assignment_in_metadata(member.data)
    if named is not None and named not in course.assignments:
        return "", f"its metadata names an assignment this course does not have ({named!r})"
    if named is None:  # not valid JSON, or metadata stripped: the name may still say it
        in_name = [a for a in course.assignments if a in member.name]
        if len(in_name) == 1:
            named = in_name[0]
        elif chapter is not None:
            offered = [a for a in chapter.assignments if a in course.assignments]
            named = chapter.assignment(language) if language else offered[0]
        else:
            return "", "not a notebook of this course (no assignment in its metadata or its name)"
    if chapter is not None and parse_assignment(named)[0] != chapter:
        return "", (f"it is the notebook of {named} (chapter {parse_assignment(named)[0].id}), and this "
                    f"download is chapter {chapter.id}'s: import it with that chapter's download")
    return named, ""


def _assignment_in_metadata(data: bytes) -> str | None:
    try:
        value = json.loads(data.decode("utf-8"))["metadata"]["lossfns"]["assignment"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) else None


def _person(course: Course, roster: Roster, sender: senders.Sender, chapter: Chapter) -> Person | str:
    """The class-list student who sent the file, or why none can be named."""
    if sender.layout == senders.CANVAS:
        if not roster:
            return Person(identity.normalise(sender.key), sender.name, lms_user_id=sender.key)
        return roster.by_lms_user(sender.key) or (
            f"{sender} is not in the class list (lms/roster.csv): import Canvas's current gradebook export "
            "with `make roster` and import again")
    if sender.layout == senders.MOODLE:
        return _moodle_person(course, roster, sender, chapter)
    if not roster:
        return Person(identity.normalise(sender.key), "") if identity.normalise(sender.key) else (
            f"{sender!s} is not a usable student id")
    return roster.find(sender.key) or f"{sender} matches no student of the class list (lms/roster.csv)"


def _moodle_person(course: Course, roster: Roster, sender: senders.Sender, chapter: Chapter) -> Person | str:
    if not roster:
        return ("Moodle's participant ids differ from one assignment to the next: import the class list "
                f"first (`make roster FROM=<the assignment's grading worksheet> CHAPTER={chapter.id}`)")
    worksheet = worksheet_path(course, chapter)
    if worksheet.is_file():
        row = _participants(worksheet).get(sender.key)
        if row and row["email"] and roster.find(row["email"]):
            return roster.find(row["email"])
    named = roster.by_name(sender.name)
    if len(named) == 1:
        return named[0]
    why = "matches no one" if not named else f"matches {len(named)} students"
    return (f"{sender}: the name {why} in the class list, and chapter {chapter.id}'s grading worksheet "
            f"{'does not list this participant' if worksheet.is_file() else 'was not imported'} "
            f"(`make roster FROM=<worksheet> CHAPTER={chapter.id}`)")


def _participants(worksheet: Path) -> dict[str, dict[str, str]]:
    """The worksheet's participants, read once per version of the file (an import asks for each file)."""
    return _participants_of(str(worksheet), worksheet.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _participants_of(path: str, _version: int) -> dict[str, dict[str, str]]:
    return moodle.Worksheet.read(path).participants()


def worksheet_path(course: Course, chapter: Chapter) -> Path:
    """Where ``make roster ... CHAPTER=`` keeps Moodle's grading worksheet of a chapter."""
    return course.root / "lms" / "moodle" / f"{chapter.id}-grading-worksheet.csv"


def _one_per_student(candidates: list[Candidate]) -> dict[tuple[str, str], tuple[Candidate, list[Candidate]]]:
    """For each (student, assignment): the notebook to place and the others. One notebook, or the one named
    as the assignment's notebook, is placed; several others leave the first marked 'ambiguous'."""
    grouped: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        copies = grouped[(candidate.person.student_id, candidate.assignment)]
        if not any(c.sha256 == candidate.sha256 for c in copies):  # the same bytes twice are one notebook
            copies.append(candidate)
    chosen = {}
    for key, copies in grouped.items():
        chapter, language = parse_assignment(key[1])
        canonical = [c for c in copies if c.file_name == chapter.notebook(language)]
        if len(copies) == 1:
            chosen[key] = (copies[0], [])
        elif len(canonical) == 1:
            chosen[key] = (canonical[0], [c for c in copies if c is not canonical[0]])
        else:
            chosen[key] = (replace(copies[0], note="ambiguous"), copies[1:])
    return chosen


def _place(course: Course, candidate: Candidate, entry, due_of) -> Entry:
    assignment, student = candidate.assignment, candidate.person.student_id
    due = due_of(candidate.assignment)
    timestamp, note = _submission_time(course, candidate, due)
    timestamp = timestamp.astimezone(UTC) if timestamp else None
    name = course.notebook_name(assignment)
    renamed = "" if candidate.file_name == name else f"renamed: {candidate.file_name}"
    target = course.submitted / student / assignment / name
    action = PLACED
    if target.is_file():
        old = target.read_bytes()
        if old == candidate.member.data:
            action = UNCHANGED
        else:
            action = REPLACED
            digest = hashlib.sha256(old).hexdigest()
            archived = (course.archive / student / assignment
                        / f"{time.strftime('%Y%m%d-%H%M%S')}-{digest[:12]}.ipynb")
            archived.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, archived)
            kept_as = archived.relative_to(course.root)
            note = "; ".join(filter(None, [note, f"replaced {digest[:12]} (kept as {kept_as})"]))
    if action != UNCHANGED:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(candidate.member.data)
        partial.replace(target)
    stamp = target.parent / "timestamp.txt"
    if timestamp is not None:
        stamp.write_text(timestamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), encoding="utf-8")
    elif action == REPLACED and stamp.is_file():
        stamp.unlink()  # the old file's time does not belong to the new one
    late = candidate.sender.late or bool(timestamp and due and timestamp > due)
    return replace(entry(candidate.member, action, sender=candidate.sender, candidate=candidate,
                         note="; ".join(filter(None, [renamed, note]))),
                   late="yes" if late else "", timestamp=timestamp.isoformat() if timestamp else "")


def _submission_time(course: Course, candidate: Candidate,
                     due: datetime | None) -> tuple[datetime | None, str]:
    """When the LMS says the student submitted, and how that is known."""
    chapter, _ = parse_assignment(candidate.assignment)
    if candidate.sender.layout == senders.MOODLE and worksheet_path(course, chapter).is_file():
        row = _participants(worksheet_path(course, chapter)).get(candidate.sender.key)
        when = moodle.submission_time(row["submitted"]) if row else None
        if when is not None:
            return when, ""
        return None, "submission time not readable in the worksheet"
    if candidate.sender.layout == senders.CANVAS and candidate.sender.late:
        if due is None:
            return None, "late (Canvas); give --due to record it in nbgrader"
        return due + timedelta(seconds=1), ("late (Canvas's download has no times: recorded as 1 s after "
                                            "the due date)")
    return None, ""


def _hold(course: Course, member: Member, entry: Entry) -> Entry:
    """Keep a copy of a notebook that was not placed, so that nothing is lost."""
    folder = course.root / HELD_FOLDER
    if member.data is None or (folder.is_dir() and sum(1 for _ in folder.iterdir()) >= HELD_FILES):
        return entry
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(member.data).hexdigest()[:12]
    copy = folder / f"{digest}-{identity.normalise(PurePosixPath(member.path).stem) or 'notebook'}.ipynb"
    if not copy.is_file():
        copy.write_bytes(member.data)
    return replace(entry, note=f"{entry.note} [copy: {copy.relative_to(course.root)}]")
