"""Tests for entropy, cross_entropy_dist and kl_div (lossfns/functional/_information.py)."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.testing import assert_close

from lossfns.functional import cross_entropy_dist, entropy, kl_div

D = torch.float64
REDUCTIONS = ["none", "sum", "batchmean"]
SHAPES = [(6,), (4, 5), (3, 4, 5)]


def _log_probs(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(torch.randn(shape, generator=g, dtype=D), dim=-1)


def _kl_inputs(shape, log_target, seed=0, zeros=False):
    x = _log_probs(shape, seed)
    t = torch.softmax(torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1), dtype=D), -1)
    if zeros:  # exact zeros in the target exercise 0 log 0 = 0
        t = t.clone()
        t[..., 0] = 0
        t = t / t.sum(-1, keepdim=True)
    if log_target:
        t = t.log()
    return x.requires_grad_(), t.requires_grad_()


# ------------------------------------------------------------------ kl_div vs torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_matches_torch_values_and_gradients(shape, log_target, reduction):
    x, t = _kl_inputs(shape, log_target)
    ours = kl_div(x, t, reduction=reduction, log_target=log_target)
    ref = F.kl_div(x, t, reduction=reduction, log_target=log_target)
    assert_close(ours, ref)
    upstream = torch.randn(ref.shape, dtype=D)
    g_ours = torch.autograd.grad(ours, (x, t), upstream)
    g_ref = torch.autograd.grad(ref, (x, t), upstream)
    assert_close(g_ours[0], g_ref[0])
    assert_close(g_ours[1], g_ref[1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_zero_target_probability_matches_torch(reduction):
    x, t = _kl_inputs((4, 5), log_target=False, zeros=True)
    assert_close(kl_div(x, t, reduction=reduction), F.kl_div(x, t, reduction=reduction))
    (gx,) = torch.autograd.grad(kl_div(x, t, reduction=reduction).sum(), x)
    (gx_ref,) = torch.autograd.grad(F.kl_div(x, t, reduction=reduction).sum(), x)
    assert_close(gx, gx_ref)


def test_kl_div_target_gradient_at_zero_probability_is_minus_inf():
    # d/dt t(log t - x) = log t + 1 - x -> -inf as t -> 0+ (torch returns nan there).
    x = torch.tensor([-1.0, -0.5], dtype=D)
    t = torch.tensor([0.0, 1.0], dtype=D, requires_grad=True)
    (gt,) = torch.autograd.grad(kl_div(x, t, reduction="sum"), t)
    assert gt[0].item() == -math.inf
    assert_close(gt[1], torch.tensor(1.0 + 0.5, dtype=D))


def test_kl_div_default_reduction_is_batchmean():
    x, t = _kl_inputs((4, 5), False)
    assert_close(kl_div(x, t), F.kl_div(x, t, reduction="batchmean"))


def test_kl_div_batchmean_divides_by_batch_size_not_number_of_elements():
    x, t = _kl_inputs((4, 5), False)
    per_row = (t * (t.log() - x)).sum(-1)
    assert_close(kl_div(x, t, reduction="batchmean"), per_row.mean())
    assert_close(kl_div(x, t, reduction="sum"), per_row.sum())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_0dim_input_matches_torch(reduction):
    x = torch.tensor(-0.7, dtype=D, requires_grad=True)
    t = torch.tensor(0.4, dtype=D, requires_grad=True)
    ours, ref = kl_div(x, t, reduction=reduction), F.kl_div(x, t, reduction=reduction)
    assert_close(ours, ref)
    assert_close(torch.autograd.grad(ours, (x, t)), torch.autograd.grad(ref, (x, t)))


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_float32_matches_torch(log_target):
    x, t = _kl_inputs((64, 100), log_target)
    x32, t32 = x.detach().float().requires_grad_(), t.detach().float().requires_grad_()
    ours = kl_div(x32, t32, log_target=log_target)
    ref = F.kl_div(x32, t32, reduction="batchmean", log_target=log_target)
    assert ours.dtype == torch.float32
    assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    assert_close(torch.autograd.grad(ours, (x32, t32)), torch.autograd.grad(ref, (x32, t32)),
                 rtol=1e-5, atol=1e-6)


def test_kl_div_mixed_dtypes_promote_like_torch():
    x, t = _kl_inputs((3, 4), False)
    ours = kl_div(x.detach().float(), t.detach())
    ref = F.kl_div(x.detach().float(), t.detach(), reduction="batchmean")
    assert ours.dtype == ref.dtype == D
    assert_close(ours, ref)


def test_kl_div_only_input_requires_grad():
    x, t = _kl_inputs((3, 4), False)
    t = t.detach()
    (gx,) = torch.autograd.grad(kl_div(x, t), x)
    assert_close(gx, -t / 3)


def test_kl_div_only_target_requires_grad():
    x, t = _kl_inputs((3, 4), False)
    x = x.detach()
    (gt,) = torch.autograd.grad(kl_div(x, t, reduction="sum"), t)
    assert_close(gt, t.detach().log() + 1 - x)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_gradcheck(log_target, reduction):
    x, t = _kl_inputs((2, 3), log_target, seed=3)
    assert torch.autograd.gradcheck(
        lambda a, b: kl_div(a, b, reduction=reduction, log_target=log_target), (x, t))


def test_kl_div_input_minus_inf_where_target_is_zero_gives_zero_not_nan():
    # q = 0 where p = 0: the term is 0 log(0/0) = 0 by convention (torch returns nan).
    p = torch.tensor([[0.0, 0.25, 0.75]], dtype=D)
    q = torch.tensor([[0.0, 0.5, 0.5]], dtype=D)
    expected = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert kl_div(q.log(), p).item() == pytest.approx(expected, rel=1e-12)


def test_kl_div_log_target_minus_inf_gives_zero_and_zero_gradients():
    x = torch.tensor([[-1.0, -0.5]], dtype=D, requires_grad=True)
    s = torch.tensor([[-math.inf, 0.0]], dtype=D, requires_grad=True)
    loss = kl_div(x, s, log_target=True)
    assert loss.item() == pytest.approx(0.5, rel=1e-12)  # 1 * (0 - (-0.5))
    gx, gs = torch.autograd.grad(loss, (x, s))
    assert_close(gx, torch.tensor([[0.0, -1.0]], dtype=D))
    assert_close(gs, torch.tensor([[0.0, 0.0 + 0.5 + 1.0]], dtype=D))


def test_kl_div_target_probability_zero_with_positive_input_probability_is_inf():
    # p > 0 where q = 0: KL(p || q) = +inf.
    p = torch.tensor([[0.5, 0.5]], dtype=D)
    q = torch.tensor([[1.0, 0.0]], dtype=D)
    assert kl_div(q.log(), p).item() == math.inf


# ------------------------------------------------------------------ kl_div empty batch
def test_kl_div_batchmean_of_empty_batch_raises():
    with pytest.raises(ValueError, match="batch is empty"):
        kl_div(torch.zeros(0, 3), torch.zeros(0, 3))


def test_kl_div_sum_of_empty_batch_is_zero_and_none_is_empty():
    x, t = torch.zeros(0, 3, requires_grad=True), torch.zeros(0, 3)
    total = kl_div(x, t, reduction="sum")
    assert total.item() == 0.0 == F.kl_div(x, t, reduction="sum").item()
    total.backward()
    assert x.grad.shape == (0, 3)
    assert kl_div(x, t, reduction="none").shape == (0, 3)


# ------------------------------------------------------------------ kl_div errors
def test_kl_div_mean_reduction_raises_and_names_batchmean():
    x, t = _kl_inputs((2, 3), False)
    with pytest.raises(ValueError, match="batchmean"):
        kl_div(x, t, reduction="mean")


def test_kl_div_unknown_reduction_raises():
    x, t = _kl_inputs((2, 3), False)
    with pytest.raises(ValueError, match="expected reduction to be one of"):
        kl_div(x, t, reduction="avg")


def test_kl_div_probabilities_as_input_raises_pointing_to_log_softmax():
    # The slides' pitfall: softmax probabilities where log-probabilities are required.
    logits = torch.tensor([[1.0, 2.0, 0.5]], dtype=D)
    target = torch.tensor([[0.2, 0.5, 0.3]], dtype=D)
    wrong = F.kl_div(torch.softmax(logits, -1), target, reduction="batchmean")
    right = F.kl_div(torch.log_softmax(logits, -1), target, reduction="batchmean")
    assert abs(wrong.item() - right.item()) > 0.5  # torch's misleading number
    with pytest.raises(ValueError, match="looks like probabilities.*log_softmax"):
        kl_div(torch.softmax(logits, -1), target)
    assert_close(kl_div(torch.log_softmax(logits, -1), target), right)


def test_kl_div_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"same shape as input \(4, 1\), got \(4,\)"):
        kl_div(-torch.rand(4, 1), torch.full((4,), 0.5))


def test_kl_div_integer_input_raises_type_error():
    with pytest.raises(TypeError, match="floating-point"):
        kl_div(torch.zeros(2, 3, dtype=torch.long), torch.full((2, 3), 1 / 3))


def test_kl_div_target_outside_unit_interval_raises():
    with pytest.raises(ValueError, match=r"target to be probabilities in \[0, 1\].*log_target=True"):
        kl_div(torch.full((2, 2), -0.7), torch.full((2, 2), -0.7))


def test_kl_div_nan_input_raises():
    with pytest.raises(ValueError, match="got NaN"):
        kl_div(torch.tensor([[float("nan"), -0.7]]), torch.tensor([[0.5, 0.5]]))


def test_kl_div_log_target_with_positive_target_raises():
    with pytest.raises(ValueError, match="log_target=True.*log_target=False"):
        kl_div(torch.full((2, 2), -0.7), torch.full((2, 2), 0.5), log_target=True)


# ------------------------------------------------------------------ entropy
def test_entropy_closed_forms():
    p = torch.tensor([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=D)
    expected = [math.log(4), 0.0, -sum(v * math.log(v) for v in (0.1, 0.2, 0.3, 0.4))]
    assert_close(entropy(p), torch.tensor(expected, dtype=D))
    assert_close(entropy(p, base=2), torch.tensor(expected, dtype=D) / math.log(2))
    assert entropy(torch.tensor([0.5, 0.5]), base=2).item() == 1.0


def test_entropy_one_hot_is_exactly_zero_not_minus_zero():
    h = entropy(torch.tensor([0.0, 1.0, 0.0], dtype=D))
    assert h.item() == 0.0 and math.copysign(1.0, h.item()) == 1.0


def test_entropy_matches_torch_categorical():
    probs = torch.softmax(torch.randn(8, 7, dtype=D, generator=torch.Generator().manual_seed(0)), -1)
    probs[0] = torch.tensor([0.5, 0.5, 0, 0, 0, 0, 0], dtype=D)
    assert_close(entropy(probs), torch.distributions.Categorical(probs=probs).entropy())


@pytest.mark.parametrize("dim", [0, 1, 2, -2])
def test_entropy_along_other_dims_matches_moving_dim_last(dim):
    p = torch.softmax(torch.randn(3, 4, 5, dtype=D), dim=dim)
    assert_close(entropy(p, dim=dim), entropy(p.movedim(dim, -1)))


def test_entropy_gradient_matches_autograd_of_formula_and_gradcheck():
    p = torch.softmax(torch.randn(3, 4, dtype=D), -1).requires_grad_()
    upstream = torch.randn(3, dtype=D)
    (g,) = torch.autograd.grad(entropy(p, base=2), p, upstream)
    (g_ref,) = torch.autograd.grad(-(p * p.log()).sum(-1) / math.log(2), p, upstream)
    assert_close(g, g_ref)
    # gradcheck's perturbations leave the simplex, so normalise inside (the chain rule still
    # runs through entropy's hand-written backward).
    u = torch.rand(2, 3, dtype=D).add_(0.1).requires_grad_()
    assert torch.autograd.gradcheck(lambda v: entropy(v / v.sum(0), dim=0), (u,))


def test_entropy_gradient_at_zero_probability_is_plus_inf():
    p = torch.tensor([0.0, 1.0], dtype=D, requires_grad=True)
    entropy(p).backward()
    assert p.grad[0].item() == math.inf
    assert p.grad[1].item() == -1.0  # -(log 1 + 1)


def test_entropy_empty_batch_gives_empty_result():
    assert entropy(torch.zeros(0, 3)).shape == (0,)


def test_entropy_integer_input_raises():
    with pytest.raises(TypeError, match="floating-point"):
        entropy(torch.tensor([1, 0]))


def test_entropy_values_outside_unit_interval_raise():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values in \[-0.5, 1.5\]"):
        entropy(torch.tensor([-0.5, 1.5]))


def test_entropy_rows_not_summing_to_one_raise_with_the_row_sum():
    p = torch.tensor([[0.5, 0.5], [0.3, 0.3]])
    with pytest.raises(ValueError, match=r"sum to 1 along dim=1.*summing to 0\.6.*\(row 1\)"):
        entropy(p)


def test_entropy_row_sum_tolerance_depends_on_dtype():
    p = torch.tensor([0.5, 0.5 + 1e-6])
    assert entropy(p).isfinite()  # float32: within 3.5e-4
    with pytest.raises(ValueError, match="sum to 1"):
        entropy(p.double())


def test_entropy_zero_classes_raise():
    with pytest.raises(ValueError, match="at least one class"):
        entropy(torch.zeros(3, 0))


def test_entropy_0dim_raises():
    with pytest.raises(ValueError, match="at least one dimension"):
        entropy(torch.tensor(1.0))


def test_entropy_dim_out_of_range_raises():
    with pytest.raises(ValueError, match=r"dim in \[-2, 1\].*got 2"):
        entropy(torch.full((2, 2), 0.5), dim=2)


@pytest.mark.parametrize("base", [1, 0, -2, "2", True])
def test_entropy_invalid_base_raises(base):
    with pytest.raises(ValueError, match="expected base"):
        entropy(torch.tensor([0.5, 0.5]), base=base)


# ------------------------------------------------------------------ cross_entropy_dist
def test_cross_entropy_dist_closed_form():
    p = [0.1, 0.6, 0.3]
    q = [0.2, 0.5, 0.3]
    expected = -sum(a * math.log(b) for a, b in zip(p, q))
    out = cross_entropy_dist(torch.tensor(p, dtype=D), torch.tensor(q, dtype=D))
    assert out.item() == pytest.approx(expected, rel=1e-12)
    out2 = cross_entropy_dist(torch.tensor(p, dtype=D), torch.tensor(q, dtype=D), base=2)
    assert out2.item() == pytest.approx(expected / math.log(2), rel=1e-12)


def test_cross_entropy_dist_equals_torch_cross_entropy_on_log_q():
    # log_softmax(log q) = log q for a normalised q, so torch's CE with probability targets is H(p, q).
    g = torch.Generator().manual_seed(1)
    p = torch.softmax(torch.randn(5, 4, dtype=D, generator=g), -1)
    q = torch.softmax(torch.randn(5, 4, dtype=D, generator=g), -1)
    assert_close(cross_entropy_dist(p, q), F.cross_entropy(q.log(), p, reduction="none"))


def test_cross_entropy_dist_of_p_with_itself_is_entropy():
    p = torch.softmax(torch.randn(5, 4, dtype=D), -1)
    assert_close(cross_entropy_dist(p, p), entropy(p))


def test_cross_entropy_dist_q_zero_where_p_zero_is_finite_and_p_positive_is_inf():
    p = torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=D)
    q = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=D)
    out = cross_entropy_dist(p, q)
    assert out[0].item() == 0.0
    assert out[1].item() == math.inf


def test_cross_entropy_dist_gradients_match_autograd_of_formula_and_gradcheck():
    g = torch.Generator().manual_seed(2)
    p = torch.softmax(torch.randn(3, 4, dtype=D, generator=g), -1).requires_grad_()
    q = torch.softmax(torch.randn(3, 4, dtype=D, generator=g), -1).requires_grad_()
    upstream = torch.randn(3, dtype=D, generator=g)
    got = torch.autograd.grad(cross_entropy_dist(p, q), (p, q), upstream)
    ref = torch.autograd.grad(-(p * q.log()).sum(-1), (p, q), upstream)
    assert_close(got, ref)
    u, v = (torch.rand(2, 3, dtype=D).add_(0.1).requires_grad_() for _ in range(2))
    assert torch.autograd.gradcheck(
        lambda a, b: cross_entropy_dist(a / a.sum(-1, keepdim=True), b / b.sum(-1, keepdim=True), base=2),
        (u, v))


def test_cross_entropy_dist_gradient_wrt_q_is_zero_where_p_and_q_are_zero():
    p = torch.tensor([0.0, 1.0], dtype=D)
    q = torch.tensor([0.0, 1.0], dtype=D, requires_grad=True)
    cross_entropy_dist(p, q).backward()
    assert_close(q.grad, torch.tensor([0.0, -1.0], dtype=D))


def test_cross_entropy_dist_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"q with the same shape as p \(2,\), got \(1, 2\)"):
        cross_entropy_dist(torch.tensor([0.5, 0.5]), torch.tensor([[0.5, 0.5]]))


def test_cross_entropy_dist_q_not_normalised_raises():
    with pytest.raises(ValueError, match="every row of q to sum to 1"):
        cross_entropy_dist(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.6]))


def test_cross_entropy_dist_integer_q_raises():
    with pytest.raises(TypeError, match="expected q to be a floating-point tensor"):
        cross_entropy_dist(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]))


# ------------------------------------------------------------------ properties
@st.composite
def distribution_pairs(draw, allow_zeros_in_p=True):
    c = draw(st.integers(2, 6))
    low_p = 0.0 if allow_zeros_in_p else 0.01
    a = draw(st.lists(st.floats(low_p, 10.0), min_size=c, max_size=c).filter(lambda v: sum(v) > 0.1))
    b = draw(st.lists(st.floats(0.01, 10.0), min_size=c, max_size=c))
    p = torch.tensor(a, dtype=D)
    q = torch.tensor(b, dtype=D)
    return p / p.sum(), q / q.sum()


@given(distribution_pairs())
def test_property_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    kl = kl_div(q.log(), p, reduction="none").sum(-1)
    assert_close(cross_entropy_dist(p, q), entropy(p) + kl)


@given(distribution_pairs())
def test_property_kl_of_distribution_with_itself_is_zero(pq):
    p, _ = pq
    assert abs(kl_div(p.log(), p, reduction="sum").item()) < 1e-12


@given(distribution_pairs())
def test_property_kl_is_non_negative(pq):
    p, q = pq
    assert kl_div(q.log(), p, reduction="sum").item() >= -1e-12


@given(distribution_pairs())
def test_property_bits_are_nats_over_ln2(pq):
    p, q = pq
    assert_close(entropy(p, base=2), entropy(p) / math.log(2))
    assert_close(cross_entropy_dist(p, q, base=2), cross_entropy_dist(p, q) / math.log(2))


def test_kl_is_not_symmetric_counterexample():
    p = torch.tensor([0.5, 0.5], dtype=D)
    q = torch.tensor([0.9, 0.1], dtype=D)
    kl_pq = kl_div(q.log(), p, reduction="sum").item()  # KL(p || q) = 0.5108...
    kl_qp = kl_div(p.log(), q, reduction="sum").item()  # KL(q || p) = 0.3681...
    assert kl_pq == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1), rel=1e-12)
    assert kl_qp == pytest.approx(0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5), rel=1e-12)
    assert round(kl_pq, 4) == 0.5108 and round(kl_qp, 4) == 0.3681
    assert kl_pq != pytest.approx(kl_qp, abs=0.1)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_nan_target_says_not_finite(log_target):
    target = torch.tensor([[float("nan"), 0.0], [-0.5, -0.5]]) if log_target else \
        torch.tensor([[float("nan"), 1.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="only finite numbers, got NaN"):
        kl_div(torch.full((2, 2), -1.0), target, log_target=log_target)


def test_kl_div_accepts_minus_inf_log_target():
    target = torch.tensor([[float("-inf"), 0.0]], dtype=torch.float64)
    input = torch.tensor([[-0.7, -0.7]], dtype=torch.float64)
    torch.testing.assert_close(kl_div(input, target, log_target=True),
                               torch.nn.functional.kl_div(input, target.exp(), reduction="batchmean"))


def test_entropy_nan_says_not_finite():
    with pytest.raises(ValueError, match="only finite numbers"):
        entropy(torch.tensor([float("nan"), 1.0]))
