"""Tests for lossfns.models.prelu_classifier.PReLUClassifier."""

import pytest
import torch

from lossfns.models.prelu_classifier import PReLUClassifier


def manual_forward(model, x):
    """The documented formula, written out with plain tensor operations (eval mode: no dropout)."""
    h = x @ model.hidden.weight.T + model.hidden.bias
    a = model.activation.weight
    return (h.clamp(min=0) + a * h.clamp(max=0)) @ model.output.weight.T + model.output.bias


@pytest.mark.parametrize("per_channel", [True, False])
def test_prelu_classifier_matches_formula(per_channel):
    torch.manual_seed(0)
    model = PReLUClassifier(7, 5, 3, per_channel=per_channel).double().eval()
    with torch.no_grad():
        model.activation.weight.uniform_(-0.5, 1.0)  # distinct slopes, some negative
    x = torch.randn(4, 7, dtype=torch.float64)
    torch.testing.assert_close(model(x), manual_forward(model, x))


@pytest.mark.parametrize("per_channel", [True, False])
def test_prelu_classifier_activation_equals_torch_prelu(per_channel):
    torch.manual_seed(1)
    model = PReLUClassifier(6, 4, 2, per_channel=per_channel).double()
    with torch.no_grad():
        model.activation.weight.uniform_(-1, 1)
    x = torch.randn(5, 6, dtype=torch.float64)
    expected = torch.nn.functional.prelu(model.hidden(x), model.activation.weight)
    torch.testing.assert_close(model.hidden_activations(x), expected)


def test_prelu_classifier_shapes_and_slope_count():
    model = PReLUClassifier(10, 8, 3)
    assert model(torch.zeros(2, 10)).shape == (2, 3)
    assert model(torch.zeros(0, 10)).shape == (0, 3)
    assert model.slopes.shape == (8,)
    assert PReLUClassifier(10, 8, 3, per_channel=False).slopes.shape == (1,)


def test_prelu_classifier_slopes_start_at_init_and_are_learnable():
    model = PReLUClassifier(4, 3, 2, init=0.1)
    torch.testing.assert_close(model.slopes, torch.full((3,), 0.1))
    assert model.activation.weight.requires_grad
    assert any(p is model.activation.weight for p in model.parameters())


def test_prelu_classifier_slope_gradient_is_sum_of_negative_preactivations():
    torch.manual_seed(2)
    model = PReLUClassifier(5, 3, 2).double().eval()
    x = torch.randn(6, 5, dtype=torch.float64)
    model(x)[:, 0].sum().backward()
    # dPReLU(h)/da_j = min(0, h_j); chain rule through the output weight W2[0, j].
    h = model.hidden(x).detach()
    expected = (h.clamp(max=0) * model.output.weight[0].detach()).sum(dim=0)
    torch.testing.assert_close(model.activation.weight.grad, expected)


def test_prelu_classifier_slopes_is_a_detached_copy():
    model = PReLUClassifier(4, 3, 2)
    slopes = model.slopes
    slopes += 1
    assert not slopes.requires_grad
    torch.testing.assert_close(model.slopes, torch.full((3,), 0.25))


def test_prelu_classifier_dropout_only_in_training_mode():
    torch.manual_seed(0)
    model = PReLUClassifier(6, 50, 2, dropout=0.5).double()
    x = torch.randn(3, 6, dtype=torch.float64)
    model.eval()
    torch.testing.assert_close(model(x), manual_forward(model, x))
    model.train()
    assert not torch.allclose(model(x), manual_forward(model, x))


@pytest.mark.parametrize("args, kwargs, message", [
    ((0, 4, 2), {}, "expected vocab_size to be an int >= 1, got 0"),
    ((5, 0, 2), {}, "expected hidden to be an int >= 1, got 0"),
    ((5, 4, 2.0), {}, "expected num_classes to be an int >= 1, got 2.0"),
    ((5, 4, 2), {"dropout": 1.0}, r"expected dropout in \[0, 1\), got 1.0"),
    ((5, 4, 2), {"dropout": -0.1}, r"expected dropout in \[0, 1\), got -0.1"),
])
def test_prelu_classifier_rejects_bad_sizes(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PReLUClassifier(*args, **kwargs)


def test_relu_and_linear_baselines_match_their_formulas():
    torch.manual_seed(3)
    x = torch.randn(4, 7, dtype=torch.float64)
    relu = PReLUClassifier(7, 5, 3, activation="relu").double().eval()
    h = x @ relu.hidden.weight.T + relu.hidden.bias
    torch.testing.assert_close(relu(x), h.clamp(min=0) @ relu.output.weight.T + relu.output.bias)
    linear = PReLUClassifier(7, 5, 3, activation="linear").double().eval()
    # Without a non-linearity the network collapses to one affine map: W2 W1 x + (W2 b1 + b2).
    W1, b1, W2, b2 = linear.hidden.weight, linear.hidden.bias, linear.output.weight, linear.output.bias
    torch.testing.assert_close(linear(x), x @ (W2 @ W1).T + (W2 @ b1 + b2))
    assert relu.activation_name == "relu" and linear.activation_name == "linear"
    assert PReLUClassifier(7, 5, 3).activation_name == "prelu"


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_baselines_have_no_slopes_and_the_same_other_parameters(activation):
    model = PReLUClassifier(7, 5, 3, activation=activation)
    prelu = PReLUClassifier(7, 5, 3)
    assert sum(p.numel() for p in prelu.parameters()) - sum(p.numel() for p in model.parameters()) == 5
    with pytest.raises(ValueError, match=f"expected a model with activation='prelu' to have learned slopes, "
                                         f"got activation='{activation}'"):
        _ = model.slopes


def test_prelu_classifier_rejects_unknown_activation():
    with pytest.raises(ValueError, match=r"expected activation in \('prelu', 'relu', 'linear'\), got 'tanh'"):
        PReLUClassifier(5, 3, 2, activation="tanh")


def test_prelu_classifier_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 5\), got \(2, 4\)"):
        PReLUClassifier(5, 3, 2)(torch.zeros(2, 4))
