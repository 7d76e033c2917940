"""Compare a student's result with the expected one; return the kind of mismatch.

Only plain values count: ``torch.Tensor`` (exactly, no subclass), tuples or
lists of them, Python ``int``/``float``. An object that merely claims to be
equal (a custom ``__eq__`` or ``__float__``) is a wrong type, never a pass.
"""

from __future__ import annotations

from typing import Any

import torch

NUMBER_TYPES = (int, float)


def mismatch(expected: Any, got: Any, *, rtol: float, atol: float) -> tuple[str, str] | None:
    """Return None when ``got`` matches ``expected``, else ``(kind, detail)``.

    ``kind`` is ``'type'``, ``'shape'``, ``'dtype'``, ``'length'`` or ``'value'``;
    ``detail`` is a short description without the hidden values.
    """
    try:
        return _mismatch(expected, got, rtol=rtol, atol=atol)
    except (OverflowError, ValueError, TypeError, RuntimeError):  # e.g. an int beyond float range
        return "value", ""


def _mismatch(expected: Any, got: Any, *, rtol: float, atol: float) -> tuple[str, str] | None:
    """The comparison itself (``mismatch`` turns its errors into a wrong value)."""
    if isinstance(expected, (tuple, list)):
        if type(got) not in (tuple, list):
            return "type", f"{_kind_name(expected)} / {_kind_name(got)}"
        if len(got) != len(expected):
            return "length", f"{len(expected)} / {len(got)}"
        for e, g in zip(expected, got):
            found = _mismatch(e, g, rtol=rtol, atol=atol)
            if found:
                return found
        return None
    if isinstance(expected, torch.Tensor):
        if type(got) in NUMBER_TYPES and expected.dim() == 0:
            got = torch.tensor(float(got), dtype=torch.float64)
        elif type(got) is not torch.Tensor:
            return "type", f"torch.Tensor / {_kind_name(got)}"
        if tuple(got.shape) != tuple(expected.shape):
            return "shape", f"{tuple(expected.shape)} / {tuple(got.shape)}"
        if expected.dtype.is_floating_point != got.dtype.is_floating_point or got.dtype == torch.bool:
            return "dtype", f"{expected.dtype} / {got.dtype}"
        if not _close(expected, got, rtol, atol):
            return "value", ""
        return None
    if type(got) not in NUMBER_TYPES or type(got) is bool:
        return "type", f"{_kind_name(expected)} / {_kind_name(got)}"
    close = _close(torch.tensor(float(expected)), torch.tensor(float(got)), rtol, atol)
    return None if close else ("value", "")


def _close(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> bool:
    e, g = expected.detach().double(), got.detach().double()
    both_nan = e.isnan() & g.isnan()
    same_inf = e.isinf() & (e == g)
    near = (e - g).abs() <= atol + rtol * e.abs()
    return bool((both_nan | same_inf | near).all())


def _kind_name(value: Any) -> str:
    return "torch.Tensor" if isinstance(value, torch.Tensor) else type(value).__name__
