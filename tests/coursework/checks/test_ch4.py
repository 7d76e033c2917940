"""Tests of the chapter 4 checks (coursework.checks.ch4): backpropagation written by hand.

A correct solution passes every behaviour in both languages; each typical mistake fails
exactly the behaviour meant to catch it; the released stub scores 0. The references are
checked against independent values: the worked numbers of the chapter computed here with
Python floats, central differences (lossfns.gradcheck) of losses written here with torch
ops, and torch.autograd through torch.nn.functional.cross_entropy.
"""

import json
import math

import pytest
import torch
import torch.nn.functional as TF

from coursework.chapters import chapter
from coursework.checks import ch4
from coursework.grading import Case, Checker
from coursework.grading.seed import instructor_seed
from coursework.grading.verdict import cases_of
from lossfns.data import worked_network as wn
from lossfns.gradcheck import numerical_gradient

LANGUAGES = ("es", "en")
GRADE_IDS = [b.grade_id for b in ch4.BEHAVIOURS]


# -- a correct solution, written with torch primitives only (softmax and losses are blocked) ----------

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


def softmax_cross_entropy_grad(logits, target):
    e = (logits - logits.max(dim=1, keepdim=True).values).exp()
    return (e / e.sum(dim=1, keepdim=True) - _one_hot(target, logits)) / logits.shape[0]


CORRECT = {"sigmoid_derivative": sigmoid_derivative, "backprop": backprop,
           "softmax_cross_entropy_grad": softmax_cross_entropy_grad}


def stub(*args, **kwargs):
    raise NotImplementedError()


def verdict(grade_id, language="en", **functions):
    """The verdict of one behaviour for the correct solution with some functions replaced."""
    return Checker(f"ch4-{language}").verdict(grade_id, {**CORRECT, **functions})


# -- typical mistakes ------------------------------------------------------------------------------------

def sigmoid_derivative_naive(z):
    """exp(-z) / (1 + exp(-z))^2: right on paper, inf / inf = nan for z = -1000."""
    return torch.exp(-z) / (1 + torch.exp(-z)) ** 2


def sigmoid_derivative_autograd(z):
    z = z.clone().requires_grad_(True)
    return torch.autograd.grad(torch.sigmoid(z).sum(), z)[0]


def backprop_no_sigmoid_derivative(x, t, W1, W2):
    """delta = dE/do, the factor o(1 - o) forgotten in both layers."""
    _check_shapes(x, t, W1, W2)
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    delta2 = (o - t) / n
    delta1 = delta2 @ W2
    return 0.5 * ((o - t) ** 2).sum() / n, delta1.T @ x, delta2.T @ h


def backprop_summed_batch(x, t, W1, W2):
    """Sums E and the gradients over the examples instead of averaging them."""
    E, g1, g2 = backprop(x, t, W1, W2)
    n = x.shape[0]
    return E * n, g1 * n, g2 * n


def backprop_mse_convention(x, t, W1, W2):
    """torch's MSELoss convention: no 1/2 and a mean over all N * K entries."""
    E, g1, g2 = backprop(x, t, W1, W2)
    factor = 2 / t.shape[1]
    return E * factor, g1 * factor, g2 * factor


def backprop_from_to(x, t, W1, W2):
    """Gradients laid out as W[from, to], the transpose of the weights."""
    E, g1, g2 = backprop(x, t, W1, W2)
    return E, g1.T, g2.T


def backprop_backward(x, t, W1, W2):
    """Lets autograd do the work with .backward()."""
    W1, W2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    with torch.enable_grad():
        o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
        E = 0.5 * ((o - t) ** 2).sum() / x.shape[0]
        E.backward()
    return E.detach(), W1.grad, W2.grad


def backprop_autograd_grad(x, t, W1, W2):
    W1, W2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    with torch.enable_grad():
        o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
        E = 0.5 * ((o - t) ** 2).sum() / x.shape[0]
        g1, g2 = torch.autograd.grad(E, [W1, W2])
    return E.detach(), g1, g2


def backprop_unchecked(x, t, W1, W2):
    """No shape checks: torch raises RuntimeError, or t broadcasts silently."""
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    delta2 = (o - t) * o * (1 - o) / n
    delta1 = (delta2 @ W2) * h * (1 - h)
    return 0.5 * ((o - t) ** 2).sum() / n, delta1.T @ x, delta2.T @ h


def softmax_grad_no_mean(logits, target):
    """softmax - one_hot, without the 1/N of the mean over the batch."""
    return softmax_cross_entropy_grad(logits, target) * logits.shape[0]


def softmax_grad_naive(logits, target):
    """exp(z) / sum exp(z) without subtracting the max: exp(1000) = inf."""
    e = logits.exp()
    return (e / e.sum(dim=1, keepdim=True) - _one_hot(target, logits)) / logits.shape[0]


def softmax_grad_backward(logits, target):
    logits = logits.clone().requires_grad_(True)
    with torch.enable_grad():
        e = (logits - logits.max(dim=1, keepdim=True).values.detach()).exp()
        log_p = (e / e.sum(dim=1, keepdim=True)).log()
        (-log_p[torch.arange(len(target)), target].mean()).backward()
    return logits.grad


MISTAKES = [
    # (grade_id that must fail, function name, wrong function, a word of the feedback in English)
    ("sigmoid_derivative", "sigmoid_derivative", sigmoid_derivative_naive, "values"),
    ("sigmoid_derivative", "sigmoid_derivative", sigmoid_derivative_autograd, "autograd"),
    ("backprop_one_example", "backprop", backprop_no_sigmoid_derivative, "values"),
    ("backprop_one_example", "backprop", backprop_mse_convention, "values"),
    ("backprop_one_example", "backprop", backprop_from_to, "shape"),
    ("backprop_one_example", "backprop", backprop_backward, "autograd"),
    ("backprop_one_example", "backprop", backprop_autograd_grad, "autograd"),
    ("backprop_batch_mean", "backprop", backprop_summed_batch, "values"),
    ("backprop_bad_shapes", "backprop", backprop_unchecked, "ValueError"),
    ("softmax_cross_entropy_grad", "softmax_cross_entropy_grad", softmax_grad_no_mean, "values"),
    ("softmax_cross_entropy_grad", "softmax_cross_entropy_grad", softmax_grad_backward, "autograd"),
    ("softmax_cross_entropy_grad_stable", "softmax_cross_entropy_grad", softmax_grad_naive, "values"),
]
SPANISH_WORD = {"values": "valores", "autograd": "autograd", "shape": "forma", "ValueError": "ValueError"}


# -- the checks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("grade_id", GRADE_IDS)
def test_correct_solution_passes(grade_id, language):
    result = verdict(grade_id, language)
    assert result.passed, str(result)
    assert "✓" in str(result)


@pytest.mark.parametrize("grade_id, function, wrong, word", MISTAKES,
                         ids=[f"{m[0]}-{m[2].__name__}" for m in MISTAKES])
def test_mistake_fails_exactly_its_behaviour(grade_id, function, wrong, word):
    for language in LANGUAGES:
        result = verdict(grade_id, language, **{function: wrong})
        assert result.points == 0
        expected_word = word if language == "en" else SPANISH_WORD[word]
        assert expected_word in str(result), str(result)
    # The mistake is caught by its own behaviour; the other behaviours of the function it can pass
    # (e.g. summing the batch passes with one example) are listed here.
    passes_elsewhere = {backprop_summed_batch: ["backprop_one_example", "backprop_bad_shapes"],
                        backprop_unchecked: ["backprop_one_example", "backprop_batch_mean"],
                        softmax_grad_naive: ["softmax_cross_entropy_grad"],
                        backprop_no_sigmoid_derivative: ["backprop_bad_shapes"],
                        backprop_mse_convention: ["backprop_bad_shapes"],
                        backprop_from_to: ["backprop_bad_shapes"]}
    for other in passes_elsewhere.get(wrong, []):
        assert verdict(other, **{function: wrong}).passed, other


def test_summed_batch_fails_only_on_batches():
    assert verdict("backprop_one_example", backprop=backprop_summed_batch).passed
    result = verdict("backprop_batch_mean", backprop=backprop_summed_batch)
    assert result.points == 0
    assert "Input:" in str(result)          # a fixed case: the batch of the worked network is shown


def test_autograd_solutions_earn_nothing_anywhere():
    """Calling .backward() or torch.autograd.grad scores 0 on every behaviour that computes a gradient."""
    wrong = {"backprop": backprop_backward, "sigmoid_derivative": sigmoid_derivative_autograd,
             "softmax_cross_entropy_grad": softmax_grad_backward}
    for grade_id in GRADE_IDS:
        if grade_id == "backprop_bad_shapes":
            continue  # raising ValueError before any gradient is computed is right whatever comes after
        result = verdict(grade_id, "es", **wrong)
        assert result.points == 0 and "autograd" in str(result), str(result)
    for grade_id in ("backprop_one_example", "backprop_batch_mean"):
        assert verdict(grade_id, backprop=backprop_autograd_grad).points == 0
    assert torch.is_grad_enabled()            # the guard leaves autograd as it found it
    w = torch.ones(2, requires_grad=True)
    (w ** 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_stub_scores_zero(language):
    functions = {name: stub for name in CORRECT}
    for grade_id in GRADE_IDS:
        result = verdict(grade_id, language, **functions)
        assert result.points == 0, grade_id
        if grade_id != "backprop_bad_shapes":
            assert "NotImplementedError" in str(result)


def test_missing_function_scores_zero():
    result = Checker("ch4-es").verdict("backprop_one_example", {})
    assert result.points == 0 and "no está definida" in str(result)


# -- the references against independent values ----------------------------------------------------------

def _all_cases(grade_id):
    behaviour = Checker("ch4-en").behaviours[grade_id]
    return behaviour, [case for case, _ in cases_of(behaviour, instructor_seed()[0])]


def test_worked_network_numbers_by_hand():
    """E and dE/dW_16 of the worked network with Python floats, as in the chapter."""
    S = lambda v: 1 / (1 + math.exp(-v))
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


def test_sigmoid_derivative_reference_matches_finite_differences():
    behaviour, cases = _all_cases("sigmoid_derivative")
    for case in cases:
        (z,) = case.args
        expected = behaviour.expected(case)
        numeric = numerical_gradient(lambda v: torch.sigmoid(v).sum(), z.double())
        torch.testing.assert_close(expected.double(), numeric, rtol=1e-5, atol=1e-7)
    assert behaviour.expected(cases[1]).tolist() == [0.0, 0.0]        # saturated: S' = 0 at z = +-1000
    assert behaviour.expected(cases[0])[1].item() == 0.25             # S'(0) = 1/4


@pytest.mark.parametrize("grade_id", ["softmax_cross_entropy_grad", "softmax_cross_entropy_grad_stable"])
def test_softmax_grad_reference_matches_torch_and_finite_differences(grade_id):
    behaviour, cases = _all_cases(grade_id)
    for case in cases:
        logits, target = case.args
        expected = behaviour.expected(case)
        leaf = logits.double().requires_grad_(True)
        TF.cross_entropy(leaf, target).backward()
        torch.testing.assert_close(expected.double(), leaf.grad, rtol=1e-5, atol=1e-7)
        assert expected.isfinite().all()
        if logits.abs().max() < 50:       # finite differences need moderate logits in float64
            numeric = numerical_gradient(lambda z: TF.cross_entropy(z, target), logits.double())  # noqa: B023
            torch.testing.assert_close(expected.double(), numeric, rtol=1e-5, atol=1e-8)


def test_softmax_grad_worked_by_hand():
    """One example, logits (0, ln 3): p = (1/4, 3/4); target 0 gives (p - y) / 1 = (-3/4, 3/4)."""
    behaviour = Checker("ch4-en").behaviours["softmax_cross_entropy_grad"]
    got = behaviour.expected(Case((torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64),
                                   torch.tensor([0]))))
    torch.testing.assert_close(got, torch.tensor([[-0.75, 0.75]], dtype=torch.float64))


# -- the shape of the exercise and its notebooks ---------------------------------------------------------

def test_behaviours_are_well_formed():
    assert ch4.BLOCKED == ("softmax", "log_softmax") and ch4.PROVIDED == ()
    assert len(GRADE_IDS) == len(set(GRADE_IDS)) and 4 <= len(GRADE_IDS) <= 7
    assert 6 <= sum(b.points for b in ch4.BEHAVIOURS) <= 9
    for behaviour in ch4.BEHAVIOURS:
        assert behaviour.points in (1, 2) and not behaviour.autograd
        assert 1 <= len(behaviour.fixed()) <= 4
        hidden = behaviour.hidden(torch.Generator().manual_seed(0))
        assert behaviour.raises is not None or 3 <= len(hidden) <= 9
        assert set(behaviour.summary) == set(LANGUAGES)


def _graded_cells(language):
    path = chapter("ch4").solution(language)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["lossfns"]["assignment"] == f"ch4-{language}"
    return [cell for cell in notebook["cells"] if cell["metadata"].get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_points_match_the_notebook(language):
    cells = _graded_cells(language)
    tests = {c["metadata"]["nbgrader"]["grade_id"]: c for c in cells
             if not c["metadata"]["nbgrader"]["solution"]}
    assert list(tests) == GRADE_IDS
    for behaviour in ch4.BEHAVIOURS:
        cell = tests[behaviour.grade_id]
        assert cell["metadata"]["nbgrader"]["points"] == behaviour.points
        assert f'check("{behaviour.grade_id}")' in "".join(cell["source"])
    written = [c for c in cells if c["metadata"]["nbgrader"]["solution"]]
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in written] == ["written_answer"]
    total = sum(c["metadata"]["nbgrader"]["points"] for c in cells)
    assert total == sum(b.points for b in ch4.BEHAVIOURS) + 2
