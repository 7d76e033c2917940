"""lossfns.functional takes torch.nn.functional's arguments; every intended difference is a row of
the table in README.md ("Using lossfns") and is pinned here by one test named after it."""

import inspect
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import lossfns.functional as L

TWINS = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
         "l1_loss", "log_softmax", "mse_loss", "multi_margin_loss", "nll_loss", "poisson_nll_loss",
         "smooth_l1_loss", "soft_margin_loss", "softmax"]
NO_TWIN = ["cross_entropy_dist", "entropy", "hinge_loss", "logistic_loss", "mape", "multi_hot",
           "smooth_labels"]
LEFT_OUT = {"size_average", "reduce", "_stacklevel"}  # deprecated, or internal to torch
# The only allowed differences: (function, parameter) -> (what differs, torch's, lossfns').
ALLOWED = {
    ("kl_div", "reduction"): ("default", "mean", "batchmean"),
    ("softmax", "dim"): ("default", None, -1),
    ("log_softmax", "dim"): ("default", None, -1),
    ("softmax", "dtype"): ("kind", "positional or keyword", "keyword only"),
    ("log_softmax", "dtype"): ("kind", "positional or keyword", "keyword only"),
}


def _parameters(fn):
    return [p for p in inspect.signature(fn).parameters.values() if p.name not in LEFT_OUT]


def _kind(p):
    return "keyword only" if p.kind is p.KEYWORD_ONLY else "positional or keyword"


@pytest.mark.parametrize("name", TWINS)
def test_signature_has_torchs_names_order_defaults_and_kinds_without_deprecated_ones(name):
    ours, theirs = _parameters(getattr(L, name)), _parameters(getattr(F, name))
    assert [p.name for p in ours] == [p.name for p in theirs]
    for a, b in zip(ours, theirs):
        what, expected_theirs, expected_ours = ALLOWED.get((name, a.name), ("", None, None))
        if what == "default":
            assert (b.default, a.default) == (expected_theirs, expected_ours)
        else:
            assert a.default == b.default, a.name
        if what == "kind":
            assert (_kind(b), _kind(a)) == (expected_theirs, expected_ours)
        else:
            assert _kind(a) == _kind(b), a.name


def test_one_hot_takes_tensor_and_num_classes_like_torch():
    # torch.nn.functional.one_hot is a builtin without a Python signature.
    assert [(p.name, p.default) for p in _parameters(L.one_hot)] == [("tensor", inspect.Parameter.empty),
                                                                     ("num_classes", -1)]
    y = torch.tensor([2, 0])
    assert torch.equal(L.one_hot(y, 3), F.one_hot(y, 3))


def test_functions_without_a_twin_in_torch_are_the_listed_ones():
    assert sorted(set(L.__all__) - set(TWINS) - {"one_hot"}) == NO_TWIN
    for name in NO_TWIN:
        assert not hasattr(F, name)


def test_positional_arguments_bind_as_in_torch_once_the_deprecated_ones_are_left_out():
    x, t = torch.randn(3, 4), torch.randn(3, 4)
    assert_close(L.mse_loss(x, t, "sum"), F.mse_loss(x, t, reduction="sum"))
    assert_close(L.huber_loss(x, t, "sum", 0.5), F.huber_loss(x, t, "sum", 0.5))  # no size_average in torch
    logits, y, w = torch.randn(3, 4), torch.tensor([0, 1, 3]), torch.rand(4)
    assert_close(L.cross_entropy(logits, y, w, -100, "sum", 0.1),
                 F.cross_entropy(logits, y, w, ignore_index=-100, reduction="sum", label_smoothing=0.1))
    assert_close(L.multi_margin_loss(logits, y, 2, 0.5, w), F.multi_margin_loss(logits, y, 2, 0.5, w))
    assert_close(L.poisson_nll_loss(x.abs(), t.abs(), False, True),
                 F.poisson_nll_loss(x.abs(), t.abs(), False, True))


def test_softmax_dtype_argument_casts_first_as_torch():
    x = torch.randn(2, 3).half()
    for ours, theirs in [(L.softmax, F.softmax), (L.log_softmax, F.log_softmax)]:
        got, expected = ours(x, 1, dtype=torch.float64), theirs(x, 1, dtype=torch.float64)
        assert got.dtype == torch.float64
        assert_close(got, expected)


# ---------------------------------------------------------------- one test per row of the table
def test_kl_div_default_reduction_is_batchmean_not_torchs_mean():
    log_q, p = torch.randn(4, 3).log_softmax(1), torch.randn(4, 3).softmax(1)
    assert_close(L.kl_div(log_q, p), F.kl_div(log_q, p, reduction="batchmean"))


def test_kl_div_mean_raises_where_torch_warns():
    log_q, p = torch.randn(4, 3).log_softmax(1), torch.randn(4, 3).softmax(1)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(log_q, p, reduction="mean")
    with pytest.raises(ValueError, match="expected reduction='batchmean'"):
        L.kl_div(log_q, p, reduction="mean")


def test_kl_div_with_probabilities_as_input_raises_where_torch_returns_a_wrong_number():
    p = torch.randn(4, 3).softmax(1)
    F.kl_div(p, p, reduction="batchmean")  # no error in torch
    with pytest.raises(ValueError, match="expected input to be log-probabilities"):
        L.kl_div(p, p)


def test_kl_div_zero_target_with_minus_inf_input_is_zero_where_torch_gives_nan():
    x, t = torch.tensor([-float("inf"), 0.0]), torch.tensor([0.0, 1.0], requires_grad=True)
    assert torch.isnan(F.kl_div(x, t, reduction="sum"))
    loss = L.kl_div(x, t, reduction="sum")
    assert loss.item() == 0.0
    (grad,) = torch.autograd.grad(L.kl_div(torch.tensor([-1.0, -0.5]), t, reduction="sum"), t)
    assert grad[0].item() == -float("inf")  # the one-sided limit of log t + 1 - x at t = 0


def test_softmax_dim_defaults_to_the_last_where_torch_warns_about_an_implicit_dim():
    x = torch.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        F.softmax(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(L.softmax(x), F.softmax(x, dim=-1))


def test_shape_mismatch_raises_where_torch_warns_and_broadcasts():
    x, t = torch.randn(5, 1), torch.randn(5)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, t)
    with pytest.raises(ValueError, match=r"squeeze the last dimension of input"):
        L.mse_loss(x, t)


def test_regression_weight_broadcasts_where_torch_requires_the_input_shape():
    x, t, w = torch.randn(3, 4), torch.randn(3, 4), torch.rand(4)
    with pytest.raises(ValueError, match="same size"):
        F.mse_loss(x, t, weight=w)
    assert_close(L.mse_loss(x, t, weight=w), F.mse_loss(x, t, weight=w.expand(3, 4)))


def test_mean_of_an_empty_batch_raises_where_torch_gives_nan():
    assert torch.isnan(F.mse_loss(torch.empty(0), torch.empty(0)))
    with pytest.raises(ValueError, match="the batch is empty"):
        L.mse_loss(torch.empty(0), torch.empty(0))


def test_mean_with_every_target_ignored_raises_where_torch_gives_nan():
    x, y = torch.randn(3, 4), torch.full((3,), -100)
    assert torch.isnan(F.cross_entropy(x, y))
    with pytest.raises(ValueError, match="weights sum to 0"):
        L.cross_entropy(x, y)


def test_nan_target_raises_where_torch_gives_nan():
    x, t = torch.randn(3), torch.tensor([0.0, float("nan"), 1.0])
    assert torch.isnan(F.mse_loss(x, t))
    with pytest.raises(ValueError, match="expected target to contain only finite numbers"):
        L.mse_loss(x, t)


def test_negative_label_smoothing_raises_where_torch_accepts_it():
    x, y = torch.randn(3, 4), torch.tensor([0, 1, 2])
    F.cross_entropy(x, y, label_smoothing=-0.1)
    with pytest.raises(ValueError, match=r"expected label_smoothing in \[0, 1\], got -0.1"):
        L.cross_entropy(x, y, label_smoothing=-0.1)


def test_soft_margin_labels_other_than_plus_minus_one_raise_where_torch_accepts_them():
    x, y = torch.zeros(2), torch.tensor([0.0, 1.0])
    F.soft_margin_loss(x, y)
    with pytest.raises(ValueError, match=r"expected target labels in \{-1, \+1\}, got 0"):
        L.soft_margin_loss(x, y)


def test_negative_poisson_counts_raise_where_torch_returns_a_number():
    x, y = torch.randn(3), -torch.ones(3)
    assert torch.isfinite(F.poisson_nll_loss(x, y))
    with pytest.raises(ValueError, match="expected target counts >= 0"):
        L.poisson_nll_loss(x, y)


def test_weight_requiring_grad_raises_value_error_where_torch_raises_runtime_error():
    x, y, w = torch.randn(3, 4), torch.tensor([0, 1, 2]), torch.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.cross_entropy(x, y, weight=w)
    with pytest.raises(ValueError, match=r"expected weight not to require grad .*weight.detach\(\)"):
        L.cross_entropy(x, y, weight=w)


def test_checks_under_compile_raise_runtime_error_from_assert_async():
    torch._dynamo.reset()
    compiled = torch.compile(L.nll_loss, fullgraph=True, backend="eager")
    with pytest.raises(RuntimeError, match="lossfns: expected target class indices in"):
        compiled(torch.randn(2, 3).log_softmax(1), torch.tensor([0, 5]))
    torch._dynamo.reset()


def test_float16_class_index_mean_over_many_targets_is_finite_where_torch_gives_nan():
    x, y = torch.full((70_000, 2), -1.0, dtype=torch.float16), torch.zeros(70_000, dtype=torch.long)
    assert torch.isnan(F.nll_loss(x, y))  # inf / inf: both sums overflow float16
    assert L.nll_loss(x, y).item() == 1.0


def test_float16_soft_margin_is_finite_where_torch_overflows():
    x, y = torch.tensor([-12.0], dtype=torch.float16), torch.tensor([1.0], dtype=torch.float16)
    assert torch.isinf(F.soft_margin_loss(x, y))
    assert torch.isfinite(L.soft_margin_loss(x, y))


def test_multi_margin_float16_and_second_derivative_work_where_torch_has_none():
    x, y = torch.randn(3, 4, dtype=torch.float16), torch.tensor([0, 1, 2])
    with pytest.raises(RuntimeError, match="not implemented"):
        F.multi_margin_loss(x, y)
    assert_close(L.multi_margin_loss(x, y).float(), F.multi_margin_loss(x.float(), y), rtol=1e-2, atol=1e-3)
    z = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(F.multi_margin_loss(z, y, p=2), z, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.autograd.grad(grad.sum(), z)
    assert torch.autograd.gradgradcheck(lambda v: L.multi_margin_loss(v, y, p=2), (z,))
