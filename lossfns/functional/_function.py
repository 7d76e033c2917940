"""lossfns' ``torch.autograd.Function``s under ``torch.func`` and under ``torch.compile``.

Each Function has the form ``torch.func`` needs: ``forward`` without ctx, ``setup_context``,
``generate_vmap_rule = True``, a differentiable ``backward`` and a ``jvp`` for forward-mode AD.
Dynamo cannot trace a Function that defines ``jvp``, so under ``torch.compile`` and
``torch.export`` each loss calls a twin made by ``without_jvp`` (the same forward and backward).
``apply`` calls either, in plain eager mode without ``Function.apply``'s Python layer.
"""

from __future__ import annotations

import inspect

import torch
from torch._functorch.utils import unwrap_dead_wrappers

_C_APPLY = torch._C._FunctionBase.__dict__["apply"]  # what Function.apply ends with, in eager mode


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


def apply(function: type, *args):
    """``function.apply(*args)``, every argument of ``forward`` given, positionally.

    Outside ``torch.func`` transforms and compilers, ``Function.apply`` binds the arguments to the
    signature of ``forward`` and then calls the C++ apply: called directly here, it costs ~30 us less.
    """
    if torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active():
        return function.apply(*args)
    return _C_APPLY.__get__(None, function)(*unwrap_dead_wrappers(args))
