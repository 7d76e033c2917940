"""Regression losses: squared, absolute, Huber / smooth-L1, Poisson NLL and MAPE.

Every loss is a ``torch.autograd.Function`` with the analytic gradient, and works
in place on fresh buffers, so a forward+backward pass allocates about one N-sized
tensor besides the gradient, like the fused kernels of ``torch.nn.functional``.
Losses that need two temporaries (Huber, smooth-L1, MAPE, the full Poisson NLL)
reduce slice by slice with cache-sized temporaries. The backward recomputes
``input - target`` (Huber: scales the derivative the forward wrote out) rather
than saving intermediates.
"""

from __future__ import annotations

import math

import torch

from ._reduction import mean_denominator, reduce, reduce_grad
from ._validation import (check_broadcastable_weight, check_finite, check_floating, check_no_grad,
                          check_reduction, check_same_shape)

MAPE_EPSILON = 1e-7
"""Floor of the MAPE denominator, ``keras.backend.epsilon()``: MAPE divides by max(|y|, 1e-7)."""

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SLICE = 1 << 17  # elements per slice of the reduced forward: 512 KB in float32, stays in cache


def _check_pair(input, target, reduction, weight=None):
    """Validate, then return (input, target, weight) in one common dtype."""
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    check_reduction(reduction)
    check_broadcastable_weight(weight, input.shape)
    return _promote(input, target, weight)


def _checked(out, target, reduction):
    """Return ``out`` after checking that ``target`` has no NaN/inf.

    Such a target makes a 'mean' or 'sum' NaN or inf, so the scan of ``target``
    runs only when the reduced value is not finite (it costs as much as the loss).
    """
    if reduction == "none" or not bool(torch.isfinite(out)):
        check_finite(target, "target")
    return out


def _promote(*tensors):
    """Cast to one floating dtype (float32 with float64 gives float64, as torch) so the
    in-place steps below never need to widen a buffer."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t is not None:
            dtype = torch.promote_types(dtype, t.dtype)
    return tuple(t if t is None or t.dtype == dtype else t.to(dtype) for t in tensors)


def _is_huber(kind: str, param: float) -> bool:
    return kind in ("huber", "smooth_l1") and param > 0  # smooth_l1 with beta=0 is l1, as in torch


def _pointwise_loss_(kind: str, d: torch.Tensor, param: float, clamped=None) -> torch.Tensor:
    """The elementwise loss of d = input - target, in place on the fresh buffer d.

    For Huber / smooth-L1, ``clamped`` (optional) receives clamp(d, -delta, delta).
    """
    if kind == "mse":
        return d.square_()
    if not _is_huber(kind, param):
        return d.abs_()
    c = d.clamp(-param, param) if clamped is None else torch.clamp(d, -param, param, out=clamped)
    if kind == "smooth_l1":
        # (d - c/2) (c / beta), the Huber form below over beta; c / beta lies in [-1, 1], so a
        # tiny beta neither underflows the product nor overflows a quotient.
        u = c.div_(param)
        return d.sub_(u, alpha=0.5 * param).mul_(u)
    # Huber is c (d - c/2) with c = clamp(d, -delta, delta): d^2/2 inside, delta (|d| - delta/2)
    # outside. Both factors have the sign of d, so each term is >= 0 and nothing cancels.
    return d.sub_(c, alpha=0.5).mul_(c)


def _pointwise_grad_(kind: str, d: torch.Tensor, param: float, scale, clamped: bool) -> torch.Tensor:
    """``scale`` times the derivative of the elementwise loss, in place on d.

    With ``clamped``, d already holds the derivative that the forward wrote out.
    """
    if kind == "mse":
        return d.mul_(scale * 2.0)
    if not _is_huber(kind, param):
        return d.sign_().mul_(scale)  # sign(0) = 0: torch's subgradient at the kink
    if not clamped:
        d.clamp_(-param, param)
        if kind == "smooth_l1":
            d.div_(param)
    return d.mul_(scale)


def _reduce_elementwise(loss_fn, reduction, denominator, sliced, input, *others):
    """``reduce(loss_fn(input, *others), reduction, denominator)``.

    With ``sliced``, 'mean' and 'sum' compute and add the elementwise losses one
    slice of rows at a time, for a ``loss_fn`` that needs more than one temporary.
    """
    check_reduction(reduction)
    if reduction == "none":
        return reduce(loss_fn(input, *others), reduction)
    tensors = (input, *others)
    if not sliced or input.dim() == 0 or input.numel() <= _SLICE:
        parts = [tensors]
    else:
        step = max(1, _SLICE * input.shape[0] // input.numel())
        # A tensor whose leading dimension is missing or 1 (a broadcast weight) is passed whole.
        parts = [[t if t is None or t.dim() < input.dim() or t.shape[0] == 1 else t[i:i + step]
                  for t in tensors] for i in range(0, input.shape[0], step)]
    total = sum(reduce(loss_fn(*part), "sum") for part in parts)
    return total if reduction == "sum" else total / mean_denominator(input, denominator)


class _Pointwise(torch.autograd.Function):
    """J_i = w_i f(input_i - target_i) for f in {squared, absolute, Huber, smooth-L1}."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction, kind, param, needs_grad):
        denominator = None  # N
        # torch: weighted mse/l1 'mean' divides by the summed weights, weighted Huber by N.
        if weight is not None and kind != "huber" and reduction == "mean" and input.numel():
            denominator = weight.expand(input.shape).sum()
            if not bool(denominator != 0):
                raise ValueError("reduction='mean' divides by the sum of the weights, expected a "
                                 "nonzero sum, got 0; use reduction='sum' or check the weights")

        # The Huber / smooth-L1 derivative clamp(d, -delta, delta) (over beta) is written out while
        # each slice is in cache, so backward only scales it: one pass over N instead of three.
        clamped = torch.empty_like(input) if needs_grad and _is_huber(kind, param) else None

        def loss_fn(x, t, w, c):
            loss = _pointwise_loss_(kind, x - t, param, c)
            return loss if w is None else loss.mul_(w)

        out = _reduce_elementwise(loss_fn, reduction, denominator, _is_huber(kind, param), input, target,
                                  weight, clamped)
        ctx.clamped = clamped
        ctx.save_for_backward(input, target, weight)
        ctx.config = reduction, kind, param, input.numel() if denominator is None else denominator
        ctx.mean = None if denominator is None else out.detach()
        return out

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        reduction, kind, param, denominator = ctx.config
        scale = reduce_grad(grad_output, reduction, denominator)
        need_input, need_target, need_weight = ctx.needs_input_grad[:3]
        grad_input = grad_target = grad_weight = None
        if need_input or need_target:
            clamped, ctx.clamped = ctx.clamped, None  # scaled in place: a second backward recomputes
            d = input - target if clamped is None else clamped
            grad = _pointwise_grad_(kind, d, param, scale, clamped is not None)
            if weight is not None:
                grad.mul_(weight)
            if need_target:
                grad_target = -grad if need_input else grad.neg_()
            grad_input = grad if need_input else None
        if need_weight:
            loss = _pointwise_loss_(kind, input - target, param)
            if ctx.mean is not None:
                loss.sub_(ctx.mean)  # d/dw_i of sum(w J) / sum(w) is (J_i - mean) / sum(w)
            grad_weight = loss.mul_(scale).sum_to_size(weight.shape)
        return grad_input, grad_target, grad_weight, None, None, None, None


def _needs_grad(input, target) -> bool:
    return torch.is_grad_enabled() and (input.requires_grad or target.requires_grad)


def mse_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
             weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Mean squared error (squared L2 loss), like ``torch.nn.functional.mse_loss``.

    .. math:: J_i = w_i\,(\hat y_i - y_i)^2

    'mean' is :math:`\frac{1}{N}\sum_i J_i` without weight and
    :math:`\sum_i J_i / \sum_i w_i` with weight (the sum runs over the
    weight broadcast to the shape of ``input``), exactly as torch 2.13.
    Some textbooks write :math:`\frac{1}{2N}\sum_i (\hat y_i - y_i)^2` so that the
    gradient :math:`(\hat y_i - y_i)/N` carries no factor 2; torch and this
    function use :math:`\frac{1}{N}`, whose gradient is :math:`2(\hat y_i - y_i)/N`.
    The minimiser is the same; only the effective learning rate doubles.

    Args:
        input: predictions :math:`\hat y`, any shape (*), floating point.
        target: true values y, the same shape (*), finite.
        reduction: 'none' | 'mean' | 'sum'.
        weight: optional per-element weights w, broadcastable to (*) (torch requires
            exactly (*); a broadcast weight gives torch's result for ``weight.expand(*)``).

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input``, ``target`` or ``weight`` is not floating point.
        ValueError: shapes differ, ``target`` has NaN/inf, ``weight`` does not
            broadcast to (*), unknown ``reduction``, or 'mean' of an empty batch
            or of weights summing to 0.

    Example:
        >>> import torch
        >>> mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]))
        tensor(2.5000)

    References:
        PyTorch ``torch.nn.MSELoss``.
    """
    input, target, weight = _check_pair(input, target, reduction, weight)
    out = _Pointwise.apply(input, target, weight, reduction, "mse", 0.0, False)
    return _checked(out, target, reduction)


def l1_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
            weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Mean absolute error (L1 loss), like ``torch.nn.functional.l1_loss``.

    .. math:: J_i = w_i\,|\hat y_i - y_i|

    'mean' is :math:`\frac{1}{N}\sum_i J_i` without weight and
    :math:`\sum_i w_i |\hat y_i - y_i| / \sum_i w_i` with weight (as torch 2.13).
    At :math:`\hat y_i = y_i` the gradient is :math:`\operatorname{sign}(0) = 0`, as in torch.

    Args:
        input: predictions :math:`\hat y`, any shape (*), floating point.
        target: true values y, the same shape (*), finite.
        reduction: 'none' | 'mean' | 'sum'.
        weight: optional per-element weights w, broadcastable to (*).

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input``, ``target`` or ``weight`` is not floating point.
        ValueError: shapes differ, ``target`` has NaN/inf, ``weight`` does not
            broadcast to (*), unknown ``reduction``, or 'mean' of an empty batch
            or of weights summing to 0.

    Example:
        >>> import torch
        >>> l1_loss(torch.tensor([1.0, -3.0]), torch.tensor([0.0, 0.0]))
        tensor(2.)

    References:
        PyTorch ``torch.nn.L1Loss``.
    """
    input, target, weight = _check_pair(input, target, reduction, weight)
    out = _Pointwise.apply(input, target, weight, reduction, "l1", 0.0, False)
    return _checked(out, target, reduction)


def huber_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean", delta: float = 1.0,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Huber loss: squared near the target, linear (slope delta) beyond ``delta``.

    .. math::
        J_i = w_i \begin{cases} \tfrac12 d_i^2 & |d_i| \le \delta \\
        \delta\,(|d_i| - \tfrac12\delta) & \text{otherwise} \end{cases},
        \qquad d_i = \hat y_i - y_i

    'mean' is :math:`\frac{1}{N}\sum_i J_i` **with or without** weight: unlike
    ``mse_loss`` and ``l1_loss``, torch 2.13 divides the weighted Huber sum by
    N, not by the summed weights. ``huber_loss(delta=δ) == δ * smooth_l1_loss(beta=δ)``.

    Args:
        input: predictions :math:`\hat y`, any shape (*), floating point.
        target: true values y, the same shape (*), finite.
        reduction: 'none' | 'mean' | 'sum'.
        delta: δ > 0, where the quadratic part turns linear.
        weight: optional per-element weights w, broadcastable to (*).

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input``, ``target`` or ``weight`` is not floating point.
        ValueError: δ <= 0, shapes differ, ``target`` has NaN/inf, ``weight``
            does not broadcast to (*), unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> huber_loss(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0]), reduction='none')
        tensor([0.1250, 2.5000])

    References:
        PyTorch ``torch.nn.HuberLoss``; Huber, "Robust estimation of a location parameter" (1964).
    """
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    input, target, weight = _check_pair(input, target, reduction, weight)
    out = _Pointwise.apply(input, target, weight, reduction, "huber", float(delta),
                           _needs_grad(input, target))
    return _checked(out, target, reduction)


def smooth_l1_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
                   beta: float = 1.0) -> torch.Tensor:
    r"""Smooth L1 loss: Huber divided by beta, so the linear part has slope 1.

    .. math::
        J_i = \begin{cases} \tfrac12 d_i^2 / \beta & |d_i| < \beta \\
        |d_i| - \tfrac12\beta & \text{otherwise} \end{cases},
        \qquad d_i = \hat y_i - y_i

    'mean' is :math:`\frac{1}{N}\sum_i J_i`. With β = 0 it is exactly ``l1_loss``
    (gradient sign(0) = 0 at the kink), as in torch.

    Args:
        input: predictions :math:`\hat y`, any shape (*), floating point.
        target: true values y, the same shape (*), finite.
        reduction: 'none' | 'mean' | 'sum'.
        beta: β >= 0, where the quadratic part turns linear.

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` or ``target`` is not floating point.
        ValueError: β < 0, shapes differ, ``target`` has NaN/inf, unknown
            ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> smooth_l1_loss(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0]), reduction='none')
        tensor([0.1250, 2.5000])

    References:
        PyTorch ``torch.nn.SmoothL1Loss``; Girshick, "Fast R-CNN" (2015).
    """
    if not beta >= 0:
        raise ValueError(f"expected beta >= 0, got {beta}")
    input, target, _ = _check_pair(input, target, reduction)
    out = _Pointwise.apply(input, target, None, reduction, "smooth_l1", float(beta),
                           _needs_grad(input, target))
    return _checked(out, target, reduction)


class _PoissonNLL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, log_input, full, eps, reduction):
        def loss_fn(x, t):
            if log_input:
                loss = x.exp().addcmul_(t, x, value=-1.0)
            else:
                loss = (x + eps).log_().mul_(t).neg_().add_(x)
            return loss.add_(_stirling(t)) if full else loss

        ctx.save_for_backward(input, target)
        ctx.config = log_input, full, eps, reduction
        return _reduce_elementwise(loss_fn, reduction, None, full, input, target)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        log_input, full, eps, reduction = ctx.config
        scale = reduce_grad(grad_output, reduction, input.numel())
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad = input.exp().sub_(target) if log_input else (target / (input + eps)).neg_().add_(1.0)
            grad_input = grad.mul_(scale)
        if ctx.needs_input_grad[1]:
            grad = input.neg() if log_input else (input + eps).log_().neg_()
            if full:
                # d/dt of t log t - t + log(2 pi t)/2 is log t + 1/(2t); zero where the term is masked.
                grad = grad + torch.where(target > 1, target.log() + 0.5 / target, 0.0)
            grad_target = grad.mul_(scale)
        return grad_input, grad_target, None, None, None, None


def _stirling(target: torch.Tensor) -> torch.Tensor:
    """t log t - t + log(2 pi t)/2 where t > 1, else 0: Stirling's approximation of log(t!)."""
    log_t = target.log()
    return torch.where(target > 1, (target + 0.5) * log_t - target + _HALF_LOG_2PI, 0.0)


def poisson_nll_loss(input: torch.Tensor, target: torch.Tensor, *, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: str = "mean") -> torch.Tensor:
    r"""Negative log-likelihood of counts under a Poisson distribution, like torch's.

    .. math::
        J_i = \begin{cases} e^{x_i} - y_i x_i & \text{log\_input (x = log-rate)} \\
        x_i - y_i \log(x_i + \varepsilon) & \text{otherwise (x = rate)} \end{cases}
        \;+\; [\text{full}]\,[y_i > 1]\,\bigl(y_i \log y_i - y_i + \tfrac12\log(2\pi y_i)\bigr)

    The last term is Stirling's approximation of :math:`\log(y_i!)`; torch adds it
    only where :math:`y_i > 1` (it is a constant for the model, so it does not
    change the gradient with respect to ``input``). 'mean' is :math:`\frac{1}{N}\sum_i J_i`.
    The loss can be negative: it is a negative log-likelihood without the
    :math:`\log y!` term, not a distance.

    Args:
        input: log-rates (``log_input=True``) or rates >= 0, any shape (*), floating point.
        target: observed counts y >= 0, the same shape (*).
        log_input: whether ``input`` holds log-rates.
        full: add the Stirling term.
        eps: ε added to the rate before the log when ``log_input=False``.
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` or ``target`` is not floating point.
        ValueError: shapes differ, ``target`` has NaN/inf or negative values,
            ``input`` has negative rates with ``log_input=False``, unknown
            ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> poisson_nll_loss(torch.tensor([0.0]), torch.tensor([3.0]))
        tensor(1.)

    References:
        PyTorch ``torch.nn.PoissonNLLLoss``.
    """
    input, target, _ = _check_pair(input, target, reduction)
    check_finite(target, "target")
    if target.numel() and bool(target.min() < 0):
        raise ValueError(f"expected target counts >= 0, got {target.min().item():g}")
    if not log_input and input.numel() and bool((input < 0).any()):
        raise ValueError(f"expected rates >= 0 in input when log_input=False, got {input.min().item():g}; "
                         f"if input holds log-rates, pass log_input=True")
    return _PoissonNLL.apply(input, target, bool(log_input), bool(full), float(eps), reduction)


class _MAPE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, reduction):
        def loss_fn(x, t):
            # Keras clips the denominator at epsilon, so a zero target gives a large but finite loss.
            return (x - t).abs_().div_(t.abs().clamp_(min=MAPE_EPSILON)).mul_(100.0)

        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        return _reduce_elementwise(loss_fn, reduction, None, True, input, target)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        scale = reduce_grad(grad_output, ctx.reduction, input.numel())
        grad = (input - target).sign_().div_(target.abs().clamp_(min=MAPE_EPSILON)).mul_(100.0)
        return grad.mul_(scale), None, None


def mape(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Mean absolute percentage error, as Keras computes it.

    .. math:: J_i = 100\,\frac{|\hat y_i - y_i|}{\max(|y_i|,\ 10^{-7})}

    'mean' is :math:`\frac{1}{N}\sum_i J_i` over all elements. For targets of
    shape (B, D) this equals ``keras.losses.MeanAbsolutePercentageError()``,
    which averages over the last axis and then over the batch (the same thing
    when every row has D entries); ``keras.losses.mean_absolute_percentage_error``
    is ``mape(..., reduction='none').mean(-1)``. The floor :math:`10^{-7}` is
    ``keras.backend.epsilon()``: a zero target gives a huge but finite loss. The
    gradient at :math:`\hat y_i = y_i` is 0. torch has no MAPE.

    Args:
        input: predictions :math:`\hat y`, any shape (*), floating point.
        target: true values y, the same shape (*), finite; no gradient flows to it.
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Percentages: 0-dim tensor for 'mean' and 'sum'; shape (*) for 'none'.

    Raises:
        TypeError: ``input`` or ``target`` is not floating point.
        ValueError: shapes differ, ``target`` has NaN/inf or requires grad,
            unknown ``reduction``, or 'mean' of an empty batch.

    Example:
        >>> import torch
        >>> mape(torch.tensor([110.0, 45.0]), torch.tensor([100.0, 50.0]))
        tensor(10.)

    References:
        Keras ``keras.losses.MeanAbsolutePercentageError``.
    """
    input, target, _ = _check_pair(input, target, reduction)
    check_no_grad(target, "target", "mape")
    out = _MAPE.apply(input, target, reduction)
    return _checked(out, target, reduction)
