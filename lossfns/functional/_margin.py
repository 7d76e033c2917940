"""Margin losses: functions of the margin y*z (labels y in {-1, +1}, scores z) and the multi-class hinge.

The binary ones plot against the margin m = y*z in one figure: logistic
log(1 + e^-m) (= torch's soft margin loss), hinge max(0, 1 - m); the squared
loss (1/2)(y - z)^2 = (1/2)(1 - m)^2 for y in {-1, +1} is ``mse_loss`` / 2.
"""

from __future__ import annotations

import torch

from ._reduction import reduce, reduce_grad
from ._validation import (check_class_indices, check_floating, check_integer, check_no_grad, check_reduction,
                          check_same_shape, check_sign_labels, check_tensor)


def _check_labels(input, target, reduction, what):
    """Validate a (score, ±1 label) pair; return the labels in the dtype of the loss."""
    check_floating(input, "input")
    check_tensor(target, "target")
    check_same_shape(input, target)
    check_reduction(reduction)
    check_no_grad(target, "target", what)
    check_sign_labels(target)
    dtype = torch.promote_types(input.dtype, target.dtype)  # integer labels take the dtype of input
    return input.to(dtype), target.to(dtype)


class _SoftMargin(torch.autograd.Function):
    """J = log(1 + exp(-y x)), dJ/dx = -y sigmoid(-y x)."""

    @staticmethod
    def forward(ctx, input, target, reduction):
        z = (input * target).neg_()
        # softplus(z) = max(z, 0) + log1p(exp(-|z|)): exp never overflows, log1p keeps small terms exact.
        loss = z.clamp(min=0).add_(z.abs_().neg_().exp_().log1p_())
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        return reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        scale = reduce_grad(grad_output, ctx.reduction, input.numel())
        grad = torch.sigmoid((input * target).neg_()).mul_(target).neg_()
        return grad.mul_(scale), None, None


def soft_margin_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Two-class logistic loss on the margin, like ``torch.nn.functional.soft_margin_loss``.

    .. math:: J_i = \log\bigl(1 + e^{-y_i z_i}\bigr), \qquad y_i \in \{-1, +1\}

    'mean' is :math:`\frac{1}{N}\sum_i J_i` over all elements (torch's
    documented division by ``x.nelement()``). Identical to :func:`logistic_loss`.
    torch accepts any label values; this function raises unless every label is -1 or +1.

    Args:
        input: scores z, any shape (*), floating point.
        target: labels y in {-1, +1}, the same shape (*), float or integer; no gradient flows to it.
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` is not floating point, or ``target`` is not a tensor.
        ValueError: shapes differ, a label is not -1 or +1, ``target`` requires grad,
            unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> soft_margin_loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, -1.0]))
        tensor(0.6931)

    References:
        PyTorch ``torch.nn.SoftMarginLoss``.
    """
    input, target = _check_labels(input, target, reduction, "soft_margin_loss")
    return _SoftMargin.apply(input, target, reduction)


def logistic_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Logistic loss in the margin form, for labels in {-1, +1}.

    .. math:: J_i = \log\bigl(1 + e^{-y_i z_i}\bigr) = \operatorname{softplus}(-y_i z_i),
        \qquad y_i \in \{-1, +1\}

    Computed stably as :math:`\max(-y z, 0) + \log(1 + e^{-|y z|})`, so scores of
    ±1e3 give finite values. It is binary cross-entropy with logits written for
    ±1 labels: ``logistic_loss(z, y) == binary_cross_entropy_with_logits(z, (y + 1) / 2)``,
    and it equals :func:`soft_margin_loss`. 'mean' is :math:`\frac{1}{N}\sum_i J_i`.
    Its gradient is :math:`-y_i\,\sigma(-y_i z_i)`.

    Args:
        input: scores z, any shape (*), floating point.
        target: labels y in {-1, +1}, the same shape (*), float or integer; no gradient flows to it.
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` is not floating point, or ``target`` is not a tensor.
        ValueError: shapes differ, a label is not -1 or +1 (labels in {0, 1}
            need ``2 * y - 1``, or binary_cross_entropy_with_logits), ``target``
            requires grad, unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> logistic_loss(torch.tensor([1000.0, -1000.0]), torch.tensor([1, 1]), reduction='none')
        tensor([   0., 1000.])

    References:
        Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, §10.6 (margin form of
        the binomial deviance); PyTorch ``torch.nn.SoftMarginLoss``.
    """
    input, target = _check_labels(input, target, reduction, "logistic_loss")
    return _SoftMargin.apply(input, target, reduction)


class _Hinge(torch.autograd.Function):
    """J = max(0, margin - y x), dJ/dx = -y [margin - y x > 0]."""

    @staticmethod
    def forward(ctx, input, target, margin, reduction):
        loss = (input * target).neg_().add_(margin).clamp_(min=0)
        ctx.save_for_backward(input, target)
        ctx.config = margin, reduction
        return reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        margin, reduction = ctx.config
        scale = reduce_grad(grad_output, reduction, input.numel())
        # Strict '>': the subgradient at the kink y x = margin is 0.
        active = (input * target).neg_().add_(margin) > 0
        return target.neg().mul_(active).mul_(scale), None, None, None


def hinge_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
               margin: float = 1.0) -> torch.Tensor:
    r"""Hinge loss of support vector machines, for labels in {-1, +1}.

    .. math:: J_i = \max(0,\ \text{margin} - y_i z_i), \qquad y_i \in \{-1, +1\}

    'mean' is :math:`\frac{1}{N}\sum_i J_i`. The gradient is :math:`-y_i` where
    :math:`y_i z_i < \text{margin}` and 0 elsewhere, **including at the kink**
    :math:`y_i z_i = \text{margin}` (the subgradient chosen here; any value in
    :math:`[-1, 0]\cdot y_i` is valid). torch has no twin: ``hinge_embedding_loss``
    is a different loss (it takes distances, not scores).

    Args:
        input: scores z, any shape (*), floating point.
        target: labels y in {-1, +1}, the same shape (*), float or integer; no gradient flows to it.
        reduction: 'none' | 'mean' | 'sum'.
        margin: the margin (1 for the classic SVM hinge).

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` is not floating point, or ``target`` is not a tensor.
        ValueError: shapes differ, a label is not -1 or +1, ``target`` requires
            grad, unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> hinge_loss(torch.tensor([0.5, 2.0, -1.0]), torch.tensor([1, 1, 1]), reduction='none')
        tensor([0.5000, 0.0000, 2.0000])

    References:
        Cortes & Vapnik, "Support-vector networks" (1995); scikit-learn ``sklearn.metrics.hinge_loss``.
    """
    input, target = _check_labels(input, target, reduction, "hinge_loss")
    return _Hinge.apply(input, target, float(margin), reduction)


class _MultiMargin(torch.autograd.Function):
    """J_n = w[y_n] / C * sum_{i != y_n} max(0, margin - x[n, y_n] + x[n, i])^p on (N, C) scores."""

    @staticmethod
    def forward(ctx, input, target, weight, p, margin, reduction, out_shape):
        index = target.unsqueeze(1)
        hinge = (input - input.gather(1, index)).add_(margin).clamp_(min=0)
        if p == 2:
            hinge.square_()
        loss = hinge.scatter_(1, index, 0).sum(1).div_(input.shape[1])  # the i = y term is left out
        if weight is not None:
            loss.mul_(weight[target])
        ctx.save_for_backward(input, target, weight)
        ctx.config = p, margin, reduction
        return reduce(loss.reshape(out_shape), reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        p, margin, reduction = ctx.config
        scale = reduce_grad(grad_output, reduction, target.numel())
        scale = scale.reshape(-1, 1) if scale.dim() else scale
        index = target.unsqueeze(1)
        z = (input - input.gather(1, index)).add_(margin)
        # Strict '>' as in torch: the subgradient at the kink z = 0 is 0.
        grad = z.gt_(0) if p == 1 else z.clamp_(min=0).mul_(2.0)  # in place: one (N, C) buffer in all
        grad.scatter_(1, index, 0).mul_(scale / input.shape[1])
        if weight is not None:
            grad.mul_(weight[target].unsqueeze(1))
        grad.scatter_(1, index, grad.sum(1, keepdim=True).neg_())  # x[y] enters every term with sign -1
        return grad, None, None, None, None, None, None


def multi_margin_loss(input: torch.Tensor, target: torch.Tensor, *, p: int = 1, margin: float = 1.0,
                      weight: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""Multi-class hinge loss (Weston-Watkins form), like ``torch.nn.functional.multi_margin_loss``.

    .. math::
        J_n = \frac{w_{y_n}}{C} \sum_{i \ne y_n} \max\bigl(0,\ \text{margin} - x_{n,y_n} + x_{n,i}\bigr)^p

    The class weight multiplies after the power (torch's kernel; its docs put it
    inside the max, which differs for negative weights). 'mean' is
    :math:`\frac{1}{N}\sum_n J_n`, divided by N even with ``weight`` (not by the summed
    weights, unlike ``cross_entropy``). The gradient uses 0 at the kink, as torch.

    Args:
        input: scores x of shape (N, C), or (C,) for one sample; floating point.
        target: class indices of shape (N,), or 0-dim / (1,) for one sample; int64.
        p: 1 (hinge) or 2 (squared hinge).
        margin: the margin.
        weight: optional class weights w of shape (C,); no gradient flows to it (as torch).
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        0-dim tensor for 'mean' and 'sum'; for 'none' the shape of ``target``
        ((N,), or 0-dim / (1,) for one sample).

    Raises:
        TypeError: ``input`` or ``weight`` is not floating point, or ``target`` not integer.
        ValueError: p not in {1, 2}, ``input`` not 1-D/2-D or with C = 0, ``target``
            of the wrong shape, a class index outside [0, C), ``weight`` not of shape (C,)
            or requiring grad, unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> multi_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]]), torch.tensor([3]))
        tensor(0.3250)

    References:
        PyTorch ``torch.nn.MultiMarginLoss``; Weston & Watkins, "Support vector machines for
        multi-class pattern recognition" (1999).
    """
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"expected p to be 1 or 2 (as torch), got {p!r}")
    check_floating(input, "input")
    check_integer(target, "target")
    check_reduction(reduction)
    if input.dim() not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"expected input of shape (N, C) or (C,) with C >= 1, got {tuple(input.shape)}")
    num_classes = input.shape[-1]
    if input.dim() == 2 and target.shape != input.shape[:1]:
        raise ValueError(f"expected target of shape ({input.shape[0]},) for input {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    if input.dim() == 1 and not (target.dim() <= 1 and target.numel() == 1):
        raise ValueError(f"expected a 0-dim or (1,) target for input of shape ({num_classes},), "
                         f"got {tuple(target.shape)}")
    check_class_indices(target, num_classes)
    if weight is not None:
        check_floating(weight, "weight")
        if weight.shape != (num_classes,):
            raise ValueError(f"expected weight of shape ({num_classes},), got {tuple(weight.shape)}")
        check_no_grad(weight, "weight", "multi_margin_loss")
        weight = weight.to(input.dtype)
    return _MultiMargin.apply(input.reshape(-1, num_classes), target.reshape(-1).long(), weight, p,
                              float(margin), reduction, target.shape)
