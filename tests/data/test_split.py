"""Tests for lossfns.data.split.stratified_split."""

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lossfns.data.split import stratified_split

LABELS = ["a"] * 40 + ["b"] * 20 + ["c"] * 100


def test_stratified_split_parts_are_disjoint_sorted_and_cover_all():
    split = stratified_split(LABELS, seed=3)
    parts = [split.train, split.validation, split.test]
    assert sorted(i for p in parts for i in p) == list(range(len(LABELS)))
    assert all(p == sorted(p) for p in parts)


def test_stratified_split_keeps_class_proportions():
    split = stratified_split(LABELS, fractions=(0.7, 0.15, 0.15), seed=0)
    for part, fraction in ((split.train, 0.7), (split.validation, 0.15), (split.test, 0.15)):
        counts = Counter(LABELS[i] for i in part)
        for label, total in Counter(LABELS).items():
            assert abs(counts[label] - fraction * total) <= 1


def test_stratified_split_is_deterministic_and_seed_dependent():
    assert stratified_split(LABELS, seed=7) == stratified_split(LABELS, seed=7)
    assert stratified_split(LABELS, seed=7).test != stratified_split(LABELS, seed=8).test


def test_stratified_split_does_not_touch_global_random_state():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    stratified_split(LABELS, seed=1)
    assert random.random() == expected


def test_stratified_split_tiny_class_gets_one_row_in_each_part():
    split = stratified_split(["a"] * 3 + ["b"] * 50, seed=0)
    for part in (split.train, split.validation, split.test):
        assert sum(1 for i in part if i < 3) == 1


def test_stratified_split_zero_test_fraction_gives_empty_test():
    split = stratified_split(LABELS, fractions=(0.8, 0.2, 0.0))
    assert split.test == [] and len(split.validation) == 8 + 4 + 20


def test_stratified_split_accepts_integer_labels():
    split = stratified_split([0, 1] * 10, fractions=(0.5, 0.25, 0.25))
    # 10 rows per class: round(2.5) = 2 (Python rounds halves to even) for validation and test.
    assert [len(p) for p in (split.train, split.validation, split.test)] == [12, 4, 4]


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (1.2, -0.1, -0.1), (0.7, 0.3)])
def test_stratified_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="expected 3 non-negative fractions .* summing to 1"):
        stratified_split(LABELS, fractions=fractions)


def test_stratified_split_rejects_zero_train_fraction():
    with pytest.raises(ValueError, match="expected a positive train fraction, got 0"):
        stratified_split(LABELS, fractions=(0.0, 0.5, 0.5))


def test_stratified_split_rejects_class_too_small():
    with pytest.raises(ValueError, match="expected at least 3 rows of every class .* got 2 of class 'b'"):
        stratified_split(["a"] * 10 + ["b"] * 2)


@given(st.lists(st.sampled_from("xyz"), min_size=0, max_size=80), st.integers(0, 1000))
def test_stratified_split_property_partition(labels, seed):
    counts = Counter(labels)
    if any(n < 3 for n in counts.values()):
        with pytest.raises(ValueError):
            stratified_split(labels, seed=seed)
        return
    split = stratified_split(labels, seed=seed)
    parts = [split.train, split.validation, split.test]
    assert sorted(i for p in parts for i in p) == list(range(len(labels)))
    for part in parts:
        part_counts = Counter(labels[i] for i in part)
        assert set(part_counts) == set(counts)  # every class in every part
