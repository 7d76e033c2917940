"""Judge the outcomes of one behaviour's cases and word the feedback.

The same code judges a notebook checking itself (``Checker``) and the grader
judging what came back from the sandbox, so feedback reads the same in both.
Fixed inputs are shown with expected and obtained values; hidden inputs never
are: the student only learns which behaviour failed and the kind of mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .behaviour import Behaviour, Case
from .compare import mismatch
from .messages import FAILURES, TEXT
from .outcome import Outcome, Raised, Unavailable
from .seed import behaviour_generator


@dataclass(frozen=True)
class Verdict:
    """The result of one graded test cell: its points and the feedback lines."""

    grade_id: str
    points: float
    max_points: float
    lines: tuple[str, ...]
    transient: bool = False  # failed on a time limit or a crash: may differ on another run

    @property
    def passed(self) -> bool:
        return self.points == self.max_points

    def __str__(self) -> str:
        return "\n".join(self.lines)


def cases_of(behaviour: Behaviour, seed: int) -> list[tuple[Case, bool]]:
    """The fixed cases then the hidden ones, each with ``hidden`` True/False."""
    fixed = [(case, False) for case in behaviour.fixed()]
    hidden = [(case, True) for case in behaviour.hidden(behaviour_generator(seed, behaviour.grade_id))]
    return fixed + hidden


def judge(behaviour: Behaviour, cases: list[tuple[Case, bool]], outcomes: list[Outcome],
          language: str) -> Verdict:
    """Full points when every case is right, else 0 and the first failure explained."""
    text = TEXT[language]
    for (case, hidden), outcome in zip(cases, outcomes, strict=True):
        failure = _failure(behaviour, case, outcome)
        if failure is None:
            continue
        kind, detail, expected = failure
        words = FAILURES[language]
        name, message = (outcome.name, outcome.message) if isinstance(outcome, Raised) else ("", "")
        lines = [text["failed"].format(summary=behaviour.summary[language])]
        if hidden:
            lines.append(text["hidden"].format(kind=words[kind].format(
                function=behaviour.function, name=name, message="…", detail="…")))
        else:
            lines.append(words[kind].format(function=behaviour.function, name=name,
                                            message=message, detail=detail))
            if kind not in ("missing", "timeout", "crashed"):
                lines.append(text["input"].format(call=_render_call(behaviour.function, case, language)))
            if kind == "value":
                lines.append(text["expected"].format(value=_render(expected, language)))
                lines.append(text["got"].format(value=_render(outcome.value, language)))
        return Verdict(behaviour.grade_id, 0.0, behaviour.points, tuple(lines),
                       transient=kind in ("timeout", "crashed"))
    passed = text["passed"].format(summary=behaviour.summary[language])
    return Verdict(behaviour.grade_id, behaviour.points, behaviour.points, (passed,))


def _failure(behaviour: Behaviour, case: Case, outcome: Outcome) -> tuple[str, str, Any] | None:
    """``(kind, detail, expected)`` of a wrong outcome, None for a right one."""
    if isinstance(outcome, Unavailable):
        return outcome.reason, outcome.detail, None
    if isinstance(outcome, Raised) and outcome.name == "NotImplementedError":
        return "not_implemented", "", None
    if behaviour.raises is not None:
        if isinstance(outcome, Raised):
            return None if outcome.name == behaviour.raises.__name__ else ("wrong_exception", "", None)
        return "not_raised", "", None
    if isinstance(outcome, Raised):
        return "raised", "", None
    expected = behaviour.expected(case)
    if behaviour.judge is not None:
        found = behaviour.judge(expected, outcome.value)
    else:
        found = mismatch(expected, outcome.value, rtol=behaviour.rtol, atol=behaviour.atol)
    return None if found is None else (*found, expected)


def _render_call(function: str, case: Case, language: str) -> str:
    parts = [_render(a, language) for a in case.args]
    parts += [f"{key}={_render(value, language)}" for key, value in case.kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _render(value: Any, language: str) -> str:
    """A short, readable form of an input or a result for the feedback."""
    if isinstance(value, torch.Tensor):
        if value.numel() > 12:
            return TEXT[language]["tensor_of_shape"].format(shape=tuple(value.shape))
        with torch.no_grad():
            torch.set_printoptions(precision=4)
            try:
                return " ".join(repr(value.detach()).split())
            finally:
                torch.set_printoptions(profile="default")
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_render(v, language) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)
