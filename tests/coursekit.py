"""A temporary copy of the course with its own gradebook, and synthetic student notebooks."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from coursework.chapters import CHAPTERS, Chapter, parse_assignment

ROOT = Path(__file__).resolve().parents[1]


def chapter_with_cell(grade_id: str) -> Chapter:
    """The chapter whose exercise has the cell ``grade_id`` (tests name the cells they use, not chapters)."""
    for chapter in CHAPTERS:
        if grade_id in cells_by_id(load(chapter.solution("en"))):
            return chapter
    raise LookupError(f"no chapter's exercise has a cell {grade_id!r}")


def notebook_in(course: Path, kind: str, assignment: str) -> Path:
    """The notebook of ``assignment`` under ``course/kind`` (solutions, exercises, submitted/<student>...)."""
    chapter, language = parse_assignment(assignment)
    return course / kind / assignment / chapter.notebook(language)


def make_course(directory: Path, assignments: list[str], *, behaviour_timeout: float = 30,
                total_timeout: float = 120) -> Path:
    """Copy nbgrader_config.py and the solutions of ``assignments`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    config += (f"\nc.SandboxGrade.behaviour_timeout = {behaviour_timeout}"
               f"\nc.SandboxGrade.total_timeout = {total_timeout}\n")
    (directory / "nbgrader_config.py").write_text(config, encoding="utf-8")
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, directory / "solutions" / assignment)
    return directory


def put_venv_on_path() -> None:
    """nbgrader runs alembic from PATH when it creates a gradebook."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cells_by_id(notebook: dict) -> dict[str, dict]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"]
            if "nbgrader" in c.get("metadata", {})}


def with_answer(notebook: dict, grade_id: str, source: str) -> dict:
    """A copy of ``notebook`` whose answer cell ``grade_id`` holds ``source``."""
    copy = json.loads(json.dumps(notebook))
    cells_by_id(copy)[grade_id]["source"] = source
    return copy


def graded_points(notebook: dict) -> dict[str, float]:
    """Points of each autograded test cell, from the notebook's nbgrader metadata."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
            for c in notebook["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"]["solution"]}


def scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {grade_id: score}}`` from the course's gradebook."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(assignment).submissions:
            result[submission.student.id] = {g.name: g.score
                                             for nb in submission.notebooks for g in nb.grades}
    return result


# LMS downloads and exports, built the way Moodle and Canvas name things (see coursework.lms.senders,
# coursework.lms.moodle, coursework.lms.canvas for the sources of each format).

def write_zip(path: Path, members: dict[str, bytes], *, raw_names: dict[str, bytes] | None = None,
              extras: dict[str, bytes] | None = None) -> Path:
    """A zip of ``members``; ``raw_names`` stores some names as raw bytes without the UTF-8 flag (as Info-ZIP
    on Linux writes UTF-8, or Windows writes CP437), ``extras`` adds extra fields to some members."""
    import hashlib
    import zipfile

    raw_names = raw_names or {}  # an ASCII stand-in of the same length, swapped for the raw bytes afterwards
    placeholders = {name: (hashlib.sha256(name.encode()).hexdigest() * 8)[:len(raw)].encode()
                    for name, raw in raw_names.items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            info = zipfile.ZipInfo(placeholders[name].decode() if name in placeholders else name,
                                   date_time=(2026, 3, 2, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.extra = (extras or {}).get(name, b"")
            bundle.writestr(info, data)
    if placeholders:
        content = path.read_bytes()
        for name, placeholder in placeholders.items():
            assert content.count(placeholder) == 2, "placeholder must be unique"  # local and central headers
            content = content.replace(placeholder, raw_names[name])
        path.write_bytes(content)
    return path


def unicode_path_field(raw: bytes, name: str) -> bytes:
    """Info-ZIP's Unicode Path extra field (0x7075) for a member stored under ``raw``."""
    import struct
    import zlib

    body = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


def moodle_path(full_name: str, participant: int, file_name: str, *, folders: bool = True,
                trailing: bool = False) -> str:
    """A file's path in Moodle's "Download all submissions": a folder per student (Moodle >= 4.1; with
    ``trailing`` the 3.1-4.0 form ending in '_'), or flat names without "Download submissions in folders"."""
    prefix = f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_file"
    if folders:
        return f"{prefix}{'_' if trailing else ''}/{file_name}"
    return f"{prefix}_{file_name}"


def canvas_name(sortable_name: str, user_id: int, file_id: int, original: str, *, late: bool = False) -> str:
    """A file's name in Canvas's "Download Submissions" (lib/content_zipper.rb)."""
    import re

    name = re.sub(r"[^\w]", "", sortable_name.lower())
    return "_".join([name, *(["LATE"] if late else []), str(user_id), str(file_id), original])


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    return path


MOODLE_WORKSHEET_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                           "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                           "Feedback comments"]


def moodle_worksheet(path: Path, rows: list[tuple[int, str, str, str]], maximum: float) -> Path:
    """A grading worksheet as Moodle writes it: (participant, full name, email, last modified submission)."""
    return write_csv(path, [MOODLE_WORKSHEET_HEADER] + [
        [f"Participant {participant}", name, email, "Submitted for grading" if when else "No submission", "",
         f"{maximum:.2f}", "Yes", when or "-", "-", ""] for participant, name, email, when in rows])


def canvas_gradebook_export(path: Path, students: list[tuple[str, int, str, str, str]],
                            assignments: list[tuple[str, int, float]]) -> Path:
    """Canvas's gradebook export: (sortable name, user id, SIS user id, SIS login id, section) per student,
    (title, assignment id, points possible) per assignment, Canvas's Test Student included."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    header += [f"{t} ({i})" for t, i, _ in assignments] + ["Current Points", "Final Points", "Current Score",
                                                           "Final Score"]
    points = ["    Points Possible", "", "", "", ""] + [f"{p:.2f}" for _, _, p in assignments]
    points += ["(read only)"] * 4
    rows = [[s, str(i), sis, login, section] + [""] * len(assignments) + ["0"] * 4
            for s, i, sis, login, section in students]
    rows.append(["Student, Test", "99999", "", "", "Section 1"] + [""] * len(assignments) + ["0"] * 4)
    return write_csv(path, [header, points, *rows])
