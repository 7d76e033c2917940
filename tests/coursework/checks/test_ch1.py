"""Chapter 1 checks: right answers in several styles pass, each typical mistake fails exactly its behaviours
and is named, ready-made routes are refused, and the references agree with torch and hand-worked numbers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as TF
from checkkit import failing, of_function, stub, verdicts

from coursework.checks import ch1

LANGUAGES = ("es", "en")
GRADE_IDS = [b.grade_id for b in ch1.BEHAVIOURS]
BY_ID = {b.grade_id: b for b in ch1.BEHAVIOURS}
REDUCE = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}


def _reduce(losses, reduction):
    if reduction not in REDUCE:
        raise ValueError(f"expected reduction 'mean', 'sum' or 'none', got {reduction!r}")
    return REDUCE[reduction](losses)


def _same_shape(input, target):
    if input.shape != target.shape:
        raise ValueError(f"expected the same shapes, got {tuple(input.shape)} and {tuple(target.shape)}")


def mse_loss(input, target, reduction="mean"):
    _same_shape(input, target)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, reduction="mean"):
    _same_shape(input, target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    _same_shape(input, target)
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    error = (input - target).abs()
    return _reduce(torch.where(error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta)), reduction)


def huber_grad(input, target, delta=1.0, reduction="mean"):
    per_element = (input - target).clamp(-delta, delta)
    return per_element / input.numel() if reduction == "mean" else per_element


RIGHT = {"mse_loss": mse_loss, "l1_loss": l1_loss, "huber_loss": huber_loss, "huber_grad": huber_grad}


# -- honest solutions in other styles keep full marks --------------------------------------------------------

def mse_loss_loops(input, target, reduction="mean"):
    _same_shape(input, target)
    flat = [(a - b) ** 2 for a, b in zip(input.flatten().tolist(), target.flatten().tolist())]
    squares = torch.tensor(flat, dtype=input.dtype).reshape(input.shape)
    return {"mean": squares.sum() / max(len(flat), 1), "sum": squares.sum(), "none": squares}[reduction]


def l1_loss_in_place(input, target, reduction="mean"):
    _same_shape(input, target)
    residual = input.clone()
    residual.sub_(target).abs_()
    return _reduce(residual, reduction)


def huber_loss_clamp(input, target, reduction="mean", delta=1.0):
    """Quadratic part up to delta plus the linear rest: 0.5 q² + delta (|r| - q), q = min(|r|, delta)."""
    _same_shape(input, target)
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    error = (input - target).abs()
    quadratic = error.clamp(max=delta)
    return _reduce(0.5 * quadratic**2 + delta * (error - quadratic), reduction)


def huber_grad_where(input, target, delta=1.0, reduction="mean"):
    r = input - target
    g = torch.where(r.abs() <= delta, r, delta * torch.sign(r))
    return g / r.numel() if reduction == "mean" else g


def huber_grad_loops(input, target, delta=1.0, reduction="mean"):
    out = torch.zeros_like(input)
    flat_out, n = out.view(-1), input.numel()
    for i, (a, b) in enumerate(zip(input.flatten().tolist(), target.flatten().tolist())):
        value = min(max(a - b, -delta), delta)
        flat_out[i] = value / n if reduction == "mean" else value
    return out


STYLES = [("mse_loss", mse_loss_loops), ("l1_loss", l1_loss_in_place), ("huber_loss", huber_loss_clamp),
          ("huber_grad", huber_grad_where), ("huber_grad", huber_grad_loops)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_right_answer_passes_every_behaviour(language):
    assert failing(f"ch1-{language}", RIGHT) == set()


@pytest.mark.parametrize("function, style", STYLES, ids=[s.__name__ for _, s in STYLES])
def test_honest_solutions_in_other_styles_keep_full_marks(function, style):
    assert failing("ch1-en", {**RIGHT, function: style}) == set()


# -- typical mistakes: each fails exactly its behaviours and is named ----------------------------------------

def half_mse(input, target, reduction="mean"):  # the 1/(2N) convention of some textbooks
    return mse_loss(input, target, reduction) / 2


def mse_mean_over_rows(input, target, reduction="mean"):
    _same_shape(input, target)
    losses = (input - target) ** 2
    return losses.sum(-1).mean() if reduction == "mean" else _reduce(losses, reduction)


def mse_sum_for_none(input, target, reduction="mean"):
    return mse_loss(input, target, "sum" if reduction == "none" else reduction)


def signed_l1(input, target, reduction="mean"):
    return _reduce(input - target, reduction)


def smooth_l1_as_huber(input, target, reduction="mean", delta=1.0):
    return huber_loss(input, target, reduction, delta) / delta


def huber_without_the_offset(input, target, reduction="mean", delta=1.0):
    """The linear branch without the -delta/2 that makes the curve continuous."""
    _same_shape(input, target)
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    error = (input - target).abs()
    return _reduce(torch.where(error <= delta, 0.5 * error**2, delta * error), reduction)


def huber_broadcasting(input, target, reduction="mean", delta=1.0):
    """No shape check: (2, 3) against (3, 2) raises, but not a ValueError."""
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    error = (input - target).abs()
    return _reduce(torch.where(error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta)), reduction)


def grad_sign_flipped(input, target, delta=1.0, reduction="mean"):
    return -huber_grad(input, target, delta, reduction)


def grad_without_mean(input, target, delta=1.0, reduction="mean"):
    return (input - target).clamp(-delta, delta)


def grad_not_clipped(input, target, delta=1.0, reduction="mean"):
    r = input - target
    return r / r.numel() if reduction == "mean" else r


def grad_clipped_at_one(input, target, delta=1.0, reduction="mean"):
    r = (input - target).clamp(-1.0, 1.0)
    return r / r.numel() if reduction == "mean" else r


# (grade_ids that must fail, function, wrong implementation, the misconception it must be named as)
MISTAKES = [
    ({"mse_loss_mean", "mse_loss_reductions"}, "mse_loss", half_mse, "half-mse"),
    ({"mse_loss_mean"}, "mse_loss", mse_mean_over_rows, "mean-over-rows"),
    ({"mse_loss_reductions"}, "mse_loss", mse_sum_for_none, None),
    ({"l1_loss"}, "l1_loss", signed_l1, "signed-error"),
    ({"huber_loss"}, "huber_loss", smooth_l1_as_huber, "smooth-l1"),
    ({"huber_loss"}, "huber_loss", huber_without_the_offset, "linear-branch-without-offset"),
    ({"huber_loss_bad_input"}, "huber_loss", huber_broadcasting, None),
    ({"huber_grad_mean", "huber_grad_sum"}, "huber_grad", grad_sign_flipped, "gradient-sign"),
    ({"huber_grad_mean"}, "huber_grad", grad_without_mean, "gradient-without-1/N"),
    ({"huber_grad_mean", "huber_grad_sum"}, "huber_grad", grad_not_clipped, "gradient-not-clipped"),
    ({"huber_grad_mean", "huber_grad_sum"}, "huber_grad", grad_clipped_at_one, "gradient-clipped-at-1"),
]


@pytest.mark.parametrize("must_fail, name, wrong, key", MISTAKES, ids=[m[2].__name__ for m in MISTAKES])
def test_each_mistake_fails_exactly_its_behaviours_and_is_named(must_fail, name, wrong, key):
    for language in LANGUAGES:
        found = verdicts(f"ch1-{language}", {**RIGHT, name: wrong}, of_function("ch1-en", name))
        assert {g for g, v in found.items() if not v.passed} == must_fail
        for grade_id in must_fail:
            if key is not None and BY_ID[grade_id].raises is None:
                assert found[grade_id].diagnosis == key, (grade_id, str(found[grade_id]))
                text = next(m for m in BY_ID[grade_id].misconceptions if m.key == key).text[language]
                assert text in str(found[grade_id])


# -- ready-made and numerical routes are refused (the sandbox's own tests: tests/coursework/grading) -------

def mse_by_norm(input, target, reduction="mean"):
    return torch.dist(input, target) ** 2 / input.numel()


def mse_by_gaussian(input, target, reduction="mean"):
    normal = torch.distributions.Normal(target, 2**-0.5)
    return -(normal.log_prob(input) + 0.5 * math.log(math.pi)).mean()


def huber_grad_by_autograd(input, target, delta=1.0, reduction="mean"):
    leaf = input.clone().requires_grad_(True)
    with torch.enable_grad():
        huber_loss(leaf, target, reduction, delta).backward()
    return leaf.grad


def huber_grad_by_finite_differences(input, target, delta=1.0, reduction="mean"):
    grad, eps = torch.zeros_like(input), 1e-6
    for i in range(input.numel()):
        up, down = input.clone(), input.clone()
        up.view(-1)[i] += eps
        down.view(-1)[i] -= eps
        grad.view(-1)[i] = (huber_loss(up, target, reduction, delta)
                            - huber_loss(down, target, reduction, delta)) / (2 * eps)
    return grad


@pytest.mark.parametrize("name, route, words", [
    ("mse_loss", mse_by_norm, "aten::dist"),
    ("mse_loss", mse_by_gaussian, "torch.distributions"),
    ("huber_grad", huber_grad_by_autograd, "autograd"),
    ("huber_grad", huber_grad_by_finite_differences, "forward passes"),
], ids=["norm", "gaussian-log-prob", "autograd", "finite-differences"])
def test_other_routes_to_the_same_number_score_zero_with_a_reason(name, route, words):
    for grade_id, verdict in verdicts("ch1-en", {**RIGHT, name: route}).items():
        if BY_ID[grade_id].function == name and BY_ID[grade_id].raises is None:
            assert verdict.points == 0 and "route not allowed" in str(verdict) and words in str(verdict)


# -- the stub, validation only ----------------------------------------------------------------------------

def test_the_released_stub_scores_nothing():
    found = verdicts("ch1-es", dict.fromkeys(RIGHT, stub))
    assert all(v.points == 0 and not v.attempted for v in found.values())


def test_validating_without_computing_earns_at_most_a_tenth():
    def validating(input, target, reduction="mean", delta=1.0):
        huber_loss(input, target, reduction, delta)
        return torch.zeros(())

    found = verdicts("ch1-en", {name: validating for name in RIGHT})
    total = sum(b.points for b in ch1.BEHAVIOURS)
    assert sum(v.points for v in found.values()) <= 0.1 * total


# -- the references against torch and numbers worked by hand ---------------------------------------------

def test_the_references_agree_with_torch_and_hand_worked_numbers():
    x, y = torch.tensor([2.0, -1.0, 0.5, 3.0]), torch.tensor([1.0, 1.0, 0.5, -1.0])
    for reduction in REDUCE:
        torch.testing.assert_close(mse_loss(x, y, reduction), TF.mse_loss(x, y, reduction=reduction))
        torch.testing.assert_close(l1_loss(x, y, reduction), TF.l1_loss(x, y, reduction=reduction))
        torch.testing.assert_close(huber_loss(x, y, reduction, 0.5),
                                   TF.huber_loss(x, y, reduction=reduction, delta=0.5))
    # residuals 1, -2, 0, 4: squares 1, 4, 0, 16 -> mean 21/4; Huber(delta=1): 0.5, 1.5, 0, 3.5 -> sum 5.5
    assert mse_loss(x, y).item() == 21 / 4 and huber_loss(x, y, "sum").item() == 5.5


@pytest.mark.parametrize("grade_id", ["huber_grad_mean", "huber_grad_sum"])
def test_the_gradient_reference_is_torchs_autograd_and_matches_by_hand(grade_id):
    from coursework.grading.verdict import cases_of

    behaviour = BY_ID[grade_id]
    for case, _ in cases_of(behaviour, 7):
        x, t = case.args
        leaf = x.clone().requires_grad_(True)
        reduction = case.kwargs.get("reduction", "mean")
        TF.huber_loss(leaf, t, reduction=reduction, delta=case.kwargs["delta"]).backward()
        torch.testing.assert_close(behaviour.expected(case), leaf.grad)
    # residuals 0.2 and -1.5 with delta 1 and N = 2: (0.2 / 2, -1 / 2)
    by_hand = behaviour.expected(ch1.Case((torch.tensor([0.2, -1.5], dtype=torch.float64),
                                           torch.zeros(2, dtype=torch.float64)), {"delta": 1.0}))
    if grade_id == "huber_grad_mean":
        torch.testing.assert_close(by_hand, torch.tensor([0.1, -0.5], dtype=torch.float64))


@pytest.mark.parametrize("grade_id", ["huber_grad_mean", "huber_grad_sum"])
def test_gradient_cases_hold_residuals_on_both_sides_of_delta(grade_id):
    from coursework.grading.verdict import cases_of

    for hidden in (False, True):
        ratios = torch.cat([((case.args[0] - case.args[1]).abs() / case.kwargs["delta"]).flatten()
                            for case, is_hidden in cases_of(BY_ID[grade_id], 7) if is_hidden == hidden])
        assert (ratios < 1).any() and (ratios > 1).any()


def test_blocked_and_provided():
    assert ch1.BLOCKED == () and ch1.PROVIDED == ()
