"""Chapter 3 checks: one_hot, multi_hot, smooth_labels and smoothed_cross_entropy.

Right answers in several styles pass in both languages, each typical mistake fails the behaviours meant
to catch it and is named, ready-made routes are refused, the released stub scores 0, and the references
agree with torch and with numbers worked by hand.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as TF
from checkkit import failing, of_function, stub, verdicts

from coursework.checks import ch3
from coursework.grading.seed import DEFAULT_SEED
from coursework.grading.verdict import cases_of

LANGUAGES = ("es", "en")
BY_ID = {b.grade_id: b for b in ch3.BEHAVIOURS}


def one_hot(labels, num_classes):
    if labels.is_floating_point():
        raise ValueError(f"expected integer labels, got {labels.dtype}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"expected labels in [0, {num_classes - 1}]")
    return (labels[:, None] == torch.arange(num_classes)).float()


def multi_hot(label_lists, num_classes):
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        for k in classes:
            out[i, k] = 1.0
    return out


def smooth_labels(targets, epsilon):
    if not 0 <= epsilon <= 1:
        raise ValueError(f"expected epsilon in [0, 1], got {epsilon}")
    return (1 - epsilon) * targets + epsilon / targets.shape[1]


def smoothed_cross_entropy(logits, labels, epsilon):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    targets = smooth_labels(one_hot(labels, logits.shape[1]).to(logits.dtype), epsilon)
    return -(targets * log_probs).sum(dim=1).mean()


RIGHT = {"one_hot": one_hot, "multi_hot": multi_hot, "smooth_labels": smooth_labels,
         "smoothed_cross_entropy": smoothed_cross_entropy}


# -- honest solutions in other styles --------------------------------------------------------------------

def one_hot_eye(labels, num_classes):
    one_hot(labels, num_classes)
    return torch.eye(num_classes)[labels]


def one_hot_scatter(labels, num_classes):
    one_hot(labels, num_classes)
    return torch.zeros(len(labels), num_classes).scatter_(1, labels[:, None], 1.0)


def multi_hot_vectorised(label_lists, num_classes):
    rows = [torch.zeros(num_classes).index_fill(0, torch.tensor(c, dtype=torch.long), 1.0) if c
            else torch.zeros(num_classes) for c in label_lists]
    return torch.stack(rows) if rows else torch.zeros(0, num_classes)


def smoothed_cross_entropy_by_parts(logits, labels, epsilon):
    """(1 - ε) times the plain cross-entropy plus ε times the mean over classes of -log p, by hand."""
    m = logits.amax(dim=1, keepdim=True)
    log_probs = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    plain = -log_probs[torch.arange(len(labels)), labels]
    uniform = -log_probs.mean(dim=1)
    return ((1 - epsilon) * plain + epsilon * uniform).mean()


STYLES = [("one_hot", one_hot_eye), ("one_hot", one_hot_scatter), ("multi_hot", multi_hot_vectorised),
          ("smoothed_cross_entropy", smoothed_cross_entropy_by_parts)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_right_answer_passes_everything(language):
    assert failing(f"ch3-{language}", RIGHT) == set()


@pytest.mark.parametrize("function, style", STYLES, ids=[s.__name__ for _, s in STYLES])
def test_honest_solutions_in_other_styles_keep_full_marks(function, style):
    assert failing("ch3-en", {**RIGHT, function: style}) == set()


# ---- mistakes ------------------------------------------------------------------------------------------

def one_hot_int64(labels, num_classes):
    return one_hot(labels, num_classes).long()


def one_hot_inferred_classes(labels, num_classes):
    return one_hot(labels, int(labels.max()) + 1)


def one_hot_no_negative_check(labels, num_classes):
    if labels.is_floating_point() or (labels >= num_classes).any():
        raise ValueError("bad labels")
    return (labels[:, None] == torch.arange(num_classes)).float()


def multi_hot_last_label_only(label_lists, num_classes):
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        if classes:
            out[i, classes[-1]] = 1.0
    return out


def multi_hot_counts(label_lists, num_classes):
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        for k in classes:
            out[i, k] += 1.0
    return out


def smooth_over_wrong_classes(targets, epsilon):
    smooth_labels(targets, epsilon)
    return (1 - epsilon) * targets + epsilon / (targets.shape[1] - 1) * (1 - targets)


def smooth_rows_as_classes(targets, epsilon):
    smooth_labels(targets, epsilon)
    return (1 - epsilon) * targets + epsilon / targets.shape[0]


def smooth_unchecked(targets, epsilon):
    return (1 - epsilon) * targets + epsilon / targets.shape[1]


def smoothed_ignoring_epsilon(logits, labels, epsilon):
    return smoothed_cross_entropy(logits, labels, 0.0)


def smoothed_twice(logits, labels, epsilon):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    targets = smooth_labels(smooth_labels(one_hot(labels, logits.shape[1]), epsilon), epsilon)
    return -(targets * log_probs).sum(dim=1).mean()


def smoothed_class_index_times_log(logits, labels, epsilon):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -(labels[:, None] * log_probs).sum(dim=1).mean()  # the slide's formula: y_i instead of y_ik


def smoothed_mean_over_classes(logits, labels, epsilon):
    return smoothed_cross_entropy(logits, labels, epsilon) / logits.shape[1]


def smoothed_naive_softmax(logits, labels, epsilon):
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    targets = smooth_labels(one_hot(labels, logits.shape[1]), epsilon)
    return -(targets * probs.log()).sum(dim=1).mean()


# (function, mistake, the behaviours that must fail, the misconception it must be named as, or None)
MISTAKES = [
    ("one_hot", one_hot_int64, {"one_hot_values"}, "int64-one-hot"),
    ("one_hot", one_hot_inferred_classes, {"one_hot_values", "one_hot_bad_input"}, "classes-from-labels"),
    ("one_hot", one_hot_no_negative_check, {"one_hot_bad_input"}, None),
    ("multi_hot", multi_hot_last_label_only, {"multi_hot_values"}, None),
    ("multi_hot", multi_hot_counts, {"multi_hot_empty_and_repeated"}, "counts-not-presence"),
    ("smooth_labels", smooth_over_wrong_classes, {"smooth_labels_values"}, "smoothing-over-the-others"),
    ("smooth_labels", smooth_rows_as_classes, {"smooth_labels_values"}, "classes-from-rows"),
    ("smooth_labels", smooth_unchecked, {"smooth_labels_bad_epsilon"}, None),
    ("smoothed_cross_entropy", smoothed_ignoring_epsilon,
     {"smoothed_cross_entropy_values", "smoothed_cross_entropy_stable"}, "epsilon-ignored"),
    ("smoothed_cross_entropy", smoothed_twice,
     {"smoothed_cross_entropy_values", "smoothed_cross_entropy_stable"}, "smoothed-twice"),
    ("smoothed_cross_entropy", smoothed_class_index_times_log,
     {"smoothed_cross_entropy_values", "smoothed_cross_entropy_stable"}, "class-index-times-log"),
    ("smoothed_cross_entropy", smoothed_mean_over_classes,
     {"smoothed_cross_entropy_values", "smoothed_cross_entropy_stable"}, "mean-over-classes"),
    ("smoothed_cross_entropy", smoothed_naive_softmax, {"smoothed_cross_entropy_stable"},
     "no-max-subtraction"),
]


@pytest.mark.parametrize("function, mistake, must_fail, key", MISTAKES,
                         ids=[m[1].__name__ for m in MISTAKES])
def test_a_mistake_fails_its_behaviours_and_is_named(function, mistake, must_fail, key):
    for language in LANGUAGES:
        found = verdicts(f"ch3-{language}", {**RIGHT, function: mistake}, of_function("ch3-en", function))
        assert {g for g, v in found.items() if not v.passed} == must_fail, language
        if key is not None:
            for grade_id in must_fail - {"one_hot_bad_input"}:
                assert found[grade_id].diagnosis == key, str(found[grade_id])


def test_every_behaviour_has_a_mistake():
    assert set().union(*(m[2] for m in MISTAKES)) == set(BY_ID)


# ---- ready-made routes -----------------------------------------------------------------------------------

ROUTES = [
    ("one_hot", lambda labels, num_classes: TF.one_hot(labels, num_classes).float(), "not allowed"),
    ("smoothed_cross_entropy", lambda logits, labels, epsilon: TF.cross_entropy(
        logits, labels, label_smoothing=epsilon), "not allowed"),
    ("smoothed_cross_entropy", lambda logits, labels, epsilon: -(
        smooth_labels(one_hot(labels, logits.shape[1]), epsilon) * torch.log_softmax(logits, 1))
        .sum(1).mean(),
     "not allowed"),
]


@pytest.mark.parametrize("function, route, words", ROUTES,
                         ids=["F.one_hot", "F.cross_entropy", "log_softmax"])
def test_ready_made_routes_score_zero(function, route, words):
    found = verdicts("ch3-en", {**RIGHT, function: route}, of_function("ch3-en", function))
    for grade_id, verdict in found.items():
        if BY_ID[grade_id].raises is None:
            assert verdict.points == 0 and words in str(verdict), str(verdict)


# ---- the stub and validation only ----------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_released_stub_scores_nothing(language):
    found = verdicts(f"ch3-{language}", dict.fromkeys(RIGHT, stub))
    assert all(v.points == 0 and not v.attempted for v in found.values())


def test_validating_without_computing_earns_at_most_a_tenth():
    def validating_one_hot(labels, num_classes):
        one_hot(labels, num_classes)
        return torch.zeros(len(labels), num_classes)

    def validating_smooth(targets, epsilon):
        smooth_labels(targets, epsilon)
        return targets

    found = verdicts("ch3-en", {"one_hot": validating_one_hot, "smooth_labels": validating_smooth,
                                "multi_hot": lambda lists, c: torch.zeros(len(lists), c),
                                "smoothed_cross_entropy": lambda *args: torch.zeros(())})
    assert sum(v.points for v in found.values()) <= 0.1 * sum(b.points for b in ch3.BEHAVIOURS)


# ---- the references ----------------------------------------------------------------------------------

def test_one_hot_reference_is_torch_one_hot_as_float():
    for case, _ in cases_of(BY_ID["one_hot_values"], DEFAULT_SEED):
        labels, c = case.args
        torch.testing.assert_close(BY_ID["one_hot_values"].expected(case), TF.one_hot(labels, c).float())
        assert int(labels.max()) < c - 1 or labels.numel() <= 4  # hidden cases leave the last class out


def test_multi_hot_reference_by_hand():
    case = BY_ID["multi_hot_empty_and_repeated"].fixed()[0]
    torch.testing.assert_close(BY_ID["multi_hot_empty_and_repeated"].expected(case),
                               torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def test_smooth_labels_reference_by_hand():
    case = BY_ID["smooth_labels_values"].fixed()[0]  # epsilon 0.1, C = 3
    expected = BY_ID["smooth_labels_values"].expected(case)
    torch.testing.assert_close(expected[0], torch.tensor([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3]))


@pytest.mark.parametrize("grade_id", ["smoothed_cross_entropy_values", "smoothed_cross_entropy_stable"])
def test_smoothed_reference_is_cross_entropy_against_smoothed_targets(grade_id):
    behaviour = BY_ID[grade_id]
    for case, _ in cases_of(behaviour, DEFAULT_SEED):
        logits, labels, epsilon = case.args
        c = logits.shape[1]
        targets = (1 - epsilon) * TF.one_hot(labels, c).double() + epsilon / c
        by_definition = -(targets * TF.log_softmax(logits.double(), dim=1)).sum(dim=1).mean()
        torch.testing.assert_close(behaviour.expected(case).double(), by_definition, rtol=1e-5,
                                   atol=behaviour.atol)


def test_smoothed_minimum_is_the_entropy_of_the_smoothed_target():
    """At z = log ỹ the loss is H(ỹ): with ε = 0.2 and C = 5, log 21 apart, H = 0.6615 nats."""
    target = torch.tensor([0.84, 0.04, 0.04, 0.04, 0.04], dtype=torch.float64)
    loss = ch3.smoothed_ce_reference(target.log()[None], torch.tensor([0]), 0.2)
    assert math.isclose(loss.item(), -(target * target.log()).sum().item(), rel_tol=1e-12)
    assert math.isclose(math.log(0.84 / 0.04), math.log(21), rel_tol=1e-12)


def test_blocked_and_provided():
    assert ch3.BLOCKED == ("one_hot", "softmax", "log_softmax") and ch3.PROVIDED == ()
