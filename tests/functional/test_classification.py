"""Tests for binary_cross_entropy(_with_logits), cross_entropy and nll_loss
(lossfns/functional/_classification.py): values and gradients against torch.nn.functional
in float64 for every option, gradcheck, extreme logits, empty batches, every documented error,
and hypothesis properties of the softmax cross-entropy."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.testing import assert_close

import lossfns.functional as L
from lossfns.functional import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss

D = torch.float64
REDUCTIONS = ["none", "mean", "sum"]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def leaf(t, requires_grad=None):
    """A fresh leaf copy of ``t`` (keeping its requires_grad unless told otherwise)."""
    requires_grad = t.requires_grad if requires_grad is None else requires_grad
    return t.detach().clone().requires_grad_(requires_grad)


def assert_matches_torch(ours, theirs, *tensors, seed=0):
    """Compare ours(*tensors) with theirs(*tensors): the value, and the gradient of every tensor
    that requires grad under a random upstream gradient (so 'none' checks a full vector-Jacobian)."""
    a, b = [leaf(t) for t in tensors], [leaf(t) for t in tensors]
    out_a, out_b = ours(*a), theirs(*b)
    assert out_a.shape == out_b.shape and out_a.dtype == out_b.dtype
    assert_close(out_a, out_b)
    wrt = [i for i, t in enumerate(tensors) if t.requires_grad]
    if wrt:
        upstream = torch.randn(out_b.shape, dtype=out_b.dtype, generator=gen(seed))
        grads_a = torch.autograd.grad(out_a, [a[i] for i in wrt], upstream)
        grads_b = torch.autograd.grad(out_b, [b[i] for i in wrt], upstream)
        for i, ga, gb in zip(wrt, grads_a, grads_b):
            assert_close(ga, gb, msg=lambda m, i=i: f"gradient of argument {i}: {m}")


# ------------------------------------------------------------------ cross_entropy problems
SHAPES = [(5,), (6, 5), (3, 5, 4), (2, 5, 3, 2)]  # (C,), (N, C), (N, C, d1), (N, C, d1, d2); C = 5


def index_target(shape, ignore, seed=1):
    """Class indices for input ``shape``; ignore: None (nothing ignored), -100 (every third
    target set to -100) or 1 (a real class: every target equal to 1 is ignored)."""
    index_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = torch.randint(0, shape[min(1, len(shape) - 1)], index_shape, generator=gen(seed))
    flat = t.view(-1)
    if ignore is not None and len(shape) > 1:
        flat[1::3] = ignore
        flat[2] = 1  # at least one target of class 1
    flat[0] = 0  # at least one target never ignored, so that 'mean' is defined
    return t


def probability_target(shape, seed=2):
    return torch.rand(shape, dtype=D, generator=gen(seed)).softmax(min(1, len(shape) - 1))


def logits(shape, seed=0, scale=3.0):
    return (scale * torch.randn(shape, dtype=D, generator=gen(seed))).requires_grad_()


def class_weight(c=5, seed=3):
    return torch.rand(c, dtype=D, generator=gen(seed)) + 0.2


def ce_kwargs(reduction, ignore, eps):
    kw = {"reduction": reduction, "label_smoothing": eps}
    if ignore is not None:
        kw["ignore_index"] = ignore
    return kw


# ------------------------------------------------------------------ cross_entropy, class-index targets
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 1])
@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
def test_cross_entropy_index_targets_match_torch(shape, reduction, weighted, ignore, eps):
    x, y = logits(shape), index_target(shape, ignore)
    w = class_weight() if weighted else None
    kw = ce_kwargs(reduction, ignore, eps)
    assert_matches_torch(lambda x: cross_entropy(x, y, w, **kw), lambda x: F.cross_entropy(x, y, w, **kw), x)


def test_cross_entropy_weighted_smoothed_mean_formula_with_ignore_index():
    """The exact torch 2.13 'mean' with weight, ignore_index and label_smoothing: both terms
    are divided by the summed weights of the non-ignored targets (the smoothing term too)."""
    x, w, eps, C = logits((7, 5)).detach(), class_weight(), 0.3, 5
    y = torch.tensor([0, 1, -100, 3, 4, -100, 2])
    logp, keep = torch.log_softmax(x, 1), y != -100
    safe = y.clamp(min=0)
    nll = -logp.gather(1, safe[:, None])[:, 0] * w[safe] * keep
    uniform = -(logp * w).sum(1) * keep
    expected = ((1 - eps) * nll + eps / C * uniform).sum() / w[safe][keep].sum()
    assert_close(F.cross_entropy(x, y, w, label_smoothing=eps), expected)  # torch does this...
    assert_close(cross_entropy(x, y, w, label_smoothing=eps), expected)  # ...and so do we


def test_cross_entropy_ignore_index_excluded_from_mean():
    x, y = logits((4, 3)).detach(), torch.tensor([0, 2, -100, -100])
    assert_close(cross_entropy(x, y), cross_entropy(x[:2], y[:2]))
    assert_close(cross_entropy(x, y, reduction="none")[2:], torch.zeros(2, dtype=D))


def test_cross_entropy_ignored_rows_get_zero_gradient():
    x, y = logits((4, 3)), torch.tensor([0, 2, -100, 1])
    cross_entropy(x, y, class_weight(3), label_smoothing=0.4).backward()
    assert torch.equal(x.grad[2], torch.zeros(3, dtype=D))


def test_cross_entropy_ignored_rows_with_infinite_logits_stay_zero():
    x = torch.tensor([[0.0, 1.0], [-torch.inf, 0.0]], dtype=D)
    y = torch.tensor([1, -100])
    assert_close(cross_entropy(x, y, reduction="none"), F.cross_entropy(x, y, reduction="none"))


def test_cross_entropy_matches_nll_of_log_softmax():
    x, y, w = logits((6, 5)).detach(), index_target((6, 5), -100), class_weight()
    assert_close(cross_entropy(x, y, w), nll_loss(torch.log_softmax(x, 1), y, w))


# ------------------------------------------------------------------ cross_entropy, probability targets
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
def test_cross_entropy_probability_targets_match_torch_with_target_and_weight_gradients(
        shape, reduction, weighted, eps):
    x, p = logits(shape), probability_target(shape).requires_grad_()
    w = class_weight().requires_grad_() if weighted else None
    kw = {"reduction": reduction, "label_smoothing": eps}
    if weighted:
        assert_matches_torch(lambda x, p, w: cross_entropy(x, p, w, **kw),
                             lambda x, p, w: F.cross_entropy(x, p, w, **kw), x, p, w)
    else:
        assert_matches_torch(lambda x, p: cross_entropy(x, p, **kw),
                             lambda x, p: F.cross_entropy(x, p, **kw), x, p)


def test_cross_entropy_probability_rows_need_not_sum_to_one():
    x, p = logits((4, 3)), torch.rand(4, 3, dtype=D, generator=gen(5)).requires_grad_()
    assert_matches_torch(lambda x, p: cross_entropy(x, p), lambda x, p: F.cross_entropy(x, p), x, p)


def test_cross_entropy_weighted_mean_divides_by_weights_for_indices_but_by_n_for_probabilities():
    x, y, w = logits((5, 4)).detach(), torch.tensor([0, 1, 2, 3, 3]), class_weight(4)
    per_sample = cross_entropy(x, y, w, reduction="none")
    assert_close(cross_entropy(x, y, w), per_sample.sum() / w[y].sum())
    assert_close(cross_entropy(x, F.one_hot(y, 4).to(D), w), per_sample.sum() / 5)


def test_cross_entropy_one_hot_probabilities_equal_index_targets_without_weights():
    x, y = logits((3, 5, 4)).detach(), index_target((3, 5, 4), None)
    one_hot = F.one_hot(y, 5).movedim(-1, 1).to(D)
    for eps in (0.0, 0.3):
        assert_close(cross_entropy(x, one_hot, label_smoothing=eps), cross_entropy(x, y, label_smoothing=eps))


# ------------------------------------------------------------------ nll_loss
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 1])
def test_nll_loss_matches_torch(shape, reduction, weighted, ignore):
    x = torch.log_softmax(logits(shape).detach(), min(1, len(shape) - 1)).requires_grad_()
    y, w = index_target(shape, ignore), class_weight() if weighted else None
    kw = {"reduction": reduction} | ({} if ignore is None else {"ignore_index": ignore})
    assert_matches_torch(lambda x: nll_loss(x, y, w, **kw), lambda x: F.nll_loss(x, y, w, **kw), x)


def test_nll_loss_accepts_any_real_input_as_torch_does():
    x, y = logits((4, 3)), torch.tensor([0, 1, 2, 1])  # not log-probabilities: still -x[n, y_n]
    assert_matches_torch(lambda x: nll_loss(x, y), lambda x: F.nll_loss(x, y), x)


# ------------------------------------------------------------------ binary_cross_entropy
BCE_SHAPES = [(), (7,), (6, 4), (2, 3, 4)]


def bce_weight(shape, kind):
    """None, one weight per last-dim column, or one per element."""
    if kind is None or not shape:
        return None
    return torch.rand(shape[-1:] if kind == "column" else shape, dtype=D, generator=gen(7)) + 0.1


@pytest.mark.parametrize("shape", BCE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_kind", [None, "column", "full"])
def test_binary_cross_entropy_matches_torch_with_target_gradient(shape, reduction, weight_kind):
    p = (torch.rand(shape, dtype=D, generator=gen(0)) * 0.98 + 0.01).requires_grad_()
    y = torch.rand(shape, dtype=D, generator=gen(1)).requires_grad_()  # soft labels
    w = bce_weight(shape, weight_kind)
    assert_matches_torch(lambda p, y: binary_cross_entropy(p, y, w, reduction=reduction),
                         lambda p, y: F.binary_cross_entropy(p, y, w, reduction=reduction), p, y)


def test_binary_cross_entropy_per_row_weight_broadcasts_like_torch():
    p = (torch.rand(5, 3, dtype=D, generator=gen(0)) * 0.9 + 0.05).requires_grad_()
    y, w = torch.randint(0, 2, (5, 3), generator=gen(1)).to(D), torch.rand(5, 1, dtype=D, generator=gen(2))
    assert_matches_torch(lambda p: binary_cross_entropy(p, y, w),
                         lambda p: F.binary_cross_entropy(p, y, w), p)


def test_binary_cross_entropy_clamps_log_at_minus_100_exactly_like_torch_at_0_and_1():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50, 1 - 1e-16, 0.5], dtype=D, requires_grad=True)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.3], dtype=D, requires_grad=True)
    loss = binary_cross_entropy(p, y, reduction="none")
    assert_close(loss[2:5], torch.full((3,), 100.0, dtype=D))  # capped: log clamped at -100
    # input gradient (p - y) / max(p (1 - p), 1e-12) is +-1e12 at 0 and 1; target gradient -logit(p) is inf
    assert_matches_torch(lambda p, y: binary_cross_entropy(p, y, reduction="none"),
                         lambda p, y: F.binary_cross_entropy(p, y, reduction="none"), p, y)
    p_grad, = torch.autograd.grad(loss.sum(), p)
    assert p_grad[2] == -1e12 and p_grad[3] == 1e12


# ------------------------------------------------------------------ binary_cross_entropy_with_logits
@pytest.mark.parametrize("shape", BCE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_kind", [None, "column", "full"])
@pytest.mark.parametrize("pos_weight_kind", [None, "column", "row"])
def test_binary_cross_entropy_with_logits_matches_torch_with_target_gradient(
        shape, reduction, weight_kind, pos_weight_kind):
    x, y = logits(shape), torch.rand(shape, dtype=D, generator=gen(1)).requires_grad_()
    w = bce_weight(shape, weight_kind)
    q = None
    if pos_weight_kind and shape:
        q_shape = shape[-1:] if pos_weight_kind == "column" else shape[:-1] + (1,)
        q = 3 * torch.rand(q_shape, dtype=D, generator=gen(8))
    kw = {"reduction": reduction, "pos_weight": q}
    assert_matches_torch(lambda x, y: binary_cross_entropy_with_logits(x, y, w, **kw),
                         lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, **kw), x, y)


def test_binary_cross_entropy_with_logits_pos_weight_multiplies_only_the_positive_term():
    x, q = torch.tensor([0.3, -1.2], dtype=D), torch.tensor(4.0, dtype=D)
    for y in (torch.tensor([1.0, 1.0], dtype=D), torch.tensor([0.0, 0.0], dtype=D)):
        plain = binary_cross_entropy_with_logits(x, y, reduction="none")
        weighted = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=q)
        assert_close(weighted, plain * (q if y[0] == 1 else 1))


def test_binary_cross_entropy_with_logits_equals_bce_of_sigmoid():
    x, y = logits((6, 3)).detach(), torch.rand(6, 3, dtype=D, generator=gen(1))
    assert_close(binary_cross_entropy_with_logits(x, y), binary_cross_entropy(torch.sigmoid(x), y))


# ------------------------------------------------------------------ gradcheck of the hand-written backwards
def _gradcheck(fn, *inputs):
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_cross_entropy_index_targets(reduction):
    x, y = logits((4, 3, 2)), torch.tensor([[0, 2], [-100, 1], [2, 2], [1, -100]])
    _gradcheck(lambda x: cross_entropy(x, y, class_weight(3), reduction=reduction, label_smoothing=0.3), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_cross_entropy_probability_targets(reduction):
    x, p, w = logits((3, 4)), probability_target((3, 4)).requires_grad_(), class_weight(4).requires_grad_()
    _gradcheck(lambda x, p, w: cross_entropy(x, p, w, reduction=reduction, label_smoothing=0.2), x, p, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_nll_loss(reduction):
    x, y = logits((4, 3)), torch.tensor([0, 2, -100, 1])
    _gradcheck(lambda x: nll_loss(x, y, class_weight(3), reduction=reduction), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_binary_cross_entropy(reduction):
    p = (torch.rand(3, 2, dtype=D, generator=gen(0)) * 0.8 + 0.1).requires_grad_()
    y = torch.rand(3, 2, dtype=D, generator=gen(1)).requires_grad_()
    _gradcheck(lambda p, y: binary_cross_entropy(p, y, class_weight(2), reduction=reduction), p, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_gradcheck_binary_cross_entropy_with_logits(reduction, with_pos_weight):
    x, y = logits((3, 2)), torch.rand(3, 2, dtype=D, generator=gen(1)).requires_grad_()
    q = torch.tensor([0.5, 3.0], dtype=D) if with_pos_weight else None
    _gradcheck(lambda x, y: binary_cross_entropy_with_logits(
        x, y, class_weight(2), reduction=reduction, pos_weight=q), x, y)


# ------------------------------------------------------------------ backward bookkeeping
def test_cross_entropy_second_backward_with_retain_graph_gives_the_same_gradient():
    for target in (torch.tensor([0, 2, 1]), probability_target((3, 4))):
        x = logits((3, 4))
        loss = cross_entropy(x, target, label_smoothing=0.1)
        first, = torch.autograd.grad(loss, x, retain_graph=True)
        second, = torch.autograd.grad(loss, x)
        assert_close(first, second)


def test_cross_entropy_forward_under_no_grad_matches_torch():
    x, y = logits((3, 4)), torch.tensor([0, 2, 1])
    with torch.no_grad():
        assert_close(cross_entropy(x, y), F.cross_entropy(x, y))


@pytest.mark.parametrize("case", ["index", "probabilities", "nll", "bce", "bce_logits"])
def test_hessian_matches_torch(case):
    # Double backward used to raise; now the second derivatives are torch's.
    target = {"index": torch.tensor([0, 2, 1]), "probabilities": probability_target((3, 4)),
              "nll": torch.tensor([0, 2, 1]), "bce": torch.rand(3, 4, dtype=D),
              "bce_logits": torch.rand(3, 4, dtype=D)}[case]

    def loss(module, x):
        return {
            "index": lambda: module.cross_entropy(x, target),
            "probabilities": lambda: module.cross_entropy(x, target),
            "nll": lambda: module.nll_loss(x, target),
            "bce": lambda: module.binary_cross_entropy(torch.sigmoid(x), target),
            "bce_logits": lambda: module.binary_cross_entropy_with_logits(x, target),
        }[case]()

    x = logits((3, 4))
    ours = torch.autograd.functional.hessian(lambda z: loss(L, z), x)
    assert_close(ours, torch.autograd.functional.hessian(lambda z: loss(F, z), x))


# ------------------------------------------------------------------ extreme logits
EXTREME = torch.tensor([[1e3, -1e3, 0.0], [-1e3, -1e3, -1e3], [1e3, 1e3, -1e3], [0.0, 1e3, 1e3]], dtype=D)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cross_entropy_extreme_logits_finite_and_match_torch(dtype):
    x = EXTREME.to(dtype).requires_grad_()
    y, p = torch.tensor([1, 0, 2, 0]), probability_target((4, 3)).to(dtype)
    w = class_weight(3).to(dtype)
    for target, kw in [(y, {"label_smoothing": 0.2}), (p, {"label_smoothing": 0.2}), (y, {})]:
        ours = cross_entropy(x, target, w, reduction="none", **kw)
        grad, = torch.autograd.grad(ours.sum(), x)
        assert torch.isfinite(ours).all() and torch.isfinite(grad).all()
        assert_matches_torch(lambda x, target=target, kw=kw:
                                 cross_entropy(x, target, w, reduction="none", **kw),
                             lambda x, target=target, kw=kw:
                                 F.cross_entropy(x, target, w, reduction="none", **kw),
                             x)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits_extreme_logits_finite_and_match_torch(dtype, with_pos_weight):
    x = torch.tensor([1e3, -1e3, 1e3, -1e3, 40.0, -40.0, 0.0], dtype=dtype, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    q = torch.tensor(2.5, dtype=dtype) if with_pos_weight else None
    loss = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=q)
    assert torch.isfinite(loss).all()
    assert loss[0] == 0 and loss[1] == 0  # confident and right: no cost, no cancellation error
    kw = {"reduction": "none", "pos_weight": q}
    assert_matches_torch(lambda x: binary_cross_entropy_with_logits(x, y, **kw),
                         lambda x: F.binary_cross_entropy_with_logits(x, y, **kw), x)


def test_binary_cross_entropy_with_logits_small_loss_keeps_full_relative_precision():
    x, y = torch.tensor([10.0, -10.0]), torch.tensor([1.0, 0.0])  # float32; loss = log(1 + e^-10)
    exact = torch.log1p(torch.exp(torch.tensor(-10.0, dtype=D)))
    for q, scale in ((None, [1.0, 1.0]), (torch.tensor(2.0), [2.0, 1.0])):  # q weighs the y = 1 term
        loss = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=q)
        assert_close(loss.to(D), exact * torch.tensor(scale, dtype=D), rtol=1e-6, atol=0)


# ------------------------------------------------------------------ float32 agreement
FLOAT32_TOL = {"rtol": 1e-5, "atol": 1e-6}


@pytest.mark.parametrize("shape", [(64, 10), (4, 7, 5, 6)])
def test_cross_entropy_float32_agrees_with_float64_torch(shape):
    x64, y = 4 * torch.randn(shape, dtype=D, generator=gen(0)), index_target(shape, -100)
    w = class_weight(shape[1]).float()
    x32 = x64.float().requires_grad_()
    loss = cross_entropy(x32, y, w, label_smoothing=0.1)
    loss.backward()
    x_ref = x64.float().double().requires_grad_()
    ref = F.cross_entropy(x_ref, y, w.double(), label_smoothing=0.1)
    ref.backward()
    assert loss.dtype == torch.float32
    assert_close(loss.double(), ref, **FLOAT32_TOL)
    assert_close(x32.grad.double(), x_ref.grad, **FLOAT32_TOL)


def test_binary_cross_entropy_with_logits_float32_agrees_with_float64_torch():
    x64 = 5 * torch.randn(1000, dtype=D, generator=gen(0))
    y = torch.rand(1000, generator=gen(1))
    x32 = x64.float().requires_grad_()
    loss = binary_cross_entropy_with_logits(x32, y)
    loss.backward()
    x_ref = x64.float().double().requires_grad_()
    ref = F.binary_cross_entropy_with_logits(x_ref, y.double())
    ref.backward()
    assert_close(loss.double(), ref, **FLOAT32_TOL)
    assert_close(x32.grad.double(), x_ref.grad, **FLOAT32_TOL)


def test_binary_cross_entropy_float32_agrees_with_float64_torch():
    p64 = torch.rand(1000, dtype=D, generator=gen(0)) * 0.98 + 0.01
    y = torch.rand(1000, generator=gen(1))
    p32 = p64.float().requires_grad_()
    loss = binary_cross_entropy(p32, y)
    loss.backward()
    p_ref = p64.float().double().requires_grad_()
    ref = F.binary_cross_entropy(p_ref, y.double())
    ref.backward()
    assert_close(loss.double(), ref, **FLOAT32_TOL)
    assert_close(p32.grad.double(), p_ref.grad, **FLOAT32_TOL)


# ------------------------------------------------------------------ empty batches
def empty_cases():
    x, x4 = torch.zeros(0, 3, dtype=D), torch.zeros(0, 3, 2, 2, dtype=D)
    idx, idx4 = torch.zeros(0, dtype=torch.long), torch.zeros(0, 2, 2, dtype=torch.long)
    p, e = torch.zeros(0, 3, dtype=D), torch.zeros(0, dtype=D)
    return {
        "cross_entropy index": (cross_entropy, x, idx),
        "cross_entropy K-dim": (cross_entropy, x4, idx4),
        "cross_entropy probabilities": (cross_entropy, x, p),
        "nll_loss": (nll_loss, x, idx),
        "binary_cross_entropy": (binary_cross_entropy, e, e),
        "binary_cross_entropy_with_logits": (binary_cross_entropy_with_logits, e, e),
    }


@pytest.mark.parametrize("case", list(empty_cases()))
def test_empty_batch_mean_raises(case):
    fn, x, t = empty_cases()[case]
    with pytest.raises(ValueError, match="the batch is empty"):
        fn(x, t)


@pytest.mark.parametrize("case", list(empty_cases()))
def test_empty_batch_sum_is_zero_and_none_is_empty_like_torch(case):
    fn, x, t = empty_cases()[case]
    x = x.requires_grad_()
    total = fn(x, t, reduction="sum")
    assert total.shape == () and total.item() == 0
    grad, = torch.autograd.grad(total, x)
    assert grad.shape == x.shape
    theirs = getattr(F, fn.__name__)(x, t, reduction="none")
    assert fn(x, t, reduction="none").shape == theirs.shape


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
def test_all_targets_ignored_mean_raises_and_sum_is_zero(fn):
    x, y = logits((3, 4)), torch.full((3,), -100)
    with pytest.raises(ValueError, match="every target is ignore_index"):
        fn(x, y)
    assert fn(x, y, reduction="sum").item() == 0


def test_cross_entropy_mean_with_zero_weight_for_every_target_raises():
    x, y, w = logits((3, 4)), torch.tensor([0, 0, 1]), torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=D)
    with pytest.raises(ValueError, match="class weight 0"):
        cross_entropy(x, y, w)


# ------------------------------------------------------------------ errors: cross_entropy
X = torch.zeros(4, 3, dtype=D)
Y = torch.tensor([0, 1, 2, 1])


def test_cross_entropy_integer_input_raises():
    with pytest.raises(TypeError, match="expected input to be a floating-point tensor"):
        cross_entropy(torch.zeros(4, 3, dtype=torch.long), Y)


def test_cross_entropy_0_dim_input_raises():
    with pytest.raises(ValueError, match="got a 0-dim tensor"):
        cross_entropy(torch.tensor(1.0), torch.tensor(0))


def test_cross_entropy_zero_classes_raises():
    with pytest.raises(ValueError, match="expected at least one class"):
        cross_entropy(torch.zeros(4, 0), torch.zeros(4, dtype=torch.long))


def test_cross_entropy_non_tensor_target_raises():
    with pytest.raises(TypeError, match="expected target to be a torch.Tensor"):
        cross_entropy(X, [0, 1, 2, 1])


def test_cross_entropy_integer_target_with_input_shape_raises():
    with pytest.raises(TypeError, match="expected a floating-point target for class probabilities"):
        cross_entropy(X, torch.zeros(4, 3, dtype=torch.long))


def test_cross_entropy_float_class_indices_raise():
    with pytest.raises(TypeError, match=r"integer class indices \(torch.long\).*target.long\(\)"):
        cross_entropy(X, Y.to(D))


def test_cross_entropy_float_target_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"float class probabilities with the shape of input \(4, 3\)"):
        cross_entropy(X, torch.zeros(4, 2, dtype=D))


def test_cross_entropy_target_n_by_1_instead_of_n_raises():
    with pytest.raises(ValueError, match=r"class indices of shape \(4,\).*got \(4, 1\)"):
        cross_entropy(X, Y[:, None])


@pytest.mark.parametrize("bad", [3, -1])
def test_cross_entropy_class_index_out_of_range_raises(bad):
    with pytest.raises(ValueError, match=rf"class indices in \[0, 2\] or ignore_index=-100, got {bad}"):
        cross_entropy(X, torch.tensor([0, bad, 1, 1]))


@pytest.mark.parametrize("loss", [cross_entropy, nll_loss])
@pytest.mark.parametrize("ignore", [-100, 1])
def test_class_index_out_of_range_next_to_ignored_targets_raises(loss, ignore):
    # The range is checked on the targets that are not ignore_index, wherever that lies.
    with pytest.raises(ValueError, match=rf"class indices in \[0, 2\] or ignore_index={ignore}, got 7"):
        loss(X, torch.tensor([ignore, 7, 0, 2]), ignore_index=ignore)


def test_cross_entropy_weight_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"weight of shape \(C,\) = \(3,\).*got shape \(2,\)"):
        cross_entropy(X, Y, torch.ones(2, dtype=D))


def test_cross_entropy_integer_weight_raises():
    with pytest.raises(TypeError, match="expected weight to be a floating-point tensor"):
        cross_entropy(X, Y, torch.ones(3, dtype=torch.long))


def test_cross_entropy_nan_weight_raises():
    with pytest.raises(ValueError, match="expected weight to contain only finite numbers"):
        cross_entropy(X, Y, torch.tensor([1.0, torch.nan, 1.0]))


def test_cross_entropy_weight_requiring_grad_with_index_targets_raises():
    with pytest.raises(ValueError, match=r"expected weight not to require grad.*weight.detach\(\)"):
        cross_entropy(X, Y, torch.ones(3, dtype=D, requires_grad=True))


@pytest.mark.parametrize("eps", [1.5, -0.1])
def test_cross_entropy_label_smoothing_outside_unit_interval_raises(eps):
    with pytest.raises(ValueError, match=rf"expected label_smoothing in \[0, 1\], got {eps}"):
        cross_entropy(X, Y, label_smoothing=eps)


def test_cross_entropy_label_smoothing_not_a_number_raises():
    with pytest.raises(TypeError, match="expected label_smoothing to be a float"):
        cross_entropy(X, Y, label_smoothing="0.1")


def test_cross_entropy_ignore_index_with_probability_targets_raises():
    with pytest.raises(ValueError, match="expected ignore_index to be left at its default"):
        cross_entropy(X, torch.full((4, 3), 1 / 3, dtype=D), ignore_index=0)


def test_cross_entropy_non_int_ignore_index_raises():
    with pytest.raises(TypeError, match="expected ignore_index to be an int"):
        cross_entropy(X, Y, ignore_index=1.0)


def test_cross_entropy_probability_target_outside_unit_interval_raises():
    with pytest.raises(ValueError, match=r"target to be probabilities in \[0, 1\], got values in \[-1, 2\]"):
        cross_entropy(X, torch.tensor([[2.0, -1.0, 0.0]] * 4, dtype=D))


@pytest.mark.parametrize("bad", [torch.nan, torch.inf])
def test_cross_entropy_non_finite_probability_target_raises(bad):
    p = torch.full((4, 3), 1 / 3, dtype=D)
    p[1, 1] = bad
    with pytest.raises(ValueError, match="expected target to contain only finite numbers"):
        cross_entropy(X, p)


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
def test_unknown_reduction_raises(fn):
    with pytest.raises(ValueError, match="expected reduction to be one of 'none', 'mean', 'sum', got 'avg'"):
        fn(X, Y, reduction="avg")


# ------------------------------------------------------------------ errors: nll_loss
def test_nll_loss_float_target_raises():
    with pytest.raises(TypeError, match="integer class indices"):
        nll_loss(X, Y.to(D))


def test_nll_loss_one_hot_float_target_raises_and_suggests_argmax():
    one_hot_rows = torch.nn.functional.one_hot(Y, X.shape[1]).to(D)
    with pytest.raises(TypeError, match=r"nll_loss takes no class probabilities.*argmax"):
        nll_loss(X, one_hot_rows)


def test_nll_loss_target_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"class indices of shape \(4,\)"):
        nll_loss(X, Y[:3])


def test_nll_loss_class_index_out_of_range_raises():
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\] or ignore_index=-100, got 5"):
        nll_loss(X, torch.tensor([0, 5, 1, 1]))


def test_nll_loss_weight_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"weight of shape \(C,\) = \(3,\)"):
        nll_loss(X, Y, torch.ones(4, dtype=D))


def test_nll_loss_weight_requiring_grad_raises():
    with pytest.raises(ValueError, match="expected weight not to require grad"):
        nll_loss(X, Y, torch.ones(3, dtype=D, requires_grad=True))


# ------------------------------------------------------------------ errors: binary cross-entropies
P = torch.full((4,), 0.5, dtype=D)
T = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=D)
BCES = [binary_cross_entropy, binary_cross_entropy_with_logits]


def test_binary_cross_entropy_input_outside_unit_interval_suggests_with_logits():
    with pytest.raises(ValueError, match=r"values in \[-2, 3\]; if these are logits, use .*_with_logits"):
        binary_cross_entropy(torch.tensor([-2.0, 0.5, 3.0, 0.1], dtype=D), T)


def test_binary_cross_entropy_nan_input_raises():
    with pytest.raises(ValueError, match="expected input to contain only finite numbers"):
        binary_cross_entropy(torch.tensor([0.5, torch.nan, 0.5, 0.5], dtype=D), T)


@pytest.mark.parametrize("fn", BCES)
def test_binary_target_outside_unit_interval_raises(fn):
    with pytest.raises(ValueError, match=r"expected target to be probabilities in \[0, 1\].*0/1 labels"):
        fn(P, torch.tensor([0.0, 2.0, 1.0, 0.0], dtype=D))


@pytest.mark.parametrize("fn", BCES)
@pytest.mark.parametrize("bad", [torch.nan, torch.inf])
def test_binary_non_finite_target_raises(fn, bad):
    with pytest.raises(ValueError, match="expected target to contain only finite numbers"):
        fn(P, torch.tensor([0.0, bad, 1.0, 0.0], dtype=D))


@pytest.mark.parametrize("fn", BCES)
def test_binary_input_n_by_1_against_target_n_raises(fn):
    with pytest.raises(ValueError, match=r"same shape as input \(4, 1\), got \(4,\); squeeze"):
        fn(P[:, None], T)


@pytest.mark.parametrize("fn", BCES)
def test_binary_integer_target_raises(fn):
    with pytest.raises(TypeError, match="expected target to be a floating-point tensor"):
        fn(P, T.long())


@pytest.mark.parametrize("fn", BCES)
def test_binary_integer_input_raises(fn):
    with pytest.raises(TypeError, match="expected input to be a floating-point tensor"):
        fn(T.long(), T)


@pytest.mark.parametrize("fn", BCES)
def test_binary_weight_that_would_grow_the_loss_raises(fn):
    with pytest.raises(ValueError, match=r"expected weight broadcastable to the loss shape \(4,\)"):
        fn(P, T, torch.ones(2, 4, dtype=D))


@pytest.mark.parametrize("fn", BCES)
def test_binary_nan_weight_raises(fn):
    with pytest.raises(ValueError, match="expected weight to contain only finite numbers"):
        fn(P, T, torch.tensor([1.0, torch.nan, 1.0, 1.0], dtype=D))


@pytest.mark.parametrize("fn", BCES)
def test_binary_weight_requiring_grad_raises(fn):
    with pytest.raises(ValueError, match="expected weight not to require grad"):
        fn(P, T, torch.ones(4, dtype=D, requires_grad=True))


@pytest.mark.parametrize("fn", BCES)
def test_binary_unknown_reduction_raises(fn):
    with pytest.raises(ValueError, match="expected reduction to be one of"):
        fn(P, T, reduction="batchmean")


def test_binary_cross_entropy_with_logits_pos_weight_of_wrong_shape_raises():
    match = r"pos_weight broadcastable to the loss shape \(4, 2\), got shape \(3,\)"
    with pytest.raises(ValueError, match=match):
        binary_cross_entropy_with_logits(torch.zeros(4, 2), torch.zeros(4, 2), pos_weight=torch.ones(3))


def test_binary_cross_entropy_with_logits_pos_weight_requiring_grad_raises():
    with pytest.raises(ValueError, match="expected pos_weight not to require grad"):
        binary_cross_entropy_with_logits(P, T, pos_weight=torch.ones(4, dtype=D, requires_grad=True))


def test_binary_cross_entropy_with_logits_nan_pos_weight_raises():
    with pytest.raises(ValueError, match="expected pos_weight to contain only finite numbers"):
        binary_cross_entropy_with_logits(P, T, pos_weight=torch.tensor([torch.nan] * 4, dtype=D))


# ------------------------------------------------------------------ hypothesis properties
@st.composite
def ce_problems(draw, max_abs=50.0):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    values = draw(st.lists(st.floats(-max_abs, max_abs), min_size=n * c, max_size=n * c))
    y = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return torch.tensor(values, dtype=D).view(n, c), torch.tensor(y)


@given(ce_problems())
def test_property_cross_entropy_gradient_rows_sum_to_zero(problem):
    x, y = problem
    x.requires_grad_()
    grad, = torch.autograd.grad(cross_entropy(x, y, reduction="sum"), x)
    assert_close(grad.sum(1), torch.zeros(len(y), dtype=D), atol=1e-12, rtol=0)


@given(ce_problems(), st.floats(-1e3, 1e3), st.floats(0.0, 1.0))
def test_property_cross_entropy_invariant_to_adding_a_constant_to_the_logits(problem, shift, eps):
    x, y = problem
    assert_close(cross_entropy(x + shift, y, reduction="none", label_smoothing=eps),
                 cross_entropy(x, y, reduction="none", label_smoothing=eps), atol=1e-9, rtol=1e-9)


@given(ce_problems(max_abs=1e3), st.floats(0.0, 1.0), st.booleans())
def test_property_cross_entropy_is_non_negative(problem, eps, probabilities):
    x, y = problem
    target = F.one_hot(y, x.shape[1]).to(D) * 0.5 + 0.25 if probabilities else y
    loss = cross_entropy(x, target, class_weight(x.shape[1]), reduction="none", label_smoothing=eps)
    assert (loss >= 0).all()

