"""Tests for lossfns.functional._regression: mse, l1, huber, smooth_l1, poisson_nll, mape.

References: torch.nn.functional in float64, closed forms in numpy, Keras 3 (MAPE), gradcheck.
"""

import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any keras import

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossfns.functional as L

REDUCTIONS = ["none", "mean", "sum"]
DT = torch.float64
POINTWISE = [  # (lossfns function, torch function, keyword options)
    (L.mse_loss, F.mse_loss, {}),
    (L.l1_loss, F.l1_loss, {}),
    (L.huber_loss, F.huber_loss, {}),
    (L.huber_loss, F.huber_loss, {"delta": 0.3}),
    (L.smooth_l1_loss, F.smooth_l1_loss, {}),
    (L.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.3}),
    (L.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.0}),
]
POINTWISE_IDS = [f"{f.__name__}{kw}" for f, _, kw in POINTWISE]
WEIGHTED = [(L.mse_loss, F.mse_loss), (L.l1_loss, F.l1_loss), (L.huber_loss, F.huber_loss)]
ALL_LOSSES = [L.mse_loss, L.l1_loss, L.huber_loss, L.smooth_l1_loss, L.poisson_nll_loss, L.mape]


def rand(*shape, seed=0, scale=1.0, dtype=DT):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def compare_with_torch(ours, theirs, tensors, kwargs, atol=1e-12, rtol=1e-10):
    """Values and gradients (w.r.t. every float tensor) of ours(*tensors) vs theirs, same upstream grad."""
    a = [t.detach().clone().requires_grad_() for t in tensors]
    b = [t.detach().clone().requires_grad_() for t in tensors]
    out_a = ours(*a[:2], **kwargs, **_weight(a))
    out_b = theirs(*b[:2], **kwargs, **_weight(b))
    torch.testing.assert_close(out_a, out_b, atol=atol, rtol=rtol)
    upstream = rand(*out_b.shape, seed=99)
    grads_a = torch.autograd.grad(out_a, a, upstream)
    grads_b = torch.autograd.grad(out_b, b, upstream)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(ga, gb, atol=atol, rtol=rtol)


def _weight(tensors):
    return {"weight": tensors[2]} if len(tensors) == 3 else {}


# ---------------------------------------------------------------- values and gradients vs torch

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), ()])
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), POINTWISE, ids=POINTWISE_IDS)
def test_pointwise_loss_matches_torch_values_and_gradients(ours, theirs, kwargs, shape, reduction):
    x, t = rand(*shape, seed=1, scale=2.0), rand(*shape, seed=2)
    compare_with_torch(ours, theirs, [x, t], {**kwargs, "reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [(3, 4), (4,), (1, 4), (3, 1), ()])
@pytest.mark.parametrize(("ours", "theirs"), WEIGHTED, ids=[f.__name__ for f, _ in WEIGHTED])
def test_weighted_loss_matches_torch_with_expanded_weight(ours, theirs, weight_shape, reduction):
    # torch requires weight.shape == input.shape; a broadcast weight must equal torch with weight.expand.
    x, t = rand(3, 4, seed=1, scale=2.0), rand(3, 4, seed=2)
    w = rand(*weight_shape, seed=3).abs() + 0.1
    a = [x.clone().requires_grad_(), t.clone().requires_grad_(), w.clone().requires_grad_()]
    b = [v.clone().requires_grad_() for v in (x, t, w)]
    out_a = ours(a[0], a[1], reduction=reduction, weight=a[2])
    out_b = theirs(b[0], b[1], reduction=reduction, weight=b[2].expand(3, 4))
    torch.testing.assert_close(out_a, out_b, atol=1e-12, rtol=1e-10)
    upstream = rand(*out_b.shape, seed=5)
    for ga, gb in zip(torch.autograd.grad(out_a, a, upstream), torch.autograd.grad(out_b, b, upstream)):
        torch.testing.assert_close(ga, gb, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("ours", [L.mse_loss, L.l1_loss])
def test_weighted_mse_and_l1_mean_divide_by_summed_weights(ours):
    x, t, w = rand(10, seed=1), rand(10, seed=2), rand(10, seed=3).abs()
    per_element = ours(x, t, reduction="none")
    torch.testing.assert_close(ours(x, t, weight=w), (w * per_element).sum() / w.sum())


def test_weighted_huber_mean_divides_by_n_like_torch():
    x, t, w = rand(10, seed=1, scale=3.0), rand(10, seed=2), rand(10, seed=3).abs()
    expected = (w * L.huber_loss(x, t, reduction="none")).sum() / 10
    torch.testing.assert_close(L.huber_loss(x, t, weight=w), expected)
    torch.testing.assert_close(F.huber_loss(x, t, weight=w), expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_nll_matches_torch_values_and_gradients(log_input, full, reduction):
    x = rand(4, 5, seed=1)
    x = x if log_input else x.abs() + 0.1
    t = torch.tensor([0.0, 0.5, 1.0, 2.0, 7.0], dtype=DT) + 0.25 * torch.arange(4.0, dtype=DT)[:, None]
    if full:
        t[0, 0] = 3.0  # torch's target gradient is NaN at a zero count with full=True (tested below)
    compare_with_torch(L.poisson_nll_loss, F.poisson_nll_loss, [x, t],
                       {"log_input": log_input, "full": full, "reduction": reduction, "eps": 1e-6})


def test_poisson_nll_stirling_term_only_for_counts_above_one():
    x, t = torch.zeros(4, dtype=DT), torch.tensor([0.0, 1.0, 2.0, 5.0], dtype=DT)
    extra = L.poisson_nll_loss(x, t, full=True, reduction="none") - L.poisson_nll_loss(x, t, reduction="none")
    stirling = t * t.log() - t + 0.5 * torch.log(2 * math.pi * t)
    torch.testing.assert_close(extra, torch.where(t > 1, stirling, 0.0))


def test_poisson_nll_full_target_gradient_is_finite_at_zero_count():
    # torch returns NaN here (0 * log 0 in its autograd graph); the masked term has derivative 0.
    x = rand(3, seed=1)
    t = torch.tensor([0.0, 0.5, 3.0], dtype=DT, requires_grad=True)
    L.poisson_nll_loss(x, t, full=True, reduction="sum").backward()
    expected = -x + torch.where(t > 1, t.log() + 0.5 / t, 0.0).detach()
    torch.testing.assert_close(t.grad, expected)


def test_smooth_l1_with_beta_zero_is_l1_including_gradient_at_zero():
    x = torch.tensor([0.0, 1.5, -2.0, 0.0], dtype=DT, requires_grad=True)
    t = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=DT)
    a = L.smooth_l1_loss(x, t, beta=0.0, reduction="none")
    torch.testing.assert_close(a, L.l1_loss(x, t, reduction="none"))
    (g,) = torch.autograd.grad(a.sum(), x)
    torch.testing.assert_close(g, torch.tensor([0.0, 1.0, -1.0, 0.0], dtype=DT))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("beta", [1e-20, 1e-30, 1e-36, 1e-40])
def test_smooth_l1_with_tiny_beta_matches_the_closed_form_without_underflow(beta, dtype):
    # torch's 0.5 * d * d / beta underflows to 0 for tiny d in float32; (|d|/2) (|d|/beta) does not.
    x = torch.tensor([1e-9, -1.0, 3e-31, -2e-35, 5e-41, 0.0], dtype=dtype)
    d, b = x.double(), torch.tensor(beta, dtype=dtype).double()  # beta as the dtype stores it
    expected = torch.where(d.abs() < b, 0.5 * d.abs() * (d.abs() / b), d.abs() - 0.5 * b)
    out = L.smooth_l1_loss(x, torch.zeros(6, dtype=dtype), beta=beta, reduction="none")
    torch.testing.assert_close(out.double(), expected, rtol=1e-6, atol=torch.finfo(dtype).tiny)


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), POINTWISE, ids=POINTWISE_IDS)
def test_gradient_at_kinks_matches_torch(ours, theirs, kwargs):
    # d = 0 (the l1 kink, sign(0) = 0) and |d| = delta/beta (where Huber turns linear).
    edge = kwargs.get("delta", kwargs.get("beta", 1.0))
    x = torch.tensor([0.0, edge, -edge, 2.0], dtype=DT)
    compare_with_torch(ours, theirs, [x, torch.zeros(4, dtype=DT)], {**kwargs, "reduction": "sum"})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), POINTWISE, ids=POINTWISE_IDS)
def test_second_backward_with_retain_graph_gives_the_same_gradient(ours, theirs, kwargs, reduction):
    # Huber keeps its derivative from the forward and scales it in place; a second backward recomputes it.
    x, t = rand(3, 50_000, seed=1, scale=2.0).requires_grad_(), rand(3, 50_000, seed=2)  # > 2**17: sliced
    out = ours(x, t, reduction=reduction, **kwargs).sum()
    (first,) = torch.autograd.grad(out, x, retain_graph=True)
    (second,) = torch.autograd.grad(out, x)
    torch.testing.assert_close(first, second)
    (reference,) = torch.autograd.grad(theirs(x, t, reduction=reduction, **kwargs).sum(), x)
    torch.testing.assert_close(first, reference)


def test_only_target_requires_grad_gets_negated_input_gradient():
    x, t = rand(5, seed=1), rand(5, seed=2).requires_grad_()
    L.mse_loss(x, t, reduction="sum").backward()
    torch.testing.assert_close(t.grad, -2 * (x - t.detach()))


def test_sliced_reduction_matches_torch_on_large_inputs():
    # More than 2**17 elements: Huber, smooth-L1, full Poisson NLL and MAPE sum slice by slice,
    # passing weight rows sliced or whole.
    x, t = rand(400, 500, seed=1, scale=2.0), rand(400, 500, seed=2)
    for w in (rand(400, 1, seed=3).abs(), rand(500, seed=4).abs(), rand(400, 500, seed=5).abs()):
        for reduction in ("mean", "sum"):
            kw = {"reduction": reduction, "delta": 0.5}
            torch.testing.assert_close(L.huber_loss(x, t, weight=w, **kw),
                                       F.huber_loss(x, t, weight=w.expand(400, 500), **kw))
    torch.testing.assert_close(L.smooth_l1_loss(x, t, beta=0.5), F.smooth_l1_loss(x, t, beta=0.5))
    counts = t.abs().round()
    torch.testing.assert_close(L.poisson_nll_loss(x, counts, full=True),
                               F.poisson_nll_loss(x, counts, full=True))
    expected = (100 * (x - t).abs() / t.abs().clamp(min=1e-7)).mean()
    torch.testing.assert_close(L.mape(x, t), expected)


def test_mixed_float32_float64_promotes_like_torch():
    x = rand(6, seed=1, dtype=torch.float32).requires_grad_()
    t = rand(6, seed=2)
    out = L.mse_loss(x, t)
    assert out.dtype == F.mse_loss(x, t).dtype == torch.float64
    out.backward()
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(out, F.mse_loss(x.double(), t))


# ---------------------------------------------------------------- gradcheck on tiny shapes

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "kwargs"), [
    ("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}), ("smooth_l1_loss", {"beta": 0.7}),
    ("smooth_l1_loss", {"beta": 0.0}),
])
def test_gradcheck_pointwise(name, kwargs, reduction):
    # Differences stay at least 0.2 away from the kinks at 0 and +-0.7.
    x = torch.tensor([[0.3, -1.3, 2.3], [-0.4, 1.9, -3.1]], dtype=DT, requires_grad=True)
    t = rand(2, 3, seed=2, scale=0.01).requires_grad_()
    fn = getattr(L, name)
    assert torch.autograd.gradcheck(lambda a, b: fn(a, b, reduction=reduction, **kwargs), (x, t))
    if name in ("mse_loss", "l1_loss", "huber_loss"):
        w = (rand(3, seed=3).abs() + 0.5).requires_grad_()
        assert torch.autograd.gradcheck(lambda a, b, c: fn(a, b, reduction=reduction, weight=c, **kwargs),
                                        (x, t, w))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("log_input", "full"), [(True, False), (True, True), (False, True)])
def test_gradcheck_poisson_nll(log_input, full, reduction):
    x = rand(2, 3, seed=1).abs().add(0.2).requires_grad_()
    t = torch.tensor([[0.5, 2.0, 3.5], [4.0, 0.2, 6.0]], dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: L.poisson_nll_loss(a, b, log_input=log_input, full=full, reduction=reduction), (x, t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_mape(reduction):
    x = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=DT, requires_grad=True)
    # Targets below the 1e-7 floor are in the closed-form test: 1e9 slopes defeat finite differences.
    t = torch.tensor([[1.0, -1.0, 2.0], [0.2, 3.0, -0.5]], dtype=DT)
    assert torch.autograd.gradcheck(lambda a: L.mape(a, t, reduction=reduction), (x,))


# ---------------------------------------------------------------- MAPE: closed form and Keras

def test_mape_matches_numpy_closed_form_values_and_gradient():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 4)) * 10
    y[0, 0], y[1, 1] = 0.0, 3e-8  # below the 1e-7 floor
    yhat = y + rng.normal(size=(5, 4))
    den = np.maximum(np.abs(y), 1e-7)
    x = torch.tensor(yhat, requires_grad=True)
    out = L.mape(x, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), 100 * np.abs(y - yhat) / den, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 100 * np.sign(yhat - y) / den, rtol=1e-12)
    np.testing.assert_allclose(L.mape(x, torch.tensor(y)).item(), np.mean(100 * np.abs(y - yhat) / den))


def test_mape_matches_keras_mean_over_last_axis_then_batch():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    y = (rng.normal(size=(6, 3)) * 5).astype(np.float32)
    y[2, 1] = 0.0
    yhat = (y + rng.normal(size=(6, 3))).astype(np.float32)
    ours = L.mape(torch.tensor(yhat), torch.tensor(y), reduction="none")
    # Keras' order is (y_true, y_pred); with the torch backend it returns torch tensors.
    per_sample = torch.as_tensor(keras.losses.mean_absolute_percentage_error(y, yhat)).detach().cpu().numpy()
    np.testing.assert_allclose(ours.mean(-1).numpy(), per_sample, rtol=1e-5)
    batch = float(torch.as_tensor(keras.losses.MeanAbsolutePercentageError()(y, yhat)).detach())
    np.testing.assert_allclose(L.mape(torch.tensor(yhat), torch.tensor(y)).item(), batch, rtol=1e-5)


def test_mape_zero_target_gives_large_finite_loss():
    out = L.mape(torch.tensor([1.0]), torch.tensor([0.0]))
    assert torch.isfinite(out) and out.item() == pytest.approx(100 / 1e-7, rel=1e-6)


# ---------------------------------------------------------------- empty batches, float32, extremes

@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_empty_batch_mean_raises_sum_is_zero_none_is_empty(fn):
    x, t = torch.zeros(0, 3), torch.zeros(0, 3)
    with pytest.raises(ValueError, match="the batch is empty"):
        fn(x, t)
    assert fn(x, t, reduction="sum").item() == 0
    assert fn(x, t, reduction="none").shape == (0, 3)


@pytest.mark.parametrize(("ours", "theirs"), WEIGHTED, ids=[f.__name__ for f, _ in WEIGHTED])
def test_empty_batch_with_weight_mean_raises(ours, theirs):
    with pytest.raises(ValueError, match="the batch is empty"):
        ours(torch.zeros(0, 3), torch.zeros(0, 3), weight=torch.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("ours", "theirs", "kwargs"),
                         POINTWISE + [(L.poisson_nll_loss, F.poisson_nll_loss, {})],
                         ids=POINTWISE_IDS + ["poisson_nll_loss"])
def test_float32_agrees_with_torch_float64(ours, theirs, kwargs, reduction):
    # Tolerance: rtol 1e-5 on the value, and 1e-5 of the largest gradient entry (float32 has ~7 digits).
    x64, t64 = rand(3000, seed=1), rand(3000, seed=2)
    if ours is L.poisson_nll_loss:
        t64 = t64.abs().round()
    x32 = x64.float().requires_grad_()
    out = ours(x32, t64.float(), reduction=reduction, **kwargs)
    x = x64.clone().requires_grad_()
    ref = theirs(x, t64, reduction=reduction, **kwargs)
    torch.testing.assert_close(out.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    out.backward(), ref.backward()
    torch.testing.assert_close(x32.grad.double(), x.grad, rtol=1e-5, atol=1e-5 * x.grad.abs().max().item())


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), POINTWISE, ids=POINTWISE_IDS)
def test_extreme_inputs_stay_finite_and_match_torch(ours, theirs, kwargs):
    x = torch.tensor([1e3, -1e3, 1e-30, 0.0], dtype=torch.float32)
    t = torch.tensor([-1e3, 1e3, 0.0, 1e-30], dtype=torch.float32)
    out = ours(x, t, reduction="none", **kwargs)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, theirs(x, t, reduction="none", **kwargs))


# ---------------------------------------------------------------- documented errors

@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_shape_n1_vs_n_raises_instead_of_broadcasting(fn):
    with pytest.raises(ValueError, match=r"same shape as input \(4, 1\), got \(4,\).*squeeze"):
        fn(torch.zeros(4, 1), torch.ones(4))


@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_integer_input_raises_type_error(fn):
    with pytest.raises(TypeError, match="expected input to be a floating-point tensor"):
        fn(torch.zeros(3, dtype=torch.long), torch.ones(3))


@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_integer_target_raises_type_error(fn):
    with pytest.raises(TypeError, match="expected target to be a floating-point tensor"):
        fn(torch.zeros(3), torch.ones(3, dtype=torch.long))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_non_finite_target_raises(fn, bad):
    with pytest.raises(ValueError, match="expected target to contain only finite numbers"):
        fn(torch.ones(3), torch.tensor([1.0, bad, 2.0]))


@pytest.mark.parametrize("fn", ALL_LOSSES)
def test_unknown_reduction_raises(fn):
    with pytest.raises(ValueError, match="expected reduction to be one of"):
        fn(torch.ones(3), torch.ones(3), reduction="avg")


@pytest.mark.parametrize("ours", [L.mse_loss, L.l1_loss, L.huber_loss])
def test_weight_not_broadcastable_raises(ours):
    with pytest.raises(ValueError, match=r"broadcastable to the loss shape \(3,\), got shape \(3, 1\)"):
        ours(torch.ones(3), torch.ones(3), weight=torch.ones(3, 1))


@pytest.mark.parametrize("ours", [L.mse_loss, L.l1_loss, L.huber_loss])
def test_integer_weight_raises_type_error(ours):
    with pytest.raises(TypeError, match="expected weight to be a floating-point tensor"):
        ours(torch.ones(3), torch.ones(3), weight=torch.ones(3, dtype=torch.long))


@pytest.mark.parametrize("ours", [L.mse_loss, L.l1_loss])
def test_weights_summing_to_zero_with_mean_raise(ours):
    with pytest.raises(ValueError, match="sum of the weights, expected a nonzero sum, got 0"):
        ours(torch.ones(3), torch.zeros(3), weight=torch.tensor([1.0, -1.0, 0.0]))


@pytest.mark.parametrize("delta", [0.0, -1.0, math.nan])
def test_huber_non_positive_delta_raises(delta):
    with pytest.raises(ValueError, match="expected delta > 0"):
        L.huber_loss(torch.ones(3), torch.ones(3), delta=delta)


def test_smooth_l1_negative_beta_raises():
    with pytest.raises(ValueError, match="expected beta >= 0, got -0.5"):
        L.smooth_l1_loss(torch.ones(3), torch.ones(3), beta=-0.5)


def test_poisson_nll_negative_count_raises():
    with pytest.raises(ValueError, match="expected target counts >= 0, got -1"):
        L.poisson_nll_loss(torch.zeros(3), torch.tensor([1.0, -1.0, 2.0]))


def test_poisson_nll_negative_rate_without_log_input_raises():
    with pytest.raises(ValueError, match="expected rates >= 0 .* pass log_input=True"):
        L.poisson_nll_loss(torch.tensor([-0.5, 1.0]), torch.ones(2), log_input=False)


def test_mape_target_requiring_grad_raises():
    with pytest.raises(ValueError, match=r"expected target not to require grad .*target.detach\(\)"):
        L.mape(torch.ones(3), torch.ones(3, requires_grad=True))


# ---------------------------------------------------------------- properties

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
pairs = st.integers(1, 20).flatmap(lambda n: st.tuples(arrays(np.float64, n, elements=finite),
                                                       arrays(np.float64, n, elements=finite)))


@given(pairs, st.floats(0.01, 10.0))
def test_non_negative_losses_stay_non_negative(pair, param):
    x, t = (torch.tensor(a) for a in pair)
    for out in (L.mse_loss(x, t, reduction="none"), L.l1_loss(x, t, reduction="none"),
                L.huber_loss(x, t, delta=param, reduction="none"),
                L.smooth_l1_loss(x, t, beta=param, reduction="none"), L.mape(x, t, reduction="none")):
        assert (out >= 0).all()


@given(pairs, st.floats(0.01, 10.0))
def test_huber_equals_delta_times_smooth_l1_with_beta_delta(pair, delta):
    x = torch.tensor(pair[0], requires_grad=True)
    t = torch.tensor(pair[1])
    huber = L.huber_loss(x, t, delta=delta, reduction="none")
    scaled = delta * L.smooth_l1_loss(x, t, beta=delta, reduction="none")
    torch.testing.assert_close(huber, scaled, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(huber.sum(), x)
    (g2,) = torch.autograd.grad(scaled.sum(), x)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-12)
