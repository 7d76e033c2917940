"""Chapter 1 checks: a right answer passes, typical mistakes fail exactly their behaviour."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF

from coursework.checks import ch1
from coursework.grading import Checker

GRADE_IDS = [b.grade_id for b in ch1.BEHAVIOURS]
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


RIGHT = {"mse_loss": mse_loss, "l1_loss": l1_loss, "huber_loss": huber_loss}


def failing(language="en", **functions):
    checker = Checker(f"ch1-{language}")
    namespace = {**RIGHT, **functions}
    return {g for g in GRADE_IDS if not checker.verdict(g, namespace).passed}


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_right_answer_passes_every_behaviour(language):
    assert failing(language) == set()


def test_the_references_agree_with_torch_and_hand_worked_numbers():
    x, y = torch.tensor([2.0, -1.0, 0.5, 3.0]), torch.tensor([1.0, 1.0, 0.5, -1.0])
    for reduction in REDUCE:
        torch.testing.assert_close(mse_loss(x, y, reduction), TF.mse_loss(x, y, reduction=reduction))
        torch.testing.assert_close(l1_loss(x, y, reduction), TF.l1_loss(x, y, reduction=reduction))
        torch.testing.assert_close(huber_loss(x, y, reduction, 0.5),
                                   TF.huber_loss(x, y, reduction=reduction, delta=0.5))
    # residuals 1, -2, 0, 4: squares 1, 4, 0, 16 -> mean 21/4; Huber(delta=1): 0.5, 1.5, 0, 3.5 -> sum 5.5
    assert mse_loss(x, y).item() == 21 / 4 and huber_loss(x, y, "sum").item() == 5.5


def half_mse(input, target, reduction="mean"):  # the 1/(2N) convention of some textbooks
    return mse_loss(input, target, reduction) / 2


def mse_broadcasting(input, target, reduction="mean"):  # no shape check: (3,) vs (4,) fails loudly,
    return _reduce((input - target) ** 2, reduction)   # but (2, 3) vs (3, 2) must raise ValueError too


def mse_mean_over_rows(input, target, reduction="mean"):
    _same_shape(input, target)
    losses = (input - target) ** 2
    return losses.sum(-1).mean() if reduction == "mean" and losses.dim() > 1 else _reduce(losses, reduction)


def huber_without_the_offset(input, target, reduction="mean", delta=1.0):
    """The linear branch without the -delta/2 that makes the curve continuous."""
    _same_shape(input, target)
    if not delta > 0:
        raise ValueError(f"expected delta > 0, got {delta}")
    error = (input - target).abs()
    return _reduce(torch.where(error <= delta, 0.5 * error**2, delta * error), reduction)


def huber_accepting_any_delta(input, target, reduction="mean", delta=1.0):
    return huber_loss(input, target, reduction, abs(delta) or 1.0)


def rmse_as_l1(input, target, reduction="mean"):
    return mse_loss(input, target, reduction) ** 0.5


def mse_sum_for_none(input, target, reduction="mean"):
    return mse_loss(input, target, "sum" if reduction == "none" else reduction)


MISTAKES = [
    # (what must fail, function, wrong implementation)
    ({"mse_loss_mean", "mse_loss_reductions"}, "mse_loss", half_mse),
    ({"mse_loss_mean"}, "mse_loss", mse_mean_over_rows),
    ({"mse_loss_reductions"}, "mse_loss", mse_sum_for_none),
    ({"mse_loss_bad_input"}, "mse_loss", mse_broadcasting),
    ({"l1_loss"}, "l1_loss", rmse_as_l1),
    ({"huber_loss"}, "huber_loss", huber_without_the_offset),
    ({"huber_loss_bad_delta"}, "huber_loss", huber_accepting_any_delta),
]


@pytest.mark.parametrize("must_fail, name, wrong", MISTAKES, ids=[m[2].__name__ for m in MISTAKES])
def test_each_mistake_fails_exactly_its_behaviours(must_fail, name, wrong):
    assert failing(**{name: wrong}) == must_fail


def test_the_released_stub_scores_nothing():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    checker = Checker("ch1-es")
    stubs = {"mse_loss": stub, "l1_loss": stub, "huber_loss": stub}
    verdicts = [checker.verdict(g, stubs) for g in GRADE_IDS]
    assert all(v.points == 0 and "todavía no está implementada" in str(v) for v in verdicts)
