"""nbgrader student ids from LMS identities: stable, file-system safe, one rule.

A student's id is, in this order of preference, their institutional id (Canvas's
"SIS User ID", Moodle's "ID number"), their LMS user id (Canvas's "ID"), or their
email address; written in lower case ASCII (accents dropped), with any run of
characters other than letters, digits, ``.``, ``@`` and ``-`` replaced by ``-``.
So ``A0001`` and ``a0001`` are one student, and an id is a valid folder name on
every system and in every URL nbgrader builds. Ids already given (lms/roster.csv)
never change: ``roster.Roster`` keeps them when the class list is imported again.
"""

from __future__ import annotations

import re
import unicodedata

_OUTSIDE = re.compile(r"[^a-z0-9.@-]+")


def normalise(text: str) -> str:
    """``'García_López A0001'`` -> ``'garcia-lopez-a0001'``; '' when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _OUTSIDE.sub("-", ascii_text.casefold()).strip("-.@")


def student_id(*, institutional_id: str = "", lms_user_id: str = "", email: str = "") -> str:
    """The id the rule gives; ValueError when none of the three is usable."""
    for value in (institutional_id, lms_user_id, email):
        if normalise(value):
            return normalise(value)
    raise ValueError("expected an institutional id, an LMS user id or an email address to make a student id, "
                     "got none")


def fold(text: str) -> str:
    """A comparable form of a name or an id: no accents, no case, single spaces."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.casefold().replace(",", " ").split())
