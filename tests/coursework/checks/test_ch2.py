"""Tests of the chapter 2 checks (coursework/checks/ch2.py): entropy, cross_entropy, kl_divergence.

A right answer passes every behaviour in both languages, each typical mistake fails the behaviour
meant to catch it, the released stub scores 0, the references agree with independent computations
(torch and hand-worked numbers) and the points match the nbgrader metadata of the notebooks.
"""

import ast
import json
import math

import pytest
import torch
import torch.nn.functional as TF

from coursework.chapters import parse_assignment
from coursework.checks import ch2
from coursework.grading import Case, Checker
from coursework.grading.seed import DEFAULT_SEED
from coursework.grading.verdict import cases_of

ASSIGNMENTS = ["ch2-es", "ch2-en"]
GRADE_IDS = [b.grade_id for b in ch2.BEHAVIOURS]
BY_ID = {b.grade_id: b for b in ch2.BEHAVIOURS}


# ---------------------------------------------------------- a right answer (as a student may write it)
def entropy(p):
    return -torch.xlogy(p, p).sum(dim=1)


def cross_entropy(logits, target):
    n, c = logits.shape
    if target.shape != (n,):
        raise ValueError(f"expected target of shape ({n},), got {tuple(target.shape)}")
    if ((target < 0) | (target >= c)).any():
        raise ValueError(f"expected class indices in [0, {c})")
    m = logits.amax(dim=1)
    # m + log(sum) - z_c: the less precise order in float32, still within the tolerance.
    lse = m + torch.log(torch.exp(logits - m[:, None]).sum(dim=1))
    return (lse - logits[torch.arange(n), target]).mean()


def kl_divergence(p, q):
    if p.shape != q.shape:
        raise ValueError(f"expected q of the shape of p {tuple(p.shape)}, got {tuple(q.shape)}")
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=1)


RIGHT = {"entropy": entropy, "cross_entropy": cross_entropy, "kl_divergence": kl_divergence}


def _verdicts(namespace, assignment="ch2-en"):
    check = Checker(assignment)
    return {grade_id: check.verdict(grade_id, namespace) for grade_id in GRADE_IDS}


@pytest.fixture(autouse=True)
def _default_seed(monkeypatch, tmp_path):
    """Checks draw hidden inputs from the public default seed, whatever the environment holds."""
    monkeypatch.delenv("LOSSFNS_GRADING_SEED", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_right_answer_passes_everything(assignment):
    for grade_id, verdict in _verdicts(RIGHT, assignment).items():
        assert verdict.passed, f"{grade_id}: {verdict}"
        assert verdict.points == BY_ID[grade_id].points


# ------------------------------------------------------------------ the notebooks' own solutions
def _notebook(assignment):
    chapter, language = parse_assignment(assignment)
    return json.loads(chapter.solution(language).read_text(encoding="utf-8"))


def _answer_sources(assignment):
    return ["".join(cell["source"]) for cell in _notebook(assignment)["cells"]
            if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_solution_passes_with_torch_and_math_only(assignment):
    namespace = {"torch": torch, "math": math}
    for source in _answer_sources(assignment):
        exec(compile(source, assignment, "exec"), namespace)
    for grade_id, verdict in _verdicts(namespace, assignment).items():
        assert verdict.passed, f"{grade_id}: {verdict}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_solution_uses_no_blocked_primitive(assignment):
    assert ch2.BLOCKED == ("softmax", "log_softmax") and ch2.PROVIDED == ()
    for source in _answer_sources(assignment):
        names = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
        assert not names & set(ch2.BLOCKED)
        assert "functional" not in names and "lossfns" not in names


# ------------------------------------------------------------------ typical mistakes
def _bits_entropy(p):
    return -(torch.xlogy(p, p) / math.log(2)).sum(dim=1)  # log2: bits, not nats


def _naive_entropy(p):
    return -(p * p.log()).sum(dim=1)  # 0 * log 0 = 0 * -inf = nan


def _sum_cross_entropy(logits, target):
    return cross_entropy(logits, target) * len(target)  # forgets 1/N


def _mean_over_classes(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    one_hot = torch.eye(logits.shape[1])[target]
    return (one_hot * -log_probs).mean()  # divides by N*C, not N


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
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[torch.arange(logits.shape[0]), target].mean()  # IndexError, or silent wrap/broadcast


def _upper_bound_only(logits, target):
    if target.shape != (logits.shape[0],) or (target >= logits.shape[1]).any():
        raise ValueError("bad target")
    return _unchecked(logits, target)  # -1 silently picks the last class


def _range_only(logits, target):
    if ((target < 0) | (target >= logits.shape[1])).any():
        raise ValueError("bad target")
    return _unchecked(logits, target)  # a target of shape (1,) broadcasts over the batch


def _swapped_kl(p, q):
    return kl_divergence(q, p)  # KL(q || p)


def _naive_kl(p, q):
    kl_divergence(p, q)
    return (p * (p / q).log()).sum(dim=1)  # 0 * log 0 = nan


def _broadcasting_kl(p, q):
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=-1)  # no shape check


# (mistake, the behaviour that must fail, a word of its feedback, behaviours of that function that still pass)
MISTAKES = [
    (_bits_entropy, "entropy_values", "match", set()),
    (_naive_entropy, "entropy_zeros", "nan", {"entropy_values"}),
    (_sum_cross_entropy, "cross_entropy_values", "match", {"cross_entropy_bad_target"}),
    (_mean_over_classes, "cross_entropy_values", "match", set()),
    (_naive_softmax, "cross_entropy_stable", "inf", {"cross_entropy_values", "cross_entropy_bad_target"}),
    (_global_max, "cross_entropy_stable", "inf", {"cross_entropy_values", "cross_entropy_bad_target"}),
    (_unchecked, "cross_entropy_bad_target", "IndexError", {"cross_entropy_values", "cross_entropy_stable"}),
    (_upper_bound_only, "cross_entropy_bad_target", "returned a value",
     {"cross_entropy_values", "cross_entropy_stable"}),
    (_range_only, "cross_entropy_bad_target", "IndexError", {"cross_entropy_values", "cross_entropy_stable"}),
    (_swapped_kl, "kl_divergence_values", "match", {"kl_divergence_bad_shape"}),
    (_naive_kl, "kl_divergence_values", "nan", {"kl_divergence_bad_shape"}),
    (_broadcasting_kl, "kl_divergence_bad_shape", "ValueError", {"kl_divergence_values"}),
]


@pytest.mark.parametrize("mistake, grade_id, word, still_passing", MISTAKES,
                         ids=[m[0].__name__.strip("_") for m in MISTAKES])
def test_mistake_fails_its_behaviour(mistake, grade_id, word, still_passing):
    function = BY_ID[grade_id].function
    verdicts = _verdicts({**RIGHT, function: mistake})
    assert verdicts[grade_id].points == 0
    assert word in str(verdicts[grade_id])
    for other, verdict in verdicts.items():
        if BY_ID[other].function != function or other in still_passing:
            assert verdict.passed, f"{other}: {verdict}"


def test_a_target_of_one_element_broadcasts_silently_without_the_shape_check():
    logits, target = _all_cases("cross_entropy_bad_target")[3].args
    assert target.shape == (1,) and logits.shape[0] == 2
    assert torch.isfinite(_range_only(logits, target))


def test_feedback_speaks_spanish_in_the_spanish_notebook():
    verdict = Checker("ch2-es").verdict("entropy_zeros", {**RIGHT, "entropy": _naive_entropy})
    text = str(verdict)
    assert verdict.points == 0
    assert "No pasa" in text and "Esperado" in text and "Obtenido" in text and "nan" in text


# ------------------------------------------------------------------ the released stub
def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_scores_zero_everywhere(assignment):
    stub = {name: _stub for name in RIGHT}
    word = {"ch2-es": "todavía no está implementada", "ch2-en": "not implemented yet"}[assignment]
    for grade_id, verdict in _verdicts(stub, assignment).items():
        assert verdict.points == 0, grade_id
        if BY_ID[grade_id].raises is None:
            assert word in str(verdict)


def test_missing_functions_score_zero():
    for verdict in _verdicts({}).values():
        assert verdict.points == 0 and "not defined" in str(verdict)


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
    assert math.isclose(float(BY_ID["cross_entropy_values"].expected(two_classes)), math.log(2), rel_tol=1e-6)


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


# ------------------------------------------------------------------ shape of the behaviours and the notebooks
def _plain(value):
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return type(value) is torch.Tensor or value is None or isinstance(value, (bool, int, float, str))


def test_cases_are_plain_data_and_sizes_fit():
    assert 4 <= len(ch2.BEHAVIOURS) <= 7 and 6 <= sum(b.points for b in ch2.BEHAVIOURS) <= 9
    for behaviour in ch2.BEHAVIOURS:
        cases = cases_of(behaviour, DEFAULT_SEED)
        fixed = [case for case, hidden in cases if not hidden]
        hidden = [case for case, hidden in cases if hidden]
        assert 1 <= len(fixed) <= 4 and (behaviour.raises or 3 <= len(hidden) <= 9)
        for case in fixed + hidden:
            assert isinstance(case, Case) and _plain(case.args) and _plain(case.kwargs)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_match_the_notebook(assignment):
    graded = {}
    for cell in _notebook(assignment)["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            graded[meta["grade_id"]] = meta["points"]
            assert f'check("{meta["grade_id"]}")' in "".join(cell["source"])
        elif meta.get("grade"):
            assert meta["grade_id"] == "written_answer" and meta["points"] == 2
    assert graded == {b.grade_id: b.points for b in ch2.BEHAVIOURS}
    assert list(graded) == GRADE_IDS  # notebook order
    assert _notebook(assignment)["metadata"]["lossfns"]["assignment"] == assignment
