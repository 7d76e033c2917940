"""Tests for lossfns.functional._margin: soft_margin, logistic, hinge, multi_margin.

References: torch.nn.functional in float64 (soft_margin_loss, multi_margin_loss,
binary_cross_entropy_with_logits), numpy closed forms (hinge), gradcheck.
"""

import math

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
BINARY = [L.soft_margin_loss, L.logistic_loss, L.hinge_loss]


def rand(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=DT) * scale


def signs(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, shape, generator=g).to(DT) * 2 - 1


def value_and_grad(fn, x, *args, **kwargs):
    x = x.detach().clone().requires_grad_()
    out = fn(x, *args, **kwargs)
    upstream = rand(*out.shape, seed=99)
    (grad,) = torch.autograd.grad(out, x, upstream)
    return out.detach(), grad


# ---------------------------------------------------------------- soft margin / logistic

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(9,), (3, 4, 2), ()])
@pytest.mark.parametrize("fn", [L.soft_margin_loss, L.logistic_loss])
def test_soft_margin_and_logistic_match_torch_soft_margin(fn, shape, reduction):
    x, y = rand(*shape, seed=1, scale=3.0), signs(*shape, seed=2)
    ours, ours_grad = value_and_grad(fn, x, y, reduction=reduction)
    ref, ref_grad = value_and_grad(F.soft_margin_loss, x, y, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grad, ref_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logistic_loss_equals_bce_with_logits_on_zero_one_labels(reduction):
    x, y = rand(20, seed=3, scale=4.0), signs(20, seed=4)
    ours, ours_grad = value_and_grad(L.logistic_loss, x, y, reduction=reduction)
    ref, ref_grad = value_and_grad(F.binary_cross_entropy_with_logits, x, (y + 1) / 2, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grad, ref_grad)


def test_logistic_loss_extreme_scores_are_finite_and_exact():
    x = torch.tensor([1e3, -1e3, 1e3, -1e3], dtype=torch.float32, requires_grad=True)
    y = torch.tensor([1.0, 1.0, -1.0, -1.0])
    out = L.logistic_loss(x, y, reduction="none")
    torch.testing.assert_close(out, torch.tensor([0.0, 1e3, 1e3, 0.0]))
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, -1.0, 1.0, 0.0]))


@pytest.mark.parametrize("fn", BINARY)
def test_integer_labels_give_the_same_result_as_float_labels(fn):
    x, y = rand(8, seed=5), signs(8, seed=6)
    torch.testing.assert_close(fn(x, y.long()), fn(x, y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("fn", [L.soft_margin_loss, L.logistic_loss])
def test_float32_soft_margin_agrees_with_torch_float64(fn, reduction):
    # Tolerance: rtol 1e-5 (float32 has ~7 significant digits).
    x, y = rand(2000, seed=7, scale=5.0), signs(2000, seed=8)
    torch.testing.assert_close(fn(x.float(), y.float(), reduction=reduction).double(),
                               F.soft_margin_loss(x, y, reduction=reduction), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- hinge

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.5, 0.0])
def test_hinge_loss_matches_numpy_closed_form(margin, reduction):
    x, y = rand(4, 5, seed=9, scale=2.0), signs(4, 5, seed=10)
    out, grad = value_and_grad(L.hinge_loss, x, y, reduction=reduction, margin=margin)
    xn, yn = x.numpy(), y.numpy()
    per = np.maximum(0.0, margin - yn * xn)
    slope = np.where(margin - yn * xn > 0, -yn, 0.0)
    upstream = rand(*out.shape, seed=99).numpy()
    expected = {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]
    expected_grad = slope * {"none": upstream, "mean": upstream / per.size, "sum": upstream}[reduction]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=1e-12)


def test_hinge_gradient_is_zero_at_the_kink():
    x = torch.tensor([1.0, -1.0, 0.5], dtype=DT, requires_grad=True)
    y = torch.tensor([1.0, -1.0, 1.0], dtype=DT)  # margins y*x = 1, 1, 0.5
    L.hinge_loss(x, y, reduction="sum").backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 0.0, -1.0], dtype=DT))


# ---------------------------------------------------------------- multi-class margin

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("margin", [1.0, 0.3, -0.5])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_matches_torch(p, margin, weighted, reduction):
    x, y = rand(6, 5, seed=11), torch.tensor([0, 4, 2, 2, 1, 3])
    w = rand(5, seed=12).abs() + 0.1 if weighted else None
    kw = {"p": p, "margin": margin, "weight": w, "reduction": reduction}
    ours, ours_grad = value_and_grad(L.multi_margin_loss, x, y, **kw)
    ref, ref_grad = value_and_grad(F.multi_margin_loss, x, y, **kw)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grad, ref_grad)


@pytest.mark.parametrize("target", [torch.tensor(2), torch.tensor([2])], ids=["0-dim", "(1,)"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_single_sample_shapes_match_torch(target, reduction):
    x = rand(5, seed=13)
    ours, ours_grad = value_and_grad(L.multi_margin_loss, x, target, reduction=reduction)
    ref, ref_grad = value_and_grad(F.multi_margin_loss, x, target, reduction=reduction)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grad, ref_grad)


def test_multi_margin_weight_multiplies_after_the_power_and_mean_divides_by_n():
    x, y = rand(4, 3, seed=14), torch.tensor([0, 1, 2, 1])
    w = torch.tensor([-1.0, 2.0, 0.5], dtype=DT)  # a negative weight tells "after the max" from "inside"
    z = (1 - x.gather(1, y[:, None]) + x).clamp(min=0) ** 2
    z[torch.arange(4), y] = 0
    per = w[y] * z.sum(1) / 3
    torch.testing.assert_close(L.multi_margin_loss(x, y, p=2, weight=w, reduction="none"), per)
    torch.testing.assert_close(L.multi_margin_loss(x, y, p=2, weight=w), per.sum() / 4)
    torch.testing.assert_close(F.multi_margin_loss(x, y, p=2, weight=w, reduction="none"), per)


def test_multi_margin_gradient_is_zero_at_the_kink_like_torch():
    x = torch.tensor([[2.0, 1.0, 0.0]], dtype=DT)  # margin - x_y + x_1 = 0 exactly
    _ours, ours_grad = value_and_grad(L.multi_margin_loss, x, torch.tensor([0]), reduction="sum")
    _ref, ref_grad = value_and_grad(F.multi_margin_loss, x, torch.tensor([0]), reduction="sum")
    torch.testing.assert_close(ours_grad, ref_grad)
    assert ours_grad.abs().sum() == 0


@pytest.mark.parametrize("p", [1, 2])
def test_float32_multi_margin_agrees_with_torch_float64(p):
    x, y = rand(300, 10, seed=15), torch.randint(0, 10, (300,), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(L.multi_margin_loss(x.float(), y, p=p).double(),
                               F.multi_margin_loss(x, y, p=p), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- gradcheck

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", BINARY)
def test_gradcheck_binary_margin_losses(fn, reduction):
    # y*x in {-1.7, -0.2, 0.4, 1.6, 2.5, 0.7}: away from the hinge kink at 1.
    x = torch.tensor([[1.7, 0.2, 0.4], [-1.6, 2.5, -0.7]], dtype=DT, requires_grad=True)
    y = torch.tensor([[-1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]], dtype=DT)
    assert torch.autograd.gradcheck(lambda a: fn(a, y, reduction=reduction), (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_gradcheck_multi_margin(p, reduction):
    x = torch.tensor([[0.1, 0.5, 1.9, -0.6], [1.2, -0.35, 0.05, 0.8]], dtype=DT, requires_grad=True)
    y, w = torch.tensor([2, 0]), torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=DT)
    assert torch.autograd.gradcheck(
        lambda a: L.multi_margin_loss(a, y, p=p, weight=w, reduction=reduction), (x,))


# ---------------------------------------------------------------- empty batches

@pytest.mark.parametrize("fn", BINARY)
def test_binary_empty_batch_mean_raises_sum_is_zero_none_is_empty(fn):
    x, y = torch.zeros(0, 2), torch.zeros(0, 2)
    with pytest.raises(ValueError, match="the batch is empty"):
        fn(x, y)
    assert fn(x, y, reduction="sum").item() == 0
    assert fn(x, y, reduction="none").shape == (0, 2)


def test_multi_margin_empty_batch_mean_raises_sum_is_zero_none_is_empty():
    # torch returns uninitialised memory for the sum here; 0 is the empty sum.
    x, y = torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)
    with pytest.raises(ValueError, match="the batch is empty"):
        L.multi_margin_loss(x, y)
    assert L.multi_margin_loss(x, y, reduction="sum").item() == 0
    assert L.multi_margin_loss(x, y, reduction="none").shape == (0,)


# ---------------------------------------------------------------- documented errors

@pytest.mark.parametrize("fn", BINARY)
def test_zero_one_labels_raise_with_hint(fn):
    with pytest.raises(ValueError, match=r"expected target labels in \{-1, \+1\}, got 0; .*2 \* target - 1"):
        fn(torch.zeros(3), torch.tensor([1.0, 0.0, 1.0]))


@pytest.mark.parametrize("fn", BINARY)
def test_nan_label_raises(fn):
    with pytest.raises(ValueError, match=r"expected target labels in \{-1, \+1\}, got nan"):
        fn(torch.zeros(2), torch.tensor([1.0, math.nan]))


@pytest.mark.parametrize("fn", BINARY)
def test_binary_shape_mismatch_raises(fn):
    with pytest.raises(ValueError, match=r"same shape as input \(4, 1\), got \(4,\)"):
        fn(torch.zeros(4, 1), torch.ones(4))


@pytest.mark.parametrize("fn", BINARY)
def test_binary_integer_input_raises_type_error(fn):
    with pytest.raises(TypeError, match="expected input to be a floating-point tensor"):
        fn(torch.zeros(3, dtype=torch.long), torch.ones(3))


@pytest.mark.parametrize("fn", BINARY)
def test_binary_target_requiring_grad_raises(fn):
    with pytest.raises(ValueError, match=r"expected target not to require grad .*target.detach\(\)"):
        fn(torch.zeros(3), torch.ones(3, requires_grad=True))


@pytest.mark.parametrize("fn", BINARY + [L.multi_margin_loss])
def test_unknown_reduction_raises(fn):
    target = torch.tensor([0, 1]) if fn is L.multi_margin_loss else torch.ones(2)
    with pytest.raises(ValueError, match="expected reduction to be one of"):
        fn(torch.zeros(2, 2) if fn is L.multi_margin_loss else torch.zeros(2), target, reduction="avg")


@pytest.mark.parametrize("p", [0, 3, 1.5, True])
def test_multi_margin_p_other_than_1_or_2_raises(p):
    with pytest.raises(ValueError, match="expected p to be 1 or 2"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), p=p)


def test_multi_margin_input_of_wrong_rank_raises():
    with pytest.raises(ValueError, match=r"input of shape \(N, C\), \(C,\) or \(\) \(one class\) "
                                         r"with C >= 1, got \(2, 3, 4\)"):
        L.multi_margin_loss(torch.zeros(2, 3, 4), torch.tensor([0, 1]))


def test_multi_margin_target_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"expected target of shape \(2,\) for input \(2, 3\), got \(2, 1\)"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([[0], [1]]))


def test_multi_margin_single_sample_with_several_targets_raises():
    with pytest.raises(ValueError, match=r"a 0-dim or \(1,\) target for input of shape \(3,\), got \(2,\)"):
        L.multi_margin_loss(torch.zeros(3), torch.tensor([0, 1]))


def test_multi_margin_class_index_out_of_range_raises():
    with pytest.raises(ValueError, match=r"expected target class indices in \[0, 2\], got 3"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 3]))


def test_multi_margin_float_target_raises_type_error():
    with pytest.raises(TypeError, match="expected target to hold integer class indices"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))


def test_multi_margin_weight_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"expected weight of shape \(3,\), got \(1, 3\)"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(1, 3))


def test_multi_margin_integer_weight_raises_type_error():
    with pytest.raises(TypeError, match="expected weight to be a floating-point tensor"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(3, dtype=torch.long))


def test_multi_margin_weight_requiring_grad_raises():
    with pytest.raises(ValueError, match=r"expected weight not to require grad .*weight.detach\(\)"):
        L.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(3, requires_grad=True))


# ---------------------------------------------------------------- properties

scores = st.integers(1, 20).flatmap(
    lambda n: st.tuples(arrays(np.float64, n, elements=st.floats(-1e3, 1e3, allow_nan=False)),
                        arrays(np.float64, n, elements=st.sampled_from([-1.0, 1.0]))))


@given(scores)
def test_binary_margin_losses_are_non_negative_and_bound_the_zero_one_loss(pair):
    x, y = (torch.tensor(a) for a in pair)
    errors = (y * x <= 0).to(DT)
    hinge = L.hinge_loss(x, y, reduction="none")
    logistic = L.logistic_loss(x, y, reduction="none")
    assert (hinge >= errors).all() and (logistic >= 0).all()
    assert (logistic / math.log(2) >= errors - 1e-12).all()
    torch.testing.assert_close(L.soft_margin_loss(x, y, reduction="none"), logistic)


@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 2]), st.floats(0.0, 2.0),
       st.integers(0, 2**31))
def test_multi_margin_is_non_negative(n, c, p, margin, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=DT) * 10
    y = torch.randint(0, c, (n,), generator=g)
    assert (L.multi_margin_loss(x, y, p=p, margin=margin, reduction="none") >= 0).all()
