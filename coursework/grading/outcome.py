"""What happened when the student's function was called on one case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Returned:
    """The call returned ``value`` (plain tensors and numbers after the sandbox)."""

    value: Any


@dataclass(frozen=True)
class Raised:
    """The call raised an exception of class ``name`` with ``message``."""

    name: str
    message: str


@dataclass(frozen=True)
class Unavailable:
    """The call never returned: ``reason`` is a key of ``messages.FAILURES``
    (``'missing'``, ``'timeout'``, ``'crashed'``), ``detail`` says more."""

    reason: str
    detail: str = ""


Outcome = Returned | Raised | Unavailable
