"""Who sent a file of a download, from the names each LMS gives its files.

Moodle's "Download all submissions" (mod/assign/classes/downloader.php):

- with "Download submissions in folders" (the default since Moodle 3.1), one
  folder per student and plugin: ``Ana García_1234_assignsubmission_file/<file name>``
  (Moodle 3.1 to 4.0 end the folder name with ``_``);
- without it, flat names: ``Ana García_1234_assignsubmission_file_ch2-es.ipynb``.

``1234`` is the participant id (``get_uniqueid_for_user``): unique per student
*and assignment*, the same number as "Participant 1234" in that assignment's
grading worksheet. Moodle writes ``_`` in a name as a space.

Canvas's "Download Submissions" (lib/content_zipper.rb): flat names
``<name>[_LATE]_<user id>_<file id>_<original name>``, where ``<name>`` is the
sortable name ("García, Ana") lower-cased without spaces or punctuation,
``LATE`` marks a submission after the due date, the user id is the "ID" column
of Canvas's gradebook, and the file id is the id of the uploaded file (its
"attachment"; Canvas's "Re-Upload Submissions" finds the student by these two
numbers). With anonymous grading the name and user id become ``anon_<id>``.

A plain folder (today's path and quick practice runs): ``<student id>_<anything>.ipynb``,
or one folder per student id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

MOODLE = "moodle"
CANVAS = "canvas"
PLAIN = "plain"
LAYOUTS = (MOODLE, CANVAS, PLAIN)

_MOODLE_PART = re.compile(r"^(?P<name>[^_]+)_(?P<participant>\d+)"
                          r"_(?P<subtype>assignsubmission|assignfeedback)_(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$")
_CANVAS = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<file>\d+)_(?P<original>.+)$")
_CANVAS_ANONYMOUS = re.compile(r"^anon_(?P<anonymous>[A-Za-z0-9]+)(?P<late>_LATE)?_(?P<file>\d+)"
                               r"_(?P<original>.+)$")
_PLAIN_ID = re.compile(r"^[^\W_][\w.@-]*$")  # letters (any alphabet), digits, '.', '@', '-'; no '/'


@dataclass(frozen=True)
class Sender:
    """What a download's naming says about a file's author."""

    layout: str
    key: str  # Moodle participant id, Canvas user id, or the plain student id as written
    name: str = ""  # the name the LMS wrote ("Ana García", "garcíaana")
    late: bool = False  # Canvas's LATE marker
    file_id: str = ""  # Canvas's id of the uploaded file
    original: str = ""  # the file name the student gave

    def __str__(self) -> str:
        what = {MOODLE: f"Moodle participant {self.key}", CANVAS: f"Canvas user {self.key}",
                PLAIN: f"student id {self.key!r}"}[self.layout]
        return f"{what} ({self.name})" if self.name else what


def moodle(path: str) -> Sender | str:
    """The sender of a file in Moodle's download, or why its path is not Moodle's."""
    parts = PurePosixPath(path).parts
    for index, part in enumerate(parts):
        found = _MOODLE_PART.match(part)
        if found:
            rest = [p for p in (found["rest"] or "",) if p] + list(parts[index + 1:])
            if found["subtype"] != "assignsubmission" or found["plugin"] != "file":
                return f"Moodle's {found['subtype']}_{found['plugin']} part, not an uploaded file"
            if not rest:
                return "a Moodle submission folder without a file"
            return Sender(MOODLE, found["participant"], found["name"].strip(), original="/".join(rest))
    return ("not named like Moodle's download (<full name>_<participant id>_assignsubmission_file, as a "
            "folder or a prefix)")


def canvas(path: str) -> Sender | str:
    """The sender of a file in Canvas's download, or why its name is not Canvas's."""
    name = PurePosixPath(path).name
    anonymous = _CANVAS_ANONYMOUS.match(name)
    if anonymous:
        return (f"submitted under Canvas's anonymous grading (anon_{anonymous['anonymous']}): the download "
                "does not say who sent it; download again with anonymous grading turned off")
    found = _CANVAS.match(name)
    if not found:
        return "not named like Canvas's download (<name>[_LATE]_<user id>_<file id>_<file name>)"
    return Sender(CANVAS, found["user"], found["name"], late=bool(found["late"]), file_id=found["file"],
                  original=found["original"])


def plain(path: str) -> Sender | str:
    """The sender of a file named ``<student id>_<anything>`` or kept in a folder named by the student id."""
    parts = PurePosixPath(path).parts
    if len(parts) > 1 and _PLAIN_ID.match(parts[0]):
        return Sender(PLAIN, parts[0], original="/".join(parts[1:]))
    key, underscore, rest = parts[-1].partition("_")
    if not underscore or not _PLAIN_ID.match(key):
        return ("the name does not start with a student id and an underscore "
                "(<student-id>_<anything>.ipynb), and it is not in a folder named by a student id")
    return Sender(PLAIN, key, original=rest)


PARSERS = {MOODLE: moodle, CANVAS: canvas, PLAIN: plain}


def detect(paths: list[str]) -> str:
    """The layout at least half of the download's paths follow (Moodle, then Canvas), else plain."""
    def like_moodle(path: str) -> bool:
        return any(_MOODLE_PART.match(part) for part in PurePosixPath(path).parts)

    def like_canvas(path: str) -> bool:
        name = PurePosixPath(path).name
        return bool(_CANVAS.match(name) or _CANVAS_ANONYMOUS.match(name))

    for layout, like in ((MOODLE, like_moodle), (CANVAS, like_canvas)):
        if paths and 2 * sum(map(like, paths)) >= len(paths):
            return layout
    return PLAIN
