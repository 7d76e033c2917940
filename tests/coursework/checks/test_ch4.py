"""Tests of the chapter 4 checks (coursework.checks.ch4): backpropagation written by hand.

A correct solution, written in several styles, passes every behaviour in both languages; each typical
mistake fails exactly the behaviours meant to catch it and is named; autograd, library layers and
numerical differentiation score 0 with a reason; the released stub scores 0. The references are checked
against independent values: the worked numbers of the chapter computed here with Python floats, central
differences (lossfns.gradcheck) of losses written here with torch ops, and torch.autograd through
torch.nn.functional.cross_entropy.
"""

import math

import pytest
import torch
import torch.nn.functional as TF
from checkkit import failing, of_function, stub, verdicts

from coursework.checks import ch4
from coursework.grading import Case, Checker
from coursework.grading.seed import instructor_seed
from coursework.grading.verdict import cases_of
from lossfns.data import worked_network as wn
from lossfns.gradcheck import numerical_gradient

LANGUAGES = ("es", "en")
BY_ID = {b.grade_id: b for b in ch4.BEHAVIOURS}


# -- a correct solution, written with torch primitives only ----------------------------------------------

def sigmoid_derivative(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


def _check_shapes(x, t, W1, W2):
    n, k = x.shape[0], W2.shape[0]
    if x.dim() != 2 or W1.shape[1] != x.shape[1] or W2.shape[1] != W1.shape[0] or t.shape != (n, k):
        raise ValueError(f"shapes do not fit: x {tuple(x.shape)}, t {tuple(t.shape)}, "
                         f"W1 {tuple(W1.shape)}, W2 {tuple(W2.shape)}")


def backprop(x, t, W1, W2):
    _check_shapes(x, t, W1, W2)
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    E = 0.5 * ((o - t) ** 2).sum() / n
    delta2 = (o - t) * o * (1 - o) / n
    delta1 = (delta2 @ W2) * h * (1 - h)
    return E, delta1.T @ x, delta2.T @ h


def _one_hot(target, like):
    y = torch.zeros_like(like)
    y[torch.arange(len(target)), target] = 1
    return y


def _softmax(logits):
    e = (logits - logits.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)


def weighted_cross_entropy_grad(logits, target, weight):
    w = weight[target].to(logits.dtype)
    return w[:, None] * (_softmax(logits) - _one_hot(target, logits)) / w.sum()


CORRECT = {"sigmoid_derivative": sigmoid_derivative, "backprop": backprop,
           "weighted_cross_entropy_grad": weighted_cross_entropy_grad}


# -- the same, in other styles ---------------------------------------------------------------------------

def sigmoid_derivative_exp(z):
    s = 1 / (1 + torch.exp(-z.clamp(min=-80)))  # clamp keeps exp(-z) finite; S' is 0 there anyway
    return s - s * s


def backprop_per_example(x, t, W1, W2):
    _check_shapes(x, t, W1, W2)
    n = x.shape[0]
    g1, g2, E = torch.zeros_like(W1), torch.zeros_like(W2), torch.zeros((), dtype=x.dtype)
    for i in range(n):
        h = torch.sigmoid(W1 @ x[i])
        o = torch.sigmoid(W2 @ h)
        E = E + 0.5 * ((o - t[i]) ** 2).sum() / n
        d2 = (o - t[i]) * o * (1 - o) / n
        d1 = (W2.T @ d2) * h * (1 - h)
        g2 += torch.outer(d2, h)
        g1 += torch.outer(d1, x[i])
    return E, g1, g2


def backprop_loops(x, t, W1, W2):
    _check_shapes(x, t, W1, W2)
    (n, d), hidden, k = x.shape, W1.shape[0], W2.shape[0]
    g1, g2, E = torch.zeros_like(W1), torch.zeros_like(W2), 0.0
    for i in range(n):
        h = [torch.sigmoid(sum(W1[j, m] * x[i, m] for m in range(d))) for j in range(hidden)]
        o = [torch.sigmoid(sum(W2[j, m] * h[m] for m in range(hidden))) for j in range(k)]
        E = E + 0.5 * sum((o[j] - t[i, j]) ** 2 for j in range(k)) / n
        d2 = [(o[j] - t[i, j]) * o[j] * (1 - o[j]) / n for j in range(k)]
        for j in range(k):
            for m in range(hidden):
                g2[j, m] += d2[j] * h[m]
        for j in range(hidden):
            d1 = sum(d2[m] * W2[m, j] for m in range(k)) * h[j] * (1 - h[j])
            for m in range(d):
                g1[j, m] += d1 * x[i, m]
    return E, g1, g2


def weighted_grad_einsum(logits, target, weight):
    w = weight[target].to(logits.dtype)
    p = _softmax(logits)
    return torch.einsum("n,nc->nc", w, p - _one_hot(target, logits)) / w.sum()


STYLES = [("sigmoid_derivative", sigmoid_derivative_exp), ("backprop", backprop_per_example),
          ("backprop", backprop_loops), ("weighted_cross_entropy_grad", weighted_grad_einsum)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_solution_passes(language):
    assert failing(f"ch4-{language}", CORRECT) == set()


@pytest.mark.parametrize("function, style", STYLES, ids=[s.__name__ for _, s in STYLES])
def test_honest_solutions_in_other_styles_keep_full_marks(function, style):
    assert failing("ch4-en", {**CORRECT, function: style}) == set()


# -- typical mistakes ------------------------------------------------------------------------------------

def sigmoid_derivative_naive(z):
    """exp(-z) / (1 + exp(-z))^2: right on paper, inf / inf = nan for z = -1000."""
    return torch.exp(-z) / (1 + torch.exp(-z)) ** 2


def backprop_no_sigmoid_derivative(x, t, W1, W2):
    """delta = dE/do, the factor o(1 - o) forgotten in both layers."""
    _check_shapes(x, t, W1, W2)
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    delta2 = (o - t) / n
    return 0.5 * ((o - t) ** 2).sum() / n, (delta2 @ W2).T @ x, delta2.T @ h


def backprop_sign_of_output_delta(x, t, W1, W2):
    """dE/do = t - o, the slides' sign: every gradient flips."""
    E, g1, g2 = backprop(x, t, W1, W2)
    return E, -g1, -g2


def backprop_summed_batch(x, t, W1, W2):
    """Sums E and the gradients over the examples instead of averaging them."""
    E, g1, g2 = backprop(x, t, W1, W2)
    n = x.shape[0]
    return E * n, g1 * n, g2 * n


def backprop_without_the_half(x, t, W1, W2):
    E, g1, g2 = backprop(x, t, W1, W2)
    return 2 * E, 2 * g1, 2 * g2


def backprop_mse_convention(x, t, W1, W2):
    """torch's MSELoss convention: no 1/2 and a mean over all N * K entries."""
    E, g1, g2 = backprop(x, t, W1, W2)
    factor = 2 / t.shape[1]
    return E * factor, g1 * factor, g2 * factor


def backprop_from_to(x, t, W1, W2):
    """Gradients laid out as W[from, to], the transpose of the weights."""
    E, g1, g2 = backprop(x, t, W1, W2)
    return E, g1.T, g2.T


def backprop_unchecked(x, t, W1, W2):
    """No shape checks: torch raises RuntimeError, or t broadcasts silently."""
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    delta2 = (o - t) * o * (1 - o) / n
    delta1 = (delta2 @ W2) * h * (1 - h)
    return 0.5 * ((o - t) ** 2).sum() / n, delta1.T @ x, delta2.T @ h


def weighted_divided_by_n(logits, target, weight):
    w = weight[target].to(logits.dtype)
    return w[:, None] * (_softmax(logits) - _one_hot(target, logits)) / len(target)


def weighted_ignoring_weights(logits, target, weight):
    return (_softmax(logits) - _one_hot(target, logits)) / len(target)


def weighted_sign_flipped(logits, target, weight):
    return -weighted_cross_entropy_grad(logits, target, weight)


def weighted_naive_softmax(logits, target, weight):
    e = logits.exp()
    w = weight[target].to(logits.dtype)
    return w[:, None] * (e / e.sum(dim=1, keepdim=True) - _one_hot(target, logits)) / w.sum()


# (function, mistake, the behaviours that must fail, the misconception it must be named as, or None)
MISTAKES = [
    ("sigmoid_derivative", sigmoid_derivative_naive, {"sigmoid_derivative"}, "naive-sigmoid-derivative"),
    ("backprop", backprop_no_sigmoid_derivative, {"backprop_one_example", "backprop_batch_mean"},
     "no-sigmoid-derivative"),
    ("backprop", backprop_sign_of_output_delta, {"backprop_one_example", "backprop_batch_mean"},
     "output-delta-sign"),
    ("backprop", backprop_summed_batch, {"backprop_batch_mean"}, "summed-batch"),
    ("backprop", backprop_without_the_half, {"backprop_one_example", "backprop_batch_mean"}, "no-half"),
    ("backprop", backprop_mse_convention, {"backprop_one_example", "backprop_batch_mean"},
     "mse-loss-convention"),
    ("backprop", backprop_from_to, {"backprop_one_example", "backprop_batch_mean"}, "weights-from-to"),
    ("backprop", backprop_unchecked, {"backprop_bad_shapes"}, None),
    ("weighted_cross_entropy_grad", weighted_divided_by_n, {"weighted_ce_grad", "weighted_ce_grad_stable"},
     "divided-by-n"),
    ("weighted_cross_entropy_grad", weighted_ignoring_weights,
     {"weighted_ce_grad", "weighted_ce_grad_stable"}, "weights-ignored"),
    ("weighted_cross_entropy_grad", weighted_sign_flipped, {"weighted_ce_grad", "weighted_ce_grad_stable"},
     "gradient-sign"),
    ("weighted_cross_entropy_grad", weighted_naive_softmax, {"weighted_ce_grad_stable"},
     "no-max-subtraction"),
]


@pytest.mark.parametrize("function, wrong, must_fail, key", MISTAKES,
                         ids=[m[1].__name__ for m in MISTAKES])
def test_mistake_fails_exactly_its_behaviours_and_is_named(function, wrong, must_fail, key):
    for language in LANGUAGES:
        found = verdicts(f"ch4-{language}", {**CORRECT, function: wrong}, of_function("ch4-en", function))
        assert {g for g, v in found.items() if not v.passed} == must_fail, language
        if key is not None:
            for grade_id in must_fail:
                assert found[grade_id].diagnosis == key, str(found[grade_id])


def test_summed_batch_fails_only_on_batches_and_shows_the_worked_batch():
    found = verdicts("ch4-en", {**CORRECT, "backprop": backprop_summed_batch}, ["backprop_batch_mean"])
    assert "Input:" in str(found["backprop_batch_mean"])  # a fixed case: the worked batch is shown


# -- autograd, library layers and numerical differentiation score 0 ---------------------------------------

def sigmoid_derivative_autograd(z):
    z = z.clone().requires_grad_(True)
    return torch.autograd.grad(torch.sigmoid(z).sum(), z)[0]


def backprop_backward(x, t, W1, W2):
    W1, W2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    with torch.enable_grad():
        o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
        E = 0.5 * ((o - t) ** 2).sum() / x.shape[0]
        E.backward()
    return E.detach(), W1.grad, W2.grad


def backprop_func_grad(x, t, W1, W2):
    def error(A, B):
        o = torch.sigmoid(torch.sigmoid(x @ A.T) @ B.T)
        return 0.5 * ((o - t) ** 2).sum() / x.shape[0]
    g1, g2 = torch.func.grad(error, argnums=(0, 1))(W1, W2)
    return error(W1, W2), g1, g2


def backprop_linear_layers(x, t, W1, W2):
    first = torch.nn.Linear(W1.shape[1], W1.shape[0], bias=False).double()
    first.weight.data = W1
    h = torch.sigmoid(first(x))
    o = torch.sigmoid(h @ W2.T)
    n = x.shape[0]
    delta2 = (o - t) * o * (1 - o) / n
    delta1 = (delta2 @ W2) * h * (1 - h)
    return 0.5 * ((o - t) ** 2).sum() / n, delta1.T @ x, delta2.T @ h


def backprop_finite_differences(x, t, W1, W2, eps=1e-6):
    def error(A, B):
        o = torch.sigmoid(torch.sigmoid(x @ A.T) @ B.T)
        return 0.5 * ((o - t) ** 2).sum() / x.shape[0]

    def numeric(f, W):
        grad = torch.zeros_like(W)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                up, down = W.clone(), W.clone()
                up[i, j] += eps
                down[i, j] -= eps
                grad[i, j] = (f(up) - f(down)) / (2 * eps)
        return grad

    return error(W1, W2), numeric(lambda A: error(A, W2), W1), numeric(lambda B: error(W1, B), W2)


def sigmoid_derivative_finite_differences(z):
    h = 1e-5
    wide = z.double()
    return ((torch.sigmoid(wide + h) - torch.sigmoid(wide - h)) / (2 * h)).to(z.dtype)


def weighted_grad_backward(logits, target, weight):
    leaf = logits.clone().requires_grad_(True)
    with torch.enable_grad():
        log_p = leaf - leaf.max(dim=1, keepdim=True).values.detach()
        log_p = log_p - log_p.exp().sum(dim=1, keepdim=True).log()
        w = weight[target]
        (-(w * log_p[torch.arange(len(target)), target]).sum() / w.sum()).backward()
    return leaf.grad


ROUTES = [
    ("sigmoid_derivative", sigmoid_derivative_autograd, "autograd"),
    ("backprop", backprop_backward, "autograd"),
    ("backprop", backprop_func_grad, "autograd"),
    ("backprop", backprop_linear_layers, "torch.nn.modules.linear"),
    ("backprop", backprop_finite_differences, "forward passes"),
    ("sigmoid_derivative", sigmoid_derivative_finite_differences, "numerical derivative"),
    ("weighted_cross_entropy_grad", weighted_grad_backward, "autograd"),
]


@pytest.mark.parametrize("function, route, words", ROUTES, ids=[r[1].__name__ for r in ROUTES])
def test_other_routes_to_the_gradient_score_zero_with_a_reason(function, route, words):
    found = verdicts("ch4-en", {**CORRECT, function: route}, of_function("ch4-en", function))
    for grade_id, verdict in found.items():
        if BY_ID[grade_id].raises is None:
            assert verdict.points == 0 and words in str(verdict), str(verdict)
    assert torch.is_grad_enabled()            # the checks leave autograd as they found it
    w = torch.ones(2, requires_grad=True)
    (w ** 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


# -- the stub, validation only ---------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_stub_scores_zero(language):
    found = verdicts(f"ch4-{language}", dict.fromkeys(CORRECT, stub))
    assert all(v.points == 0 and not v.attempted for v in found.values())


def test_missing_function_scores_zero():
    result = Checker("ch4-es").verdict("backprop_one_example", {})
    assert result.points == 0 and "no está definida" in str(result)


def test_validating_without_computing_earns_at_most_a_tenth():
    def validating(x, t, W1, W2):
        _check_shapes(x, t, W1, W2)
        return torch.zeros(()), torch.zeros_like(W1), torch.zeros_like(W2)

    def nothing(logits, *rest):
        return torch.zeros_like(logits)

    found = verdicts("ch4-en", {"backprop": validating, "sigmoid_derivative": nothing,
                                "weighted_cross_entropy_grad": nothing})
    assert sum(v.points for v in found.values()) <= 0.1 * sum(b.points for b in ch4.BEHAVIOURS)


# -- the references against independent values ----------------------------------------------------------

def _all_cases(grade_id):
    return BY_ID[grade_id], [case for case, _ in cases_of(BY_ID[grade_id], instructor_seed()[0])]


def test_worked_network_numbers_by_hand():
    """E and dE/dW_16 of the worked network with Python floats, as in the chapter."""
    def S(v):
        return 1 / (1 + math.exp(-v))

    hidden = [S(sum(w * x for w, x in zip(row, wn.INPUTS))) for row in wn.W1]
    out = [S(sum(w * h for w, h in zip(row, hidden))) for row in wn.W2]
    E = 0.5 * sum((o - t) ** 2 for o, t in zip(out, wn.TARGETS))
    dE_dW16 = (out[0] - wn.TARGETS[0]) * out[0] * (1 - out[0]) * hidden[1]
    assert E == pytest.approx(0.5713567, abs=1e-7)
    assert dE_dW16 == pytest.approx(-0.0733554, abs=1e-7)

    behaviour, cases = _all_cases("backprop_one_example")
    E_ref, _, dW2_ref = behaviour.expected(cases[0])
    assert E_ref.item() == pytest.approx(E, rel=1e-12)
    assert dW2_ref[wn.weight_index("W_16")[1]].item() == pytest.approx(dE_dW16, rel=1e-12)


def _loss(x, t, W1, W2):
    """E of the chapter written independently: mean over examples of 1/2 sum_k (o_k - t_k)^2."""
    o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
    return (0.5 * ((o - t) ** 2).sum(dim=1)).mean()


@pytest.mark.parametrize("grade_id", ["backprop_one_example", "backprop_batch_mean"])
def test_backprop_reference_matches_finite_differences(grade_id):
    behaviour, cases = _all_cases(grade_id)
    for case in cases:
        x, t, W1, W2 = case.args
        assert W1.dtype == torch.float64
        E, dW1, dW2 = behaviour.expected(case)
        torch.testing.assert_close(E, _loss(x, t, W1, W2), rtol=1e-12, atol=1e-14)
        # (the lambdas are called at once, inside this iteration)
        torch.testing.assert_close(dW1, numerical_gradient(lambda W: _loss(x, t, W, W2), W1),  # noqa: B023
                                   rtol=1e-5, atol=1e-9)
        torch.testing.assert_close(dW2, numerical_gradient(lambda W: _loss(x, t, W1, W), W2),  # noqa: B023
                                   rtol=1e-5, atol=1e-9)


def test_every_gradient_behaviour_has_a_case_too_big_for_finite_differences():
    """Two forward passes per weight must exceed the budget on at least one case of each behaviour."""
    from coursework import limits

    for grade_id in ("backprop_one_example", "backprop_batch_mean"):
        _, cases = _all_cases(grade_id)
        weights = max(w1.numel() + w2.numel() for _, _, w1, w2 in (c.args for c in cases))
        assert 2 * weights > limits.FORWARD_PASSES


def test_sigmoid_derivative_reference_matches_finite_differences():
    behaviour, cases = _all_cases("sigmoid_derivative")
    for case in cases:
        (z,) = case.args
        numeric = numerical_gradient(lambda v: torch.sigmoid(v).sum(), z.double())
        torch.testing.assert_close(behaviour.expected(case).double(), numeric, rtol=1e-5, atol=1e-7)
    assert behaviour.expected(cases[1]).tolist() == [0.0, 0.0]        # saturated: S' = 0 at z = +-1000
    assert behaviour.expected(cases[0])[1].item() == 0.25             # S'(0) = 1/4


@pytest.mark.parametrize("grade_id", ["weighted_ce_grad", "weighted_ce_grad_stable"])
def test_weighted_reference_matches_torch_and_the_formula(grade_id):
    behaviour, cases = _all_cases(grade_id)
    for case in cases:
        logits, target, weight = case.args
        leaf = logits.detach().double().clone().requires_grad_(True)
        TF.cross_entropy(leaf, target, weight.double()).backward()
        expected = behaviour.expected(case)
        torch.testing.assert_close(expected.double(), leaf.grad, rtol=1e-5, atol=1e-7)
        w = weight.double()[target]
        p, y = TF.softmax(logits.double(), dim=1), TF.one_hot(target, logits.shape[1])
        formula = w[:, None] * (p - y) / w.sum()
        torch.testing.assert_close(expected.double(), formula, rtol=1e-5, atol=1e-7)
        assert expected.isfinite().all()


def test_weighted_gradient_by_hand():
    """Logits (0, ln 3) of class 0: p = (1/4, 3/4), p - y = (-3/4, 3/4); one example: w / w = 1."""
    behaviour = BY_ID["weighted_ce_grad"]
    logits = torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64)
    got = behaviour.expected(Case((logits, torch.tensor([0]), torch.tensor([5.0, 1.0], dtype=torch.float64))))
    torch.testing.assert_close(got, torch.tensor([[-0.75, 0.75]], dtype=torch.float64))


def test_behaviours_are_well_formed():
    assert ch4.BLOCKED == ("softmax", "log_softmax") and ch4.PROVIDED == ()
    for behaviour in ch4.BEHAVIOURS:
        assert not behaviour.autograd
        assert behaviour.kind == ("validation" if behaviour.raises else "derivation")
        assert behaviour.raises or behaviour.forward is not None  # every gradient has a work budget
