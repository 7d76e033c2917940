"""Margin losses: functions of the margin y*z (labels y in {-1, +1}, scores z) and the multi-class hinge.

The binary ones plot against the margin m = y*z in one figure: logistic
log(1 + e^-m) (= torch's soft margin loss), hinge max(0, 1 - m); the squared
loss (1/2)(y - z)^2 = (1/2)(1 - m)^2 for y in {-1, +1} is ``mse_loss`` / 2.
"""

from __future__ import annotations

import functools

import torch

from ._chunked import in_place_ok
from ._dtypes import float32_under_autocast
from ._elementwise import Formula, elementwise_loss
from ._function import apply, save_for_forward, without_jvp
from ._reduction import reduce, reduce_grad
from ._validation import (
    check_class_indices,
    check_floating,
    check_integer,
    check_no_grad,
    check_reduction,
    check_same_shape,
    check_sign_labels,
    check_tensor,
)


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


def _logistic(z, y):
    # softplus(-y z) = logaddexp(-y z, 0): max(m, 0) + log1p(exp(-|m|)), exp never overflows.
    return torch.logaddexp(-y * z, z.new_zeros(()))


def _logistic_grad(z, y):
    return -y * torch.sigmoid(-y * z)


def _logistic_(out, scratch, z, y):
    return torch.logaddexp(torch.mul(z, y, out=out).neg_(), out.new_zeros(()), out=out)


def _logistic_grad_(out, z, y):
    return torch.mul(z, y, out=out).neg_().sigmoid_().mul_(y).neg_()


LOGISTIC = Formula(_logistic, _logistic_grad, target_differentiable=False, grad_input_=_logistic_grad_,
                   loss_=_logistic_)


@float32_under_autocast
def soft_margin_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
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
    return elementwise_loss(input, target, LOGISTIC, reduction)


@float32_under_autocast
def logistic_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
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
    return elementwise_loss(input, target, LOGISTIC, reduction)


def _hinge(z, y, margin):
    return torch.relu(margin - y * z)


def _hinge_grad(z, y, margin):
    # Strict '>': the subgradient at the kink y z = margin is 0 (relu's derivative at 0 too).
    return -y * (margin - y * z > 0).to(z.dtype)


@float32_under_autocast
def hinge_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
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
    margin = float(margin)
    formula = Formula(functools.partial(_hinge, margin=margin), functools.partial(_hinge_grad, margin=margin),
                      target_differentiable=False)
    return elementwise_loss(input, target, formula, reduction)


def _multi_margin_grad(input, index, class_weight, p, margin, g):
    """d J_n / d x[n, i] times g_n for scores (N, C); ``class_weight`` is w[y_n] (N,) or None.

    With z_i = margin - x_y + x_i: p z_i^(p-1) [z_i > 0] / C for i != y (strict '>' as torch: the
    subgradient at the kink is 0), and minus the sum of those for i = y.
    """
    coef = g / input.shape[1] if class_weight is None else g * class_weight / input.shape[1]
    coef = coef.unsqueeze(1) if coef.dim() else coef
    z = input - input.gather(1, index)
    if in_place_ok():  # one (N, C) buffer in all: z becomes the gradient
        z.add_(margin)
        grad = z.gt_(0) if p == 1 else z.clamp_(min=0).mul_(2)
        grad = grad.scatter_(1, index, 0).mul_(coef.to(grad.dtype))  # same dtype: the fast kernel
        return grad.scatter_(1, index, grad.sum(1, keepdim=True).neg_())
    z = z + margin
    grad = (z > 0).to(z.dtype) if p == 1 else 2 * torch.relu(z)
    grad = (grad.scatter(1, index, 0) * coef).to(input.dtype)
    return grad.scatter(1, index, -grad.sum(1, keepdim=True))


class _MultiMargin(torch.autograd.Function):
    """J_n = w[y_n] / C * sum_{i != y_n} max(0, margin - x[n, y_n] + x[n, i])^p on (N, C) scores."""

    generate_vmap_rule = True

    @staticmethod
    def forward(input, index, class_weight, p, margin, reduction):
        hinge = (input - input.gather(1, index)).add_(margin).relu_()  # one fresh (N, C) buffer
        if p == 2:
            hinge.mul_(hinge)  # (square_ has no vmap batching rule)
        # The i = y term is left out (scatter_ of a value has no vmap batching rule: out of place there).
        hinge = hinge.scatter_(1, index, 0) if in_place_ok() else hinge.scatter(1, index, 0)
        loss = hinge.sum(1) / input.shape[1]
        return reduce(loss if class_weight is None else loss * class_weight, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, index, class_weight, ctx.p, ctx.margin, ctx.reduction = inputs
        ctx.save_for_backward(input, index, class_weight)
        save_for_forward(ctx, input, index, class_weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, index, class_weight = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, input.shape[0])
        return (_multi_margin_grad(input, index, class_weight, ctx.p, ctx.margin, g),
                None, None, None, None, None)

    @staticmethod
    def jvp(ctx, input_tangent, *_):
        input, index, class_weight = ctx.saved_tensors
        grad = _multi_margin_grad(input, index, class_weight, ctx.p, ctx.margin, input.new_ones(()))
        return reduce((grad * input_tangent).sum(1), ctx.reduction)


_MultiMarginTraced = without_jvp(_MultiMargin)


@float32_under_autocast
def multi_margin_loss(input: torch.Tensor, target: torch.Tensor, p: int = 1, margin: float = 1.0,
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
    if input.dim() > 2 or (input.dim() and input.shape[-1] == 0):
        raise ValueError(f"expected input of shape (N, C), (C,) or () (one class) with C >= 1, "
                         f"got {tuple(input.shape)}")
    num_classes = input.shape[-1] if input.dim() else 1
    if input.dim() == 2 and target.shape != input.shape[:1]:
        raise ValueError(f"expected target of shape ({input.shape[0]},) for input {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    if input.dim() < 2 and not (target.dim() <= 1 and target.numel() == 1):
        raise ValueError(f"expected a 0-dim or (1,) target for input of shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    check_class_indices(target, num_classes)
    if weight is not None:
        check_floating(weight, "weight")
        if weight.shape != (num_classes,):
            raise ValueError(f"expected weight of shape ({num_classes},), got {tuple(weight.shape)}")
        check_no_grad(weight, "weight", "multi_margin_loss")
        weight = weight.to(input.dtype)
    target_shape, target = target.shape, target.reshape(-1).long()
    class_weight = None if weight is None else weight[target]
    function = _MultiMarginTraced if torch.compiler.is_compiling() else _MultiMargin
    loss = apply(function, input.reshape(-1, num_classes), target.unsqueeze(1), class_weight, p,
                 float(margin), reduction)
    return loss.reshape(target_shape) if reduction == "none" else loss
