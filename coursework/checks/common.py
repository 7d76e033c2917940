"""Misconceptions that recur in several chapters' exercises."""

from __future__ import annotations

import torch

from ..grading.behaviour import Misconception


def _numerically_close(case, expected, got) -> bool:
    """In float64, agreement to about 1e-10 but not to the last bits: the precision of finite differences."""
    both = isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list))
    pairs = list(zip(expected, got)) if both else [(expected, got)]
    tensors = [(e, g) for e, g in pairs if isinstance(e, torch.Tensor) and type(g) is torch.Tensor]
    if not tensors or any(e.dtype != torch.float64 or g.shape != e.shape for e, g in tensors):
        return False
    loose = all(torch.allclose(g.double(), e, rtol=1e-6, atol=1e-9) for e, g in tensors)
    exact = all(torch.allclose(g.double(), e, rtol=1e-12, atol=1e-14) for e, g in tensors)
    return loose and not exact


NUMERICAL = Misconception("numerical-derivative", {
    "es": "tus números coinciden hasta unos 1e-10 pero no hasta el último dígito: es la precisión de una "
          "derivada numérica (diferencias finitas), no de una derivada analítica. Deriva la fórmula",
    "en": "your numbers agree to about 1e-10 but not to the last digit: that is the precision of a numerical "
          "derivative (finite differences), not of an analytic one. Derive the formula"},
    section="ch04-gradcheck", detect=_numerically_close)
