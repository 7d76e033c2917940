"""The class's misconceptions after autograding: what to re-teach next lecture.

For every graded behaviour of an assignment: how many students failed it (from the gradebook,
so the counts are the gradebook's, manual overrides included), how many did not attempt it, and
the misconceptions the grader recognised in the failures, most frequent first, each with the book
section that treats it. The diagnoses are read from the autograded notebooks, where the grading
step records each verdict (``autograde_step.OUTPUT_KEY``); a failure with no recognised
misconception counts as "other". Written as a table (printed and saved as Markdown) and a figure
with one panel per assignment.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..chapters import parse_assignment
from ..grading.autograde_step import OUTPUT_KEY
from ..grading.links import section_url
from ..grading.registry import behaviours
from .course import Course

OTHER = "other"
TOP = 3  # misconceptions per behaviour in the table


@dataclass
class BehaviourCount:
    """The class's results on one graded behaviour."""

    grade_id: str
    function: str
    graded: int = 0
    failed: int = 0
    not_attempted: int = 0
    diagnoses: Counter = field(default_factory=Counter)  # misconception key (or OTHER) -> students


def count(course: Course, assignment: str) -> list[BehaviourCount]:
    """One ``BehaviourCount`` per graded behaviour of ``assignment``, in notebook order."""
    from nbgrader.api import Gradebook, MissingEntry

    course.check_assignment(assignment)
    counts = {g: BehaviourCount(g, b.function) for g, b in behaviours(assignment).items()}
    name = course.notebook_name(assignment)
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        try:
            submissions = gradebook.find_assignment(assignment).submissions
        except MissingEntry:
            return list(counts.values())
        for submission in submissions:
            records = _records(course.autograded / submission.student.id / assignment / name)
            for grade in (g for nb in submission.notebooks for g in nb.grades):
                entry = counts.get(grade.name)
                if entry is None:
                    continue
                entry.graded += 1
                if (grade.score or 0) >= grade.max_score:
                    continue
                entry.failed += 1
                record = records.get(grade.name, {})
                if record.get("attempted") is False:
                    entry.not_attempted += 1
                else:
                    entry.diagnoses[record.get("diagnosis") or OTHER] += 1
    return list(counts.values())


def _records(path: Path) -> dict[str, dict]:
    """The verdict records the grading step wrote into an autograded notebook, by grade_id."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 (a student whose notebook could not be read has no records)
        return {}
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get(OUTPUT_KEY)
            if isinstance(record, dict) and "grade_id" in record:
                found[record["grade_id"]] = record
    return found


def describe(assignment: str, key: str) -> tuple[str, str]:
    """The misconception ``key`` of an assignment in its language, and the URL of its book section."""
    _, language = parse_assignment(assignment)
    for behaviour in behaviours(assignment).values():
        for misconception in behaviour.misconceptions:
            if misconception.key == key:
                return misconception.text[language], section_url(misconception.section, language)
    return "", ""


def table(assignment: str, counts: list[BehaviourCount]) -> str:
    """A Markdown table: behaviour, failed of graded, not attempted, top misconceptions with counts."""
    lines = [f"### {assignment}", "", "| behaviour | failed | not attempted | misconceptions (students) |",
             "|---|---|---|---|"]
    for entry in counts:
        top = ", ".join(f"{key} ({n})" for key, n in entry.diagnoses.most_common(TOP)) or "-"
        lines.append(f"| {entry.grade_id} | {entry.failed}/{entry.graded} | {entry.not_attempted} | {top} |")
    keys = sorted({k for entry in counts for k in entry.diagnoses if k != OTHER})
    if keys:
        lines += ["", "| misconception | what it means | book |", "|---|---|---|"]
        for key in keys:
            text, url = describe(assignment, key)
            lines.append(f"| {key} | {text} | {url} |")
    return "\n".join(lines)


def misconceptions(course: Course, assignments: list[str], output: str | Path
                   ) -> tuple[Path, str, dict[str, list[BehaviourCount]]]:
    """Count every assignment, save the figure to ``output`` (PNG) and the table next to it (``.md``);
    return the figure's path, the table and the counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = {a: count(course, a) for a in assignments}
    data = {a: c for a, c in data.items() if any(entry.graded for entry in c)}
    if not data:
        raise ValueError("expected autograded submissions in the gradebook, found none (run autograde first)")
    rows = len(data)
    height = 0.45 * max(len(c) for c in data.values()) * rows + 1.2 * rows
    figure, axes = plt.subplots(rows, 1, figsize=(8, height), squeeze=False)
    for axis, (assignment, counts) in zip(axes.flat, data.items()):
        _panel(axis, assignment, counts)
    figure.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    text = "\n\n".join(table(a, c) for a, c in data.items())
    output.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    return output, text, data


def _panel(axis, assignment: str, counts: list[BehaviourCount]) -> None:
    """Horizontal stacked bars: per behaviour, its failures split by misconception."""
    keys = [k for k, _ in sum((entry.diagnoses for entry in counts), Counter()).most_common() if k != OTHER]
    colours = {key: f"C{i % 10}" for i, key in enumerate(keys)}
    colours[OTHER] = "#bbbbbb"
    labels = [entry.grade_id for entry in counts]
    for row, entry in enumerate(counts):
        left = 0
        for key in [*keys, OTHER]:
            width = entry.diagnoses.get(key, 0)
            if width:
                axis.barh(row, width, left=left, color=colours[key], label=key)
                left += width
        if entry.not_attempted:
            axis.barh(row, entry.not_attempted, left=left, color="white", edgecolor="#999999", hatch="//",
                      label="not attempted")
    handles, names = axis.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()
    graded = max((entry.graded for entry in counts), default=0)
    axis.set(title=f"{assignment} · {graded} students graded", xlabel="students who failed",
             xlim=(0, max(1, graded)))
    axis.xaxis.get_major_locator().set_params(integer=True)
    if unique:
        axis.legend(unique.values(), unique.keys(), fontsize=7, loc="lower right",
                    ncol=max(1, math.ceil(len(unique) / 6)))
