"""Tests for lossfns.gradcheck: central differences against closed-form derivatives, and
explanatory failures on deliberately wrong backward passes of the worked backprop network."""

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossfns.data.worked_network import weight_index, worked_data, worked_network
from lossfns.gradcheck import GradCheckReport, assert_gradients_close, check_gradients, numerical_gradient
from lossfns.models import Network

f64 = {"dtype": torch.float64}


def quadratic_problem():
    """f(A, b) = sum(sin(A v) + b**2 * c) with closed-form gradients."""
    g = torch.Generator().manual_seed(0)
    A, b = torch.randn(2, 3, generator=g, **f64), torch.randn(2, generator=g, **f64)
    v, c = torch.tensor([0.5, -1.0, 2.0], **f64), torch.tensor([1.0, 3.0], **f64)
    loss = lambda p: (torch.sin(p["A"] @ v) + p["b"] ** 2 * c).sum()
    grads = {"A": torch.cos(A @ v)[:, None] * v[None, :], "b": 2 * b * c}
    return loss, {"A": A, "b": b}, grads


def wrong_backward_no_output_sigmoid_derivative(net, x, t):
    """A typical student bug: the output delta is o - t, without the factor o(1 - o)."""
    W2 = net.params["W2"]
    h = torch.sigmoid(net.params["W1"] @ x)
    o = torch.sigmoid(W2 @ h)
    delta_out = o - t                                    # bug: missing * o * (1 - o)
    delta_hidden = (W2.T @ delta_out) * h * (1 - h)
    return {"W1": torch.outer(delta_hidden, x), "W2": torch.outer(delta_out, h)}


def wrong_backward_no_hidden_sigmoid_derivative(net, x, t):
    """Another bug: the hidden delta forgets o(1 - o); the output layer is right."""
    W2 = net.params["W2"]
    h = torch.sigmoid(net.params["W1"] @ x)
    o = torch.sigmoid(W2 @ h)
    delta_out = (o - t) * o * (1 - o)
    delta_hidden = W2.T @ delta_out                      # bug: missing * h * (1 - h)
    return {"W1": torch.outer(delta_hidden, x), "W2": torch.outer(delta_out, h)}


# -- numerical_gradient ---------------------------------------------------------------------------------

def test_numerical_gradient_matches_closed_form():
    x = torch.tensor([[0.3, -1.2], [2.0, 0.7]], **f64)
    g = numerical_gradient(lambda v: (torch.exp(v) * v ** 3).sum(), x)
    torch.testing.assert_close(g, torch.exp(x) * (x ** 3 + 3 * x ** 2), rtol=1e-8, atol=1e-10)


@settings(max_examples=30)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6))
def test_numerical_gradient_of_log_sum_exp_is_softmax(values):
    x = torch.tensor(values, **f64)
    g = numerical_gradient(lambda v: torch.logsumexp(v, dim=0), x)
    torch.testing.assert_close(g, torch.softmax(x, dim=0), rtol=1e-7, atol=1e-9)


def test_numerical_gradient_is_central_not_forward_difference():
    # For f = x**2 the central difference is exact up to rounding; a forward one is off by eps.
    g = numerical_gradient(lambda v: (v ** 2).sum(), torch.tensor([1.0], **f64), eps=1e-3)
    assert g.item() == pytest.approx(2.0, abs=1e-9)


def test_numerical_gradient_accepts_float_return_and_leaves_x_unchanged():
    x = torch.tensor([1.0, 2.0], **f64)
    saved = x.clone()
    g = numerical_gradient(lambda v: float(v[0] * v[1]), x)
    torch.testing.assert_close(g, torch.tensor([2.0, 1.0], **f64))
    assert torch.equal(x, saved)


def test_numerical_gradient_rejects_float32():
    with pytest.raises(TypeError, match=r"expected x to be float64.*got torch.float32"):
        numerical_gradient(lambda v: v.sum(), torch.ones(2))


def test_numerical_gradient_rejects_non_positive_eps():
    with pytest.raises(ValueError, match="expected a positive step eps"):
        numerical_gradient(lambda v: v.sum(), torch.ones(2, **f64), eps=0.0)


def test_numerical_gradient_rejects_non_scalar_function():
    with pytest.raises(ValueError, match=r"expected the function to return a scalar, got a tensor of shape"):
        numerical_gradient(lambda v: v * 2, torch.ones(2, **f64))


# -- check_gradients / assert_gradients_close -----------------------------------------------------------

def test_check_gradients_passes_on_closed_form_gradients():
    loss, params, grads = quadratic_problem()
    report = check_gradients(loss, params, grads)
    assert isinstance(report, GradCheckReport) and report.passed and bool(report) and report.failed == []
    assert all(c.rel_error < 1e-7 for c in report.checks.values())
    torch.testing.assert_close(report.numeric["A"], grads["A"], rtol=1e-8, atol=1e-10)


def test_check_gradients_does_not_modify_params():
    loss, params, grads = quadratic_problem()
    saved = {n: p.clone() for n, p in params.items()}
    check_gradients(loss, params, grads)
    assert all(torch.equal(params[n], saved[n]) for n in params)


def test_single_wrong_entry_is_located_exactly():
    loss, params, grads = quadratic_problem()
    wrong = {n: g.clone() for n, g in grads.items()}
    wrong["A"][1, 2] += 0.5
    report = check_gradients(loss, params, wrong)
    check = report.checks["A"]
    assert report.failed == ["A"] and check.num_failed == 1 and check.index == (1, 2)
    assert check.analytic == pytest.approx(grads["A"][1, 2].item() + 0.5)
    assert check.numeric == pytest.approx(grads["A"][1, 2].item(), rel=1e-7)
    assert check.abs_error == pytest.approx(0.5, rel=1e-7)
    assert check.rel_error == pytest.approx(0.5 / max(abs(check.analytic), abs(check.numeric)))


def test_assert_gradients_close_message_names_parameter_entry_and_values():
    loss, params, grads = quadratic_problem()
    wrong = {n: g.clone() for n, g in grads.items()}
    wrong["b"][1] = 0.0
    numeric = 6 * params["b"][1].item()
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(loss, params, wrong)
    message = str(info.value)
    assert message.startswith("wrong gradient for b: b[1]: analytic 0, ")
    assert float(re.search(r"numerical (\S+),", message)[1]) == pytest.approx(numeric, rel=1e-8)
    assert "relative error 1 " in message and "1 of 2 entries disagree" in message


def test_tolerances_follow_allclose_rule():
    w = torch.tensor([2.0], **f64)
    loss = lambda p: (p["w"] ** 2).sum()
    assert check_gradients(loss, {"w": w}, {"w": w * 2 + 0.9e-3}, rtol=0.0, atol=1e-3).passed
    assert not check_gradients(loss, {"w": w}, {"w": w * 2 + 1.1e-3}, rtol=0.0, atol=1e-3).passed
    assert check_gradients(loss, {"w": w}, {"w": w * 2 * (1 + 0.9e-3)}, rtol=1e-3, atol=0.0).passed
    assert not check_gradients(loss, {"w": w}, {"w": w * 2 * (1 + 1.1e-3)}, rtol=1e-3, atol=0.0).passed


def test_nan_in_analytic_gradient_fails():
    loss, params, grads = quadratic_problem()
    grads["A"][0, 0] = float("nan")
    report = check_gradients(loss, params, grads)
    assert report.failed == ["A"] and report.checks["A"].index == (0, 0)


def test_report_text_lists_every_parameter():
    loss, params, grads = quadratic_problem()
    text = str(check_gradients(loss, params, grads))
    assert text.startswith("gradient check passed") and "\n  A[" in text and "\n  b[" in text


def test_missing_gradient_raises():
    loss, params, grads = quadratic_problem()
    with pytest.raises(ValueError, match=r"missing \['b'\] and unexpected \['c'\]"):
        check_gradients(loss, params, {"A": grads["A"], "c": grads["b"]})


def test_gradient_shape_mismatch_raises():
    loss, params, grads = quadratic_problem()
    expected = r"gradient of 'A' to have the shape of the parameter \(2, 3\), got \(3, 2\)"
    with pytest.raises(ValueError, match=expected):
        check_gradients(loss, params, {"A": grads["A"].T, "b": grads["b"]})


def test_float32_gradient_raises():
    loss, params, grads = quadratic_problem()
    with pytest.raises(TypeError, match=r"expected analytic\['b'\] to be float64"):
        check_gradients(loss, params, {"A": grads["A"], "b": grads["b"].float()})


def test_non_tensor_param_raises():
    with pytest.raises(TypeError, match=r"expected params\['w'\] to be a torch.Tensor"):
        check_gradients(lambda p: 0.0, {"w": [1.0]}, {"w": torch.ones(1, **f64)})


# -- the backprop network -------------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["sigmoid_mse", "softmax_ce"])
@pytest.mark.parametrize("sizes", [[3, 2], [2, 3, 2], [3, 2, 2, 3]])
def test_network_gradients_pass_the_check(sizes, output):
    net = Network(sizes, output=output, seed=1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, sizes[0], generator=g, **f64)
    t = torch.randint(0, sizes[-1], (3,), generator=g) if output == "softmax_ce" \
        else torch.rand(3, sizes[-1], generator=g, **f64)
    report = assert_gradients_close(lambda p: net.loss(x, t, params=p), net.params, net.gradients(x, t))
    assert report.passed and set(report.checks) == set(net.params)


def test_missing_output_sigmoid_derivative_is_caught_and_named():
    net = worked_network()
    x, t = worked_data()
    wrong = wrong_backward_no_output_sigmoid_derivative(net, x, t)
    report = check_gradients(lambda p: net.loss(x, t, params=p), net.params, wrong)
    assert set(report.failed) == {"W1", "W2"}
    with pytest.raises(AssertionError, match=r"wrong gradient for W2: W2\[\d, \d\]: analytic -?\d"):
        assert_gradients_close(lambda p: net.loss(x, t, params=p), net.params, wrong)
    # The wrong W_16 is (o1 - t1) o6, larger by the factor 1 / (o1 (1 - o1)) than the true one.
    param, index = weight_index("W_16")
    o1 = net.forward(x)[0].item()
    ratio = wrong[param][index].item() / report.numeric[param][index].item()
    assert ratio == pytest.approx(1 / (o1 * (1 - o1)), rel=1e-6)


def test_missing_hidden_sigmoid_derivative_is_caught_in_w1_only():
    net = worked_network()
    x, t = worked_data()
    wrong = wrong_backward_no_hidden_sigmoid_derivative(net, x, t)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(lambda p: net.loss(x, t, params=p), net.params, wrong)
    message = str(info.value)
    assert message.startswith("wrong gradient for W1: W1[")
    assert "wrong gradient for W2" not in message
    assert "12 of 12 entries disagree" in message


def test_worked_example_gradient_check_reports_tiny_errors():
    net = worked_network()
    x, t = worked_data()
    report = check_gradients(lambda p: net.loss(x, t, params=p), net.params, net.gradients(x, t))
    assert report.passed
    assert max(c.abs_error for c in report.checks.values()) < 1e-9
    assert math.isfinite(report.checks["W1"].rel_error)
