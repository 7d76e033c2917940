"""What one graded test cell checks: a behaviour of one student function.

A behaviour names the function under test, the points of its test cell (its
nbgrader ``grade_id``), a few fixed inputs that feedback may show, hidden random
inputs drawn from the instructor's seed, and what counts as right: the
reference's output within a tolerance, a ``ValueError``, or a custom judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

Judge = Callable[[Any, Any], "str | None"]


@dataclass(frozen=True)
class Case:
    """One call of the student's function: ``function(*args, **kwargs)``.

    ``expected`` is given when the reference cannot compute it from the
    arguments alone (e.g. the test labels of a classifier); otherwise the
    behaviour's ``reference`` is called with the same arguments.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None


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
        judge: ``(expected, got) -> None | failure kind`` replacing the
            closeness test (the kind is a key of ``messages.FAILURES``).
        autograd: False runs the function with autograd unavailable.
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
    autograd: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6

    def expected(self, case: Case) -> Any:
        """The right answer for ``case`` (computed by the trusted reference)."""
        if case.expected is not None:
            return case.expected
        return self.reference(*case.args, **case.kwargs)
