"""Judge the outcomes of one behaviour's cases and word the feedback.

The same code judges a notebook checking itself (``Checker``) and the grader
judging what came back from the sandbox, so feedback reads the same in both.
Fixed inputs are shown with expected and obtained values; hidden inputs never
are: the student only learns which behaviour failed and the kind of mismatch.
When a wrong output is what a typical misconception computes on the same inputs
(worked out here, outside the sandbox), the feedback names it and links the book
section that treats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .behaviour import Behaviour, Case, Misconception
from .compare import mismatch
from .links import section_url
from .messages import FAILURES, TEXT
from .outcome import Outcome, Raised, Returned, Unavailable
from .seed import behaviour_generator

# The exceptions of the watch, the sandbox's locks and the autograd guard: a route refused, not a bug.
REFUSED = ("NotAllowed", "Refused", "AutogradUnavailable")
NOT_ATTEMPTED = ("missing", "not_implemented")


@dataclass(frozen=True)
class Verdict:
    """The result of one graded test cell: its points and the feedback lines."""

    grade_id: str
    points: float
    max_points: float
    lines: tuple[str, ...]
    transient: bool = False  # failed on a time limit or a crash: may differ on another run
    diagnosis: str | None = None  # the key of the misconception recognised, if any
    attempted: bool = True  # False when the function is missing or still raises NotImplementedError

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
    """Full points when every case is right, else 0 and the first failure explained (with the misconception
    that explains every failing case, or else the first one)."""
    text = TEXT[language]
    paired = zip(cases, outcomes, strict=True)
    failures = [(case, hidden, outcome, found) for (case, hidden), outcome in paired
                if (found := _failure(behaviour, case, outcome)) is not None]
    for case, hidden, outcome, (kind, detail, expected, diagnosis) in failures[:1]:
        diagnosis = diagnosis or _explaining(behaviour, failures)
        words = FAILURES[language]
        name, message = (outcome.name, outcome.message) if isinstance(outcome, Raised) else ("", "")
        lines = [text["failed"].format(summary=behaviour.summary[language])]
        if hidden:  # what went wrong, never the input; a refusal or a measure of the whole answer is no input
            shown = message if kind == "not_allowed" else "…"
            said = detail if kind in ("accuracy", "structure", "type", "length") else "…"
            unseen = text["hidden"] if any(not h for _, h in cases) else text["held_out"]
            lines.append(unseen.format(kind=words[kind].format(
                function=behaviour.function, name=name, message=shown, detail=said)))
        else:
            lines.append(words[kind].format(function=behaviour.function, name=name,
                                            message=message, detail=detail))
            if kind not in ("missing", "timeout", "crashed", "not_allowed"):
                lines.append(text["input"].format(call=_render_call(behaviour.function, case, language)))
            if kind == "value":
                lines.append(text["expected"].format(value=_render(expected, language)))
                got = outcome.value
                if behaviour.output is not None and _has_item(got, behaviour.output):
                    got = got[behaviour.output]
                lines.append(text["got"].format(value=_render(got, language)))
        if diagnosis is not None:
            lines.append(text["diagnosis"].format(text=diagnosis.text[language]))
        section = diagnosis.section if diagnosis is not None else behaviour.section
        if section is not None and kind not in NOT_ATTEMPTED:
            lines.append(text["review"].format(url=section_url(section, language)))
        return Verdict(behaviour.grade_id, 0.0, behaviour.points, tuple(lines),
                       transient=kind in ("timeout", "crashed"),
                       diagnosis=diagnosis.key if diagnosis is not None else None,
                       attempted=kind not in NOT_ATTEMPTED)
    passed = text["passed"].format(summary=behaviour.summary[language])
    return Verdict(behaviour.grade_id, behaviour.points, behaviour.points, (passed,))


def _failure(behaviour: Behaviour, case: Case, outcome: Outcome
             ) -> tuple[str, str, Any, Misconception | None] | None:
    """``(kind, detail, expected, misconception)`` of a wrong outcome, None for a right one."""
    if isinstance(outcome, Unavailable):
        return outcome.reason, outcome.detail, None, None
    if isinstance(outcome, Raised) and outcome.name == "NotImplementedError":
        return "not_implemented", "", None, None
    if isinstance(outcome, Raised) and outcome.name in REFUSED:
        return "not_allowed", "", None, None
    if behaviour.raises is not None:
        if isinstance(outcome, Raised):
            return None if outcome.name == behaviour.raises.__name__ else ("wrong_exception", "", None, None)
        return "not_raised", "", None, None
    if isinstance(outcome, Raised):
        return "raised", "", None, None
    expected, got = behaviour.expected(case), outcome.value
    if behaviour.output is not None:
        if type(got) not in (tuple, list):
            return "type", f"tuple / {type(got).__name__}", expected, None
        if len(got) != len(expected):
            return "length", f"{len(expected)} / {len(got)}", expected, None
        expected, got = expected[behaviour.output], got[behaviour.output]
    if behaviour.judge is not None:
        found = behaviour.judge(expected, got)
    else:
        found = mismatch(expected, got, **behaviour.tolerance(expected))
    if found is None:
        return None
    kind, detail, *key = found
    named = {m.key: m for m in behaviour.misconceptions}
    return kind, detail, expected, named.get(key[0]) if key else None


def _explaining(behaviour: Behaviour, failures: list) -> Misconception | None:
    """The misconception whose output is the student's on every failing case, else on the first one."""
    wrong = [(case, expected, _item(outcome.value, behaviour.output))
             for case, _, outcome, (kind, _, expected, _) in failures
             if isinstance(outcome, Returned) and kind not in ("not_allowed", "type", "length")]
    if not wrong:
        return None
    for misconception in behaviour.misconceptions:
        if all(_matches(behaviour, misconception, *item) for item in wrong):
            return misconception
    return diagnose(behaviour, *wrong[0])


def diagnose(behaviour: Behaviour, case: Case, expected: Any, got: Any) -> Misconception | None:
    """The first misconception whose output on ``case`` is the student's, or None."""
    return next((m for m in behaviour.misconceptions if _matches(behaviour, m, case, expected, got)), None)


def _matches(behaviour: Behaviour, misconception: Misconception, case: Case, expected: Any, got: Any) -> bool:
    """Whether ``got`` is what ``misconception`` computes on ``case`` (worked out here, in the grader)."""
    loose = {"rtol": max(behaviour.rtol, 1e-9), "atol": behaviour.atol}
    try:
        if misconception.detect is not None:
            return bool(misconception.detect(case, expected, got))
        if misconception.produce is None:
            return False
        wrong = misconception.produce(*case.args, **case.kwargs)
        if behaviour.output is not None:
            wrong = wrong[behaviour.output]
        # A misconception that does not change this output (it spoils another part) names nothing.
        return mismatch(wrong, got, **loose) is None and mismatch(wrong, expected, **loose) is not None
    except Exception:  # noqa: BLE001 (a misconception that cannot be worked out here names nothing)
        return False


def _has_item(value, index: int) -> bool:
    return type(value) in (tuple, list) and len(value) > index


def _item(value, index: int | None):
    """The checked item of a returned tuple (the whole value when the behaviour checks all of it)."""
    return value[index] if index is not None and _has_item(value, index) else value


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
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_render(v, language)}" for k, v in value.items()) + "}"
    return repr(value)


__all__ = ["Returned", "Verdict", "cases_of", "diagnose", "judge"]
