"""Cross-entropy losses for classification: binary (probabilities or logits), multiclass, NLL.

Every loss here matches ``torch.nn.functional`` (torch 2.13) value for value and
gradient for gradient, with a hand-written backward, and raises a clear error
where torch would broadcast, return NaN or silently accept a bad argument.
"""

from __future__ import annotations

import functools

import torch

from ._reduction import reduce, reduce_grad
from ._validation import (
    LOGITS_HINT,
    check_broadcastable_weight,
    check_class_indices,
    check_finite,
    check_floating,
    check_in_unit_interval,
    check_integer,
    check_reduction,
    check_same_shape,
    check_tensor,
)

DEFAULT_IGNORE_INDEX = -100
LOG_CLAMP = -100.0  # torch's binary_cross_entropy clamps both logs at -100
BCE_GRAD_EPS = 1e-12  # torch's EPSILON in binary_cross_entropy_backward
TARGET_HINT = "targets are 0/1 labels or soft labels (probabilities)"


# ---------------------------------------------------------------- shared checks and helpers
def _first_order(backward):
    """Mark a hand-written backward as first-order only.

    Unlike ``once_differentiable`` (whose gradient merely lacks a grad_fn, which
    ``torch.autograd.functional.hessian`` reads as a zero Hessian), create_graph=True raises.
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        if torch.is_grad_enabled():  # the autograd engine enables grad mode only for create_graph=True
            raise RuntimeError("expected a first-order backward (create_graph=False): lossfns "
                               "classification losses have a hand-written gradient without second "
                               "derivatives, got create_graph=True; use torch.nn.functional for "
                               "Hessians or gradient penalties")
        return backward(ctx, *grad_outputs)
    return wrapper


def _check_no_grad(x: torch.Tensor | None, name: str, function: str) -> None:
    """Raise where torch refuses to differentiate (instead of silently returning no gradient)."""
    if x is not None and x.requires_grad and torch.is_grad_enabled():
        raise ValueError(
            f"expected {name} without requires_grad: {function} is not differentiable with respect "
            f"to {name} (neither is torch's), got a tensor that requires grad; pass {name}.detach()"
        )


def _check_elementwise_weight(weight: torch.Tensor | None, name: str, input: torch.Tensor, function: str):
    """Check a weight that broadcasts to the input of a BCE loss; return it in the input's dtype."""
    check_broadcastable_weight(weight, input.shape, name)
    _check_no_grad(weight, name, function)
    if weight is None:
        return None
    check_finite(weight, name)
    return weight.to(input.dtype)


def _check_class_weight(weight: torch.Tensor | None, num_classes: int, dtype: torch.dtype):
    """Check a per-class weight of shape (C,) and convert it to the input's dtype."""
    if weight is None:
        return None
    check_floating(weight, "weight")
    if weight.shape != (num_classes,):
        raise ValueError(f"expected weight of shape (C,) = ({num_classes},), one weight per class, "
                         f"got shape {tuple(weight.shape)}")
    check_finite(weight, "weight")
    return weight.to(dtype)


def _check_input(input: torch.Tensor) -> int:
    """Check logits / log-probabilities (C,), (N, C) or (N, C, d1, ..., dK); return C."""
    check_floating(input, "input")
    if input.dim() == 0:
        raise ValueError("expected input of shape (C,), (N, C) or (N, C, d1, ..., dK), got a 0-dim tensor")
    num_classes = input.shape[min(1, input.dim() - 1)]
    if num_classes == 0:
        raise ValueError(f"expected at least one class, got input of shape {tuple(input.shape)}")
    return num_classes


def _check_probabilities(x: torch.Tensor, name: str, hint: str) -> None:
    """Raise unless every entry lies in [0, 1]; NaN and inf get their own message."""
    try:
        check_in_unit_interval(x, name, hint=hint)  # one pass: also fails on NaN and inf
    except ValueError:
        check_finite(x, name)
        raise


def _check_index_target(input: torch.Tensor, target: torch.Tensor, ignore_index: int, *,
                        probabilities_allowed: bool = True) -> None:
    """Check class-index targets: integer dtype, shape (N, d1, ..., dK) (or () for input (C,)), range.

    ``probabilities_allowed`` says whether the caller also accepts float class probabilities
    (cross_entropy does, nll_loss does not); it only changes the error message.
    """
    expected = input.shape[1:1] if input.dim() == 1 else input.shape[:1] + input.shape[2:]
    if target.is_floating_point() and not probabilities_allowed:
        raise TypeError(f"expected integer class indices of shape {tuple(expected)}, got a float target "
                        f"of shape {tuple(target.shape)}; nll_loss takes no class probabilities: for "
                        f"one-hot rows pass target.argmax(dim=1), or use cross_entropy on logits")
    if target.is_floating_point() and target.shape != expected:
        raise ValueError(f"expected float class probabilities with the shape of input "
                         f"{tuple(input.shape)}, or integer class indices of shape {tuple(expected)}, "
                         f"got a float target of shape {tuple(target.shape)}")
    check_integer(target, "target")  # a float target of the index shape: "use target.long()"
    if target.shape != expected:
        if target.shape == input.shape:
            raise TypeError(f"expected a floating-point target for class probabilities (target has the "
                            f"shape of input {tuple(input.shape)}), got dtype {target.dtype}; use "
                            f"target.float(), or pass class indices of shape {tuple(expected)}")
        raise ValueError(f"expected target class indices of shape {tuple(expected)} for input of shape "
                         f"{tuple(input.shape)} (classes along dim {min(1, input.dim() - 1)}), "
                         f"got {tuple(target.shape)}")
    if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
        raise TypeError(f"expected ignore_index to be an int, got {type(ignore_index).__name__}")
    check_class_indices(target, input.shape[min(1, input.dim() - 1)], ignore_index)


def _as_batch(input: torch.Tensor, target: torch.Tensor):
    """View an unbatched input (C,) as (1, C) so that classes are always on dim 1."""
    if input.dim() == 1:
        return input.unsqueeze(0), target.unsqueeze(0)
    return input, target


def _class_view(weight: torch.Tensor, ndim: int) -> torch.Tensor:
    """Weight (C,) as (1, C, 1, ..., 1), to broadcast against an (N, C, d1, ..., dK) tensor."""
    return weight.view((1, -1) + (1,) * (ndim - 2))


def _weighted_class_sum(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_c w_c x[n, c, ...] without a full-size temporary (a matrix-vector product)."""
    if input.dim() == 2:
        return input @ weight
    n, c = input.shape[:2]
    return torch.matmul(weight, input.reshape(n, c, -1)).reshape((n,) + input.shape[2:])


def _check_label_smoothing(label_smoothing) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"expected label_smoothing to be a float in [0, 1], "
                        f"got {type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:  # torch silently accepts negative values
        raise ValueError(f"expected label_smoothing in [0, 1], got {label_smoothing}")
    return float(label_smoothing)


# ---------------------------------------------------------------- binary cross-entropy on probabilities
class _BinaryCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        # Each log is clamped at -100 as torch does, so p = 0 or 1 costs at most 100, never inf.
        log_q = torch.neg(input).log1p_().clamp_min_(LOG_CLAMP)  # log(1 - p)
        log_q = torch.addcmul(log_q, log_q, target, value=-1, out=log_q)  # (1 - y) log(1 - p), in place
        loss = torch.log(input).clamp_min_(LOG_CLAMP).mul_(target).add_(log_q).neg_()
        if weight is not None:
            loss = loss.mul_(weight)
        ctx.save_for_backward(input, target, weight)
        ctx.reduction, ctx.numel = reduction, loss.numel()
        return reduce(loss, reduction)

    @staticmethod
    @_first_order
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, ctx.numel)
        if weight is not None:
            g = g * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            # torch's clamp: (p - y) / max(p (1 - p), 1e-12), finite (+-1e12) at p = 0 or 1.
            denominator = torch.rsub(input, 1).mul_(input).clamp_min_(BCE_GRAD_EPS)
            grad_input = torch.sub(input, target).div_(denominator).mul_(g)
        if ctx.needs_input_grad[1]:
            grad_target = torch.logit(input).neg_().mul_(g)  # -log(p / (1 - p)): +-inf at p = 1 or 0
        return grad_input, grad_target, None, None


def binary_cross_entropy(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
                         reduction: str = "mean") -> torch.Tensor:
    r"""Binary cross-entropy between predicted probabilities and binary (or soft) targets.

    .. math::
        \ell_i = -w_i \left[ y_i \max(\log p_i, -100) + (1 - y_i) \max(\log(1 - p_i), -100) \right]

    The logs are clamped at -100 as torch does, so a confident wrong prediction
    (p = 0 for y = 1) costs 100 instead of infinity. 'mean' is
    :math:`\frac{1}{n}\sum_i \ell_i` over all n elements, weighted or not (not a
    weighted average). For numerical stability prefer
    :func:`binary_cross_entropy_with_logits` on the logits.

    Args:
        input: predicted probabilities p in [0, 1], any shape (*), floating point.
        target: targets y in [0, 1] (0/1 labels or soft labels), same shape as ``input``.
        weight: optional rescaling weight w, broadcastable to ``input``'s shape
            (e.g. (C,) per column or (N, 1) per row).
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Loss of shape (*) for 'none', else a scalar. The gradient for p is torch's
        :math:`w\,(p - y) / \max(p(1 - p), 10^{-12})`; ``target`` also gets a gradient.

    Raises:
        TypeError: ``input``, ``target`` or ``weight`` is not floating point.
        ValueError: ``target`` shape differs from ``input`` (e.g. (N, 1) vs (N,)); input or
            target outside [0, 1], NaN or infinite; weight not broadcastable to the input shape
            (or growing it), non-finite, or requiring grad (torch does not differentiate it
            either); unknown reduction; 'mean' of an empty input.

    Example:
        >>> import torch
        >>> binary_cross_entropy(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 0.0]), reduction="none")
        tensor([  0.6931, 100.0000])

    References:
        ``torch.nn.functional.binary_cross_entropy``.
    """
    check_reduction(reduction)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    _check_probabilities(input, "input", LOGITS_HINT)
    _check_probabilities(target, "target", TARGET_HINT)
    weight = _check_elementwise_weight(weight, "weight", input, "binary_cross_entropy")
    return _BinaryCrossEntropy.apply(input, target.to(input.dtype), weight, reduction)


# ---------------------------------------------------------------- binary cross-entropy on logits
def _softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x) = -log sigmoid(-x), stably."""
    # logaddexp(x, 0) = max(x, 0) + log1p(e^{-|x|}): the exponent is <= 0, nothing overflows.
    return torch.logaddexp(x, x.new_zeros(()))


class _BinaryCrossEntropyWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        if pos_weight is None:
            # (1 - y) x + log(1 + e^{-x}) = logaddexp(-x y, (1 - y) x): one stable kernel whose max
            # term is exact for y in {0, 1}, so no cancellation even at |x| = 1e3.
            loss = torch.mul(input, target).neg_()
            loss = torch.logaddexp(loss, torch.add(input, loss), out=loss)
        else:
            # (1 - y) x + (1 + (q - 1) y) log(1 + e^{-x}) rewritten as a sum of two non-negative
            # terms (x + log(1 + e^{-x}) = log(1 + e^x)), so nothing cancels.
            loss = _softplus(input).mul_(torch.rsub(target, 1))
            loss = loss.add_(_softplus(-input).mul_(pos_weight * target))
        if weight is not None:
            loss = loss.mul_(weight)
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction, ctx.numel = reduction, loss.numel()
        return reduce(loss, reduction)

    @staticmethod
    @_first_order
    def backward(ctx, grad_output):
        input, target, weight, pos_weight = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, ctx.numel)
        if weight is not None:
            g = g * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                grad_input = torch.sigmoid(input).sub_(target).mul_(g)
            else:  # (1 + (q - 1) y) sigmoid(x) - q y
                pos_target = pos_weight * target
                grad_input = torch.sigmoid(input).mul_(pos_target - target + 1).sub_(pos_target).mul_(g)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                grad_target = -input * g
            else:  # log sigmoid(-x) - q log sigmoid(x) = q softplus(-x) - softplus(x)
                grad_target = _softplus(-input).mul_(pos_weight).sub_(_softplus(input)).mul_(g)
        return grad_input, grad_target, None, None, None


def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor,
                                     weight: torch.Tensor | None = None, *, reduction: str = "mean",
                                     pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Binary cross-entropy on logits (sigmoid and BCE in one numerically stable step).

    .. math::
        \ell_i = -w_i \left[ q_i\, y_i \log\sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i)) \right]
               = w_i \left[ q_i\, y_i\, s(-x_i) + (1 - y_i)\, s(x_i) \right]

    with :math:`s(x) = \log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})`, which never
    overflows (q = 1 without ``pos_weight``; then the bracket is computed as
    :math:`\log(e^{-x_i y_i} + e^{(1 - y_i) x_i})` in one stable step).
    'mean' is :math:`\frac{1}{n}\sum_i \ell_i` over all n elements, weighted or not.

    Args:
        input: logits x, any shape (*), floating point.
        target: targets y in [0, 1] (0/1 labels or soft labels), same shape as ``input``.
        weight: optional rescaling weight w, broadcastable to ``input``'s shape.
        reduction: 'none' | 'mean' | 'sum'.
        pos_weight: optional weight q of the positive term, broadcast like torch along the
            last dim: shape (C,) for input (N, C) weighs each label (q = #negatives / #positives
            balances a label).

    Returns:
        Loss of shape (*) for 'none', else a scalar. Gradient for x:
        :math:`w\,[(1 + (q - 1)y)\,\sigma(x) - q y]`; ``target`` also gets a gradient.

    Raises:
        TypeError: ``input``, ``target``, ``weight`` or ``pos_weight`` is not floating point.
        ValueError: ``target`` shape differs from ``input`` (e.g. (N, 1) vs (N,)); target
            outside [0, 1], NaN or infinite; weight or pos_weight not broadcastable to the input
            shape, or requiring grad; unknown reduction; 'mean' of an empty input.

    Example:
        >>> import torch
        >>> binary_cross_entropy_with_logits(torch.tensor([0.0, 100.0]), torch.tensor([1.0, 0.0]),
        ...                                  reduction="none")
        tensor([  0.6931, 100.0000])

    References:
        ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    check_reduction(reduction)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    _check_probabilities(target, "target", TARGET_HINT)
    weight = _check_elementwise_weight(weight, "weight", input, "binary_cross_entropy_with_logits")
    pos_weight = _check_elementwise_weight(pos_weight, "pos_weight", input, "binary_cross_entropy_with_logits")
    return _BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), weight, pos_weight, reduction)


# ---------------------------------------------------------------- cross-entropy with class-index targets
def _logsumexp(ctx, input: torch.Tensor, centered=None):
    """Log-sum-exp over dim 1 relative to the row max m: returns (log s, m, centered(x - m)),
    with lse = m + log s and s = sum_c e^{x_c - m} (keepdim shapes).

    ``centered`` is applied to z = x - m before z is exponentiated in place, so a sum of centred
    logits costs no extra full-size tensor. e^{x - m} is kept on ctx for backward's softmax.
    """
    # Subtracting the row max keeps exp() <= 1: logits of +-1e3 neither overflow nor underflow.
    shift = input.amax(1, keepdim=True)
    shift.masked_fill_(shift.isinf(), 0)  # as torch.logsumexp: a row of -inf gives -inf, not nan
    z = torch.sub(input, shift)
    extra = None if centered is None else centered(z)
    exp = z.exp_()
    total = exp.sum(1, keepdim=True)
    # The exp buffer is the softmax up to a per-row factor: backward turns it into the gradient
    # in place, so no N x C tensor is allocated there (torch keeps its log-softmax output alike).
    ctx.exp = exp if ctx.needs_input_grad[0] else None
    ctx.shift, ctx.total = shift, total
    return total.log(), shift, extra


def _scaled_softmax(ctx, input: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """coef * softmax(x) along dim 1, written into the exp buffer kept by ``_logsumexp``."""
    exp, ctx.exp = ctx.exp, None
    if exp is None:  # a second backward (retain_graph=True) finds the buffer used up: recompute
        exp = torch.sub(input, ctx.shift).exp_()
    return exp.mul_(coef / ctx.total)


class _CrossEntropyIndex(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
        num_classes = input.shape[1]
        # sum_c w_c (x_c - m), for the uniform (smoothing) part, taken from the centred logits.
        centered = None if label_smoothing == 0 else (
            (lambda z: z.sum(1)) if weight is None else (lambda z: _weighted_class_sum(z, weight)))
        log_total, shift, centered_sum = _logsumexp(ctx, input, centered)
        log_total, shift = log_total.squeeze(1), shift.squeeze(1)
        ignored = target == ignore_index
        safe = target.masked_fill(ignored, 0).unsqueeze(1)  # ignored rows point at class 0, weight 0
        target_weight = (torch.ones_like(log_total) if weight is None else weight[safe.squeeze(1)]) \
            .masked_fill_(ignored, 0)
        # -log p_y = log s - (x_y - m): centred, so float32 keeps its digits at logits of 1e3.
        loss = (log_total - (input.gather(1, safe).squeeze(1) - shift)).mul_(target_weight)
        if label_smoothing > 0:
            # -sum_c w_c log p_c = W log s - sum_c w_c (x_c - m), without a full-size log-softmax.
            total_weight = num_classes if weight is None else weight.sum()
            smooth = log_total * total_weight - centered_sum
            loss = loss.mul_(1 - label_smoothing).add_(smooth, alpha=label_smoothing / num_classes)
        loss = loss.masked_fill_(ignored, 0)  # also turns inf * 0 = nan into 0 for ignored rows
        # 'mean' divides by the summed weights of the non-ignored targets, smoothing term included.
        # (An empty batch keeps denominator None, so that 'mean' raises "the batch is empty".)
        denominator = target_weight.sum() if reduction == "mean" and loss.numel() else None
        out = reduce(loss, reduction, denominator)
        ctx.save_for_backward(input, safe, target_weight, ignored, weight)
        ctx.reduction, ctx.denominator, ctx.label_smoothing = reduction, denominator, label_smoothing
        return out

    @staticmethod
    @_first_order
    def backward(ctx, grad_output):
        input, safe, target_weight, ignored, weight = ctx.saved_tensors
        eps, num_classes = ctx.label_smoothing, input.shape[1]
        g = reduce_grad(grad_output, ctx.reduction, ctx.denominator)
        # d/dx_c = (1 - eps) w_y (p_c - [c = y]) + eps / C (W p_c - w_c),  W = sum_c w_c
        target_coef = (target_weight * ((1 - eps) * g)).unsqueeze(1)
        if eps > 0:
            smooth_coef = (~ignored).to(input.dtype).mul_(g * (eps / num_classes)).unsqueeze(1)
            total = num_classes if weight is None else weight.sum()
            grad = _scaled_softmax(ctx, input, target_coef + smooth_coef * total)
            if weight is None:
                grad.sub_(smooth_coef)
            else:
                grad.addcmul_(smooth_coef, _class_view(weight, input.dim()), value=-1)
        else:
            grad = _scaled_softmax(ctx, input, target_coef)
        return grad.scatter_add_(1, safe, target_coef.neg_()), None, None, None, None, None


# ---------------------------------------------------------------- cross-entropy with probability targets
def _smoothed(target: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    if label_smoothing == 0:
        return target
    return (target * (1 - label_smoothing)).add_(label_smoothing / target.shape[1])


class _CrossEntropyProb(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, reduction, label_smoothing):
        q = _smoothed(target, label_smoothing)
        if weight is not None:
            q = q * _class_view(weight, input.dim())
        # -sum_c w_c q_c log p_c = log s sum_c w_c q_c - sum_c w_c q_c (x_c - m), centred as above
        log_total, _, centered_sum = _logsumexp(ctx, input, lambda z: (q * z).sum(1))
        loss = log_total.squeeze(1) * q.sum(1) - centered_sum
        ctx.save_for_backward(input, target, weight)
        ctx.reduction, ctx.label_smoothing, ctx.numel = reduction, label_smoothing, loss.numel()
        return reduce(loss, reduction)  # 'mean' divides by N d1...dK, whatever the weights

    @staticmethod
    @_first_order
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        eps = ctx.label_smoothing
        g = reduce_grad(grad_output, ctx.reduction, ctx.numel)
        g = g.unsqueeze(1) if ctx.reduction == "none" else g
        w = None if weight is None else _class_view(weight, input.dim())
        q = _smoothed(target, eps)
        wq = q if w is None else q * w
        grad_input = grad_target = grad_weight = None
        if ctx.needs_input_grad[0]:
            # d/dx_c = g [(sum_k w_k q_k) p_c - w_c q_c]
            if g.dim() == 0:  # 'mean' / 'sum': fold the scalar g in, one full pass fewer
                grad_input = _scaled_softmax(ctx, input, wq.sum(1, keepdim=True) * g).sub_(wq, alpha=g.item())
            else:
                grad_input = _scaled_softmax(ctx, input, wq.sum(1, keepdim=True)).sub_(wq).mul_(g)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            neg_log_p = torch.sub(input, ctx.shift).neg_().add_(ctx.total.log())  # log s - (x - m)
            if ctx.needs_input_grad[2]:
                dims = [d for d in range(input.dim()) if d != 1]
                grad_weight = (q * neg_log_p).mul_(g).sum(dims)
            if ctx.needs_input_grad[1]:
                grad_target = neg_log_p.mul_(g * (1 - eps))
                if w is not None:
                    grad_target = grad_target.mul_(w)
        return grad_input, grad_target, grad_weight, None, None


# ---------------------------------------------------------------- public cross_entropy / nll_loss
def cross_entropy(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
                  ignore_index: int = DEFAULT_IGNORE_INDEX, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> torch.Tensor:
    r"""Cross-entropy between logits and class indices or class probabilities (softmax + NLL).

    With class-index targets :math:`y_n` (ignored targets give :math:`\ell_n = 0`),
    :math:`\varepsilon` = ``label_smoothing``, :math:`\log p_{n,c} = x_{n,c} - \log\sum_k e^{x_{n,k}}`:

    .. math::
        \ell_n = -(1 - \varepsilon)\, w_{y_n} \log p_{n,y_n}
                 - \frac{\varepsilon}{C} \sum_{c=1}^{C} w_c \log p_{n,c}

    and 'mean' is :math:`\sum_n \ell_n \,/\, \sum_{n:\,y_n \ne \mathrm{ignore}} w_{y_n}`: the
    summed weights of the non-ignored targets (their count without weights) divide both
    terms, the smoothing term included (as torch 2.13 does).

    With class-probability targets :math:`t_{n,c}` (same shape as ``input``):

    .. math::
        \ell_n = -\sum_{c=1}^{C} w_c \left((1 - \varepsilon)\, t_{n,c} + \frac{\varepsilon}{C}\right)
                 \log p_{n,c}

    and 'mean' is :math:`\frac{1}{N}\sum_n \ell_n` (N times d1...dK), whatever the weights.
    For K-dim input each position (n, d1, ..., dK) is one sample n above.

    Args:
        input: logits x, floating point, shape (C,), (N, C) or (N, C, d1, ..., dK).
        target: class indices (int64) of shape (), (N,) or (N, d1, ..., dK) with values in
            [0, C) or equal to ``ignore_index``; or class probabilities (floating point, values
            in [0, 1]) with the shape of ``input``.
        weight: optional class weights w of shape (C,) (default all ones).
        ignore_index: class-index targets equal to it contribute 0 and are left out of the
            'mean' denominator. Probability targets do not support it.
        reduction: 'none' | 'mean' | 'sum'.
        label_smoothing: :math:`\varepsilon` in [0, 1]: mixes the target with the uniform
            distribution over the C classes.

    Returns:
        Loss of the target's index shape ((), (N,) or (N, d1, ..., dK)) for 'none', else a
        scalar. The gradient for x is :math:`\mathrm{softmax}(x) - y` times the weights (the
        forward's :math:`e^{x - \max x}` buffer becomes the gradient in place: one N x C tensor
        in all); probability targets and their ``weight`` get gradients too. Double backward
        (create_graph=True) raises RuntimeError.

    Raises:
        TypeError: input not floating point; integer targets with the shape of input (class
            probabilities must be float); float targets with the index shape; weight not
            floating point; non-int ignore_index; non-number label_smoothing.
        ValueError: target shape fits neither form; class index out of range (other than
            ignore_index); probabilities outside [0, 1], NaN or infinite; weight not of shape
            (C,), or requiring grad with index targets (torch does not differentiate it either);
            label_smoothing outside [0, 1]; ignore_index set with probability targets; unknown
            reduction; 'mean' with an empty batch or with every target ignored.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> cross_entropy(logits, torch.tensor([0, -100]), reduction="none")
        tensor([0.2395, 0.0000])
        >>> cross_entropy(logits, torch.tensor([0, 1]), torch.tensor([3.0, 1.0, 1.0]))
        tensor(0.4543)

    References:
        ``torch.nn.functional.cross_entropy``; Szegedy et al. (2016), *Rethinking the Inception
        Architecture*, for label smoothing.
    """
    check_reduction(reduction)
    num_classes = _check_input(input)
    check_tensor(target, "target")
    eps = _check_label_smoothing(label_smoothing)
    weight_ = _check_class_weight(weight, num_classes, input.dtype)
    if target.is_floating_point() and target.shape == input.shape:
        if ignore_index != DEFAULT_IGNORE_INDEX:
            raise ValueError(f"expected ignore_index to be left at its default with class-probability "
                             f"targets (nothing can be ignored there), got ignore_index={ignore_index}; "
                             f"give ignored samples all-zero probability rows instead")
        _check_probabilities(target, "target", "class-probability targets hold probabilities")
        batch_input, batch_target = _as_batch(input, target.to(input.dtype))
        loss = _CrossEntropyProb.apply(batch_input, batch_target, weight_, reduction, eps)
    else:
        _check_index_target(input, target, ignore_index)
        _check_no_grad(weight, "weight", "cross_entropy with class-index targets")
        batch_input, batch_target = _as_batch(input, target.long())
        loss = _CrossEntropyIndex.apply(batch_input, batch_target, weight_, ignore_index, reduction, eps)
    return loss.squeeze(0) if input.dim() == 1 and reduction == "none" else loss


class _NLLLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        ignored = target == ignore_index
        safe = target.masked_fill(ignored, 0).unsqueeze(1)  # ignored rows point at class 0, weight 0
        target_weight = (input.new_ones(target.shape) if weight is None
                         else weight[safe.squeeze(1)]).masked_fill_(ignored, 0)
        # masked_fill rather than a product alone: an ignored row's -inf times 0 would be nan.
        loss = input.gather(1, safe).squeeze(1).mul_(target_weight).neg_().masked_fill_(ignored, 0)
        # (An empty batch keeps denominator None, so that 'mean' raises "the batch is empty".)
        denominator = target_weight.sum() if reduction == "mean" and loss.numel() else None
        ctx.save_for_backward(safe, target_weight)
        ctx.shape, ctx.reduction, ctx.denominator = input.shape, reduction, denominator
        return reduce(loss, reduction, denominator)

    @staticmethod
    @_first_order
    def backward(ctx, grad_output):
        safe, target_weight = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, ctx.denominator)
        grad = target_weight.new_zeros(ctx.shape)
        return grad.scatter_(1, safe, (target_weight * g).neg_().unsqueeze(1)), None, None, None, None


def nll_loss(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
             ignore_index: int = DEFAULT_IGNORE_INDEX, reduction: str = "mean") -> torch.Tensor:
    r"""Negative log-likelihood of the target classes, given log-probabilities.

    .. math:: \ell_n = -w_{y_n}\, x_{n, y_n}, \qquad \ell_n = 0 \text{ if } y_n = \text{ignore\_index}

    'mean' is :math:`\sum_n \ell_n \,/\, \sum_{n:\,y_n \ne \mathrm{ignore}} w_{y_n}` (the count
    of non-ignored targets without weights). ``nll_loss(log_softmax(x, dim=1), y)`` equals
    ``cross_entropy(x, y)``.

    Args:
        input: log-probabilities x, floating point, shape (C,), (N, C) or (N, C, d1, ..., dK).
        target: class indices, integer, shape (), (N,) or (N, d1, ..., dK), values in [0, C)
            or equal to ``ignore_index``.
        weight: optional class weights w of shape (C,).
        ignore_index: targets equal to it contribute 0 and leave the 'mean' denominator.
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Loss of the target's shape for 'none', else a scalar.

    Raises:
        TypeError: input not floating point, target not integer (or with the shape of input),
            weight not floating point, non-int ignore_index.
        ValueError: target shape not (N, d1, ..., dK); class index out of range (other than
            ignore_index); weight not of shape (C,) or requiring grad; unknown reduction; 'mean'
            with an empty batch or with every target ignored.

    Example:
        >>> import torch
        >>> nll_loss(torch.tensor([[-0.5, -1.0], [-2.0, -0.1]]), torch.tensor([0, 1]))
        tensor(0.3000)

    References:
        ``torch.nn.functional.nll_loss``.
    """
    check_reduction(reduction)
    num_classes = _check_input(input)
    check_tensor(target, "target")
    _check_index_target(input, target, ignore_index, probabilities_allowed=False)
    weight_ = _check_class_weight(weight, num_classes, input.dtype)
    _check_no_grad(weight, "weight", "nll_loss")
    batch_input, batch_target = _as_batch(input, target.long())
    loss = _NLLLoss.apply(batch_input, batch_target, weight_, ignore_index, reduction)
    return loss.squeeze(0) if input.dim() == 1 and reduction == "none" else loss
