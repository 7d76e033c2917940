"""Tests for lossfns.metrics against hand-computed cases and identities."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lossfns.metrics import accuracy, confusion_matrix, f1_per_class, macro_f1, majority_accuracy

# Hand-worked example: 3 classes, 8 examples.
TARGET = [0, 0, 0, 1, 1, 2, 2, 2]
PRED = [0, 1, 0, 1, 2, 2, 2, 0]
# Confusion (rows true, cols predicted): class 0 -> [2,1,0], class 1 -> [0,1,1], class 2 -> [1,0,2]
# F1_0 = 2*2/(2*2+1+1) = 2/3; F1_1 = 2*1/(2+1+1) = 1/2; F1_2 = 2*2/(4+1+1) = 2/3


def test_confusion_matrix_hand_computed():
    expected = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 2]])
    assert torch.equal(confusion_matrix(PRED, TARGET), expected)


def test_accuracy_hand_computed():
    assert accuracy(PRED, TARGET) == 5 / 8


def test_f1_per_class_and_macro_f1_hand_computed():
    expected = torch.tensor([2 / 3, 1 / 2, 2 / 3], dtype=torch.float64)
    torch.testing.assert_close(f1_per_class(PRED, TARGET), expected)
    assert math.isclose(macro_f1(PRED, TARGET), (2 / 3 + 1 / 2 + 2 / 3) / 3)


def test_metrics_accept_scores_and_take_argmax():
    scores = torch.nn.functional.one_hot(torch.tensor(PRED), 3).double() * 3.0 - 1.0
    assert accuracy(scores, TARGET) == accuracy(PRED, TARGET)
    assert torch.equal(confusion_matrix(scores, TARGET), confusion_matrix(PRED, TARGET))
    assert macro_f1(scores, TARGET) == macro_f1(PRED, TARGET)


def test_confusion_matrix_uses_number_of_score_columns():
    scores = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    assert confusion_matrix(scores, [0, 1]).shape == (4, 4)


def test_confusion_matrix_num_classes_pads_unseen_classes():
    matrix = confusion_matrix([0, 1], [0, 1], num_classes=4)
    assert matrix.shape == (4, 4) and matrix.sum() == 2 and matrix.trace() == 2


def test_perfect_predictions_give_one_everywhere():
    assert accuracy(TARGET, TARGET) == 1.0
    assert macro_f1(TARGET, TARGET) == 1.0


def test_macro_f1_penalises_ignoring_a_rare_class():
    target = [0] * 9 + [1]
    pred = [0] * 10
    assert accuracy(pred, target) == 0.9
    # F1_0 = 18/19, F1_1 = 0
    assert math.isclose(macro_f1(pred, target), (18 / 19 + 0) / 2)


def test_macro_f1_leaves_out_classes_absent_from_targets_and_predictions():
    per_class = f1_per_class([0, 1], [0, 1], num_classes=3)
    assert per_class[:2].tolist() == [1.0, 1.0] and math.isnan(per_class[2])
    assert macro_f1([0, 1], [0, 1], num_classes=3) == 1.0


def test_majority_accuracy_is_share_of_most_frequent_class():
    assert majority_accuracy(TARGET) == 3 / 8
    assert majority_accuracy(torch.tensor([2, 2, 2, 1])) == 0.75


@pytest.mark.parametrize("function", [accuracy, confusion_matrix, macro_f1, f1_per_class])
def test_metrics_reject_length_mismatch(function):
    message = r"expected predictions and targets of the same length N, got shapes \(3,\) and \(2,\)"
    with pytest.raises(ValueError, match=message):
        function([0, 1, 1], [0, 1])


@pytest.mark.parametrize("function", [accuracy, confusion_matrix, macro_f1])
def test_metrics_reject_empty_batch(function):
    with pytest.raises(ValueError, match="expected at least one prediction, got an empty batch"):
        function(torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64))


def test_metrics_reject_float_targets():
    with pytest.raises(TypeError, match="expected integer class indices as target, got dtype torch.float32"):
        accuracy([0, 1], torch.tensor([0.0, 1.0]))


def test_metrics_reject_three_dimensional_scores():
    message = r"expected scores of shape \(N, C\) or class indices \(N,\), got shape \(2, 2, 2\)"
    with pytest.raises(ValueError, match=message):
        accuracy(torch.zeros(2, 2, 2), [0, 1])


def test_confusion_matrix_rejects_index_out_of_range():
    with pytest.raises(ValueError, match=r"expected true class indices in \[0, 1\], got values in \[0, 2\]"):
        confusion_matrix([0, 1, 1], [0, 1, 2], num_classes=2)
    message = r"expected predicted class indices in \[0, 2\], got values in \[-1, 1\]"
    with pytest.raises(ValueError, match=message):
        confusion_matrix([-1, 1, 1], [0, 1, 2], num_classes=3)


def test_majority_accuracy_rejects_empty_and_negative():
    with pytest.raises(ValueError, match="expected at least one target, got an empty batch"):
        majority_accuracy([])
    with pytest.raises(ValueError, match="expected class indices >= 0, got -1"):
        majority_accuracy([-1, 0])


pairs = st.integers(1, 30).flatmap(lambda n: st.tuples(st.lists(st.integers(0, 3), min_size=n, max_size=n),
                                                       st.lists(st.integers(0, 3), min_size=n, max_size=n)))


@given(pairs)
def test_metrics_identities(pair):
    pred, target = pair
    matrix = confusion_matrix(pred, target, num_classes=4)
    # Rows count the true classes, columns the predictions, the trace the hits.
    assert matrix.sum(dim=1).tolist() == [target.count(k) for k in range(4)]
    assert matrix.sum(dim=0).tolist() == [pred.count(k) for k in range(4)]
    assert math.isclose(matrix.trace().item() / len(pred), accuracy(pred, target))
    # F1 from the matrix equals 2PR/(P+R) computed from precision and recall.
    for k, f1 in enumerate(f1_per_class(pred, target, num_classes=4).tolist()):
        tp = sum(p == t == k for p, t in zip(pred, target))
        n_pred, n_true = pred.count(k), target.count(k)
        if n_pred + n_true == 0:
            assert math.isnan(f1)
        elif tp == 0:
            assert f1 == 0
        else:
            precision, recall = tp / n_pred, tp / n_true
            assert math.isclose(f1, 2 * precision * recall / (precision + recall))
    assert 0.0 <= macro_f1(pred, target, num_classes=4) <= 1.0
