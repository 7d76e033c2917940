"""Restrictions on student code while a check calls it.

This module imports nothing but torch and the standard library: the sandbox
loads it by path, where importing ``lossfns`` is itself forbidden.
"""

from __future__ import annotations

import contextlib

import torch

AUTOGRAD_MESSAGE = {
    "es": "autograd no está disponible en esta comprobación: calcula los gradientes a mano",
    "en": "autograd is unavailable in this check: compute the gradients by hand",
}


# torch.func's transforms differentiate without going through torch.autograd.grad.
FUNCTORCH_TRANSFORMS = ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize")


class AutogradUnavailable(RuntimeError):
    """Raised when the student's code calls backward() or autograd.grad() in a check."""


@contextlib.contextmanager
def autograd_unavailable(language: str = "en"):
    """Run the block with gradients off and every way into autograd raising.

    ``Tensor.backward``, ``torch.autograd.backward``, ``torch.autograd.grad``,
    autograd's engine and ``torch.func``'s transforms raise
    ``AutogradUnavailable``; ``torch.enable_grad()`` inside the block does not
    help, since the calls themselves are replaced.
    """
    def refuse(*args, **kwargs):
        raise AutogradUnavailable(AUTOGRAD_MESSAGE[language])

    class RefusingEngine:
        run_backward = staticmethod(refuse)
        queue_callback = staticmethod(refuse)

    targets = [(torch.Tensor, "backward"), (torch.autograd, "backward"), (torch.autograd, "grad"),
               (torch.autograd.Variable, "_execution_engine"), (torch._C, "_ImperativeEngine")]
    targets += [(torch.func, name) for name in FUNCTORCH_TRANSFORMS if name in vars(torch.func)]
    saved = [(owner, name, owner.__dict__[name]) for owner, name in targets]
    for owner, name, _ in saved:
        replacement = {"_execution_engine": RefusingEngine(), "_ImperativeEngine": RefusingEngine}
        setattr(owner, name, replacement.get(name, refuse))
    try:
        with torch.no_grad():
            yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
