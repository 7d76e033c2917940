"""Hints of copying, for a person to read: never a grade change.

For one chapter (both languages together: the functions are the same), every
student's answer cells are fingerprinted (``fingerprint``) and compared:

- submissions whose answers are all the same after normalising (byte-identical
  notebooks included), as groups;
- pairs of students whose function is the same, or resembles above
  ``NEAR`` (Jaccard index of 5-token shingles);
- students whose function is the same as, or resembles, the reference: the
  solution notebook's answer, or ``lossfns``'s own implementation.

Functions left as released (the stub) and very short ones (under ``MIN_SHINGLES``
shingles, where honest answers coincide) are not compared. The HTML report
(reports/similarity-<chapter>.html) shows each hint with the two functions
side by side; it holds no script and reads offline.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import inspect
import json
import textwrap
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from ..chapters import chapter as chapter_named
from .course import Course
from .fingerprint import Fingerprint, fingerprints

NEAR = 0.8
MIN_SHINGLES = 12


@dataclass(frozen=True)
class Hint:
    kind: str  # "same", "similar", "same as reference", "similar to reference"
    first: str  # a student id
    second: str  # a student id, or the reference's name
    function: str
    resemblance: float
    left: str  # the two sources, side by side in the report
    right: str


@dataclass
class SimilarityReport:
    chapter: str
    path: Path
    students: int
    groups: list[list[str]]
    hints: list[Hint]

    def __str__(self) -> str:
        pairs = [h for h in self.hints if "reference" not in h.kind]
        references = [h for h in self.hints if "reference" in h.kind]
        lines = [(f"{self.chapter}: {self.students} submission(s) compared; {len(self.groups)} group(s) with "
                 f"the same answers, {len(pairs)} pair(s) of similar functions, {len(references)} "
                 f"function(s) like the reference. Hints only, to read: {self.path}")]
        lines += [f"  same answers: {', '.join(group)}" for group in self.groups]
        return "\n".join(lines)


def similarity_report(course: Course, chapter_id: str, output: str | Path) -> SimilarityReport:
    chapter = chapter_named(chapter_id)
    assignments = [a for a in chapter.assignments if a in course.assignments]
    answers: dict[str, str] = {}  # student -> all answer cells of their submission (their better language)
    for assignment in assignments:
        name = course.notebook_name(assignment)
        for student in course.submissions(assignment):
            cells = _answer_cells(course.submitted / student / assignment / name)
            if cells is not None and student not in answers:
                answers[student] = "\n\n".join(cells)
    stubs = {f.normalised for a in assignments
             for f in _fingerprints_of(course.exercises / a / course.notebook_name(a)).values()}
    prints = {student: {n: f for n, f in fingerprints(source).items() if f.normalised not in stubs}
              for student, source in answers.items()}
    groups = _same_answers(prints)
    hints = _pairs(prints) + _reference_hints(course, chapter, assignments, prints)
    path = Path(output) / f"similarity-{chapter.id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_html(chapter.id, len(answers), groups, hints), encoding="utf-8")
    return SimilarityReport(chapter.id, path, len(answers), groups, hints)


def _answer_cells(path: Path) -> list[str] | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return ["".join(c["source"]) if isinstance(c["source"], list) else str(c["source"]) for c in cells
                if c.get("cell_type") == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _fingerprints_of(notebook: Path) -> dict[str, Fingerprint]:
    found = {}
    for cell in _answer_cells(notebook) or []:
        found.update(fingerprints(cell))
    return found


def _same_answers(prints: dict[str, dict[str, Fingerprint]]) -> list[list[str]]:
    """Groups of students whose answered functions are all the same (at least one substantial one)."""
    by_digest: dict[str, list[str]] = {}
    for student, functions in prints.items():
        if any(f.size >= MIN_SHINGLES for f in functions.values()):
            key = json.dumps(sorted((n, f.normalised) for n, f in functions.items()))
            by_digest.setdefault(hashlib.sha256(key.encode()).hexdigest(), []).append(student)
    return sorted(sorted(group) for group in by_digest.values() if len(group) > 1)


def _pairs(prints: dict[str, dict[str, Fingerprint]]) -> list[Hint]:
    hints = []
    for first, second in combinations(sorted(prints), 2):
        for name, mine in prints[first].items():
            theirs = prints[second].get(name)
            if theirs is None or min(mine.size, theirs.size) < MIN_SHINGLES:
                continue
            if min(mine.size, theirs.size) < NEAR * max(mine.size, theirs.size):
                continue  # too different in length to resemble above NEAR
            score = mine.resemblance(theirs)
            if mine.normalised == theirs.normalised or score >= NEAR:
                kind = "same" if mine.normalised == theirs.normalised else "similar"
                hints.append(Hint(kind, first, second, name, score, mine.source, theirs.source))
    return sorted(hints, key=lambda h: (-h.resemblance, h.function, h.first, h.second))


def _reference_hints(course: Course, chapter, assignments: list[str],
                     prints: dict[str, dict[str, Fingerprint]]) -> list[Hint]:
    references: dict[str, list[tuple[str, Fingerprint]]] = {}
    for assignment in assignments:
        solution = course.solutions / assignment / course.notebook_name(assignment)
        for name, found in _fingerprints_of(solution).items():
            references.setdefault(name, []).append((f"solutions/{assignment}", found))
    for dotted in chapter.graded:
        module, _, name = dotted.rpartition(".")
        try:
            source = textwrap.dedent(inspect.getsource(getattr(importlib.import_module(module), name)))
        except (ImportError, AttributeError, OSError, TypeError):
            continue
        for found in fingerprints(source).values():
            references.setdefault(found.name, []).append((dotted, found))
    hints = []
    for student, functions in sorted(prints.items()):
        for name, mine in functions.items():
            if mine.size < MIN_SHINGLES:
                continue
            for where, reference in references.get(name, []):
                score = mine.resemblance(reference)
                if mine.normalised == reference.normalised or score >= NEAR:
                    same = mine.normalised == reference.normalised
                    kind = "same as reference" if same else "similar to reference"
                    hints.append(Hint(kind, student, where, name, score, mine.source, reference.source))
    return sorted(hints, key=lambda h: (-h.resemblance, h.first))


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}pre{background:#f6f6f6;padding:.6em;overflow:auto;
font-size:90%}h3{margin-bottom:.2em}.note{color:#555}"""


def _html(chapter_id: str, students: int, groups: list[list[str]], hints: list[Hint]) -> str:
    def e(text) -> str:
        return html.escape(str(text))

    parts = [(f"<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>Similarity hints · "
             f"{e(chapter_id)}</title><style>{STYLE}</style><body>"
             f"<h1>Similarity hints · {e(chapter_id)}</h1>"),
             (f"<p class='note'>{students} submissions compared after normalising names, comments, "
              "formatting and error messages. These are hints for a person to read, not evidence and not a "
              "grade: short or textbook answers coincide honestly.</p>")]
    parts.append(f"<h2>Same answers ({len(groups)} group(s))</h2><ul>")
    parts += [f"<li>{e(', '.join(group))}</li>" for group in groups]
    parts.append("</ul>")
    parts.append(f"<h2>Pairs ({len(hints)})</h2><table><tr><th>#</th><th>kind</th><th>function</th>"
                 "<th>student</th><th>other</th><th>resemblance</th></tr>")
    parts += [f"<tr><td><a href='#h{i}'>{i}</a></td><td>{e(h.kind)}</td><td>{e(h.function)}</td>"
              f"<td>{e(h.first)}</td><td>{e(h.second)}</td><td>{h.resemblance:.2f}</td></tr>"
              for i, h in enumerate(hints, 1)]
    parts.append("</table>")
    for i, hint in enumerate(hints, 1):
        parts.append(f"<h3 id='h{i}'>{i}. {e(hint.function)}: {e(hint.first)} · {e(hint.second)} "
                     f"({e(hint.kind)}, {hint.resemblance:.2f})</h3><div class='pair'>"
                     f"<pre>{e(hint.left)}</pre><pre>{e(hint.right)}</pre></div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
