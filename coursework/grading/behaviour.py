"""What one graded test cell checks: a behaviour of one student function.

A behaviour names the function under test, the points of its test cell (its
nbgrader ``grade_id``), a few fixed inputs that feedback may show, hidden random
inputs drawn from the instructor's seed, and what counts as right: the
reference's output within a tolerance, a ``ValueError``, or a custom judge. It
also says what the function may compute with (``rules``, enforced by the watch),
which section of the book it exercises, and the typical wrong answers the grader
recognises (``misconceptions``) so that feedback can name them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import limits
from .watch import ANYTHING, Rules, Watch

Judge = Callable[[Any, Any], "tuple[str, str] | None"]
KINDS = ("validation", "values", "derivation")
# A gradient derived by hand agrees with autograd to the last bits in float64; numerical differentiation
# cannot get closer than about 1e-10 (truncation against rounding), whatever its step.
COUNTING = Rules(library=True)  # measuring a trusted forward pass: every route, nothing refused
DERIVED_IN_FLOAT64 = {"rtol": 1e-12, "atol": 1e-14}


@dataclass(frozen=True)
class Case:
    """One call of the student's function: ``function(*args, **kwargs)``.

    ``expected`` is given when the reference cannot compute it from the
    arguments alone (e.g. the held-out texts of a classifier); otherwise the
    behaviour's ``reference`` is called with the same arguments. It never
    reaches the sandbox.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None


@dataclass(frozen=True)
class Misconception:
    """A typical wrong answer the grader recognises, and how feedback names it.

    Attributes:
        key: a short id, the same in every language (counted in the class report).
        text: per language, the misconception in a sentence, addressed to the student.
        section: the MyST label of the book section that treats it (``ch02-...``: the
            chapter is read from the label, see ``links``).
        produce: what the misconception computes, called like the reference; the student's
            output matches it within the behaviour's tolerance.
        detect: instead of ``produce``, ``(case, expected, got) -> bool``.
    """

    key: str
    text: dict[str, str]
    section: str
    produce: Callable[..., Any] | None = None
    detect: Callable[[Case, Any, Any], bool] | None = None


@dataclass(frozen=True)
class Behaviour:
    """One graded test cell.

    Attributes:
        grade_id: the nbgrader grade_id of the test cell (same in es and en).
        function: name of the student's function under test.
        points: points of the test cell.
        summary: what is checked, per language (``{"es": ..., "en": ...}``).
        fixed: the shown inputs, ``() -> list[Case]``.
        hidden: hidden random inputs, ``(torch.Generator) -> list[Case]``.
        reference: trusted function giving the expected output of a case.
        raises: the exception type every case must raise instead (bad input).
        judge: ``(expected, got) -> None | (failure kind, detail)`` replacing the closeness
            test (the kind is a key of ``messages.FAILURES`` or of a misconception).
        rules: what the student's function may compute with (``watch.Rules``).
        forward: for a gradient to derive, one forward pass of the task, called like the
            reference: its work sets the call's budget (``limits.FORWARD_PASSES``).
        kind: ``'validation'``, ``'values'`` or ``'derivation'`` (the share of points by kind).
        section: the MyST label of the book section this cell exercises.
        misconceptions: the wrong answers the grader names in the feedback.
        output: for a function returning a tuple, the one item this behaviour checks (the
            reference and the misconceptions return the whole tuple too).
        rtol, atol: tolerances of the closeness test, compared in float64.
    """

    grade_id: str
    function: str
    points: float
    summary: dict[str, str]
    fixed: Callable[[], list[Case]]
    hidden: Callable[[torch.Generator], list[Case]] = lambda generator: []
    reference: Callable[..., Any] | None = None
    raises: type[Exception] | None = None
    judge: Judge | None = None
    rules: Rules = ANYTHING
    forward: Callable[..., Any] | None = None
    kind: str = "values"
    section: str | None = None
    misconceptions: tuple[Misconception, ...] = ()
    output: int | None = None
    rtol: float = 1e-5
    atol: float = 1e-6

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"expected kind in {KINDS}, got {self.kind!r}")
        if (self.kind == "validation") != (self.raises is not None):
            raise ValueError(f"{self.grade_id}: a validation behaviour is one that expects an exception")

    @property
    def autograd(self) -> bool:
        """Whether autograd may run while the function is called."""
        return self.rules.autograd

    def tolerance(self, expected: Any) -> dict[str, float]:
        """rtol and atol for comparing with ``expected``: tight for a derivation in float64."""
        tensors = [expected] if isinstance(expected, torch.Tensor) else [
            e for e in expected if isinstance(e, torch.Tensor)] if isinstance(expected, (tuple, list)) else []
        if self.kind == "derivation" and tensors and all(t.dtype == torch.float64 for t in tensors):
            return dict(DERIVED_IN_FLOAT64)
        return {"rtol": self.rtol, "atol": self.atol}

    def expected(self, case: Case) -> Any:
        """The right answer for ``case`` (computed by the trusted reference)."""
        if case.expected is not None:
            return case.expected
        return self.reference(*case.args, **case.kwargs)

    def budget(self, case: Case) -> tuple[float | None, float | None]:
        """``(budget, forward)``: the most work a call on ``case`` may do, and the work of one forward
        pass (None, None without a ``forward``)."""
        if self.forward is None:
            return None, None
        watch = Watch(COUNTING, follow=False)
        with torch.no_grad(), watch:
            watch.call(self.forward, case.args, case.kwargs, budget=math.inf)
        return limits.FORWARD_PASSES * watch.spent + limits.WORK_SLACK, watch.spent
