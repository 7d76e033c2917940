"""The check a student runs inside the notebook: ``check("mse_loss_mean")``.

It calls the function of that name from the notebook, judges it like the
grader does (same behaviours, same feedback, torch's losses and the chapter's
blocked primitives refused during the call) and prints ✓ or raises
``CheckFailed`` with a short message in the notebook's language. Graded
scores come from the sandboxed grader (``coursework.grading.sandbox``), not from
this run in the student's kernel, which the student's code can tamper with.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from typing import Any

from ..chapters import parse_assignment
from .behaviour import Behaviour, Case
from .blocking import refused
from .guards import autograd_unavailable
from .outcome import Outcome, Raised, Returned, Unavailable
from .registry import behaviours, check_module
from .seed import instructor_seed
from .verdict import Verdict, cases_of, judge


class CheckFailed(AssertionError):
    """A behaviour failed; IPython shows only the message, no traceback."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


class Checker:
    """Checks for one assignment: ``check = Checker(assignment)``, then ``check(grade_id)``."""

    def __init__(self, assignment: str):
        self.assignment = assignment
        chapter, self.language = parse_assignment(assignment)
        self.behaviours = behaviours(assignment)
        self.blocked = check_module(chapter).BLOCKED

    def __call__(self, grade_id: str, namespace: dict[str, Any] | None = None) -> None:
        """Check one behaviour of the function defined in the caller's namespace."""
        verdict = self.verdict(grade_id, namespace if namespace is not None else sys._getframe(1).f_globals)
        if not verdict.passed:
            raise CheckFailed(str(verdict))
        print(verdict)

    def verdict(self, grade_id: str, namespace: dict[str, Any]) -> Verdict:
        """Run one behaviour against ``namespace[behaviour.function]``."""
        if grade_id not in self.behaviours:
            raise ValueError(f"expected a grade_id of {self.assignment} ({', '.join(self.behaviours)}), "
                             f"got {grade_id!r}")
        behaviour = self.behaviours[grade_id]
        seed, _ = instructor_seed()
        cases = cases_of(behaviour, seed)
        function = namespace.get(behaviour.function)
        with refused(self.blocked, self.language):  # what grading refuses, refused here too
            outcomes = [call(function, behaviour, case, self.language) for case, _ in cases]
        return judge(behaviour, cases, outcomes, self.language)


def call(function: Any, behaviour: Behaviour, case: Case, language: str) -> Outcome:
    """Call ``function`` on a copy of the case's arguments and record what happened."""
    if not callable(function):
        return Unavailable("missing")
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    guard = contextlib.nullcontext() if behaviour.autograd else autograd_unavailable(language)
    try:
        with guard:
            return Returned(function(*args, **kwargs))
    except (Exception, SystemExit) as error:  # noqa: BLE001 (the student's error is the outcome)
        return Raised(type(error).__name__, str(error))
