"""The dtype a loss computes in: torch's type promotion, and torch's autocast policy for losses.

Under ``torch.autocast`` torch runs every loss in float32 (its "fp32" policy: float16 and
bfloat16 arguments are cast up, float64 stays), while softmax and log_softmax keep the dtype
of their input. ``float32_under_autocast`` gives lossfns the same policy. (torch computes
``mse_loss`` and ``l1_loss`` with ``weight`` from plain tensor ops, which autocast leaves in
the input dtype: so does lossfns, with ``unless_given="weight"``.)
"""

from __future__ import annotations

import functools
import inspect

import torch

_HALF = (torch.float16, torch.bfloat16)


def promote(*tensors):
    """Cast to one floating dtype (float32 with float64 gives float64, as torch); None stays None."""
    present = [t for t in tensors if t is not None]
    dtype = present[0].dtype
    for t in present[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return tuple(t if t is None or t.dtype == dtype else t.to(dtype) for t in tensors)


def autocast_enabled(x: torch.Tensor) -> bool:
    """Whether ``torch.autocast`` is on for the device of ``x``."""
    device = x.device.type
    return torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device)


def to_float32(x):
    """float16 / bfloat16 tensors as float32; anything else unchanged (autocast's "fp32" cast)."""
    return x.float() if isinstance(x, torch.Tensor) and x.dtype in _HALF else x


def float32_under_autocast(loss=None, *, unless_given: str | None = None):
    """Decorate a loss so that, under autocast, it runs in float32 with autocast off inside.

    With ``unless_given``, a call that passes that argument (not None) keeps its dtypes.
    """
    if loss is None:
        return functools.partial(float32_under_autocast, unless_given=unless_given)
    signature = inspect.signature(loss)

    @functools.wraps(loss)
    def wrapper(*args, **kwargs):
        first = args[0] if args else next(iter(kwargs.values()))
        if not (isinstance(first, torch.Tensor) and autocast_enabled(first)):
            return loss(*args, **kwargs)
        if unless_given and signature.bind(*args, **kwargs).arguments.get(unless_given) is not None:
            return loss(*args, **kwargs)
        with torch.autocast(first.device.type, enabled=False):
            return loss(*map(to_float32, args), **{k: to_float32(v) for k, v in kwargs.items()})
    return wrapper
