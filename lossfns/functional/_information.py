"""Entropy, cross-entropy between distributions, and the KL divergence.

Together they give the identity the course derives: H(p, q) = H(p) + KL(p || q).
"""

from __future__ import annotations

import math

import torch

from ._chunked import loopable
from ._dtypes import autocast_enabled, float32_under_autocast, to_float32
from ._elementwise import Formula, elementwise_loss
from ._function import apply, save_for_forward, without_jvp
from ._validation import (
    assert_traced,
    check_finite,
    check_floating,
    check_reduction,
    check_same_shape,
    values,
)

KL_REDUCTIONS = ("none", "batchmean", "sum")


# ---------------------------------------------------------------- checks
def _log_scale(base) -> float:
    """1 / ln(base): multiplies nats into the requested unit (1.0 for nats)."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not (base > 0 and base != 1):
        raise ValueError(f"expected base to be None (nats), 2 (bits) or another positive number "
                         f"other than 1, got {base!r}")
    return 1.0 / math.log(base)


def _normalize_dim(x: torch.Tensor, dim: int, name: str) -> int:
    if x.dim() == 0:
        raise ValueError(f"expected {name} to have at least one dimension (the distribution), "
                         f"got a 0-dim tensor")
    if not -x.dim() <= dim < x.dim():
        raise ValueError(f"expected dim in [{-x.dim()}, {x.dim() - 1}] for {name} of shape "
                         f"{tuple(x.shape)}, got {dim}")
    return dim % x.dim()


def _check_distribution(p: torch.Tensor, name: str, dim: int) -> None:
    """Raise unless ``p`` holds probabilities in [0, 1] that sum to 1 along ``dim``."""
    if p.numel() == 0:
        if p.shape[dim] == 0:
            raise ValueError(f"expected {name} to hold at least one class along dim={dim}, "
                             f"got shape {tuple(p.shape)}")
        return  # no rows at all
    check_finite(p, name)
    # Half the significant digits of the dtype: 3e-4 for float32, 1.5e-8 for float64.
    tol = torch.finfo(p.dtype).eps ** 0.5
    sums = p.detach().sum(dim)  # along the distribution, also inside torch.func.vmap
    p, sums_values = values(p), values(sums)
    if p is None or sums_values is None:
        assert_traced((sums - 1).abs() <= tol, f"expected every row of {name} to sum to 1 along dim={dim}")
        return
    sums = sums_values
    lo, hi = torch.aminmax(p)
    if not (bool(lo >= 0) and bool(hi <= 1)):  # also False for NaN
        raise ValueError(f"expected {name} to be probabilities in [0, 1], got values in "
                         f"[{lo.item():g}, {hi.item():g}]; if these are logits, apply softmax first")
    err = (sums - 1).abs()
    worst = int(err.argmax())
    if float(err.flatten()[worst]) > tol:
        bad = float(sums.flatten()[worst])
        index = torch.unravel_index(torch.tensor(worst), sums.shape)
        where = f" (row {', '.join(str(int(i)) for i in index)})" if sums.dim() else ""
        raise ValueError(f"expected every row of {name} to sum to 1 along dim={dim} "
                         f"(tolerance {tol:.1e}), got a row summing to {bad:.8g}{where}; "
                         f"normalise it with {name} / {name}.sum(dim={dim}, keepdim=True)")


# ---------------------------------------------------------------- entropy
def _entropy_grad(p, dim, scale):
    # dH/dp_k = -(log p_k + 1): +inf at p_k = 0, the true one-sided limit.
    return (p.log() + 1) * -scale


class _Entropy(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(p, dim, scale):
        # xlogy(0, 0) = 0 implements the convention 0 log 0 = 0.
        # Adding 0.0 turns the -0.0 of -(0 log 0) into 0.0.
        return (torch.xlogy(p, p).sum(dim) * -scale).add(0.0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        p, ctx.dim, ctx.scale = inputs
        ctx.save_for_backward(p)
        save_for_forward(ctx, p)

    @staticmethod
    def backward(ctx, grad_output):
        (p,) = ctx.saved_tensors
        return _entropy_grad(p, ctx.dim, ctx.scale) * grad_output.unsqueeze(ctx.dim), None, None

    @staticmethod
    def jvp(ctx, p_tangent, *_):
        (p,) = ctx.saved_tensors
        return (_entropy_grad(p, ctx.dim, ctx.scale) * p_tangent).sum(ctx.dim)


_EntropyTraced = without_jvp(_Entropy)


def entropy(p: torch.Tensor, dim: int = -1, base: float | None = None) -> torch.Tensor:
    r"""Shannon entropy of the distributions in ``p`` along ``dim``.

    .. math:: H(p) = -\sum_k p_k \log p_k, \qquad 0 \log 0 = 0

    Args:
        p: probabilities, floating point, shape (*, C, *) with C along ``dim``; every row
            lies in [0, 1] and sums to 1 (within the square root of the dtype's eps).
        dim: the dimension holding the distribution (default the last).
        base: logarithm base: None for nats (ln), 2 for bits.

    Returns:
        Tensor of the shape of ``p`` without ``dim``: one entropy per row, >= 0,
        at most log C (the uniform distribution). Its Hessian in each row is
        :math:`\operatorname{diag}(-1/p_k)` (times 1 / ln(base)), as the double backward gives.

    Raises:
        TypeError: ``p`` is not a floating-point tensor.
        ValueError: a probability outside [0, 1] or NaN, a row that does not sum to 1
            (the message shows the worst row sum), a 0-dim ``p``, ``dim`` out of range,
            or a base that is not positive or equals 1.

    Example:
        >>> import torch
        >>> entropy(torch.tensor([[0.5, 0.5], [1.0, 0.0]]), base=2)
        tensor([1., 0.])

    References:
        ``torch.distributions.Categorical(probs=p).entropy()`` (nats, last dim);
        Cover & Thomas, *Elements of Information Theory*, ch. 2.
    """
    scale = _log_scale(base)
    check_floating(p, "p")
    dim = _normalize_dim(p, dim, "p")
    _check_distribution(p, "p", dim)  # in the dtype of p: its rows sum to 1 within its precision
    if autocast_enabled(p):  # float32, as torch's autocast runs its losses
        p = to_float32(p)
    return apply(_EntropyTraced if torch.compiler.is_compiling() else _Entropy, p, dim, scale)


# ---------------------------------------------------------------- cross-entropy of two distributions
def _cross_entropy_dist_grads(p, q, scale):
    grad_p = q.log() * -scale
    # -p log q does not depend on q where p = 0, so its derivative there is 0 (not 0/0).
    grad_q = torch.where(p == 0, 0, p / q) * -scale
    return grad_p, grad_q


class _CrossEntropyDist(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(p, q, dim, scale):
        # xlogy(0, q) = 0 even for q = 0; xlogy(p > 0, 0) = -inf, so H = +inf.
        return (torch.xlogy(p, q).sum(dim) * -scale).add(0.0)  # -0.0 -> 0.0

    @staticmethod
    def setup_context(ctx, inputs, output):
        p, q, ctx.dim, ctx.scale = inputs
        ctx.save_for_backward(p, q)
        save_for_forward(ctx, p, q)

    @staticmethod
    def backward(ctx, grad_output):
        p, q = ctx.saved_tensors
        g = grad_output.unsqueeze(ctx.dim)
        grad_p, grad_q = _cross_entropy_dist_grads(p, q, ctx.scale)
        return grad_p * g, grad_q * g, None, None

    @staticmethod
    def jvp(ctx, p_tangent, q_tangent, *_):
        p, q = ctx.saved_tensors
        grad_p, grad_q = _cross_entropy_dist_grads(p, q, ctx.scale)
        tangent = torch.zeros_like(p)
        if p_tangent is not None:
            tangent = tangent + grad_p * p_tangent
        if q_tangent is not None:
            tangent = tangent + grad_q * q_tangent
        return tangent.sum(ctx.dim)


_CrossEntropyDistTraced = without_jvp(_CrossEntropyDist)


def cross_entropy_dist(p: torch.Tensor, q: torch.Tensor, dim: int = -1,
                       base: float | None = None) -> torch.Tensor:
    r"""Cross-entropy H(p, q) between two distributions along ``dim``.

    .. math:: H(p, q) = -\sum_k p_k \log q_k = H(p) + D_{\mathrm{KL}}(p \,\|\, q),
        \qquad 0 \log q_k = 0

    A class with ``q_k = 0`` costs nothing when ``p_k = 0`` too, but gives
    ``H(p, q) = +inf`` when ``p_k > 0`` (q says impossible what p says happens).
    For a loss on logits use ``cross_entropy`` instead.

    Args:
        p: the "true" probabilities, floating point, shape (*, C, *) with C along ``dim``;
            rows in [0, 1] summing to 1.
        q: the model's probabilities, same shape and same checks as ``p``.
        dim: the dimension holding the distribution (default the last).
        base: logarithm base: None for nats (ln), 2 for bits.

    Returns:
        Tensor of the shape of ``p`` without ``dim``: one cross-entropy per row, >= H(p).

    Raises:
        TypeError: ``p`` or ``q`` is not a floating-point tensor.
        ValueError: different shapes, a probability outside [0, 1] or NaN, a row that does
            not sum to 1, a 0-dim tensor, ``dim`` out of range, or an invalid base.

    Example:
        >>> import torch
        >>> cross_entropy_dist(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]), base=2)
        tensor(1.)

    References:
        Cover & Thomas, *Elements of Information Theory*, ch. 2;
        ``torch.nn.functional.cross_entropy`` with probability targets takes logits instead of q.
    """
    scale = _log_scale(base)
    check_floating(p, "p")
    check_floating(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"expected q with the same shape as p {tuple(p.shape)}, got {tuple(q.shape)}")
    dim = _normalize_dim(p, dim, "p")
    _check_distribution(p, "p", dim)
    _check_distribution(q, "q", dim)
    if autocast_enabled(p):  # float32, as torch's autocast runs its losses
        p, q = to_float32(p), to_float32(q)
    dtype = torch.promote_types(p.dtype, q.dtype)  # as torch's own ops would
    p, q = p.to(dtype), q.to(dtype)
    function = _CrossEntropyDistTraced if torch.compiler.is_compiling() else _CrossEntropyDist
    return apply(function, p, q, dim, scale)


# ---------------------------------------------------------------- KL divergence
def _kl(x, t):
    # xlogy(0, 0) = 0 implements 0 log 0 = 0; where t = 0 the term is 0 even if x = -inf (not nan).
    return torch.where(t == 0, 0, torch.xlogy(t, t) - t * x)


def _kl_grad_input(x, t):
    return -t


def _kl_grad_target(x, t):
    return t.log() + 1 - x  # d/dt t (log t - x): -inf at t = 0, the one-sided limit


def _kl_log_target(x, s):
    # s = -inf means probability 0: the term is 0, not 0 * -inf = nan.
    return torch.where(s == -math.inf, 0, s.exp() * (s - x))


def _kl_log_target_grad_input(x, s):
    return -s.exp()


def _kl_log_target_grad_target(x, s):
    # d/ds e^s (s - x) = e^s (s - x + 1); 0 where s = -inf (not 0 * -inf).
    return torch.where(s == -math.inf, 0, s.exp() * (s - x + 1))


def _kl_grad_input_(out, x, t):
    return torch.neg(t, out=out)


def _kl_(out, scratch, x, t):
    # t (log t - x): one log, about twice as fast as xlogy, and log t - x does not cancel where the
    # KL term is near 0 (x close to log t) as xlogy(t, t) - t x does. It is NaN exactly where t = 0
    # (0 * -inf; the checks rule out NaN inputs, and t > 0 with x = -inf gives +inf): NaN -> 0, as
    # in _kl, keeping +inf (one pass; t == 0 and a masked fill take fifteen times longer).
    torch.neg(t, out=scratch)  # dJ/dx, kept for the backward
    torch.log(t, out=out).sub_(x).mul_(t)
    return out.nan_to_num_(nan=0.0, posinf=math.inf)


KL = Formula(_kl, _kl_grad_input, _kl_grad_target, grad_input_=_kl_grad_input_, loss_=_kl_, grad_in_scratch=1)
KL_LOG_TARGET = Formula(_kl_log_target, _kl_log_target_grad_input, _kl_log_target_grad_target)


def _check_kl_values(input, target, log_target):
    """input: log-probabilities <= 0; target: probabilities in [0, 1] (log-probabilities <= 0)."""
    if input.numel() == 0:
        return
    x, t = values(input), values(target)
    # A little slack for rounding in e.g. (q / q.sum()).log().
    slack = 64 * torch.finfo(input.dtype).eps
    if x is None or t is None:
        assert_traced(input <= slack, "expected input to be log-probabilities (all <= 0)")
        if log_target:
            return assert_traced(target <= slack, "expected target to be log-probabilities (all <= 0)")
        return assert_traced((target >= 0) & (target <= 1), "expected target to be probabilities in [0, 1]")
    if not log_target and loopable(x) and t.shape == x.shape and t.dtype == x.dtype and t.is_contiguous():
        from . import _kernels  # imports numba: only for large inputs

        if not _kernels.count_kl_misfits(x, t, slack):
            return  # otherwise the checks below say what is wrong
    hi = x.max()
    if bool(hi.isnan()):
        raise ValueError("expected input to be log-probabilities, got NaN")
    if float(hi) > slack:
        raise ValueError(
            f"expected input to be log-probabilities (all <= 0), got values up to {float(hi):g}; "
            "it looks like probabilities were passed: use input = log_softmax(logits, dim=...) "
            "or probs.log() (torch would silently return a wrong number)")
    # -inf is a valid log-probability (of 0) when log_target=True; NaN and +inf never are.
    check_finite(t.masked_fill(t == -math.inf, 0) if log_target else t, "target")
    tlo, thi = torch.aminmax(t)
    if log_target:
        if bool(thi.isnan()) or float(thi) > slack:
            raise ValueError(
                f"expected target to be log-probabilities (all <= 0) because log_target=True, "
                f"got values up to {float(thi):g}; pass log_target=False for probabilities")
    elif not (bool(tlo >= 0) and bool(thi <= 1)):  # also False for NaN
        raise ValueError(
            f"expected target to be probabilities in [0, 1], got values in "
            f"[{float(tlo):g}, {float(thi):g}]; if target holds log-probabilities, "
            "pass log_target=True")


@float32_under_autocast
def kl_div(input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean",
           log_target: bool = False) -> torch.Tensor:
    r"""Kullback-Leibler divergence KL(target || exp(input)), with torch's argument order.

    ``input`` is LOG-probabilities (``log_softmax(logits)`` or ``q.log()``), ``target``
    probabilities (log-probabilities with ``log_target=True``).

    .. math:: J_i = t_i \,(\log t_i - x_i), \qquad 0 \log 0 = 0

    With ``log_target=True`` (``s = log t``): :math:`J_i = e^{s_i}(s_i - x_i)`.

    Reductions: 'none' gives J; 'sum' gives :math:`\sum_i J_i`; 'batchmean' (the default)
    gives :math:`\frac{1}{N}\sum_i J_i` with N = ``input.size(0)``, the KL per example
    when each row of ``target`` is a distribution (kl_div has no class dimension, so row
    sums are not checked: ``entropy`` and ``cross_entropy_dist`` do check them). For a
    0-dim ``input`` 'batchmean' equals 'sum', as in torch.

    Differences from ``torch.nn.functional.kl_div``: the default reduction is 'batchmean'
    (torch's is 'mean'); 'mean', which divides by N*C and is not a KL, raises ValueError
    (torch only warns); a term with target probability 0 is 0 even where ``input`` or the
    log-target is -inf (torch returns nan); the target gradient at t = 0 is the one-sided
    limit -inf (torch returns nan).

    Args:
        input: log-probabilities x, any shape (*), floating point, all <= 0.
        target: probabilities t in [0, 1] (or log-probabilities <= 0 if ``log_target``),
            same shape as ``input``.
        reduction: 'batchmean' | 'sum' | 'none'.
        log_target: whether ``target`` holds log-probabilities.

    Returns:
        0-dim tensor, or J with the shape of ``input`` for 'none'.

    Raises:
        TypeError: ``input`` or ``target`` is not a floating-point tensor.
        ValueError: reduction='mean' (use 'batchmean') or an unknown reduction; shapes
            differ; ``input`` has positive values (probabilities passed where
            log-probabilities are expected) or NaN; ``target`` outside [0, 1] or NaN
            (positive or NaN with ``log_target``); 'batchmean' of an empty batch.

    Example:
        >>> import torch
        >>> p, q = torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]])
        >>> round(kl_div(q.log(), p).item(), 4)  # KL(p || q)
        0.1438

    References:
        ``torch.nn.functional.kl_div`` / ``torch.nn.KLDivLoss`` (PyTorch docs);
        Kullback & Leibler (1951), "On Information and Sufficiency".
    """
    if reduction == "mean":
        raise ValueError(
            "expected reduction='batchmean' (the KL divergence per example: sum / batch size), "
            "got 'mean', which divides by the number of elements N*C and is not a KL divergence "
            "(torch.nn.functional.kl_div only warns)")
    check_reduction(reduction, KL_REDUCTIONS)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    dtype = torch.promote_types(input.dtype, target.dtype)  # as torch.nn.functional.kl_div does
    input, target = input.to(dtype), target.to(dtype)

    _check_kl_values(input, target, log_target)
    formula = KL_LOG_TARGET if log_target else KL
    if reduction != "batchmean":
        return elementwise_loss(input, target, formula, reduction)
    if input.dim() == 0:  # one element: 'batchmean' is 'sum', as in torch
        return elementwise_loss(input, target, formula, "sum")
    if input.size(0) == 0:
        return elementwise_loss(input, target, formula, "mean")  # raises "the batch is empty"
    return elementwise_loss(input, target, formula, "sum") / input.size(0)
