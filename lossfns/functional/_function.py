"""lossfns' ``torch.autograd.Function``s under ``torch.func`` and under ``torch.compile``.

Each Function has the form ``torch.func`` needs: ``forward`` without ctx, ``setup_context``,
``generate_vmap_rule = True``, a differentiable ``backward`` and a ``jvp`` for forward-mode AD.
Dynamo cannot trace a Function that defines ``jvp``, so under ``torch.compile`` and
``torch.export`` each loss calls a twin made by ``without_jvp`` (the same forward and backward).
"""

from __future__ import annotations

import inspect

import torch


def save_for_forward(ctx, *tensors: torch.Tensor) -> None:
    """``ctx.save_for_forward`` for ``jvp``, skipped while dynamo traces the twin without ``jvp``."""
    if not torch.compiler.is_compiling():
        ctx.save_for_forward(*tensors)


def without_jvp(function: type) -> type:
    """A twin of ``function`` without ``jvp``: call it while ``torch.compiler.is_compiling()``.

    Also stores the signature of ``forward``, which ``Function.apply`` otherwise computes
    with ``inspect.signature`` on every call (tens of microseconds).
    """
    function.forward.__signature__ = inspect.signature(function.forward)
    members = {name: vars(function)[name] for name in ("forward", "setup_context", "backward")}
    return type(function.__name__ + "Traced", (torch.autograd.Function,),
                {"generate_vmap_rule": True, **members})
