"""Tests for one_hot, multi_hot and smooth_labels (lossfns/functional/_encoding.py)."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from lossfns.functional import multi_hot, one_hot, smooth_labels

D = torch.float64


# ------------------------------------------------------------------ one_hot
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("num_classes", [-1, 6, 9])
def test_one_hot_matches_torch(shape, num_classes):
    t = torch.randint(0, 6, shape, generator=torch.Generator().manual_seed(0))
    out, expected = one_hot(t, num_classes), F.one_hot(t, num_classes)
    assert out.dtype == torch.int64
    assert out.shape == expected.shape
    assert torch.equal(out, expected)


def test_one_hot_infers_num_classes_from_max():
    assert one_hot(torch.tensor([0, 3])).shape == (2, 4)


def test_one_hot_empty_with_explicit_num_classes_matches_torch():
    t = torch.zeros(0, dtype=torch.long)
    assert torch.equal(one_hot(t, 3), F.one_hot(t, 3))


def test_one_hot_empty_with_inferred_num_classes_raises():
    with pytest.raises(ValueError, match="cannot infer num_classes from an empty tensor"):
        one_hot(torch.zeros(0, dtype=torch.long))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.bool])
def test_one_hot_non_int64_input_raises_type_error(dtype):
    with pytest.raises(TypeError, match="torch.int64"):
        one_hot(torch.tensor([0, 1]).to(dtype), 2)


def test_one_hot_negative_index_raises():
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\], got values in \[-1, 1\]"):
        one_hot(torch.tensor([-1, 1]), 3)


def test_one_hot_index_too_large_raises():
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\], got values in \[0, 3\]"):
        one_hot(torch.tensor([0, 3]), 3)


def test_one_hot_invalid_num_classes_raises():
    with pytest.raises(ValueError, match="num_classes >= 1 or -1"):
        one_hot(torch.tensor([0]), 0)


def test_one_hot_non_tensor_raises():
    with pytest.raises(TypeError, match="torch.Tensor"):
        one_hot([0, 1], 2)


# ------------------------------------------------------------------ multi_hot
def _reference_multi_hot(sets, c):
    return torch.tensor([[1.0 if k in set(s) else 0.0 for k in range(c)] for s in sets])


def test_multi_hot_single_list_gives_vector():
    assert torch.equal(multi_hot([0, 3], 5), torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0]))


def test_multi_hot_single_1d_tensor_gives_vector():
    assert torch.equal(multi_hot(torch.tensor([4, 1]), 5), torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0]))


def test_multi_hot_n_sets_match_reference():
    sets = [[0, 2], [], [1, 1, 1], [4, 3, 2, 1, 0]]
    assert torch.equal(multi_hot(sets, 5), _reference_multi_hot(sets, 5))


def test_multi_hot_sets_given_as_tensors_and_2d_tensor_rows():
    sets = [[0, 2], [3, 3]]
    assert torch.equal(multi_hot([torch.tensor(s) for s in sets], 4), _reference_multi_hot(sets, 4))
    assert torch.equal(multi_hot(torch.tensor(sets), 4), _reference_multi_hot(sets, 4))


def test_multi_hot_duplicates_count_once():
    assert torch.equal(multi_hot([2, 2, 2], 3), torch.tensor([0.0, 0.0, 1.0]))


def test_multi_hot_empty_sets():
    assert torch.equal(multi_hot([[], []], 3), torch.zeros(2, 3))
    assert torch.equal(multi_hot(torch.tensor([], dtype=torch.long), 3), torch.zeros(3))
    assert multi_hot([], 3).shape == (0, 3)  # an empty list is zero sets


def test_multi_hot_dtype():
    out = multi_hot([[1], [0, 1]], 2, dtype=torch.int64)
    assert out.dtype == torch.int64
    assert torch.equal(out, torch.tensor([[0, 1], [1, 1]]))
    assert multi_hot([0], 2).dtype == torch.float32


def test_multi_hot_index_out_of_range_raises():
    with pytest.raises(ValueError, match=r"indices in \[0, 2\], got values in \[0, 3\]"):
        multi_hot([[0], [3]], 3)


def test_multi_hot_negative_index_raises():
    with pytest.raises(ValueError, match=r"got values in \[-1, 0\]"):
        multi_hot([-1, 0], 3)


@pytest.mark.parametrize("indices", [[0.0, 1.5], [[1], [0.5]], torch.tensor([1.0]), [True]])
def test_multi_hot_non_integer_index_raises(indices):
    with pytest.raises(TypeError, match="integer class indices"):
        multi_hot(indices, 3)


@pytest.mark.parametrize("num_classes", [0, -1, 2.0])
def test_multi_hot_invalid_num_classes_raises(num_classes):
    with pytest.raises(ValueError, match="num_classes to be an int >= 1"):
        multi_hot([0], num_classes)


# ------------------------------------------------------------------ smooth_labels
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 1.0])
def test_smooth_labels_closed_form(eps):
    out = smooth_labels(torch.tensor([0, 2]), eps, num_classes=4)
    hot = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1.0, 0]])
    assert_close(out, hot * (1 - eps) + eps / 4)
    assert_close(out.sum(-1), torch.ones(2))


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.2, 0.7, 1.0])
def test_smooth_labels_is_the_target_torch_cross_entropy_label_smoothing_uses(eps):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 5, dtype=D, generator=g) * 3
    target = torch.randint(0, 5, (8,), generator=g)
    smoothed = smooth_labels(target, eps, num_classes=5).to(D)
    for reduction in ("none", "sum", "mean"):
        assert_close(F.cross_entropy(logits, target, label_smoothing=eps, reduction=reduction),
                     F.cross_entropy(logits, smoothed, reduction=reduction))


def test_smooth_labels_of_one_hot_floats_equals_index_version():
    target = torch.tensor([1, 0, 2])
    assert_close(smooth_labels(F.one_hot(target, 3).float(), 0.2), smooth_labels(target, 0.2, num_classes=3))


def test_smooth_labels_infers_num_classes():
    assert smooth_labels(torch.tensor([0, 3]), 0.1).shape == (2, 4)


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_smooth_labels_smoothing_outside_unit_interval_raises(eps):
    with pytest.raises(ValueError, match=r"smoothing in \[0, 1\]"):
        smooth_labels(torch.tensor([0]), eps, num_classes=2)


def test_smooth_labels_index_out_of_range_raises():
    with pytest.raises(ValueError, match="class indices"):
        smooth_labels(torch.tensor([0, 5]), 0.1, num_classes=3)


def test_smooth_labels_non_tensor_raises():
    with pytest.raises(TypeError, match="torch.Tensor"):
        smooth_labels([0, 1], 0.1, num_classes=2)
