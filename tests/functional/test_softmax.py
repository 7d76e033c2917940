"""Tests for softmax and log_softmax (lossfns/functional/_softmax.py)."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.testing import assert_close

from lossfns.functional import log_softmax, softmax

D = torch.float64
FUNCS = [(softmax, F.softmax), (log_softmax, F.log_softmax)]
CASES = [((4, 5), -1), ((4, 5), 0), ((4, 5), 1), ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), 2),
         ((2, 3, 4), -2), ((7,), 0)]


@pytest.mark.parametrize("ours, ref", FUNCS, ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", CASES)
def test_matches_torch_values_and_gradients(ours, ref, shape, dim):
    x = torch.randn(shape, dtype=D, generator=torch.Generator().manual_seed(0)).requires_grad_()
    out, expected = ours(x, dim=dim), ref(x, dim=dim)
    assert_close(out, expected)
    upstream = torch.randn(shape, dtype=D)
    assert_close(torch.autograd.grad(out, x, upstream), torch.autograd.grad(expected, x, upstream))


@pytest.mark.parametrize("ours, ref", FUNCS, ids=["softmax", "log_softmax"])
def test_float32_matches_torch(ours, ref):
    x = torch.randn(64, 100, generator=torch.Generator().manual_seed(0)) * 10
    # float32 rounding of logits up to ~40 in size: absolute error up to ~40 * 1.2e-7 in log space.
    assert_close(ours(x), ref(x, dim=-1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ours", [softmax, log_softmax])
def test_gradcheck(ours):
    x = torch.randn(2, 3, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: ours(z, dim=0), (x,))


def test_extreme_logits_are_finite_and_exact():
    z = torch.tensor([1000.0, 0.0, -1000.0], dtype=D)
    assert_close(log_softmax(z), torch.tensor([0.0, -1000.0, -2000.0], dtype=D))
    assert_close(softmax(z), torch.tensor([1.0, 0.0, 0.0], dtype=D))
    # The naive formula overflows: exp(1000) = inf, and inf / inf = nan.
    assert torch.isnan(z.exp() / z.exp().sum()).any()


@pytest.mark.parametrize("dtype", [torch.float32, D])
def test_extreme_logits_gradients_are_finite(dtype):
    z = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype, requires_grad=True)
    upstream = torch.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]], dtype=dtype)
    for ours, ref in FUNCS:
        out = ours(z)
        assert torch.isfinite(out).all()
        (g,) = torch.autograd.grad(out, z, upstream)
        assert torch.isfinite(g).all()
        assert_close(g, torch.autograd.grad(ref(z, dim=-1), z, upstream)[0])


def test_all_equal_logits_give_uniform():
    assert_close(softmax(torch.zeros(3, 4, dtype=D)), torch.full((3, 4), 0.25, dtype=D))
    assert_close(log_softmax(torch.zeros(4, dtype=D)), torch.full((4,), -math.log(4), dtype=D))


def test_empty_batch_gives_empty_result():
    assert softmax(torch.zeros(0, 5)).shape == (0, 5)
    assert log_softmax(torch.zeros(0, 5)).shape == (0, 5)


@pytest.mark.parametrize("ours", [softmax, log_softmax])
def test_integer_input_raises_type_error(ours):
    with pytest.raises(TypeError, match="floating-point"):
        ours(torch.tensor([1, 2, 3]))


logit_rows = st.lists(st.floats(-1000, 1000), min_size=1, max_size=8)


@given(logit_rows, st.floats(-1000, 1000))
def test_property_rows_sum_to_one_and_shift_invariant(row, c):
    z = torch.tensor(row, dtype=D)
    p = softmax(z)
    assert (p >= 0).all()
    assert abs(p.sum().item() - 1.0) < 1e-12
    assert_close(softmax(z + c), p, atol=1e-12, rtol=1e-9)
    assert_close(log_softmax(z + c), log_softmax(z), atol=1e-9, rtol=1e-12)


@given(logit_rows)
def test_property_exp_of_log_softmax_is_softmax(row):
    z = torch.tensor(row, dtype=D)
    lp = log_softmax(z)
    assert (lp <= 0).all()
    assert_close(lp.exp(), softmax(z), atol=1e-12, rtol=1e-9)
