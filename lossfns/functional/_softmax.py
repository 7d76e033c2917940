"""Softmax and log-softmax, computed stably with the log-sum-exp trick."""

from __future__ import annotations

import torch

from ._validation import check_floating


def log_softmax(input: torch.Tensor, dim: int = -1, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Log of the softmax along ``dim``.

    .. math:: \log\operatorname{softmax}(z)_c = z_c - \log\sum_k e^{z_k}

    Args:
        input: logits z, any shape, floating point.
        dim: the class dimension (default the last one; torch has no default).
        dtype: if given, ``input`` is cast to it first (e.g. float32 for float16 logits), as torch.

    Returns:
        Tensor of the shape of ``input`` (dtype ``dtype`` if given); ``exp`` of it sums to 1 along ``dim``.

    Raises:
        TypeError: ``input`` is not a floating-point tensor.

    Example:
        >>> import torch
        >>> log_softmax(torch.tensor([1000.0, 0.0]))
        tensor([    0., -1000.])
    """
    check_floating(input, "input")
    if dtype is not None:
        input = input.to(dtype)
    # logsumexp subtracts the max before exp, so logits of +-1000 neither overflow nor underflow.
    return input - torch.logsumexp(input, dim=dim, keepdim=True)


def softmax(input: torch.Tensor, dim: int = -1, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Softmax along ``dim``: turns logits into probabilities.

    .. math:: \operatorname{softmax}(z)_c = \frac{e^{z_c - m}}{\sum_k e^{z_k - m}},\quad m = \max_k z_k

    Args:
        input: logits z, any shape, floating point.
        dim: the class dimension (default the last one; torch has no default).
        dtype: if given, ``input`` is cast to it first, as torch.

    Returns:
        Tensor of the shape of ``input`` (dtype ``dtype`` if given), non-negative, summing to 1
        along ``dim``.

    Raises:
        TypeError: ``input`` is not a floating-point tensor.

    Example:
        >>> import torch
        >>> softmax(torch.tensor([0.0, 0.0, 0.0, 0.0]))
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """
    check_floating(input, "input")
    if dtype is not None:
        input = input.to(dtype)
    # Subtracting the max leaves the result unchanged and keeps exp() <= 1.
    shifted = input - input.amax(dim=dim, keepdim=True).detach()
    exp = shifted.exp()
    return exp / exp.sum(dim=dim, keepdim=True)
