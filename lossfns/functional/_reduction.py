"""The one reduction every loss goes through, and its adjoint for backward.

``reduce`` turns the per-element losses J_i into the cost:
'none' keeps them, 'sum' adds them, 'mean' divides the sum by a denominator
(N by default; the summed weights for weighted losses and class-index targets).
``reduce_grad`` is what the hand-written backward passes multiply by: the
derivative of the reduced value with respect to each J_i.
"""

from __future__ import annotations

import torch

from ._validation import assert_traced, check_reduction, values

EMPTY_MEAN = (
    "reduction='mean' is undefined here: {what}. "
    "Use reduction='sum' (gives 0) or reduction='none', or check the batch"
)
ZERO_WEIGHTS = EMPTY_MEAN.format(
    what="every target is ignore_index or has class weight 0, so the weights sum to 0")


def check_denominator(denominator: torch.Tensor, message: str = ZERO_WEIGHTS) -> None:
    """Raise ValueError(message) when a 'mean' would divide by a zero sum of weights."""
    v = values(denominator)
    if v is None:
        assert_traced(denominator != 0, message)
    elif (v.item() == 0) if v.dim() == 0 else not bool((v != 0).all()):  # several under vmap
        raise ValueError(message)


def reduce(loss: torch.Tensor, reduction: str, denominator: torch.Tensor | None = None) -> torch.Tensor:
    """Reduce per-element losses.

    'mean' of float16 / bfloat16 losses adds them in float32, as ``torch.mean`` does, so a large
    batch does not overflow the sum; the result has the dtype of ``loss``.

    Args:
        loss: per-element losses J_i, any shape.
        reduction: 'none' | 'mean' | 'sum'.
        denominator: divisor for 'mean' (default ``loss.numel()``); checked by the caller
            with ``check_denominator``.

    Returns:
        ``loss`` for 'none', else a 0-dim tensor.

    Raises:
        ValueError: unknown reduction, or 'mean' of an empty batch.
    """
    check_reduction(reduction)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if denominator is None:
        if loss.numel() == 0:
            raise ValueError(EMPTY_MEAN.format(what="the batch is empty"))
        return loss.mean()
    accumulate = torch.promote_types(loss.dtype, torch.float32)  # float32 for half precision
    return (loss.sum(dtype=accumulate) / denominator.to(accumulate)).to(loss.dtype)


def reduce_grad(grad_output: torch.Tensor, reduction: str, denominator) -> torch.Tensor:
    """Gradient of the reduced loss w.r.t. each per-element loss.

    ``denominator`` is the value ``reduce`` divided by for 'mean' (ignored otherwise).
    Returns ``grad_output`` itself for 'none'; a 0-dim tensor (broadcasts) otherwise, in float32
    for half precision (g / N can be a float16 subnormal; autograd casts the gradients back).
    """
    if reduction == "none":
        return grad_output
    grad_output = grad_output.to(torch.promote_types(grad_output.dtype, torch.float32))
    return grad_output / denominator if reduction == "mean" else grad_output
