"""The check a student runs inside the notebook: ``check("mse_loss_mean")``.

It calls the function of that name from the notebook, judges it like the
grader does (same behaviours, same feedback, the same rules on what the function
may compute with, torch's losses and the chapter's blocked primitives refused
during the call) and prints ✓, or ✗ with what went wrong, the misconception it
recognised and where the book treats it. It never stops the notebook: *Run All*
on a half-done notebook reaches the end, where ``check.summary()`` lists each
part as done, failing or not attempted. Try-it cells run inside
``with check.trying():``, which reports an error in one line and goes on.

Graded scores come from the sandboxed grader (``coursework.grading.sandbox``),
not from this run in the student's kernel, which the student's code can tamper with.
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
from .messages import STATUS, TEXT
from .outcome import Outcome, Raised, Returned, Unavailable
from .registry import behaviours, check_module
from .seed import instructor_seed
from .verdict import Verdict, cases_of, judge
from .watch import NotAllowed, Watch


class Checker:
    """Checks for one assignment: ``check = Checker(assignment)``, then ``check(grade_id)``."""

    def __init__(self, assignment: str):
        self.assignment = assignment
        chapter, self.language = parse_assignment(assignment)
        self.behaviours = behaviours(assignment)
        self.blocked = check_module(chapter).BLOCKED
        self.verdicts: dict[str, Verdict] = {}

    def __call__(self, grade_id: str, namespace: dict[str, Any] | None = None) -> None:
        """Check one behaviour of the function defined in the caller's namespace; print the verdict (it
        returns nothing, so that the notebook shows no value after it)."""
        verdict = self.verdict(grade_id, namespace if namespace is not None else sys._getframe(1).f_globals)
        self.verdicts[grade_id] = verdict
        if verdict.passed:
            print(verdict)
        elif not verdict.attempted:
            print(STATUS[self.language]["not_attempted_check"].format(function=self.behaviours[grade_id].function))
        else:
            print(verdict, file=sys.stderr)

    def verdict(self, grade_id: str, namespace: dict[str, Any]) -> Verdict:
        """Run one behaviour against ``namespace[behaviour.function]``."""
        if grade_id not in self.behaviours:
            raise ValueError(f"expected a grade_id of {self.assignment} ({', '.join(self.behaviours)}), "
                             f"got {grade_id!r}")
        behaviour = self.behaviours[grade_id]
        seed, _ = instructor_seed()
        cases = cases_of(behaviour, seed)
        budgets = [behaviour.budget(case) for case, _ in cases]
        function = namespace.get(behaviour.function)
        with refused(self.blocked, self.language):  # what grading refuses, refused here too
            outcomes = [call(function, behaviour, case, self.language, budget)
                        for (case, _), budget in zip(cases, budgets)]
        return judge(behaviour, cases, outcomes, self.language)

    @contextlib.contextmanager
    def trying(self):
        """For a try-it cell: an error (a function not written yet, a wrong shape) is reported in one
        line and the notebook goes on."""
        try:
            yield
        except NotImplementedError:
            print(STATUS[self.language]["not_written_yet"], file=sys.stderr)
        except Exception as error:  # noqa: BLE001 (the student's error, shown and survived)
            print(STATUS[self.language]["try_failed"].format(name=type(error).__name__, message=error),
                  file=sys.stderr)

    def summary(self, namespace: dict[str, Any] | None = None) -> dict[str, str]:
        """Print each function of the notebook as done, failing or not attempted (checks not run yet are
        run now); return ``{function: status}``."""
        namespace = namespace if namespace is not None else sys._getframe(1).f_globals
        words = STATUS[self.language]
        functions: dict[str, list[Verdict]] = {}
        for grade_id, behaviour in self.behaviours.items():
            if grade_id not in self.verdicts:
                self.verdicts[grade_id] = self.verdict(grade_id, namespace)
            functions.setdefault(behaviour.function, []).append(self.verdicts[grade_id])
        statuses = {}
        print(words["summary_title"])
        for function, verdicts in functions.items():
            points = sum(v.points for v in verdicts)
            total = sum(v.max_points for v in verdicts)
            if all(v.passed for v in verdicts):
                status = "done"
            elif not any(v.attempted for v in verdicts):
                status = "not_attempted"
            else:
                status = "failing"
            statuses[function] = status
            print(words["summary_line"].format(function=function, status=words[status], points=points,
                                               total=total))
            diagnosis = TEXT[self.language]["diagnosis"].partition("{")[0]
            for verdict in verdicts:
                if status == "failing" and not verdict.passed:
                    print("      " + verdict.lines[0])
                    for line in verdict.lines[1:]:
                        if line.startswith(diagnosis):
                            print("        " + line)
        print(words["summary_note"])
        return statuses


def call(function: Any, behaviour: Behaviour, case: Case, language: str,
         budget: tuple[float | None, float | None] = (None, None)) -> Outcome:
    """Call ``function`` on a copy of the case's arguments, under the behaviour's rules, and record
    what happened."""
    if not callable(function):
        return Unavailable("missing")
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    guard = contextlib.nullcontext() if behaviour.autograd else autograd_unavailable(language)
    watch = Watch(behaviour.rules, language, follow=False)  # earlier cells made tensors it did not see
    try:
        with guard, watch:
            return Returned(watch.call(function, args, kwargs, budget=budget[0], forward=budget[1]))
    except NotAllowed as error:
        return Raised("NotAllowed", str(error))
    except (Exception, SystemExit) as error:  # noqa: BLE001 (the student's error is the outcome)
        return Raised(type(error).__name__, str(error))
