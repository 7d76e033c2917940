"""The chunked eager path (inputs larger than one chunk) gives torch's values and gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import lossfns.functional as L
from lossfns.functional import CHUNK_ELEMENTS as CHUNK

SIZE = 2 * CHUNK + 5  # two full chunks and a short one


def _inputs(kind, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(SIZE, generator=g, dtype=torch.float64) * 2
    if kind == "labels":
        t = torch.where(torch.rand(SIZE, generator=g) < 0.5, -1.0, 1.0).double()
    elif kind == "probabilities":
        t = torch.rand(SIZE, generator=g, dtype=torch.float64)
    elif kind == "log_probabilities":
        x, t = -x.abs() - 0.01, torch.rand(SIZE, generator=g, dtype=torch.float64)
    else:
        t = torch.randn(SIZE, generator=g, dtype=torch.float64)
    return x.to(dtype), t.to(dtype)


LOSSES = {  # name: (lossfns, torch, kind of target, options)
    "mse_loss": (L.mse_loss, F.mse_loss, "real", {}),
    "l1_loss": (L.l1_loss, F.l1_loss, "real", {}),
    "huber_loss": (L.huber_loss, F.huber_loss, "real", {"delta": 0.7}),
    "smooth_l1_loss": (L.smooth_l1_loss, F.smooth_l1_loss, "real", {"beta": 0.5}),
    "poisson_nll_loss": (L.poisson_nll_loss, F.poisson_nll_loss, "probabilities", {}),
    "binary_cross_entropy_with_logits": (L.binary_cross_entropy_with_logits,
                                         F.binary_cross_entropy_with_logits,
                                         "probabilities", {}),
    "soft_margin_loss": (L.soft_margin_loss, F.soft_margin_loss, "labels", {}),
    "kl_div": (L.kl_div, F.kl_div, "log_probabilities", {}),
}


@pytest.mark.parametrize(("reduction", "dtype"), [("mean", torch.float64), ("sum", torch.float32),
                                                   ("mean", torch.bfloat16), ("mean", torch.float16),
                                                   ("sum", torch.float16)],
                         ids=["mean64", "sum32", "mean_bf16", "mean16", "sum16"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_chunked_value_and_gradient_match_torch(name, reduction, dtype):
    ours, theirs, kind, options = LOSSES[name]
    if name == "kl_div" and reduction == "mean":
        reduction = "batchmean"
    x, t = _inputs(kind, dtype)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    got, expected = ours(a, t, reduction=reduction, **options), theirs(b, t, reduction=reduction, **options)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {}
    assert got.dtype == expected.dtype
    # float32 sums of 2.6e5 terms as accurate as torch's (cascade summation, not BLAS dot products)
    assert_close(got, expected, **({"rtol": 1e-6, "atol": 0} if dtype == torch.float32 else {}))
    (got_grad,), (expected_grad,) = torch.autograd.grad(got, a), torch.autograd.grad(expected, b)
    if dtype != torch.float16:
        return assert_close(got_grad, expected_grad, **tolerance)
    # float16 (a 'sum' of 1e6 terms overflows in both: its unscaled gradient is the check): torch's
    # backward of BCE / soft margin rounds sigmoid to float16 before subtracting, lossfns does not.
    _as_accurate_as_torch(got_grad, expected_grad, theirs, x, t, reduction=reduction, **options)


def _as_accurate_as_torch(got, expected, theirs, x, t, upstream=None, **options):
    """Both float16 gradients against the float64 one: lossfns is as close, up to one more float16
    rounding (of x - t, before the clamp of smooth L1) or one rounding of a subnormal."""
    exact_input = x.double().requires_grad_()
    upstream = None if upstream is None else upstream.double()
    exact, = torch.autograd.grad(theirs(exact_input, t.double(), **options), exact_input, upstream)
    error, torch_error = ((g.double() - exact).abs().max() for g in (got, expected))
    assert error <= 1.01 * torch_error + max(2 ** -25, 2 ** -11 * exact.abs().max()), (error, torch_error)


@pytest.mark.parametrize("name", ["huber_loss", "smooth_l1_loss"])
def test_a_second_backward_through_the_same_graph_gives_the_same_gradient(name):
    # The first backward uses up the derivative the forward kept; the second recomputes it.
    ours, theirs, kind, options = LOSSES[name]
    x, t = _inputs(kind, torch.float64)
    x.requires_grad_()
    loss = ours(x, t, **options)
    first, = torch.autograd.grad(loss, x, retain_graph=True)
    second, = torch.autograd.grad(loss, x)
    assert_close(first, second)
    assert_close(first, torch.autograd.grad(theirs(x, t, **options), x)[0])


def test_no_grad_forward_keeps_nothing_and_matches_torch():
    x, t = _inputs("real", torch.float32)
    with torch.no_grad():
        assert_close(L.huber_loss(x.requires_grad_(), t), F.huber_loss(x, t))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16], ids=["64", "32", "16"])
@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "smooth_l1_loss"])
def test_an_upstream_gradient_other_than_one_scales_the_kept_derivative_as_torch(name, dtype):
    # The forward keeps the gradient for grad_output = 1 (float32/64), or dJ/dx unscaled in half
    # precision, where a loss scale (2^15 here) must multiply before the rounding to float16: 2 (x - t) / N
    # alone is a float16 subnormal with N = 2.6e5.
    ours, theirs, kind, options = LOSSES[name]
    x, t = _inputs(kind, dtype)
    upstream = torch.tensor(2.0 ** 15 if dtype == torch.float16 else 0.37, dtype=dtype)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    got, = torch.autograd.grad(ours(a, t, **options), a, upstream)
    expected, = torch.autograd.grad(theirs(b, t, **options), b, upstream)
    if dtype == torch.float16:  # torch rounds grad_output / N to float16 first; lossfns does not
        return _as_accurate_as_torch(got, expected, theirs, x, t, upstream, **options)
    assert_close(got, expected, **({"rtol": 1e-5, "atol": 1e-7} if dtype == torch.float32 else {}))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kl_div_of_a_large_input_takes_0_log_0_as_0_even_against_minus_inf(dtype):
    g = torch.Generator().manual_seed(3)
    x = torch.log_softmax(torch.randn(SIZE // 5, 5, generator=g, dtype=dtype), 1).reshape(-1)
    t = torch.softmax(torch.randn(SIZE // 5, 5, generator=g, dtype=dtype), 1).reshape(-1)
    t[::7] = 0
    x[::14] = -float("inf")  # probability 0 in both: a term 0 (torch: nan)
    x64, t64 = x.double(), t.double()
    positive = t64 > 0
    exact = (t64[positive] * (t64[positive].log() - x64[positive])).sum() / x.shape[0]
    a = x.clone().requires_grad_()
    got = L.kl_div(a, t, reduction="batchmean")
    assert_close(got.double(), exact, rtol=16 * torch.finfo(dtype).eps, atol=0)
    got.backward()
    assert_close(a.grad, -t / x.shape[0])
    x[1] = -float("inf")  # ...and where t > 0 the term is +inf
    assert t[1] > 0 and L.kl_div(x, t, reduction="sum").item() == float("inf")
