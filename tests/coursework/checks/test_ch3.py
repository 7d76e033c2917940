"""Chapter 3 checks: a right answer passes, typical mistakes fail exactly their behaviour."""

from __future__ import annotations

import json
import time

import pytest
import torch
import torch.nn.functional as TF

from coursework.chapters import chapter
from coursework.checks import ch3
from coursework.grading import Checker, behaviours

LANGUAGES = ("es", "en")
GRADE_IDS = [b.grade_id for b in ch3.BEHAVIOURS]


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


RIGHT = {"one_hot": one_hot, "multi_hot": multi_hot, "smooth_labels": smooth_labels}


def verdicts(namespace, language="en"):
    checker = Checker(f"ch3-{language}")
    return {grade_id: checker.verdict(grade_id, namespace) for grade_id in GRADE_IDS}


def failing(namespace):
    return {grade_id for grade_id, verdict in verdicts(namespace).items() if not verdict.passed}


def with_(**functions):
    return {**RIGHT, **functions}


# ---- mistakes, one per behaviour ------------------------------------------------------------------

def one_hot_int64(labels, num_classes):
    """Forgets the float conversion (torch.nn.functional.one_hot returns int64)."""
    out = one_hot(labels, num_classes)
    return out.long()


def one_hot_inferred_classes(labels, num_classes):
    """Infers C from the batch instead of using num_classes."""
    one_hot(labels, num_classes)  # keeps the ValueErrors
    return (labels[:, None] == torch.arange(int(labels.max()) + 1)).float()


def one_hot_no_negative_check(labels, num_classes):
    """Checks only the upper end of the range: a -1 gives a row of zeros."""
    if labels.is_floating_point() or labels.max() >= num_classes:
        raise ValueError("bad labels")
    return (labels[:, None] == torch.arange(num_classes)).float()


def one_hot_no_dtype_check(labels, num_classes):
    """Float labels in range go through (the comparison works on floats too)."""
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError("bad labels")
    return (labels[:, None] == torch.arange(num_classes)).float()


def multi_hot_counts(label_lists, num_classes):
    """Counts repeated indices instead of recording presence."""
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        for k in classes:
            out[i, k] += 1.0
    return out


def multi_hot_via_tensor(label_lists, num_classes):
    """torch.tensor([]) is float: an empty list cannot index."""
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        out[i, torch.tensor(classes)] = 1.0
    return out


def multi_hot_last_label_only(label_lists, num_classes):
    """Rebuilds the whole row for every label, as in one_hot: only the last label survives."""
    out = torch.zeros(len(label_lists), num_classes)
    for i, classes in enumerate(label_lists):
        for k in classes:
            out[i] = (torch.arange(num_classes) == k).float()
    return out


def smooth_over_wrong_classes(targets, epsilon):
    """The other convention: epsilon / (C - 1) on the wrong classes only."""
    smooth_labels(targets, epsilon)
    c = targets.shape[1]
    return (1 - epsilon) * targets + epsilon / (c - 1) * (1 - targets)


def smooth_rows_as_classes(targets, epsilon):
    """Takes C from the number of rows."""
    smooth_labels(targets, epsilon)
    return (1 - epsilon) * targets + epsilon / targets.shape[0]


def smooth_refuses_one(targets, epsilon):
    """Refuses epsilon = 1, which torch's label_smoothing and lossfns.functional.smooth_labels accept."""
    if not 0 <= epsilon < 1:
        raise ValueError("bad epsilon")
    return (1 - epsilon) * targets + epsilon / targets.shape[1]


def smooth_unchecked(targets, epsilon):
    """Never checks epsilon: 1.5 gives negative 'probabilities'."""
    return (1 - epsilon) * targets + epsilon / targets.shape[1]


MISTAKES = [
    ("one_hot", one_hot_int64, "one_hot_values", "dtype"),
    ("one_hot", one_hot_inferred_classes, "one_hot_values", "shape"),
    ("one_hot", one_hot_no_negative_check, "one_hot_bad_input", "ValueError"),
    ("one_hot", one_hot_no_dtype_check, "one_hot_bad_input", "ValueError"),
    ("multi_hot", multi_hot_last_label_only, "multi_hot_values", "values"),
    ("multi_hot", multi_hot_counts, "multi_hot_empty_and_repeated", "values"),
    ("multi_hot", multi_hot_via_tensor, "multi_hot_empty_and_repeated", "IndexError"),
    ("smooth_labels", smooth_over_wrong_classes, "smooth_labels_values", "values"),
    ("smooth_labels", smooth_rows_as_classes, "smooth_labels_values", "values"),
    ("smooth_labels", smooth_refuses_one, "smooth_labels_values", "raised ValueError"),
    ("smooth_labels", smooth_unchecked, "smooth_labels_bad_epsilon", "ValueError"),
]


# ---- tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_right_answer_passes_everything(language):
    results = verdicts(RIGHT, language)
    assert all(v.passed for v in results.values()), {g: str(v) for g, v in results.items() if not v.passed}
    assert all(str(v).startswith("✓") for v in results.values())


@pytest.mark.parametrize("function, mistake, grade_id, word", MISTAKES,
                         ids=[m[1].__name__ for m in MISTAKES])
def test_a_mistake_fails_exactly_its_behaviour(function, mistake, grade_id, word):
    namespace = with_(**{function: mistake})
    assert failing(namespace) == {grade_id}
    verdict = Checker("ch3-en").verdict(grade_id, namespace)
    assert verdict.points == 0
    assert word in str(verdict)


def test_every_behaviour_has_a_mistake():
    assert {m[2] for m in MISTAKES} == set(GRADE_IDS)


def test_feedback_is_in_the_notebooks_language():
    namespace = with_(smooth_labels=smooth_over_wrong_classes)
    es = str(Checker("ch3-es").verdict("smooth_labels_values", namespace))
    en = str(Checker("ch3-en").verdict("smooth_labels_values", namespace))
    assert "No pasa" in es and "Esperado" in es and "Traceback" not in es
    assert "Failed" in en and "Expected" in en and "Traceback" not in en


@pytest.mark.parametrize("language", LANGUAGES)
def test_released_stub_scores_nothing(language):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    results = verdicts({name: stub for name in RIGHT}, language)
    assert all(v.points == 0 for v in results.values())
    assert sum(v.max_points for v in results.values()) == 8


def test_missing_function_scores_nothing():
    assert all(v.points == 0 for v in verdicts({}).values())


def test_checks_are_fast():
    start = time.perf_counter()
    verdicts(RIGHT)
    assert time.perf_counter() - start < 1.0


# ---- the references against independent values -------------------------------------------------

def test_one_hot_reference_is_torch_one_hot_as_float():
    labels = torch.tensor([0, 2, 1, 0])
    expected = ch3.one_hot_reference(labels, 4)
    assert expected.dtype == torch.float32
    torch.testing.assert_close(expected, TF.one_hot(labels, 4).float())


def test_multi_hot_reference_by_hand():
    expected = behaviours("ch3-en")["multi_hot_empty_and_repeated"].reference([[0, 2], [], [1, 1]], 3)
    assert expected.dtype == torch.float32
    torch.testing.assert_close(expected, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def test_smooth_labels_reference_by_hand_and_through_torch_cross_entropy():
    smooth = behaviours("ch3-en")["smooth_labels_values"].reference
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = smooth(targets, 0.1)
    assert expected.dtype == torch.float32
    a, b = 0.9 + 0.1 / 3, 0.1 / 3
    torch.testing.assert_close(expected, torch.tensor([[a, b, b], [b, b, a]]))
    # torch's label_smoothing=ε is cross-entropy against exactly this target
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.3, -0.2, 1.1]])
    torch.testing.assert_close(TF.cross_entropy(logits, expected),
                               TF.cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.1))


# ---- the notebooks -----------------------------------------------------------------------------

def notebook_points(language):
    path = chapter("ch3").solution(language)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    points = {}
    for cell in notebook["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("grade") and not grading.get("solution"):
            points[grading["grade_id"]] = grading["points"]
    return points


@pytest.mark.parametrize("language", LANGUAGES)
def test_notebook_points_match_the_behaviours(language):
    assert notebook_points(language) == {b.grade_id: b.points for b in ch3.BEHAVIOURS}


def test_blocked_and_provided():
    assert ch3.BLOCKED == ("one_hot",)
    assert ch3.PROVIDED == ()


@pytest.mark.parametrize("language, verb", [("es", "Comprueba que"), ("en", "Check that")])
def test_check_cells_state_the_summary(language, verb):
    path = chapter("ch3").solution(language)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in cells
               if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code"}
    for behaviour in ch3.BEHAVIOURS:
        assert sources[behaviour.grade_id] == (f'"""{verb} {behaviour.summary[language]}."""\n'
                                               f'check("{behaviour.grade_id}")')
