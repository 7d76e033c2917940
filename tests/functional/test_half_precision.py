"""float16 / bfloat16: reductions accumulate as torch's, and autocast gives torch's dtypes.

A 'mean' of 210,000 half-precision terms of about 10 sums to more than float16's largest
finite number (65504): torch adds in float32 inside ``mean`` and returns a finite value, and so
must lossfns. Under ``torch.autocast`` torch runs every loss in float32 (its "fp32" policy).
"""

import pytest
import torch
import torch.nn.functional as F
from loss_cases import CASES, call
from torch.testing import assert_close

import lossfns.functional as L

HALF = [torch.float16, torch.bfloat16]
M = 210_000


def _big(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(M, generator=g, dtype=torch.float64) * 3 + 2
    target = torch.zeros(M, dtype=torch.float64)
    labels = torch.where(torch.rand(M, generator=g) < 0.5, -1.0, 1.0).double()
    return x.to(dtype), target.to(dtype), labels.to(dtype)


ELEMENTWISE = {  # name: (lossfns, torch, arguments from (x, zeros, +-1 labels))
    "mse_loss": (L.mse_loss, F.mse_loss, lambda x, z, s: (x, z)),
    "l1_loss": (L.l1_loss, F.l1_loss, lambda x, z, s: (x, z)),
    "huber_loss": (L.huber_loss, F.huber_loss, lambda x, z, s: (x, z)),
    "smooth_l1_loss": (L.smooth_l1_loss, F.smooth_l1_loss, lambda x, z, s: (x, z)),
    "binary_cross_entropy_with_logits": (L.binary_cross_entropy_with_logits,
                                         F.binary_cross_entropy_with_logits,
                                         lambda x, z, s: (-x, (s + 1) / 2)),
    "soft_margin_loss": (L.soft_margin_loss, F.soft_margin_loss, lambda x, z, s: (x, s)),
    "poisson_nll_loss": (L.poisson_nll_loss, F.poisson_nll_loss, lambda x, z, s: (x / 4, (s + 1) * 2)),
    "binary_cross_entropy": (L.binary_cross_entropy, F.binary_cross_entropy,
                             lambda x, z, s: (torch.sigmoid(x), (s + 1) / 2)),
}


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_half_precision_mean_of_210000_terms_is_finite_and_equals_torch(name, dtype):
    ours, theirs, arguments = ELEMENTWISE[name]
    args = arguments(*_big(dtype))
    got = ours(*args)
    assert got.dtype == dtype and torch.isfinite(got)
    exact = ours(*(a.double() for a in args))  # the same inputs, computed in float64
    assert_close(got.double(), exact, rtol=1e-2, atol=0)
    if name != "soft_margin_loss" or dtype != torch.float16:  # see the next test
        assert_close(got, theirs(*args))


def test_float16_soft_margin_loss_is_finite_where_torchs_overflows():
    # torch computes log(1 + exp(-y x)) in float16: exp overflows for margins y x < -11.
    x, y = torch.tensor([-12.0, 3.0], dtype=torch.float16), torch.tensor([1.0, 1.0], dtype=torch.float16)
    assert torch.isinf(F.soft_margin_loss(x, y))
    assert_close(L.soft_margin_loss(x, y).double(), F.soft_margin_loss(x.double(), y.double()),
                 rtol=1e-3, atol=0)


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_half_precision_sum_overflows_like_torch(dtype):
    x, zeros, _ = _big(dtype)
    expected = F.mse_loss(x, zeros, reduction="sum")  # 2.7e6: inf in float16, finite in bfloat16
    assert_close(L.mse_loss(x, zeros, reduction="sum"), expected)


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_half_precision_class_index_mean_adds_the_weights_in_float32(loss, dtype):
    # torch's float16 nll_loss adds the 210,000 target weights in float16 (inf) and returns nan.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(M, 3, generator=g, dtype=torch.float64).to(dtype)
    y = torch.randint(0, 3, (M,), generator=g)
    fn = getattr(L, loss)
    got = fn(x, y)
    assert got.dtype == dtype and torch.isfinite(got)
    assert_close(got.double(), fn(x.double(), y), rtol=1e-2, atol=0)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_float16_gradients_are_float16_and_close_to_float32(case):
    args = case.make(torch.float16, 2)
    leaves = [a.requires_grad_() if i in case.differentiable else a for i, a in enumerate(args)]
    loss = call(case, case.ours, leaves, "sum" if "sum" in case.reductions else None).sum()
    grads = torch.autograd.grad(loss, [leaves[i] for i in case.differentiable])
    exact_args = [a.detach().double() if a.is_floating_point() else a for a in args]
    if case.gradcheck_eps < 1e-6:  # distributions: rows that sum to 1 in float16 need not in float64
        exact_args = [a / a.sum(-1, keepdim=True) for a in exact_args]
    exact_args = [a.requires_grad_() if i in case.differentiable else a for i, a in enumerate(exact_args)]
    exact = call(case, case.ours, exact_args, "sum" if "sum" in case.reductions else None).sum()
    expected = torch.autograd.grad(exact, [exact_args[i] for i in case.differentiable])
    for got, want in zip(grads, expected):
        assert got.dtype == torch.float16
        assert_close(got.double(), want, rtol=2e-2, atol=2e-2)


# ---------------------------------------------------------------- autocast
@pytest.mark.parametrize("autocast_dtype", HALF, ids=str)
@pytest.mark.parametrize("input_dtype", [torch.float32, "half"], ids=["float32_inputs", "half_inputs"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_autocast_gives_torchs_result_dtype_and_value(case, input_dtype, autocast_dtype):
    dtype = autocast_dtype if input_dtype == "half" else input_dtype
    args = case.make(dtype, 0)
    with torch.autocast("cpu", dtype=autocast_dtype):
        got = call(case, case.ours, args)
        expected = call(case, case.reference, args)
    if not case.has_torch_twin:  # a plain-ops formula is not autocast; torch's losses run in float32
        expected = call(case, case.reference, tuple(a.float() if a.is_floating_point() else a for a in args))
    # torch's weighted mse_loss is plain tensor ops, which autocast leaves in the input dtype.
    assert got.dtype == expected.dtype == (dtype if case.name == "mse_loss_weighted" else torch.float32)
    assert_close(got, expected)


@pytest.mark.parametrize("function", [L.softmax, L.log_softmax])
def test_softmax_under_autocast_keeps_the_input_dtype_as_torch(function):
    x = torch.randn(3, 4).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = function(x, dim=1)
        expected = getattr(F, function.__name__)(x, dim=1)
    assert got.dtype == expected.dtype == torch.bfloat16


def test_autocast_keeps_float64_inputs_in_float64_as_torch():
    x, t = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert L.mse_loss(x, t).dtype == F.mse_loss(x, t).dtype == torch.float64


def test_autocast_gradient_flows_back_in_the_input_dtype():
    x = torch.randn(5, 3).bfloat16().requires_grad_()
    y = torch.tensor([0, 1, 2, 1, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        L.cross_entropy(x, y).backward()
    ours = x.grad
    x.grad = None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        F.cross_entropy(x, y).backward()
    assert ours.dtype == x.grad.dtype == torch.bfloat16
    assert_close(ours, x.grad)
