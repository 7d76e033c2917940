"""The feedback pages, packaged the way each LMS takes feedback files in bulk.

For each chapter, one zip per LMS, holding one self-contained page per
submission (formulas typeset in advance, no scripts: ``static_math``):

- Moodle (``exports/moodle/<chapter>-feedback.zip``): "Upload multiple feedback
  files in a zip" in the assignment's grading action menu; each page is named
  ``<full name>_<participant id>_assignfeedback_file_feedback-<assignment>.html``
  and becomes that student's feedback file;
- Canvas (``exports/canvas/<chapter>-feedback.zip``): "Re-Upload Submissions" on
  the assignment's page; each page keeps the prefix of the file it comments on,
  ``<name>[_LATE]_<user id>_<file id>_feedback-<assignment>.html``, and becomes a
  submission comment with the page attached.

The LMS identity of each submission comes from lms/imports.csv (what the
import recorded); pages of submissions that did not come from that LMS (a plain
folder, or the other LMS) are left out and counted in the notes.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path

from ..chapters import CHAPTERS, parse_assignment
from ..lms import canvas, moodle, senders
from ..lms.ledger import Ledger
from .course import Course
from .static_math import self_contained


def package_feedback(course: Course, output: str | Path, lms: str, notes: list[str]) -> list[Path]:
    """Write the feedback zips of every chapter with feedback pages; return them."""
    layouts = {"all": (senders.MOODLE, senders.CANVAS), "moodle": (senders.MOODLE,),
               "canvas": (senders.CANVAS,)}[lms]
    ledger = Ledger(course.root)
    by_package: dict[tuple[str, str], list[tuple[str, Path]]] = defaultdict(list)  # (lms, chapter) -> pages
    left_out = defaultdict(int)
    for assignment in course.assignments:
        chapter, _ = parse_assignment(assignment)
        page_name = Path(course.notebook_name(assignment)).with_suffix(".html").name
        for page in sorted(course.feedback.glob(f"*/{assignment}/{page_name}")):
            student = page.parent.parent.name
            entry = ledger.current(student, assignment)
            if entry is None or entry.layout not in layouts:
                left_out[chapter.id] += 1
                continue
            file_name = f"feedback-{assignment}.html"
            if entry.layout == senders.MOODLE:
                name = moodle.feedback_file_name(entry.name, entry.lms_key, file_name)
            else:
                name = canvas.feedback_file_name(entry.name, entry.late == "yes", entry.lms_key,
                                                 entry.file_id, file_name)
            by_package[(entry.layout, chapter.id)].append((name, page))
    for chapter_id, count in sorted(left_out.items()):
        notes.append(f"{count} feedback page(s) of {chapter_id} did not come from "
                     f"{' or '.join(layouts)} (lms/imports.csv), so they are in no LMS package")
    written = []
    for (layout, chapter_id), pages in sorted(by_package.items(), key=lambda item: _order(item[0])):
        target = Path(output) / layout / f"{chapter_id}-feedback.zip"
        written.append(_zip(target, pages))
    return written


def _zip(target: Path, pages: list[tuple[str, Path]]) -> Path:
    html = self_contained([page.read_text(encoding="utf-8") for _, page in pages])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
        for (name, _), text in zip(pages, html):
            bundle.writestr(name, text)
    partial.replace(target)
    return target


def _order(key: tuple[str, str]) -> tuple[str, int]:
    layout, chapter_id = key
    return layout, next(c.number for c in CHAPTERS if c.id == chapter_id)
