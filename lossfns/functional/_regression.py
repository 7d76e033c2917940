"""Regression losses: squared, absolute, Huber / smooth-L1, Poisson NLL and MAPE.

Each loss is an elementwise term with its derivatives written beside it (a ``Formula``), reduced
by ``elementwise_loss``: one ``torch.autograd.Function`` whose backward is itself differentiable,
and which processes large eager inputs in cache-sized chunks (see ``_elementwise``).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from ._dtypes import float32_under_autocast, promote
from ._elementwise import Formula, elementwise_loss
from ._reduction import check_denominator, reduce
from ._validation import (
    assert_traced,
    check_broadcastable_weight,
    check_finite,
    check_floating,
    check_no_grad,
    check_reduction,
    check_same_shape,
    values,
)

MAPE_EPSILON = 1e-7
"""Floor of the MAPE denominator, ``keras.backend.epsilon()``: MAPE divides by max(|y|, 1e-7)."""

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------- the elementwise terms of d = x - t
def _squared(x, t):
    return (x - t).square()


def _squared_grad(x, t):
    return 2 * (x - t)


def _absolute(x, t):
    return (x - t).abs()


def _absolute_grad(x, t):
    return (x - t).sign()  # sign(0) = 0: torch's subgradient at the kink


def _huber(x, t, delta):
    # c (d - c/2) with c = clamp(d, -delta, delta): d^2/2 inside, delta (|d| - delta/2) outside.
    # Both factors have the sign of d, so the product is >= 0 and nothing cancels.
    d = x - t
    c = F.hardtanh(d, -delta, delta)
    return c * (d - 0.5 * c)


def _huber_grad(x, t, delta):
    # hardtanh is the clamp whose own derivative is 0 at |d| = delta, as torch's double backward.
    return F.hardtanh(x - t, -delta, delta)


def _smooth_l1(x, t, beta):
    # (d - c/2) (c / beta), Huber over beta; c / beta lies in [-1, 1], so a tiny beta neither
    # underflows the product nor overflows a quotient.
    d = x - t
    u = F.hardtanh(d, -beta, beta) / beta
    return u * (d - (0.5 * beta) * u)


def _smooth_l1_grad(x, t, beta):
    return F.hardtanh(x - t, -beta, beta) / beta


# The fast paths (see Formula): the loss over a chunk, computed in the buffers out and scratch,
# and the derivative written into out. They run on half precision chunks as they are: x - t and
# each later step rounds once, no step cancels (the sums are added in float32 by the caller).
def _squared_(out, scratch, x, t):
    d = torch.sub(x, t, out=scratch)  # dJ/dx / 2, kept by the forward for the backward
    return torch.mul(d, d, out=out)  # not square_: pow of float16 is ~20x slower than mul


def _absolute_(out, scratch, x, t):
    return torch.sub(x, t, out=out).abs_()


def _huber_(out, scratch, x, t, delta):
    d = torch.sub(x, t, out=out)
    c = torch.clamp(d, -delta, delta, out=scratch)  # dJ/dx, kept by the forward for the backward
    return d.sub_(c, alpha=0.5).mul_(c)  # c (d - c/2), as _huber


def _smooth_l1_(out, scratch, x, t, beta):
    d = torch.sub(x, t, out=out)
    u = torch.clamp(d, -beta, beta, out=scratch)
    if beta != 1:
        u.div_(beta)
    return d.sub_(u, alpha=0.5 * beta).mul_(u)  # u (d - beta u / 2), as _smooth_l1


def _squared_grad_(out, x, t):
    return torch.sub(x, t, out=out).mul_(2)


def _absolute_grad_(out, x, t):
    return torch.sub(x, t, out=out).sign_()


def _huber_grad_(out, x, t, delta):
    return torch.sub(x, t, out=out).clamp_(-delta, delta)


def _smooth_l1_grad_(out, x, t, beta):
    u = torch.sub(x, t, out=out).clamp_(-beta, beta)
    return u if beta == 1 else u.div_(beta)


SQUARED = Formula(_squared, _squared_grad, grad_input_=_squared_grad_, loss_=_squared_, grad_in_scratch=2,
                  loss_in_half=True, grad_in_half=True, kernel=("squared", ()))
ABSOLUTE = Formula(_absolute, _absolute_grad, grad_input_=_absolute_grad_, loss_=_absolute_,
                   loss_in_half=True, grad_in_half=True)


def _weighted(input, target, weight, formula, reduction, mean_over_weights):
    """Reduce the weighted terms w_i J_i; 'mean' divides by sum(w) or by N."""
    if weight is None:
        return elementwise_loss(input, target, formula, reduction)
    check_reduction(reduction)
    loss = elementwise_loss(input, target, formula, "none") * weight
    if reduction != "mean" or not mean_over_weights or loss.numel() == 0:
        return reduce(loss, reduction)
    denominator = weight.expand(loss.shape).sum()
    check_denominator(denominator, "reduction='mean' divides by the sum of the weights, expected a nonzero "
                                   "sum, got 0; use reduction='sum' or check the weights")
    return reduce(loss, reduction, denominator)


def _check_pair(input, target, reduction, weight=None):
    """Validate, then return (input, target, weight) in one common dtype."""
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    check_reduction(reduction)
    check_broadcastable_weight(weight, input.shape)
    return promote(input, target, weight)


def _checked(out, target, reduction):
    """Return ``out`` after checking that ``target`` has no NaN/inf.

    Such a target makes a 'mean' or 'sum' NaN or inf, so the scan of ``target``
    runs only when the reduced value is not finite (it costs as much as the loss).
    """
    v = values(out)
    if reduction == "none" or v is None or not bool(torch.isfinite(v).all()):
        check_finite(target, "target")
    return out


@float32_under_autocast(unless_given="weight")
def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
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
    out = _weighted(input, target, weight, SQUARED, reduction, mean_over_weights=True)
    return _checked(out, target, reduction)


@float32_under_autocast(unless_given="weight")
def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
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
    out = _weighted(input, target, weight, ABSOLUTE, reduction, mean_over_weights=True)
    return _checked(out, target, reduction)


@float32_under_autocast
def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0,
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
    delta = float(delta)
    formula = Formula(functools.partial(_huber, delta=delta), functools.partial(_huber_grad, delta=delta),
                      grad_input_=functools.partial(_huber_grad_, delta=delta),
                      loss_=functools.partial(_huber_, delta=delta), grad_in_scratch=1,
                      loss_in_half=True, grad_in_half=True, kernel=("clamped", (delta, 1.0)))
    out = _weighted(input, target, weight, formula, reduction, mean_over_weights=False)
    return _checked(out, target, reduction)


@float32_under_autocast
def smooth_l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
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
    beta = float(beta)
    formula = ABSOLUTE if beta == 0 else Formula(functools.partial(_smooth_l1, beta=beta),
                                                 functools.partial(_smooth_l1_grad, beta=beta),
                                                 grad_input_=functools.partial(_smooth_l1_grad_, beta=beta),
                                                 loss_=functools.partial(_smooth_l1_, beta=beta),
                                                 grad_in_scratch=1, loss_in_half=True, grad_in_half=True,
                                                 kernel=("clamped", (beta, 1 / beta)))
    out = elementwise_loss(input, target, formula, reduction)
    return _checked(out, target, reduction)


def _stirling(target):
    """t log t - t + log(2 pi t)/2 where t > 1, else 0: Stirling's approximation of log(t!)."""
    t = torch.where(target > 1, target, 1.0)  # a safe t where masked, so no log(0) in any derivative
    return torch.where(target > 1, (t + 0.5) * t.log() - t + _HALF_LOG_2PI, 0.0)


def _stirling_grad(target):
    t = torch.where(target > 1, target, 1.0)
    return torch.where(target > 1, t.log() + 0.5 / t, 0.0)


def _poisson_formula(log_input: bool, full: bool, eps: float) -> Formula:
    """J = e^x - t x (x = log-rate) or x - t log(x + eps) (x = rate), plus Stirling's term if full."""
    def loss(x, t):
        out = x.exp() - t * x if log_input else x - t * (x + eps).log()
        return out + _stirling(t) if full else out

    def grad_input(x, t):
        return x.exp() - t if log_input else 1 - t / (x + eps)

    def grad_target(x, t):
        out = -x if log_input else -(x + eps).log()
        return out + _stirling_grad(t) if full else out

    def grad_input_(out, x, t):
        return torch.exp(x, out=out).sub_(t) if log_input else torch.div(t, x + eps, out=out).neg_().add_(1)

    def loss_(out, scratch, x, t):  # the common case: log-rates, no Stirling term
        return torch.exp(x, out=out).addcmul_(t, x, value=-1)

    return Formula(loss, grad_input, grad_target, grad_input_=grad_input_,
                   loss_=loss_ if log_input and not full else None)


@float32_under_autocast
def poisson_nll_loss(input: torch.Tensor, target: torch.Tensor, log_input: bool = True, full: bool = False,
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
    _check_at_least_zero(target, "expected target counts >= 0")
    if not log_input:
        _check_at_least_zero(input, "expected rates >= 0 in input when log_input=False",
                             "; if input holds log-rates, pass log_input=True")
    return elementwise_loss(input, target, _poisson_formula(bool(log_input), bool(full), float(eps)),
                            reduction)


def _check_at_least_zero(x, expected, hint=""):
    v = values(x)
    if v is None:
        return assert_traced(x >= 0, expected)
    if v.numel() and bool(v.min() < 0):
        raise ValueError(f"{expected}, got {v.min().item():g}{hint}")


def _mape(x, t):
    # Keras clips the denominator at epsilon, so a zero target gives a large but finite loss.
    return 100 * (x - t).abs() / t.abs().clamp(min=MAPE_EPSILON)


def _mape_grad(x, t):
    return 100 * (x - t).sign() / t.abs().clamp(min=MAPE_EPSILON)


MAPE = Formula(_mape, _mape_grad, target_differentiable=False)


@float32_under_autocast
def mape(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
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
    out = elementwise_loss(input, target, MAPE, reduction)
    return _checked(out, target, reduction)
