"""A grade report: a histogram of the scores of each assignment, and a summary table."""

from __future__ import annotations

import math
from pathlib import Path

from .course import Course


def scores_by_assignment(course: Course) -> dict[str, tuple[list[float], float]]:
    """``{assignment: (scores of its submissions, max score)}`` for assignments with submissions."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(course.db_url, course.api.coursedir.course_id) as gradebook:
        for assignment in gradebook.assignments:
            scores = [s.score for s in assignment.submissions]
            if scores:
                result[assignment.name] = (scores, assignment.max_score)
    return dict(sorted(result.items()))


def report(course: Course, output: str | Path) -> tuple[Path, str]:
    """Save the histograms to ``output`` (PNG) and return it with the summary table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = scores_by_assignment(course)
    if not data:
        raise ValueError("expected autograded submissions in the gradebook, found none (run autograde first)")
    columns = min(2, len(data))
    rows = math.ceil(len(data) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3 * rows), squeeze=False)
    table = [f"{'assignment':<12}{'n':>4}{'mean':>8}{'median':>8}{'max':>6}"]
    for axis, (assignment, (scores, max_score)) in zip(axes.flat, data.items()):
        axis.hist(scores, bins=range(int(max_score) + 2), align="left", rwidth=0.85, color="#3b6ea8")
        axis.set(title=f"{assignment} · {len(scores)} submissions", xlabel=f"score (of {max_score:g})",
                 ylabel="students", xlim=(-0.5, max_score + 0.5))
        ordered = sorted(scores)
        median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        table.append(f"{assignment:<12}{len(scores):>4}{sum(scores) / len(scores):>8.2f}{median:>8.2f}"
                     f"{max_score:>6g}")
    for axis in list(axes.flat)[len(data):]:
        axis.set_visible(False)
    figure.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output, "\n".join(table)
