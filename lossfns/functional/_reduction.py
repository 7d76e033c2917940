"""The one reduction every loss goes through, and its adjoint for backward.

``reduce`` turns the per-element losses J_i into the cost:
'none' keeps them, 'sum' adds them, 'mean' divides the sum by a denominator
(N by default; the summed class weights for weighted class-index targets).
``reduce_grad`` is what the hand-written backward passes multiply by: the
derivative of the reduced value with respect to each J_i.
"""

from __future__ import annotations

import torch

from ._validation import check_reduction

EMPTY_MEAN = (
    "reduction='mean' is undefined here: {what}. "
    "Use reduction='sum' (gives 0) or reduction='none', or check the batch"
)


def mean_denominator(loss: torch.Tensor, denominator=None) -> torch.Tensor | int:
    """Return the 'mean' denominator, raising ValueError when it is zero."""
    if denominator is None:
        if loss.numel() == 0:
            raise ValueError(EMPTY_MEAN.format(what="the batch is empty"))
        return loss.numel()
    if not bool(denominator != 0):
        raise ValueError(EMPTY_MEAN.format(
            what="every target is ignore_index or has class weight 0, so the weights sum to 0"))
    return denominator


def reduce(loss: torch.Tensor, reduction: str, denominator=None) -> torch.Tensor:
    """Reduce per-element losses.

    Args:
        loss: per-element losses J_i, any shape.
        reduction: 'none' | 'mean' | 'sum'.
        denominator: divisor for 'mean' (default ``loss.numel()``).

    Returns:
        ``loss`` for 'none', else a 0-dim tensor.

    Raises:
        ValueError: unknown reduction, or 'mean' with a zero denominator.
    """
    check_reduction(reduction)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / mean_denominator(loss, denominator)


def reduce_grad(grad_output: torch.Tensor, reduction: str, denominator) -> torch.Tensor:
    """Gradient of the reduced loss w.r.t. each per-element loss.

    ``denominator`` is the value ``reduce`` divided by for 'mean' (ignored otherwise).
    Returns ``grad_output`` itself for 'none'; a 0-dim tensor (broadcasts) otherwise.
    """
    if reduction == "mean":
        return grad_output / denominator
    return grad_output
