"""Deterministic stratified train / validation / test split."""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["Split", "stratified_split"]


@dataclass(frozen=True)
class Split:
    """Row indices of the three parts, each sorted increasingly and pairwise disjoint."""

    train: list[int]
    validation: list[int]
    test: list[int]


def stratified_split(labels: Sequence[Hashable], *, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
                     seed: int = 0) -> Split:
    r"""Split row indices into train / validation / test with the class proportions of ``labels``.

    For every class with :math:`n_k` rows (classes taken in sorted order), its indices are
    shuffled by ``random.Random(seed)`` and cut into

    .. math:: n^{test}_k = \operatorname{round}(f_{test}\, n_k),\quad
              n^{val}_k = \operatorname{round}(f_{val}\, n_k),\quad
              n^{train}_k = n_k - n^{val}_k - n^{test}_k,

    (Python's ``round``: halves go to the even integer), where a part with a positive fraction
    gets at least one row of every class. The same labels and seed always give the same split
    (``random.Random`` is stable across Python versions and platforms); the split does not touch
    torch's or Python's global RNG.

    Args:
        labels: the N labels (any hashable, sortable values: strings or class indices).
        fractions: (train, validation, test), non-negative, summing to 1, train > 0.
            Validation or test may be 0 (that part is then empty).
        seed: seed of the shuffle.

    Returns:
        A :class:`Split` whose three index lists are sorted, disjoint and together cover
        ``range(N)``.

    Raises:
        ValueError: fractions are negative, do not sum to 1, or train is 0; a class has too few
            rows to put at least one in every part with a positive fraction.

    Example:
        >>> split = stratified_split(["a"] * 4 + ["b"] * 4, fractions=(0.5, 0.25, 0.25), seed=1)
        >>> [len(part) for part in (split.train, split.validation, split.test)]
        [4, 2, 2]
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"expected 3 non-negative fractions (train, validation, test) summing to 1, "
                         f"got {tuple(fractions)}")
    if fractions[0] == 0:
        raise ValueError(f"expected a positive train fraction, got {fractions[0]}")
    by_class: dict = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    rng = random.Random(seed)
    parts: list[list[int]] = [[], [], []]
    needed = 1 + sum(f > 0 for f in fractions[1:])
    for label in sorted(by_class):
        indices = by_class[label]
        if len(indices) < needed:
            raise ValueError(f"expected at least {needed} rows of every class to put one in each part, "
                             f"got {len(indices)} of class {label!r}")
        rng.shuffle(indices)
        sizes = [max(1, round(f * len(indices))) if f > 0 else 0 for f in fractions[1:]]
        # Rounding up tiny classes may leave no training row: take it back from the largest part.
        while len(indices) - sum(sizes) < 1:
            sizes[sizes.index(max(sizes))] -= 1
        n_val, n_test = sizes
        parts[2].extend(indices[:n_test])
        parts[1].extend(indices[n_test:n_test + n_val])
        parts[0].extend(indices[n_test + n_val:])
    return Split(*(sorted(part) for part in parts))
