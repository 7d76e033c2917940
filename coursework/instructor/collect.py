"""Place downloaded submissions where nbgrader expects them: submitted/<student>/<assignment>/.

Files come from a folder or a zip, named ``<student-id>_<anything>.ipynb``
(the student id is what comes before the first underscore). The assignment is
recognised from the notebook's own metadata (``metadata.lossfns.assignment``),
so a renamed download such as ``ana_ch1 (1).ipynb`` still lands in the right
place; a notebook that is not valid JSON is placed by an assignment id in its
name and will be graded 0 with the reason. Nothing is lost: every file that
cannot be placed is listed with why, and a submission replaced by a newer
one is moved to collect_archive/ first.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..limits import NOTEBOOK_FILE_BYTES
from .course import Course

STUDENT_ID = re.compile(r"^[^\W_][\w.\-]*$")  # letters (any alphabet), digits, '.', '-'; no '/'

TOO_LARGE = f"larger than {NOTEBOOK_FILE_BYTES // 2**20} MB, so not a notebook of this course (not read)"


@dataclass
class CollectReport:
    placed: list[tuple[str, str, str]] = field(default_factory=list)  # (file, student, assignment)
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    unchanged: int = 0

    def __str__(self) -> str:
        lines = [f"Placed {len(self.placed)} submission(s); {self.unchanged} already there unchanged."]
        lines += [f"  {student:>12}  {assignment}  <- {name}" for name, student, assignment in self.placed]
        if self.unplaced:
            lines.append(f"Could not place {len(self.unplaced)} file(s):")
            lines += [f"  {name}: {reason}" for name, reason in self.unplaced]
        return "\n".join(lines)


def collect(course: Course, source: str | Path) -> CollectReport:
    """Copy every submission from ``source`` (a folder or a .zip) into submitted/."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"expected a folder or a .zip of submissions, got {source} (not found)")
    files = _zip_members(source) if source.is_file() else _folder_files(source)
    report = CollectReport()
    candidates: dict[tuple[str, str], list[tuple[float, str, bytes]]] = {}
    for name, mtime, data in files:
        placement = place(course, name, data) if data is not None else TOO_LARGE
        if isinstance(placement, str):
            report.unplaced.append((name, placement))
        else:
            candidates.setdefault(placement, []).append((mtime, name, data))
    chosen = {}
    for key, copies in candidates.items():
        copies.sort(key=lambda copy: (copy[0], copy[1]))
        chosen[key] = copies[-1]
        for _, name, _ in copies[:-1]:  # two downloads of one assignment by one student: the newer wins
            report.unplaced.append((name, (f"older than {copies[-1][1]}, the copy collected for the same "
                                          "student and assignment")))
    for (student, assignment), (_, name, data) in sorted(chosen.items()):
        if _store(course, student, assignment, data):
            report.placed.append((name, student, assignment))
        else:
            report.unchanged += 1
    return report


def place(course: Course, name: str, data: bytes) -> tuple[str, str] | str:
    """``(student, assignment)`` for a file, or the reason it cannot be placed."""
    base = Path(name).name
    if not base.endswith(".ipynb"):
        return "not a notebook (.ipynb)"
    student, underscore, _ = base.partition("_")
    if not underscore or not STUDENT_ID.match(student):
        return "the name does not start with a student id and an underscore (<student-id>_<anything>.ipynb)"
    assignment = _assignment_in_metadata(data)
    if assignment is None:
        named = [a for a in course.assignments if a in base]
        if len(named) != 1:
            return "not a notebook of this course (no assignment in its metadata or its name)"
        assignment = named[0]
    elif assignment not in course.assignments:
        return f"its metadata names an unknown assignment {assignment!r}"
    return student, assignment


def _assignment_in_metadata(data: bytes) -> str | None:
    try:
        value = json.loads(data.decode("utf-8"))["metadata"]["lossfns"]["assignment"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) else None


def _store(course: Course, student: str, assignment: str, data: bytes) -> bool:
    """Write the submission; archive a different one already there. False if identical."""
    target = course.submitted / student / assignment / course.notebook_name(assignment)
    if target.is_file():
        old = target.read_bytes()
        if old == data:
            return False
        digest = hashlib.sha256(old).hexdigest()[:12]
        archived = course.archive / student / assignment / f"{time.strftime('%Y%m%d-%H%M%S')}-{digest}.ipynb"
        archived.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, archived)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return True


def _folder_files(folder: Path):
    """``(name, mtime, bytes)`` of each file; bytes are None for a file too large to be a notebook,
    and only notebooks are read at all."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            size = path.stat().st_size
            data = path.read_bytes() if path.suffix == ".ipynb" and size <= NOTEBOOK_FILE_BYTES else (
                b"" if path.suffix != ".ipynb" else None)
            yield str(path.relative_to(folder)), path.stat().st_mtime, data


def _zip_members(path: Path):
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"expected a folder or a .zip of submissions, got {path} (not a zip file)") from None
    with archive:
        for info in archive.infolist():
            if not info.is_dir() and not Path(info.filename).name.startswith("."):
                notebook = info.filename.endswith(".ipynb")
                data = archive.read(info) if notebook and info.file_size <= NOTEBOOK_FILE_BYTES else (
                    b"" if not notebook else None)
                yield info.filename, time.mktime(info.date_time + (0, 0, -1)), data
