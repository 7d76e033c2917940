"""Chapter 2 checks: entropy, cross_entropy, kl_divergence and focal_loss.

Right answers in several styles pass in both languages, each typical mistake fails the behaviours meant
to catch it and is named, ready-made routes are refused, the released stub scores 0, and the references
agree with independent computations (torch, torch.distributions and numbers worked by hand).
"""

import math

import pytest
import torch
import torch.nn.functional as TF
from checkkit import failing, of_function, stub, verdicts

from coursework.checks import ch2
from coursework.grading.seed import DEFAULT_SEED
from coursework.grading.verdict import cases_of

LANGUAGES = ("es", "en")
BY_ID = {b.grade_id: b for b in ch2.BEHAVIOURS}


# ---------------------------------------------------------- a right answer (as a student may write it)
def entropy(p):
    return -torch.xlogy(p, p).sum(dim=1)


def _log_softmax(logits):
    m = logits.amax(dim=1, keepdim=True)
    return logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))


def cross_entropy(logits, target):
    n, c = logits.shape
    if target.shape != (n,):
        raise ValueError(f"expected target of shape ({n},), got {tuple(target.shape)}")
    if ((target < 0) | (target >= c)).any():
        raise ValueError(f"expected class indices in [0, {c})")
    return -_log_softmax(logits)[torch.arange(n), target].mean()


def kl_divergence(p, q):
    if p.shape != q.shape:
        raise ValueError(f"expected q of the shape of p {tuple(p.shape)}, got {tuple(q.shape)}")
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=1)


def focal_loss(logits, target, gamma=2.0):
    log_p = _log_softmax(logits).gather(1, target[:, None]).squeeze(1)
    return (-(1 - log_p.exp()) ** gamma * log_p).mean()


RIGHT = {"entropy": entropy, "cross_entropy": cross_entropy, "kl_divergence": kl_divergence,
         "focal_loss": focal_loss}


# -- honest solutions in other styles --------------------------------------------------------------------

def entropy_where(p):
    return torch.where(p > 0, p * torch.log(1 / p), 0.0).sum(dim=1)


def entropy_loops(p):
    out = torch.zeros(p.shape[0], dtype=p.dtype)
    for i, row in enumerate(p.tolist()):
        out[i] = -sum(v * math.log(v) for v in row if v > 0)
    return out


def cross_entropy_per_row(logits, target):
    cross_entropy(logits, target)  # the same validation
    losses = []
    for row, c in zip(logits, target.tolist()):
        m = row.max()
        losses.append(m + torch.log(torch.exp(row - m).sum()) - row[c])
    return torch.stack(losses).mean()


def kl_in_place(p, q):
    if p.shape != q.shape:
        raise ValueError("shapes differ")
    ratio = torch.where(p > 0, p, 1.0).clone()
    ratio.div_(q).log_().mul_(p)
    return ratio.sum(dim=1)


def focal_where(logits, target, gamma=2.0):
    log_p = _log_softmax(logits)[torch.arange(len(target)), target]
    p = torch.exp(log_p)
    return torch.where(p < 1, -(1 - p) ** gamma * log_p, 0.0).mean()


STYLES = [("entropy", entropy_where), ("entropy", entropy_loops), ("cross_entropy", cross_entropy_per_row),
          ("kl_divergence", kl_in_place), ("focal_loss", focal_where)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_right_answer_passes_everything(language):
    assert failing(f"ch2-{language}", RIGHT) == set()


@pytest.mark.parametrize("function, style", STYLES, ids=[s.__name__ for _, s in STYLES])
def test_honest_solutions_in_other_styles_keep_full_marks(function, style):
    assert failing("ch2-en", {**RIGHT, function: style}) == set()


# ------------------------------------------------------------------ typical mistakes
def _bits_entropy(p):
    return entropy(p) / math.log(2)  # log2: bits, not nats


def _naive_entropy(p):
    return -(p * p.log()).sum(dim=1)  # 0 * log 0 = 0 * -inf = nan


def _sum_cross_entropy(logits, target):
    return cross_entropy(logits, target) * len(target)  # forgets 1/N


def _mean_over_classes(logits, target):
    return cross_entropy(logits, target) / logits.shape[1]  # divides by N*C, not N


def _softmax_twice(logits, target):
    return cross_entropy(torch.exp(_log_softmax(logits)), target)  # probabilities where logits are expected


def _logits_as_probabilities(logits, target):
    cross_entropy(logits, target)
    return -logits[torch.arange(len(target)), target].log().mean()


def _naive_softmax(logits, target):
    cross_entropy(logits, target)  # keeps the input checks right
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)  # overflows for large logits
    return -probs[torch.arange(len(target)), target].log().mean()


def _global_max(logits, target):
    cross_entropy(logits, target)
    m = logits.max()  # one max for the whole batch: rows far below it underflow to log 0
    log_probs = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(target)), target].mean()


def _unchecked(logits, target):
    return -_log_softmax(logits)[torch.arange(logits.shape[0]), target].mean()  # IndexError or silent wrap


def _swapped_kl(p, q):
    return kl_divergence(q, p)  # KL(q || p)


def _kl_of_probabilities(p, q):
    kl_divergence(p, q)
    return torch.where(p > 0, p * (p.log() - q), 0.0).sum(dim=1)  # q taken as log q


def _naive_kl(p, q):
    kl_divergence(p, q)
    return (p * (p / q).log()).sum(dim=1)  # 0 * log 0 = nan


def _broadcasting_kl(p, q):
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=-1)  # no shape check


def _focal_without_gamma(logits, target, gamma=2.0):
    return cross_entropy(logits, target)


def _focal_wrong_factor(logits, target, gamma=2.0):
    log_p = _log_softmax(logits)[torch.arange(len(target)), target]
    return (-log_p.exp() ** gamma * log_p).mean()


def _focal_log_of_probability(logits, target, gamma=2.0):
    p = _log_softmax(logits).exp()[torch.arange(len(target)), target]
    return (-(1 - p) ** gamma * p.log()).mean()  # p rounds to 0: log 0 = -inf


# (mistake, the behaviours that must fail, the misconception it must be named as, or None)
MISTAKES = [
    (_bits_entropy, {"entropy_values", "entropy_zeros"}, "log-base-2"),
    (_naive_entropy, {"entropy_zeros"}, "zero-log-zero"),
    (_sum_cross_entropy, {"cross_entropy_values", "cross_entropy_stable"}, "sum-over-batch"),
    (_mean_over_classes, {"cross_entropy_values", "cross_entropy_stable"}, "mean-over-classes"),
    (_softmax_twice, {"cross_entropy_values", "cross_entropy_stable"}, "softmax-twice"),
    (_logits_as_probabilities, {"cross_entropy_values", "cross_entropy_stable"}, "logits-as-probabilities"),
    (_naive_softmax, {"cross_entropy_stable"}, "no-max-subtraction"),
    (_global_max, {"cross_entropy_stable"}, "no-max-subtraction"),
    (_unchecked, {"cross_entropy_bad_target"}, None),
    (_swapped_kl, {"kl_divergence_values"}, "kl-swapped"),
    (_kl_of_probabilities, {"kl_divergence_values"}, "probabilities-as-log-probabilities"),
    (_naive_kl, {"kl_divergence_values"}, "zero-log-zero"),
    (_broadcasting_kl, {"kl_divergence_bad_shape"}, None),
    (_focal_without_gamma, {"focal_loss_values", "focal_loss_stable"}, "gamma-ignored"),
    (_focal_wrong_factor, {"focal_loss_values", "focal_loss_stable"}, "focal-wrong-factor"),
    (_focal_log_of_probability, {"focal_loss_stable"}, "log-of-underflowed-probability"),
]
@pytest.mark.parametrize("mistake, must_fail, key", MISTAKES,
                         ids=[m[0].__name__.strip("_") for m in MISTAKES])
def test_mistake_fails_its_behaviours_and_is_named(mistake, must_fail, key):
    function = BY_ID[next(iter(must_fail))].function
    for language in LANGUAGES:
        found = verdicts(f"ch2-{language}", {**RIGHT, function: mistake}, of_function("ch2-en", function))
        assert {g for g, v in found.items() if not v.passed} == must_fail, language
        if key is not None:
            for grade_id in must_fail:
                assert found[grade_id].diagnosis == key, str(found[grade_id])
                text = next(m for m in BY_ID[grade_id].misconceptions if m.key == key).text[language]
                assert text in str(found[grade_id])


def test_a_target_of_one_element_broadcasts_silently_without_the_shape_check():
    logits, target = _all_cases("cross_entropy_bad_target")[3].args
    assert target.shape == (1,) and logits.shape[0] == 2
    assert torch.isfinite(_log_softmax(logits)[torch.arange(2), target].mean())


def test_feedback_speaks_spanish_in_the_spanish_notebook():
    verdict = verdicts("ch2-es", {**RIGHT, "entropy": _naive_entropy}, ["entropy_zeros"])["entropy_zeros"]
    text = str(verdict)
    assert verdict.points == 0
    assert all(word in text for word in ("No pasa", "Esperado", "Obtenido", "nan", "Diagnóstico", "Repasa"))
    assert "/es/02-entropy-kl.html#ch02-entropy" in text


# ------------------------------------------------------------------ ready-made routes
ROUTES = [
    ("entropy", lambda p: torch.special.entr(p).sum(1), "aten::special_entr"),
    ("entropy", lambda p: torch.distributions.Categorical(probs=p).entropy(), "torch.distributions"),
    ("cross_entropy", lambda logits, target: (torch.logsumexp(logits, 1) - logits[torch.arange(len(target)),
                                                                                  target]).mean(),
     "aten::logsumexp"),
    ("kl_divergence", lambda p, q: torch.distributions.kl_divergence(torch.distributions.Categorical(probs=p),
                                                                     torch.distributions.Categorical(probs=q)),
     "torch.distributions"),
    ("focal_loss", lambda logits, target, gamma=2.0: (-(1 - TF.softmax(logits, 1).gather(1, target[:, None]))
                                                       ** gamma * TF.log_softmax(logits, 1)
                                                       .gather(1, target[:, None])).mean(), "not allowed"),
]


@pytest.mark.parametrize("function, route, words", ROUTES, ids=["entr", "categorical", "logsumexp",
                                                                 "distributions-kl", "functional-softmax"])
def test_ready_made_routes_score_zero_with_a_reason(function, route, words):
    for grade_id, verdict in verdicts("ch2-en", {**RIGHT, function: route}).items():
        if BY_ID[grade_id].function == function and BY_ID[grade_id].raises is None:
            assert verdict.points == 0 and words in str(verdict), str(verdict)


# ------------------------------------------------------------------ the released stub, validation only
@pytest.mark.parametrize("language", LANGUAGES)
def test_stub_scores_zero_everywhere(language):
    found = verdicts(f"ch2-{language}", dict.fromkeys(RIGHT, stub))
    assert all(v.points == 0 and not v.attempted for v in found.values())


def test_missing_functions_score_zero():
    for verdict in verdicts("ch2-en", {}).values():
        assert verdict.points == 0 and "not defined" in str(verdict)


def test_validating_without_computing_earns_at_most_a_tenth():
    def validating_ce(logits, target):
        cross_entropy(logits, target)
        return torch.zeros(())

    def validating_kl(p, q):
        kl_divergence(p, q)
        return torch.zeros(p.shape[0])

    found = verdicts("ch2-en", {"entropy": lambda p: torch.zeros(p.shape[0]), "cross_entropy": validating_ce,
                                "kl_divergence": validating_kl,
                                "focal_loss": lambda *a, **k: torch.zeros(())})
    assert sum(v.points for v in found.values()) <= 0.1 * sum(b.points for b in ch2.BEHAVIOURS)


# ------------------------------------------------------- the references against independent computations
def _all_cases(grade_id):
    return [case for case, _ in cases_of(BY_ID[grade_id], DEFAULT_SEED)]


@pytest.mark.parametrize("grade_id", ["entropy_values", "entropy_zeros"])
def test_entropy_reference_matches_torch_categorical(grade_id):
    for case in _all_cases(grade_id):
        (p,) = case.args
        expected = torch.distributions.Categorical(probs=p.double()).entropy()
        torch.testing.assert_close(BY_ID[grade_id].expected(case).double(), expected)


def test_entropy_reference_by_hand():
    weather, zeros = _all_cases("entropy_values")[0], _all_cases("entropy_zeros")[1]
    got = BY_ID["entropy_values"].expected(weather)
    torch.testing.assert_close(got, torch.tensor([1.75 * math.log(2), math.log(4)]))  # 1.75 bits, 2 bits
    by_hand = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    torch.testing.assert_close(BY_ID["entropy_zeros"].expected(zeros), torch.tensor([by_hand]))


def test_zero_cases_hold_zeros():
    for grade_id in ["entropy_zeros", "kl_divergence_values"]:
        cases = _all_cases(grade_id)
        assert any(bool((case.args[0] == 0).any()) for case in cases[:3])  # shown
        assert any(bool((case.args[0] == 0).any()) for case in cases[3:])  # hidden
    for case in _all_cases("entropy_values"):
        assert bool((case.args[0] > 0).all())


@pytest.mark.parametrize("grade_id", ["cross_entropy_values", "cross_entropy_stable"])
def test_cross_entropy_reference_matches_torch(grade_id):
    behaviour = BY_ID[grade_id]
    for case in _all_cases(grade_id):
        logits, target = case.args
        torch.testing.assert_close(behaviour.expected(case).double(),
                                   TF.cross_entropy(logits.double(), target), rtol=1e-5, atol=behaviour.atol)


def test_cross_entropy_reference_by_hand():
    first, second = _all_cases("cross_entropy_stable")[:2]
    assert float(BY_ID["cross_entropy_stable"].expected(first)) == 2000.0
    assert math.isclose(float(BY_ID["cross_entropy_stable"].expected(second)), math.log(3), rel_tol=1e-6)
    two_classes = _all_cases("cross_entropy_values")[1]
    two_classes_loss = float(BY_ID["cross_entropy_values"].expected(two_classes))
    assert math.isclose(two_classes_loss, math.log(2), rel_tol=1e-6)


def test_stable_cases_overflow_a_naive_softmax():
    for case in _all_cases("cross_entropy_stable"):
        logits, target = case.args
        assert not torch.isfinite(_naive_softmax(logits, target))


def test_kl_reference_matches_torch_and_the_identity():
    behaviour = BY_ID["kl_divergence_values"]
    for case in _all_cases("kl_divergence_values"):
        p, q = (x.double() for x in case.args)
        expected = behaviour.expected(case).double()
        torch.testing.assert_close(expected, TF.kl_div(q.log(), p, reduction="none").sum(dim=1))
        cross = -(p * q.log()).sum(dim=1)  # H(p, q), with q > 0
        torch.testing.assert_close(expected, cross - torch.distributions.Categorical(probs=p).entropy())


def test_kl_reference_by_hand():
    coins = _all_cases("kl_divergence_values")[0]  # p = (fair, loaded), q = (loaded, fair)
    fair_loaded = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    loaded_fair = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    torch.testing.assert_close(BY_ID["kl_divergence_values"].expected(coins),
                               torch.tensor([fair_loaded, loaded_fair]))


@pytest.mark.parametrize("grade_id", ["focal_loss_values", "focal_loss_stable"])
def test_focal_reference_is_cross_entropy_weighted_by_one_minus_p(grade_id):
    behaviour = BY_ID[grade_id]
    for case in _all_cases(grade_id):
        logits, target = case.args
        gamma = case.kwargs.get("gamma", 2.0)
        per_example = TF.cross_entropy(logits.double(), target, reduction="none")
        weight = (1 - torch.exp(-per_example)) ** gamma  # p_c = exp(-ce)
        torch.testing.assert_close(behaviour.expected(case).double(), (weight * per_example).mean(),
                                   rtol=1e-5, atol=behaviour.atol)
    easy = ch2.focal_reference(torch.tensor([[math.log(9.0), 0.0]], dtype=torch.float64), torch.tensor([0]))
    assert math.isclose(easy.item(), 0.01 * math.log(10 / 9), rel_tol=1e-12)  # (1 - 0.9)² (-log 0.9)


def test_blocked_and_provided():
    assert ch2.BLOCKED == ("softmax", "log_softmax") and ch2.PROVIDED == ()
