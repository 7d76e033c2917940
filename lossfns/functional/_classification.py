"""Cross-entropy losses for classification: binary (probabilities or logits), multiclass, NLL.

Every loss here matches ``torch.nn.functional`` (torch 2.13) value for value and gradient for
gradient, second derivatives included, and raises a clear error where torch would broadcast,
return NaN or silently accept a bad argument. The binary losses are ``Formula``s (see
``_elementwise``); cross-entropy with class indices and ``nll_loss`` are their own
``torch.autograd.Function``s (see ``_function``); cross-entropy with class probabilities is plain
tensor ops whose gradient autograd derives (torch's is the same composite: a custom backward
would buy nothing there).
"""

from __future__ import annotations

import torch

from ._chunked import in_place_ok, loopable
from ._dtypes import float32_under_autocast
from ._elementwise import Formula, elementwise_loss
from ._function import apply, save_for_forward, without_jvp
from ._reduction import ZERO_WEIGHTS, check_denominator, reduce, reduce_grad
from ._validation import (
    LOGITS_HINT,
    check_broadcastable_weight,
    check_class_indices,
    check_finite,
    check_floating,
    check_in_unit_interval,
    check_integer,
    check_no_grad,
    check_reduction,
    check_same_shape,
    check_tensor,
    values,
)

DEFAULT_IGNORE_INDEX = -100
LOG_CLAMP = -100.0  # torch's binary_cross_entropy clamps both logs at -100
BCE_GRAD_EPS = 1e-12  # torch's EPSILON in binary_cross_entropy_backward
TARGET_HINT = "targets are 0/1 labels or soft labels (probabilities)"


# ---------------------------------------------------------------- shared checks and helpers
def _check_elementwise_weight(weight: torch.Tensor | None, name: str, input: torch.Tensor, function: str):
    """Check a weight that broadcasts to the input of a BCE loss; return it in the input's dtype."""
    check_broadcastable_weight(weight, input.shape, name)
    check_no_grad(weight, name, function)
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
    """Check class-index targets: integer dtype, shape (N, d1, ..., dK) (or () for input (C,)).

    Their range is checked by ``_index_parts``, in the pass that looks for ignore_index.

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
    """torch accepts any float; lossfns refuses values outside [0, 1]."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"expected label_smoothing to be a float in [0, 1], "
                        f"got {type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:  # torch silently accepts negative values
        raise ValueError(f"expected label_smoothing in [0, 1], got {label_smoothing}")
    return float(label_smoothing)


# ---------------------------------------------------------------- binary cross-entropy on probabilities
def _bce(p, y):
    # Each log is clamped at -100 as torch does, so p = 0 or 1 costs at most 100, never inf.
    return -(y * p.log().clamp_min(LOG_CLAMP) + (1 - y) * torch.log1p(-p).clamp_min(LOG_CLAMP))


def _bce_grad_input(p, y):
    # torch's clamp: (p - y) / max(p (1 - p), 1e-12), finite (+-1e12) at p = 0 or 1.
    return (p - y) / (p * (1 - p)).clamp_min(BCE_GRAD_EPS)


def _bce_grad_target(p, y):
    return -torch.logit(p)  # -log(p / (1 - p)): +-inf at p = 1 or 0


def _bce_(out, scratch, p, y):
    log_q = torch.log1p(torch.neg(p, out=scratch), out=scratch).clamp_min_(LOG_CLAMP)  # log(1 - p)
    log_p = torch.log(p, out=out).clamp_min_(LOG_CLAMP)
    return torch.lerp(log_q, log_p, y, out=out).neg_()  # -(y log p + (1 - y) log q), exact for 0/1 labels


BCE = Formula(_bce, _bce_grad_input, _bce_grad_target, loss_=_bce_)


def _weighted_mean_over_n(input, target, weight, formula, reduction, parameter=None):
    """Reduce w_i J_i; 'mean' divides by the number of elements, weighted or not (as torch)."""
    if weight is None:
        return elementwise_loss(input, target, formula, reduction, parameter)
    check_reduction(reduction)
    return reduce(elementwise_loss(input, target, formula, "none", parameter) * weight, reduction)


@float32_under_autocast
def binary_cross_entropy(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
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
    return _weighted_mean_over_n(input, target.to(input.dtype), weight, BCE, reduction)


# ---------------------------------------------------------------- binary cross-entropy on logits
def _softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x) = -log sigmoid(-x), stably."""
    # logaddexp(x, 0) = max(x, 0) + log1p(e^{-|x|}): the exponent is <= 0, nothing overflows.
    return torch.logaddexp(x, x.new_zeros(()))


def _bce_logits(x, y):
    # (1 - y) x + log(1 + e^{-x}) = logaddexp(-x y, (1 - y) x): one stable kernel whose max
    # term is exact for y in {0, 1}, so no cancellation even at |x| = 1e3.
    xy = x * y
    return torch.logaddexp(-xy, x - xy)


def _bce_logits_grad_input(x, y):
    return torch.sigmoid(x) - y


def _bce_logits_grad_target(x, y):
    return -x


def _bce_pos_weight(x, y, q):
    # (1 - y) x + (1 + (q - 1) y) log(1 + e^{-x}) rewritten as a sum of two non-negative
    # terms (x + log(1 + e^{-x}) = log(1 + e^x)), so nothing cancels.
    return (1 - y) * _softplus(x) + q * y * _softplus(-x)


def _bce_pos_weight_grad_input(x, y, q):
    return (1 + (q - 1) * y) * torch.sigmoid(x) - q * y


def _bce_pos_weight_grad_target(x, y, q):
    return q * _softplus(-x) - _softplus(x)  # log sigmoid(-x) - q log sigmoid(x)


def _bce_logits_(out, scratch, x, y):
    # In half precision too: x y, x - x y and -x y are exact for 0/1 labels (and round once for
    # soft ones), logaddexp computes in float32. The derivative sigmoid(x) - y would cancel after
    # rounding sigmoid(x) to half: it stays in float32 chunks.
    xy = torch.mul(x, y, out=scratch)
    return torch.logaddexp(torch.sub(x, xy, out=out), xy.neg_(), out=out)  # (x - xy, -xy)


def _bce_logits_grad_input_(out, x, y):
    return torch.sigmoid(x, out=out).sub_(y)


BCE_WITH_LOGITS = Formula(_bce_logits, _bce_logits_grad_input, _bce_logits_grad_target,
                          grad_input_=_bce_logits_grad_input_, loss_=_bce_logits_,
                          loss_in_half=True)


BCE_WITH_POS_WEIGHT = Formula(_bce_pos_weight, _bce_pos_weight_grad_input, _bce_pos_weight_grad_target)


@float32_under_autocast
def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor,
                                     weight: torch.Tensor | None = None, reduction: str = "mean",
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
    pos_weight = _check_elementwise_weight(pos_weight, "pos_weight", input,
                                           "binary_cross_entropy_with_logits")
    formula = BCE_WITH_LOGITS if pos_weight is None else BCE_WITH_POS_WEIGHT
    return _weighted_mean_over_n(input, target.to(input.dtype), weight, formula, reduction, pos_weight)


# ---------------------------------------------------------------- cross-entropy with class-index targets
def _index_grad(input, index, ignored, target_weight, weight, eps, g):
    """d loss_n / d x_{n,c} times g_n: (1 - eps) w_y (p_c - [c = y]) + eps / C (W p_c - w_c).

    ``index`` is the target (N, 1, d1, ..., dK) with ignored entries pointing at class 0, whose
    ``target_weight`` w_y is 0; W = sum_c w_c. See ``_index_parts`` for None arguments.
    """
    num_classes = input.shape[1]
    target_coef = _per_target((1 - eps) * g, target_weight, index)
    coef = target_coef
    if eps > 0:
        kept = g * (eps / num_classes)
        smooth_coef = _per_target(kept if ignored is None else (~ignored).to(input.dtype) * kept, None, index)
        coef = target_coef + smooth_coef * (num_classes if weight is None else weight.sum())
        smooth = smooth_coef if weight is None else smooth_coef * _class_view(weight, input.dim())
    probs = torch.softmax(input, 1)
    picked = -target_coef.to(input.dtype)  # the coefficients are float32 for half precision
    if in_place_ok():  # reuse the softmax buffer: one N x C tensor in all, like torch's backward
        # Coefficients in the dtype of probs: a float32 operand makes mul_ of float16 ~50x slower.
        grad = probs.mul_(coef.to(probs.dtype))
        if eps > 0:
            grad.sub_(smooth.to(probs.dtype))
        return _at_targets_(grad, index, picked, add=True)
    grad = probs * coef if eps == 0 else probs * coef - smooth
    return grad.to(input.dtype).scatter_add(1, index, picked)


class _CrossEntropyIndex(torch.autograd.Function):
    """Cross-entropy of logits (N, C, d1, ..., dK) with class indices, reduced."""

    generate_vmap_rule = True

    @staticmethod
    def forward(input, index, ignored, target_weight, weight, denominator, eps, reduction, kept):
        # log_softmax subtracts the row max before exp: logits of +-1e3 neither overflow nor underflow.
        log_p = torch.log_softmax(input, 1)
        if kept is not None:  # a list: log p for a plain eager backward (see below)
            kept.append(log_p)
        loss = _weighted_picks(log_p, index, None, target_weight)
        if eps > 0:  # the uniform part: -sum_c w_c log p_c
            smooth = log_p.sum(1) if weight is None else _weighted_class_sum(log_p, weight)
            loss = (1 - eps) * loss - (eps / input.shape[1]) * smooth
        if ignored is not None:
            loss = torch.where(ignored, 0, loss)  # also turns inf * 0 = nan into 0 for ignored rows
        return reduce(loss, reduction, denominator)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, index, ignored, target_weight, weight, denominator, ctx.eps, ctx.reduction, ctx.kept = inputs
        ctx.save_for_backward(input, index, ignored, target_weight, weight, denominator)
        save_for_forward(ctx, input, index, ignored, target_weight, weight, denominator)

    @staticmethod
    def backward(ctx, grad_output):
        input, index, ignored, target_weight, weight, denominator = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, _denominator(denominator, index))
        if ctx.kept and in_place_ok():  # (kept, not used up: a second backward gives the same bits)
            # The gradient of -sum_n w_y log p_{n,y} g_n is G - p * rowsum(G), G = -g w_y at the
            # targets: torch's fused log-softmax backward, ~25% faster than a softmax and a scaling.
            log_p = ctx.kept[0]
            picks = torch.zeros_like(log_p)
            _at_targets_(picks, index, -_per_target(g, target_weight, index).to(log_p.dtype), add=False)
            grad = torch._log_softmax_backward_data(picks, log_p, 1, log_p.dtype)
        else:
            grad = _index_grad(input, index, ignored, target_weight, weight, ctx.eps, g)
        return grad, None, None, None, None, None, None, None, None

    @staticmethod
    def jvp(ctx, input_tangent, *_):
        input, index, ignored, target_weight, weight, denominator = ctx.saved_tensors
        grad = _index_grad(input, index, ignored, target_weight, weight, ctx.eps, input.new_ones(()))
        return reduce((grad * input_tangent).sum(1), ctx.reduction, denominator)


_CrossEntropyIndexTraced = without_jvp(_CrossEntropyIndex)


def _index_parts(input, target, weight, ignore_index, reduction):
    """Check the class indices; return (index (N, 1, ...), ignored, w_y with 0 where ignored,
    'mean' denominator sum of w_y).

    One pass (aminmax) checks that every index lies in [0, C) and, with ignore_index outside its
    [min, max] (the default -100 and valid targets), that none is ignored: then ``ignored`` is None,
    and without class weights w_y and the denominator are None too (all ones, and N): fewer passes
    over the batch. Otherwise ignored targets point at class 0 and the range check runs on those.
    """
    v = values(target)
    lo_hi = torch.aminmax(v) if v is not None and v.numel() else None
    lo, hi = (None, None) if lo_hi is None else (lo_hi[0].item(), lo_hi[1].item())
    if v is not None and (lo is None or not lo <= ignore_index <= hi):  # nothing is ignore_index
        if lo is not None and not (lo >= 0 and hi < input.shape[1]):
            check_class_indices(target, input.shape[1], ignore_index)  # raises, naming a bad index
        ignored, safe = None, target
        target_weight = None if weight is None else weight[target]
    else:
        ignored = target == ignore_index
        safe = target.masked_fill(ignored, 0)  # ignored entries point at class 0, with weight 0
        check_class_indices(safe, input.shape[1], ignore_index)
        target_weight = (ignored.logical_not().to(input.dtype) if weight is None
                         else torch.where(ignored, 0, weight[safe]))
    denominator = None
    # (An empty batch keeps denominator None, so that 'mean' raises "the batch is empty".)
    if reduction == "mean" and target.numel() and target_weight is not None:
        accumulate = torch.promote_types(input.dtype, torch.float32)  # float32 for half precision
        denominator = target_weight.sum(dtype=accumulate)
        check_denominator(denominator)
    return safe.unsqueeze(1), ignored, target_weight, denominator


def _at_targets_(grad, index, picked, add: bool):
    """grad[n, y, d1, ..., dK] (+)= picked[n, 0, d1, ..., dK] with y = index[n, 0, d1, ..., dK], in place.

    That is ``scatter_add_`` (``add``) or ``scatter_`` along dim 1 (the latter ~2x faster on K-dim
    targets), except in half precision, where torch's CPU scatter converts the whole tensor to
    float32 and back (~100x slower): ``index_put_`` there.
    """
    if grad.dtype not in (torch.float16, torch.bfloat16):
        return grad.scatter_add_(1, index, picked) if add else grad.scatter_(1, index, picked)
    shape = [1] * index.dim()
    positions = []
    for dim, size in enumerate(index.shape):  # one broadcastable index tensor per dim
        if dim == 1:
            positions.append(index)
            continue
        positions.append(torch.arange(size, device=index.device).view(shape[:dim] + [size] + shape[dim + 1:]))
    return grad.index_put_(tuple(positions), picked, accumulate=add)


def _per_target(g, target_weight, index):
    """g w_y as a tensor (N, 1, d1, ..., dK) like ``index`` (w_y = 1 where ``target_weight`` is None)."""
    coef = g if target_weight is None else g * target_weight
    return coef.unsqueeze(1) if coef.dim() else coef.expand(index.shape)


def _weighted_picks(input, index, ignored, target_weight):
    """-w_y x[n, y_n, ...], 0 where ignored (torch.where, not a product: -inf * 0 would be nan)."""
    loss = -input.gather(1, index).squeeze(1)
    if target_weight is not None:
        loss = loss * target_weight
    return loss if ignored is None else torch.where(ignored, 0, loss)


def _denominator(denominator, index):
    return index.numel() if denominator is None else denominator


def _cross_entropy_index(input, target, weight, ignore_index, reduction, eps):
    index, ignored, target_weight, denominator = _index_parts(input, target, weight, ignore_index, reduction)
    function = _CrossEntropyIndexTraced if torch.compiler.is_compiling() else _CrossEntropyIndex
    # Keep log p for the backward (N x C, as torch keeps) in plain eager mode without smoothing.
    keep = (eps == 0 and reduction != "none" and input.requires_grad and torch.is_grad_enabled()
            and in_place_ok(grad_mode=True))
    return apply(function, input, index, ignored, target_weight, weight, denominator, eps, reduction,
                 [] if keep else None)


# ---------------------------------------------------------------- cross-entropy with probability targets
def _cross_entropy_prob(input, target, weight, reduction, eps):
    """-sum_c w_c q_c log p_c with q = (1 - eps) t + eps / C; 'mean' divides by N d1...dK."""
    q = target if eps == 0 else (1 - eps) * target + eps / target.shape[1]
    if weight is not None:
        q = q * _class_view(weight, input.dim())
    return reduce(-(q * torch.log_softmax(input, 1)).sum(1), reduction)


# ---------------------------------------------------------------- public cross_entropy / nll_loss
@float32_under_autocast
def cross_entropy(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
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
        softmax buffer of the backward becomes the gradient in place: one N x C tensor); it is
        itself differentiable, so second derivatives (``create_graph=True``, Hessians) are
        torch's. Probability targets and their ``weight`` get gradients too.

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
        loss = _cross_entropy_prob(batch_input, batch_target, weight_, reduction, eps)
    else:
        _check_index_target(input, target, ignore_index)
        check_no_grad(weight, "weight", "cross_entropy with class-index targets")
        batch_input, batch_target = _as_batch(input, target.long())
        loss = _cross_entropy_index(batch_input, batch_target, weight_, ignore_index, reduction, eps)
    return loss.squeeze(0) if input.dim() == 1 and reduction == "none" else loss


class _NLLLoss(torch.autograd.Function):
    """-w_y x[n, y, d1, ..., dK] for log-probabilities x (N, C, d1, ..., dK), reduced."""

    generate_vmap_rule = True

    @staticmethod
    def forward(input, index, ignored, target_weight, denominator, reduction):
        return reduce(_weighted_picks(input, index, ignored, target_weight), reduction, denominator)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, index, _ignored, target_weight, denominator, ctx.reduction = inputs
        ctx.save_for_backward(index, target_weight, denominator)
        save_for_forward(ctx, index, target_weight, denominator)
        ctx.shape, ctx.dtype = input.shape, input.dtype

    @staticmethod
    def backward(ctx, grad_output):
        index, target_weight, denominator = ctx.saved_tensors
        g = reduce_grad(grad_output, ctx.reduction, _denominator(denominator, index))
        picked = _per_target(-g, target_weight, index).to(ctx.dtype)  # d loss / d x[n, y_n]; 0 elsewhere
        grad = torch.zeros(ctx.shape, dtype=ctx.dtype, device=index.device)
        grad = _at_targets_(grad, index, picked, False) if in_place_ok() else grad.scatter(1, index, picked)
        return grad, None, None, None, None, None

    @staticmethod
    def jvp(ctx, input_tangent, *_):
        index, target_weight, denominator = ctx.saved_tensors
        return reduce(_weighted_picks(input_tangent, index, None, target_weight), ctx.reduction, denominator)


_NLLLossTraced = without_jvp(_NLLLoss)


class _NLLLossLoop(torch.autograd.Function):
    """nll_loss 'mean' / 'sum' of a large plain-eager float32/float64 input: one numba loop each
    way (``_kernels.nll``, ``_kernels.nll_grad``) instead of a gather, a mask, a weighting and a
    sum forward, and a zero-fill and a scatter backward; the range check is in the same pass.
    Only plain eager mode comes here (``loopable``): hence the older form, ctx in ``forward``, with
    no ``jvp`` or vmap rule."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        from . import _kernels  # imports numba: only for large inputs

        picked, denominator, outside = _kernels.nll(input, target, weight, ignore_index)
        if outside:
            check_class_indices(target, input.shape[1], ignore_index)  # raises, naming a bad index
        if reduction == "mean" and denominator == 0:
            raise ValueError(ZERO_WEIGHTS)
        ctx.save_for_backward(target, weight)
        ctx.shape, ctx.dtype, ctx.ignore_index = input.shape, input.dtype, ignore_index
        ctx.denominator = denominator if reduction == "mean" else 1.0
        return torch.scalar_tensor(-picked / ctx.denominator, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        target, weight = ctx.saved_tensors
        if in_place_ok():
            from . import _kernels

            coef = -grad_output.item() / ctx.denominator
            grad = _kernels.nll_grad(ctx.shape, ctx.dtype, target, weight, ctx.ignore_index, coef)
            return grad, None, None, None, None
        # create_graph=True: the same gradient as _NLLLoss's, differentiable in grad_output.
        # _index_parts reads only the shape and dtype of input: a meta stand-in does.
        stand_in = torch.empty(ctx.shape, dtype=ctx.dtype, device="meta")
        index, _, target_weight, _ = _index_parts(stand_in, target, weight, ctx.ignore_index, "sum")
        picked = _per_target(-grad_output / ctx.denominator, target_weight, index).to(ctx.dtype)
        grad = torch.zeros(ctx.shape, dtype=ctx.dtype).scatter(1, index, picked)
        return grad, None, None, None, None


@float32_under_autocast
def nll_loss(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
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
    check_no_grad(weight, "weight", "nll_loss")
    batch_input, batch_target = _as_batch(input, target.long())
    if reduction != "none" and loopable(batch_input):
        return apply(_NLLLossLoop, batch_input, batch_target, weight_, ignore_index, reduction)
    parts = _index_parts(batch_input, batch_target, weight_, ignore_index, reduction)
    function = _NLLLossTraced if torch.compiler.is_compiling() else _NLLLoss
    loss = apply(function, batch_input, *parts, reduction)
    return loss.squeeze(0) if input.dim() == 1 and reduction == "none" else loss
