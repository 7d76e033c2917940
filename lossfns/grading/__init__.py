"""Checks of the exercise notebooks, shared by the notebooks and the grader.

Each chapter module (``ch1`` ... ``ch5``) lists the behaviours its graded test
cells check. In a notebook, ``Checker("ch1-es")("mse_loss_mean")`` judges the
student's function in place; the grader judges it from the sandbox instead.
"""

from .behaviour import Behaviour, Case
from .checker import Checker, CheckFailed
from .registry import ASSIGNMENTS, behaviours, parse_assignment
from .verdict import Verdict

__all__ = ["ASSIGNMENTS", "Behaviour", "Case", "CheckFailed", "Checker", "Verdict", "behaviours",
           "parse_assignment"]
