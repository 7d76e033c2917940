"""Hints of copying, for a person to read: never a grade change.

For one chapter (both languages together: the functions are the same), every
student's answer cells are fingerprinted (``fingerprint``) and compared. The
report (reports/similarity-<chapter>.html, no script, reads offline) lists:

- submissions whose answers are all the same after normalising (byte-identical
  notebooks included), as groups;
- for each function, the students who wrote the same code (clusters; a cluster
  inside one of those groups says nothing new and is left out);
- pairs whose function is not the same but resembles above ``NEAR`` (Jaccard
  index of 5-token shingles), the two side by side;
- students whose function is the same as the reference (the solution
  notebook's answer, or ``lossfns``'s own implementation), and those that
  resemble it, side by side.

Functions left as released (the stub) and very short ones (under ``MIN_SHINGLES``
shingles, where honest answers coincide) are not compared.
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
class Cluster:
    """Students whose function is the same after normalising."""

    function: str
    students: tuple[str, ...]
    source: str  # one of them, as written
    reference: str = ""  # where the reference with this very code is, if it is one


@dataclass(frozen=True)
class Pair:
    """Two functions that resemble each other without being the same."""

    function: str
    first: str  # a student
    second: str  # a student, or where the reference is
    resemblance: float
    left: str
    right: str


@dataclass
class SimilarityReport:
    chapter: str
    path: Path
    students: int
    groups: list[list[str]]
    clusters: list[Cluster]
    pairs: list[Pair]

    def __str__(self) -> str:
        references = [c for c in self.clusters if c.reference]
        lines = [(f"{self.chapter}: {self.students} submission(s) compared; {len(self.groups)} group(s) with "
                  f"the same answers, {len(self.clusters) - len(references)} function(s) written the same by "
                  f"several students, {len(references)} the same as the reference, {len(self.pairs)} similar "
                  f"pair(s). Hints only, to read: {self.path}")]
        lines += [f"  same answers: {', '.join(group)}" for group in self.groups]
        return "\n".join(lines)


def similarity_report(course: Course, chapter_id: str, output: str | Path) -> SimilarityReport:
    chapter = chapter_named(chapter_id)
    assignments = [a for a in chapter.assignments if a in course.assignments]
    answers: dict[str, str] = {}  # student -> all answer cells of their submission (the first language found)
    for assignment in assignments:
        name = course.notebook_name(assignment)
        for student in course.submissions(assignment):
            cells = _answer_cells(course.submitted / student / assignment / name)
            if cells is not None and student not in answers:
                answers[student] = "\n\n".join(cells)
    stubs = {f.normalised for a in assignments
             for f in _fingerprints_of(course.exercises / a / course.notebook_name(a)).values()}
    prints = {student: {n: f for n, f in fingerprints(source).items()
                        if f.normalised not in stubs and f.size >= MIN_SHINGLES}
              for student, source in answers.items()}
    references = _references(course, chapter, assignments)
    groups = _same_answers(prints)
    clusters = _clusters(prints, groups, references)
    pairs = _pairs(prints) + _like_references(prints, references)
    path = Path(output) / f"similarity-{chapter.id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_html(chapter.id, len(answers), groups, clusters, pairs), encoding="utf-8")
    return SimilarityReport(chapter.id, path, len(answers), groups, clusters, pairs)


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


def _references(course: Course, chapter, assignments: list[str]) -> dict[str, list[tuple[str, Fingerprint]]]:
    """``{function: [(where, fingerprint)]}``: the solution notebooks' answers and lossfns's functions."""
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
    return references


def _same_answers(prints: dict[str, dict[str, Fingerprint]]) -> list[list[str]]:
    """Groups of students whose compared functions are all the same (at least one function)."""
    by_digest: dict[str, list[str]] = {}
    for student, functions in prints.items():
        if functions:
            key = json.dumps(sorted((n, f.normalised) for n, f in functions.items()))
            by_digest.setdefault(hashlib.sha256(key.encode()).hexdigest(), []).append(student)
    return sorted(sorted(group) for group in by_digest.values() if len(group) > 1)


def _clusters(prints: dict[str, dict[str, Fingerprint]], groups: list[list[str]],
              references: dict[str, list[tuple[str, Fingerprint]]]) -> list[Cluster]:
    same: dict[tuple[str, str], list[str]] = {}
    for student, functions in sorted(prints.items()):
        for name, found in functions.items():
            same.setdefault((name, found.normalised), []).append(student)
    clusters = []
    for (name, normalised), students in sorted(same.items()):
        reference = next((where for where, f in references.get(name, []) if f.normalised == normalised), "")
        inside_a_group = any(set(students) <= set(group) for group in groups)
        if reference or (len(students) > 1 and not inside_a_group):
            clusters.append(Cluster(name, tuple(students), prints[students[0]][name].source, reference))
    return sorted(clusters, key=lambda c: (not c.reference, -len(c.students), c.function))


def _pairs(prints: dict[str, dict[str, Fingerprint]]) -> list[Pair]:
    pairs = []
    for first, second in combinations(sorted(prints), 2):
        for name, mine in prints[first].items():
            theirs = prints[second].get(name)
            if theirs is None or mine.normalised == theirs.normalised:
                continue  # the same code is a cluster, not a pair
            if min(mine.size, theirs.size) < NEAR * max(mine.size, theirs.size):
                continue  # too different in length to resemble above NEAR
            score = mine.resemblance(theirs)
            if score >= NEAR:
                pairs.append(Pair(name, first, second, score, mine.source, theirs.source))
    return sorted(pairs, key=lambda p: (-p.resemblance, p.function, p.first, p.second))


def _like_references(prints: dict[str, dict[str, Fingerprint]],
                     references: dict[str, list[tuple[str, Fingerprint]]]) -> list[Pair]:
    pairs = []
    for student, functions in sorted(prints.items()):
        for name, mine in functions.items():
            for where, reference in references.get(name, []):
                score = mine.resemblance(reference)
                if mine.normalised != reference.normalised and score >= NEAR:
                    pairs.append(Pair(name, student, where, score, mine.source, reference.source))
    return sorted(pairs, key=lambda p: (-p.resemblance, p.first))


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}pre{background:#f6f6f6;padding:.6em;overflow:auto;
font-size:90%}h3{margin-bottom:.2em}.note{color:#555}"""


def _html(chapter_id: str, students: int, groups: list[list[str]], clusters: list[Cluster],
          pairs: list[Pair]) -> str:
    def e(text) -> str:
        return html.escape(str(text))

    parts = [(f"<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>Similarity hints · "
              f"{e(chapter_id)}</title><style>{STYLE}</style><body>"
              f"<h1>Similarity hints · {e(chapter_id)}</h1>"),
             (f"<p class='note'>{students} submissions compared after normalising names, comments, "
              "formatting and error messages. These are hints for a person to read, not evidence and not a "
              "grade: short or textbook answers coincide honestly.</p>")]
    parts.append(f"<h2>Same answers in every function ({len(groups)} group(s))</h2><ul>")
    parts += [f"<li>{e(', '.join(group))}</li>" for group in groups]
    parts.append(f"</ul><h2>The same function ({len(clusters)})</h2><table><tr><th>function</th>"
                 "<th>students</th><th>the same as the reference</th><th>code</th></tr>")
    parts += [f"<tr><td>{e(c.function)}</td><td>{e(', '.join(c.students))}</td><td>{e(c.reference or '—')}"
              f"</td><td><details><summary>show</summary><pre>{e(c.source)}</pre></details></td></tr>"
              for c in clusters]
    parts.append(f"</table><h2>Similar, not the same ({len(pairs)})</h2>")
    for i, pair in enumerate(pairs, 1):
        parts.append(f"<h3 id='p{i}'>{i}. {e(pair.function)}: {e(pair.first)} · {e(pair.second)} "
                     f"(resemblance {pair.resemblance:.2f})</h3><div class='pair'>"
                     f"<pre>{e(pair.left)}</pre><pre>{e(pair.right)}</pre></div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
