"""The dtype a loss computes in: torch's type promotion, and torch's autocast policy for losses.

Under ``torch.autocast`` torch runs every loss in float32 (its "fp32" policy: float16 and
bfloat16 arguments are cast up, float64 stays), while softmax and log_softmax keep the dtype
of their input. ``float32_under_autocast`` gives lossfns the same policy.
"""

from __future__ import annotations

import functools

import torch

_HALF = (torch.float16, torch.bfloat16)


def promote(*tensors):
    """Cast to one floating dtype (float32 with float64 gives float64, as torch); None stays None."""
    present = [t for t in tensors if t is not None]
    dtype = present[0].dtype
    for t in present[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return tuple(t if t is None or t.dtype == dtype else t.to(dtype) for t in tensors)


def float32_under_autocast(loss):
    """Decorate a loss so that, under autocast, it runs in float32 with autocast off inside."""
    def to_float32(x):
        return x.float() if isinstance(x, torch.Tensor) and x.dtype in _HALF else x

    @functools.wraps(loss)
    def wrapper(*args, **kwargs):
        first = args[0] if args else next(iter(kwargs.values()))
        device = first.device.type if isinstance(first, torch.Tensor) else "cpu"
        if not (torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device)):
            return loss(*args, **kwargs)
        with torch.autocast(device, enabled=False):
            return loss(*map(to_float32, args), **{k: to_float32(v) for k, v in kwargs.items()})
    return wrapper
