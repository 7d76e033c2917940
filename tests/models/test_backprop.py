"""Tests for lossfns.models.backprop and lossfns.data.worked_network.

References: torch.autograd on an equivalent torch computation (float64), the closed
forms of the course for the worked 4-3-4 network (written here from scratch with
Python floats), and central differences (lossfns.gradcheck).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lossfns.data import worked_network as wn
from lossfns.gradcheck import assert_gradients_close
from lossfns.models import Network, Trace, sigmoid

XOR_X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
XOR_T = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
XOR_CLASSES = torch.tensor([0, 1, 1, 0])


# -- an independent reference: the same network written with torch ops and autograd ------------------

def autograd_reference(params, x, t, output, weight_decay=0.0):
    """Loss and gradients of the same network computed by torch.autograd (mean over the batch)."""
    leaves = {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}
    num_layers = sum(name.startswith("W") for name in leaves)
    h = x.reshape(-1, x.shape[-1])
    for l in range(1, num_layers + 1):
        z = F.linear(h, leaves[f"W{l}"], leaves.get(f"b{l}"))
        h = z if (l == num_layers and output == "softmax_ce") else torch.sigmoid(z)
    if output == "sigmoid_mse":
        loss = 0.5 * ((h - t.reshape(h.shape)) ** 2).sum(dim=1).mean()
    else:
        loss = F.cross_entropy(h, t.reshape(-1) if not t.is_floating_point() else t.reshape(h.shape))
    loss = loss + 0.5 * weight_decay * sum((w ** 2).sum() for n, w in leaves.items() if n.startswith("W"))
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads))


def random_problem(sizes, output, batch, seed, class_targets=False):
    """Inputs and targets for a network of the given sizes; batch None means one 1-D example."""
    g = torch.Generator().manual_seed(seed)
    n = 1 if batch is None else batch
    x = torch.randn(n, sizes[0], generator=g, dtype=torch.float64)
    if output == "sigmoid_mse":
        t = torch.rand(n, sizes[-1], generator=g, dtype=torch.float64)
    elif class_targets:
        t = torch.randint(0, sizes[-1], (n,), generator=g)
    else:
        t = torch.softmax(torch.randn(n, sizes[-1], generator=g, dtype=torch.float64), dim=-1)
    if batch is None:
        x, t = x[0], t[0]
    return x, t


# -- hand-written backward equals autograd ---------------------------------------------------------------

@pytest.mark.parametrize("sizes", [[1, 1], [4, 3, 4], [3, 5, 2, 3], [2, 4, 4, 4, 2]])
@pytest.mark.parametrize("output", ["sigmoid_mse", "softmax_ce"])
@pytest.mark.parametrize("batch", [None, 1, 7])
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_autograd(sizes, output, batch, bias):
    net = Network(sizes, output=output, bias=bias, seed=3)
    x, t = random_problem(sizes, output, batch, seed=4)
    expected_loss, expected = autograd_reference(net.params, x, t, output)
    tr = net.trace(x, t)
    torch.testing.assert_close(tr.loss, expected_loss, rtol=1e-12, atol=1e-14)
    assert tr.grads.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(tr.grads[name], expected[name], rtol=1e-10, atol=1e-13)


@settings(max_examples=40)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       output=st.sampled_from(["sigmoid_mse", "softmax_ce"]),
       batch=st.one_of(st.none(), st.integers(1, 6)),
       bias=st.booleans(), class_targets=st.booleans(), seed=st.integers(0, 2**16))
def test_gradients_match_autograd_property(sizes, output, batch, bias, class_targets, seed):
    net = Network(sizes, output=output, bias=bias, seed=seed)
    x, t = random_problem(sizes, output, batch, seed + 1, class_targets)
    expected_loss, expected = autograd_reference(net.params, x, t, output)
    torch.testing.assert_close(net.loss(x, t), expected_loss, rtol=1e-12, atol=1e-14)
    got = net.gradients(x, t)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-10, atol=1e-13)


def test_input_gradient_dE_do0_matches_autograd():
    net = Network([3, 4, 2], seed=1)
    x, t = random_problem([3, 4, 2], "sigmoid_mse", 5, seed=2)
    xr = x.clone().requires_grad_(True)
    h = torch.sigmoid(F.linear(torch.sigmoid(F.linear(xr, net.params["W1"], net.params["b1"])),
                               net.params["W2"], net.params["b2"]))
    (grad_x,) = torch.autograd.grad(0.5 * ((h - t) ** 2).sum(dim=1).mean(), xr)
    torch.testing.assert_close(net.trace(x, t).dE_do[0], grad_x, rtol=1e-10, atol=1e-14)


def test_batch_error_is_mean_of_per_example_errors():
    net = Network([3, 4, 2], seed=5)
    x, t = random_problem([3, 4, 2], "sigmoid_mse", 6, seed=6)
    singles = [net.trace(x[n], t[n]) for n in range(6)]
    batch = net.trace(x, t)
    torch.testing.assert_close(batch.loss, torch.stack([s.loss for s in singles]).mean())
    for name in net.params:
        torch.testing.assert_close(batch.grads[name], torch.stack([s.grads[name] for s in singles]).mean(0))


def test_trace_relations_between_layers():
    net = Network([3, 4, 5, 2], seed=7)
    x, t = random_problem([3, 4, 5, 2], "sigmoid_mse", 3, seed=8)
    tr = net.trace(x, t)
    assert isinstance(tr, Trace) and len(tr.o) == len(tr.net) == len(tr.delta) == len(tr.dE_do) == 4
    assert tr.net[0] is None and tr.delta[0] is None
    torch.testing.assert_close(tr.o[0], x)
    torch.testing.assert_close(tr.dE_do[3], (tr.o[3] - t) / 3)
    for l in range(1, 4):
        torch.testing.assert_close(tr.net[l], tr.o[l - 1] @ net.params[f"W{l}"].T + net.params[f"b{l}"])
        torch.testing.assert_close(tr.o[l], 1 / (1 + torch.exp(-tr.net[l])))
        torch.testing.assert_close(tr.delta[l], tr.dE_do[l] * tr.o[l] * (1 - tr.o[l]))
        torch.testing.assert_close(tr.grads[f"W{l}"], tr.delta[l].T @ tr.o[l - 1])
        torch.testing.assert_close(tr.dE_do[l - 1], tr.delta[l] @ net.params[f"W{l}"])


def test_single_example_trace_is_one_dimensional_and_equals_batch_of_one():
    net = Network([3, 2, 2], seed=0)
    x, t = random_problem([3, 2, 2], "sigmoid_mse", None, seed=1)
    one, batch = net.trace(x, t), net.trace(x[None], t[None])
    assert all(v.dim() == 1 for v in one.o) and one.target.shape == (2,)
    for name in net.params:
        torch.testing.assert_close(one.grads[name], batch.grads[name])
    torch.testing.assert_close(net.forward(x), batch.o[-1][0])


def test_backward_uses_no_autograd_graph():
    net = Network([2, 3, 2], seed=0)
    for p in net.params.values():
        p.requires_grad_(True)
    x, t = random_problem([2, 3, 2], "sigmoid_mse", 4, seed=1)
    tr = net.trace(x, t)
    assert not tr.loss.requires_grad
    assert all(not g.requires_grad for g in tr.grads.values())


# -- the worked 4-3-4 network: closed forms of the course, written here with Python floats -----------------

def closed_forms():
    """o_j for units 1..11 and the weights W[(j, k)] from the documented layout, in plain floats."""
    S = lambda v: 1.0 / (1.0 + math.exp(-v))
    o = {k: wn.INPUTS[k - 8] for k in range(8, 12)}
    W = {(j, k): wn.W1[j - 5][k - 8] for j in range(5, 8) for k in range(8, 12)}
    W |= {(j, k): wn.W2[j - 1][k - 5] for j in range(1, 5) for k in range(5, 8)}
    for j in range(5, 8):
        o[j] = S(sum(W[j, k] * o[k] for k in range(8, 12)))
    for j in range(1, 5):
        o[j] = S(sum(W[j, k] * o[k] for k in range(5, 8)))
    t = {j: wn.TARGETS[j - 1] for j in range(1, 5)}
    return o, W, t


def test_worked_example_error_and_output_weight_closed_form():
    o, _W, t = closed_forms()
    tr = wn.worked_example()
    E = 0.5 * sum((o[k] - t[k]) ** 2 for k in range(1, 5))
    dE_dW16 = (o[1] - t[1]) * o[1] * (1 - o[1]) * o[6]
    param, index = wn.weight_index("W_16")
    assert (param, index) == ("W2", (0, 1))
    assert tr.loss.item() == pytest.approx(E, rel=1e-13)
    assert tr.grads[param][index].item() == pytest.approx(dE_dW16, rel=1e-12)


def test_worked_example_hidden_weight_closed_form():
    o, W, t = closed_forms()
    tr = wn.worked_example()
    dE_do6 = sum((o[k] - t[k]) * o[k] * (1 - o[k]) * W[k, 6] for k in range(1, 5))
    dE_dW68 = dE_do6 * o[6] * (1 - o[6]) * o[8]
    layer, i = wn.unit_index("o6")
    assert tr.dE_do[layer][i].item() == pytest.approx(dE_do6, rel=1e-12)
    param, index = wn.weight_index("W_68")
    assert (param, index) == ("W1", (1, 0))
    assert tr.grads[param][index].item() == pytest.approx(dE_dW68, rel=1e-12)


def test_worked_example_every_weight_and_unit_matches_closed_form():
    o, W, t = closed_forms()
    tr = wn.worked_example()
    delta = {k: (o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(1, 5)}
    delta |= {j: sum(delta[k] * W[k, j] for k in range(1, 5)) * o[j] * (1 - o[j]) for j in range(5, 8)}
    for j in range(1, 12):
        layer, i = wn.unit_index(j)
        assert tr.o[layer][i].item() == pytest.approx(o[j], rel=1e-13)
        if j < 8:
            assert tr.delta[layer][i].item() == pytest.approx(delta[j], rel=1e-12)
    for (j, k), value in W.items():
        param, index = wn.weight_index(j, k)
        assert wn.worked_network().params[param][index].item() == value
        assert tr.grads[param][index].item() == pytest.approx(delta[j] * o[k], rel=1e-12, abs=1e-15)


def test_worked_example_matches_autograd_and_finite_differences():
    net = wn.worked_network()
    x, t = wn.worked_data()
    _, expected = autograd_reference(net.params, x, t, "sigmoid_mse")
    grads = net.gradients(x, t)
    for name in expected:
        torch.testing.assert_close(grads[name], expected[name], rtol=1e-12, atol=1e-15)
    assert_gradients_close(lambda p: net.loss(x, t, params=p), net.params, grads)


def test_worked_network_has_documented_shapes_and_no_biases():
    net = wn.worked_network()
    assert net.sizes == [4, 3, 4] and not net.bias and net.output == "sigmoid_mse"
    assert net.params["W1"].shape == (3, 4) and net.params["W2"].shape == (4, 3)
    assert net.params["W1"].dtype == torch.float64


def test_worked_network_copies_are_independent():
    a = wn.worked_network()
    x, t = wn.worked_data()
    a.fit(x, t, lr=1.0, epochs=3)
    torch.testing.assert_close(wn.worked_network().params["W1"], torch.tensor(wn.W1, dtype=torch.float64))


def test_unit_index_and_unit_name_round_trip():
    assert wn.unit_index("o1") == (2, 0) and wn.unit_index("o7") == (1, 2) and wn.unit_index(11) == (0, 3)
    for j in range(1, 12):
        assert wn.unit_name(*wn.unit_index(j)) == f"o{j}"


def test_weight_index_accepts_names_with_and_without_separators():
    assert wn.weight_index("W16") == wn.weight_index("W_16") == wn.weight_index(1, 6) == ("W2", (0, 1))
    assert wn.weight_index("W_6,11") == wn.weight_index("W_611") == wn.weight_index(6, 11) == ("W1", (1, 3))


def test_weight_index_in_from_to_order_raises_with_hint():
    with pytest.raises(ValueError, match=r"W\[to, from\], so the weight from o8 into o6 is W_6,8"):
        wn.weight_index("W_86")


def test_weight_index_between_unconnected_layers_raises():
    with pytest.raises(ValueError, match="o9 is in layer 0 and o1 in layer 2"):
        wn.weight_index(1, 9)


def test_unknown_unit_raises():
    with pytest.raises(ValueError, match="expected a unit o1..o11"):
        wn.unit_index("o12")


def test_unreadable_weight_name_raises():
    with pytest.raises(ValueError, match="expected a weight name like 'W_16'"):
        wn.weight_index("weight 1 6")


# -- softmax + cross-entropy -----------------------------------------------------------------------------

def test_softmax_ce_output_delta_is_p_minus_t_over_batch():
    net = Network([3, 4, 5], output="softmax_ce", seed=2)
    x, t = random_problem([3, 4, 5], "softmax_ce", 6, seed=3)
    tr = net.trace(x, t)
    P = net.params
    p = torch.softmax(F.linear(torch.sigmoid(F.linear(x, P["W1"], P["b1"])), P["W2"], P["b2"]), dim=-1)
    torch.testing.assert_close(tr.o[2], p)
    torch.testing.assert_close(tr.delta[2], (p - t) / 6)
    zeros = torch.zeros(6, dtype=torch.float64)
    torch.testing.assert_close(tr.delta[2].sum(dim=-1), zeros, atol=1e-15, rtol=0)
    assert tr.dE_do[2] is None


def test_softmax_ce_delta_matches_autograd_on_logits():
    net = Network([3, 4, 5], output="softmax_ce", seed=2)
    x, t = random_problem([3, 4, 5], "softmax_ce", None, seed=3)
    tr = net.trace(x, t)
    z = tr.net[2].clone().requires_grad_(True)
    (grad_z,) = torch.autograd.grad(-(t * torch.log_softmax(z, dim=-1)).sum(), z)
    torch.testing.assert_close(tr.delta[2], grad_z)
    torch.testing.assert_close(tr.delta[2], tr.o[2] - t)


def test_softmax_ce_class_indices_equal_one_hot_targets():
    net = Network([3, 4, 5], output="softmax_ce", seed=2)
    x, _ = random_problem([3, 4, 5], "softmax_ce", 4, seed=3)
    classes = torch.tensor([0, 4, 2, 2])
    a, b = net.trace(x, classes), net.trace(x, torch.eye(5, dtype=torch.float64)[classes])
    torch.testing.assert_close(a.loss, b.loss)
    torch.testing.assert_close(a.loss, F.cross_entropy(a.net[2], classes))
    for name in net.params:
        torch.testing.assert_close(a.grads[name], b.grads[name])


def test_softmax_ce_extreme_logits_stay_finite():
    W = torch.tensor([[1000.0], [-1000.0]], dtype=torch.float64)
    net = Network.from_weights([W], output="softmax_ce")
    tr = net.trace(torch.tensor([1.0], dtype=torch.float64), torch.tensor(1))
    assert torch.isfinite(tr.loss) and tr.loss.item() == pytest.approx(2000.0)
    assert all(torch.isfinite(g).all() for g in tr.grads.values())


def test_sigmoid_matches_torch_and_is_finite_at_extremes():
    t = torch.tensor([-1000.0, -30.0, -1.0, 0.0, 2.0, 1000.0], dtype=torch.float64)
    torch.testing.assert_close(sigmoid(t), torch.sigmoid(t))


# -- update rule, weight decay, training -----------------------------------------------------------------

def test_step_applies_minus_lr_times_gradient():
    net = Network([3, 4, 2], seed=0)
    x, t = random_problem([3, 4, 2], "sigmoid_mse", 5, seed=1)
    before = {n: p.clone() for n, p in net.params.items()}
    grads, loss = net.gradients(x, t), net.loss(x, t)
    assert net.step(x, t, lr=0.3) == pytest.approx(loss.item())
    for name, value in before.items():
        torch.testing.assert_close(net.params[name], value - 0.3 * grads[name])


def test_weight_decay_adds_lambda_w_to_weights_only():
    net = Network([3, 4, 2], seed=0)
    x, t = random_problem([3, 4, 2], "sigmoid_mse", 5, seed=1)
    plain, decayed = net.gradients(x, t), net.gradients(x, t, weight_decay=0.1)
    for name, p in net.params.items():
        extra = 0.1 * p if name.startswith("W") else torch.zeros_like(p)
        torch.testing.assert_close(decayed[name] - plain[name], extra)
    penalty = 0.05 * sum((p ** 2).sum() for n, p in net.params.items() if n.startswith("W"))
    torch.testing.assert_close(net.loss(x, t, weight_decay=0.1), net.loss(x, t) + penalty)


@pytest.mark.parametrize("output", ["sigmoid_mse", "softmax_ce"])
def test_weight_decay_gradient_matches_autograd_and_finite_differences(output):
    net = Network([3, 4, 3], output=output, seed=0)
    x, t = random_problem([3, 4, 3], output, 4, seed=1)
    expected_loss, expected = autograd_reference(net.params, x, t, output, weight_decay=0.2)
    grads = net.gradients(x, t, weight_decay=0.2)
    torch.testing.assert_close(net.loss(x, t, weight_decay=0.2), expected_loss)
    for name in expected:
        torch.testing.assert_close(grads[name], expected[name], rtol=1e-10, atol=1e-13)
    assert_gradients_close(lambda p: net.loss(x, t, weight_decay=0.2, params=p), net.params, grads)


def test_weight_decay_shrinks_weights():
    x, t = XOR_X, XOR_T
    plain, decayed = Network([2, 4, 1], seed=0), Network([2, 4, 1], seed=0)
    plain.fit(x, t, lr=2.0, epochs=300)
    decayed.fit(x, t, lr=2.0, epochs=300, weight_decay=0.05)
    norm = lambda net: sum((p ** 2).sum() for n, p in net.params.items() if n.startswith("W"))
    assert norm(decayed) < norm(plain)


def test_xor_sigmoid_mse_is_learned():
    net = Network([2, 4, 1], seed=0)
    history = net.fit(XOR_X, XOR_T, lr=5.0, epochs=2000)
    assert len(history) == 2001
    assert history[-1] < 0.1 * history[0]
    assert torch.equal(net.predict(XOR_X), XOR_T.long())


def test_xor_softmax_ce_is_learned():
    net = Network([2, 4, 2], output="softmax_ce", seed=0)
    history = net.fit(XOR_X, XOR_CLASSES, lr=2.0, epochs=2000)
    assert history[-1] < 0.1 * history[0]
    assert torch.equal(net.predict(XOR_X), XOR_CLASSES)


def test_training_is_deterministic_given_the_seed():
    runs = [Network([2, 3, 1], seed=11).fit(XOR_X, XOR_T, lr=1.0, epochs=20) for _ in range(2)]
    assert runs[0] == runs[1]
    assert Network([2, 3, 1], seed=12).fit(XOR_X, XOR_T, lr=1.0, epochs=20) != runs[0]


def test_initial_weights_lie_in_linear_layer_range():
    net = Network([9, 16, 4], seed=0)
    assert net.params["W1"].abs().max() <= 1 / 3 and net.params["b2"].abs().max() <= 1 / 4
    assert net.params["W1"].std() > 0.1


def test_from_weights_builds_the_given_network():
    W1, b1 = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    W2, b2 = torch.randn(1, 3, dtype=torch.float64), torch.randn(1, dtype=torch.float64)
    net = Network.from_weights([W1, W2], [b1, b2])
    x = torch.randn(5, 2, dtype=torch.float64)
    torch.testing.assert_close(net(x), torch.sigmoid(torch.sigmoid(x @ W1.T + b1) @ W2.T + b2))
    assert repr(net) == "Network([2, 3, 1], output='sigmoid_mse', bias=True)"


def test_float32_inputs_are_converted_to_parameter_dtype():
    net = Network([2, 3, 1], seed=0)
    out = net.forward(torch.tensor([0.5, 1.0]))
    assert out.dtype == torch.float64


# -- errors -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes", [[3], [3, 0, 2], [2.0, 3]])
def test_invalid_sizes_raise(sizes):
    with pytest.raises(ValueError, match="expected sizes to be at least two positive integers"):
        Network(sizes)


def test_unknown_output_raises():
    with pytest.raises(ValueError, match="expected output to be one of"):
        Network([2, 2], output="relu_mae")


def test_integer_dtype_raises():
    with pytest.raises(TypeError, match="expected a floating dtype"):
        Network([2, 2], dtype=torch.int64)


def test_input_with_wrong_width_raises():
    with pytest.raises(ValueError, match=r"expected x of shape \(3,\) for one example or \(N, 3\)"):
        Network([3, 2]).forward(torch.zeros(4, 2, dtype=torch.float64))


def test_integer_input_raises():
    with pytest.raises(TypeError, match="expected x to be a floating-point tensor"):
        Network([2, 2]).forward(torch.tensor([1, 0]))


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="empty batch"):
        Network([2, 2]).loss(torch.zeros(0, 2), torch.zeros(0, 2))


def test_target_with_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"expected t of shape \(4, 1\).*got \(4,\)"):
        Network([2, 1]).loss(XOR_X, XOR_T[:, 0])


def test_nan_target_raises():
    with pytest.raises(ValueError, match="expected t to contain only finite numbers"):
        Network([2, 1]).loss(XOR_X, torch.full((4, 1), float("nan")))


def test_class_index_out_of_range_raises():
    with pytest.raises(ValueError, match=r"expected t class indices in \[0, 1\], got 2"):
        Network([2, 2], output="softmax_ce").loss(XOR_X, torch.tensor([0, 1, 2, 0]))


def test_class_indices_with_wrong_shape_raise():
    with pytest.raises(ValueError, match=r"expected class indices as int64 of shape \(4,\)"):
        Network([2, 2], output="softmax_ce").loss(XOR_X, torch.tensor([[0], [1], [1], [0]]))


def test_probability_targets_not_summing_to_one_raise():
    with pytest.raises(ValueError, match="expected each row of t to sum to 1"):
        Network([2, 2], output="softmax_ce").loss(XOR_X, torch.full((4, 2), 0.3, dtype=torch.float64))


def test_probability_targets_outside_unit_interval_raise():
    t = torch.tensor([[1.5, -0.5]] * 4, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"expected t to hold probabilities in \[0, 1\]"):
        Network([2, 2], output="softmax_ce").loss(XOR_X, t)


def test_non_positive_learning_rate_raises():
    with pytest.raises(ValueError, match="expected a positive learning rate"):
        Network([2, 1]).step(XOR_X, XOR_T, lr=0.0)


def test_negative_weight_decay_raises():
    with pytest.raises(ValueError, match="expected weight_decay >= 0"):
        Network([2, 1]).gradients(XOR_X, XOR_T, weight_decay=-0.1)


def test_from_weights_with_unchained_shapes_raises():
    with pytest.raises(ValueError, match=r"expected W2 to have 3 columns"):
        Network.from_weights([torch.zeros(3, 2), torch.zeros(1, 4)])


def test_from_weights_with_wrong_bias_shape_raises():
    with pytest.raises(ValueError, match=r"expected b1 of shape \(3,\)"):
        Network.from_weights([torch.zeros(3, 2)], [torch.zeros(2)])


def test_from_weights_with_mixed_dtypes_raises():
    with pytest.raises(TypeError, match="share one dtype"):
        Network.from_weights([torch.zeros(3, 2), torch.zeros(1, 3, dtype=torch.float64)])


def test_params_override_with_wrong_keys_raises():
    net = Network([2, 2], seed=0)
    with pytest.raises(ValueError, match=r"expected params with the keys \['W1', 'b1'\]"):
        net.loss(XOR_X, XOR_T.repeat(1, 2), params={"W1": net.params["W1"]})
