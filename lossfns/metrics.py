"""Classification metrics: accuracy, confusion matrix, per-class and macro F1.

Predictions may be class indices (N,) or scores / logits (N, C), which are turned into
indices with ``argmax`` along the last dimension. Targets are class indices (N,). Lists and
tensors are both accepted. No scikit-learn needed; the conventions follow it (confusion
matrix rows = true class, columns = predicted class).
"""

from __future__ import annotations

import torch

__all__ = ["accuracy", "confusion_matrix", "f1_per_class", "macro_f1", "majority_accuracy"]


def _indices(input, target) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true class indices as 1-D int64 tensors of the same length."""
    input, target = torch.as_tensor(input), torch.as_tensor(target)
    if input.is_floating_point():
        if input.dim() != 2:
            raise ValueError(f"expected scores of shape (N, C) or class indices (N,), "
                             f"got shape {tuple(input.shape)}")
        input = input.argmax(dim=-1)
    if target.is_floating_point() or input.is_floating_point():
        raise TypeError(f"expected integer class indices as target, got dtype {target.dtype}")
    if input.dim() != 1 or target.dim() != 1 or input.shape[0] != target.shape[0]:
        raise ValueError(f"expected predictions and targets of the same length N, got shapes "
                         f"{tuple(input.shape)} and {tuple(target.shape)}")
    if input.numel() == 0:
        raise ValueError("expected at least one prediction, got an empty batch")
    return input.long(), target.long()


def accuracy(input, target) -> float:
    r"""Fraction of correct predictions.

    .. math:: \text{accuracy} = \frac{1}{N}\sum_{n} [\hat y_n = y_n]

    Args:
        input: predicted class indices (N,) or scores (N, C).
        target: true class indices (N,).

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: shapes differ or the batch is empty.
        TypeError: target is not integer.

    Example:
        >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
        0.75
    """
    input, target = _indices(input, target)
    return (input == target).double().mean().item()


def confusion_matrix(input, target, *, num_classes: int | None = None) -> torch.Tensor:
    r"""Count matrix :math:`M` with :math:`M_{ij}` = number of examples of true class i predicted as j.

    .. math:: M_{ij} = \sum_n [y_n = i]\,[\hat y_n = j]

    Rows sum to the class counts, the diagonal holds the correct predictions.

    Args:
        input: predicted class indices (N,) or scores (N, C).
        target: true class indices (N,).
        num_classes: C; ``None`` uses the number of score columns, else the largest index + 1.

    Returns:
        int64 tensor of shape (C, C).

    Raises:
        ValueError: shapes differ, the batch is empty or an index lies outside [0, C).

    Example:
        >>> confusion_matrix([0, 1, 2, 2], [0, 1, 1, 2])
        tensor([[1, 0, 0],
                [0, 1, 1],
                [0, 0, 1]])
    """
    scores = torch.as_tensor(input)
    if num_classes is None and scores.is_floating_point() and scores.dim() == 2:
        num_classes = scores.shape[1]
    input, target = _indices(input, target)
    if num_classes is None:
        num_classes = int(max(input.max(), target.max())) + 1
    for name, values in (("predicted", input), ("true", target)):
        if int(values.min()) < 0 or int(values.max()) >= num_classes:
            raise ValueError(f"expected {name} class indices in [0, {num_classes - 1}], "
                             f"got values in [{int(values.min())}, {int(values.max())}]")
    flat = target * num_classes + input
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def f1_per_class(input, target, *, num_classes: int | None = None) -> torch.Tensor:
    r"""F1 score of every class (one-vs-rest).

    .. math:: F_1^{(k)} = \frac{2\,TP_k}{2\,TP_k + FP_k + FN_k}
              = \frac{2\,P_k R_k}{P_k + R_k}

    A class that is neither present nor predicted has an undefined F1, returned as NaN.

    Args:
        input: predicted class indices (N,) or scores (N, C).
        target: true class indices (N,).
        num_classes: C (see :func:`confusion_matrix`).

    Returns:
        float64 tensor of shape (C,).

    Example:
        >>> f1_per_class([0, 1, 2, 2], [0, 1, 1, 2])
        tensor([1.0000, 0.6667, 0.6667], dtype=torch.float64)
    """
    matrix = confusion_matrix(input, target, num_classes=num_classes).double()
    tp = matrix.diagonal()
    denominator = matrix.sum(dim=0) + matrix.sum(dim=1)  # = 2TP + FP + FN
    return torch.where(denominator > 0, 2 * tp / denominator.clamp(min=1), torch.nan)


def macro_f1(input, target, *, num_classes: int | None = None) -> float:
    r"""Unweighted mean of the per-class F1 scores.

    .. math:: \text{macro-}F_1 = \frac{1}{|K|}\sum_{k \in K} F_1^{(k)}

    where :math:`K` holds the classes that occur in the targets or the predictions (a class
    absent from both has no defined F1 and is left out, like scikit-learn's default). Unlike
    accuracy, every class counts the same, so a model that ignores a rare class is penalised.

    Args:
        input: predicted class indices (N,) or scores (N, C).
        target: true class indices (N,).
        num_classes: C (see :func:`confusion_matrix`).

    Returns:
        A float in [0, 1].

    Example:
        >>> round(macro_f1([0, 1, 2, 2], [0, 1, 1, 2]), 4)
        0.7778
    """
    scores = f1_per_class(input, target, num_classes=num_classes)
    return scores[~scores.isnan()].mean().item()


def majority_accuracy(target) -> float:
    r"""Accuracy of the best constant prediction: the share of the most frequent class in ``target``.

    .. math:: \max_k \frac{1}{N}\sum_n [y_n = k]

    This is the baseline any classifier must beat; it is computed on the evaluated split itself,
    so it is an upper bound for every "always predict one class" rule.

    Args:
        target: true class indices (N,).

    Returns:
        A float in (0, 1].

    Raises:
        ValueError: ``target`` is empty.

    Example:
        >>> majority_accuracy([0, 1, 1, 2])
        0.5
    """
    target = torch.as_tensor(target).long()
    if target.numel() == 0:
        raise ValueError("expected at least one target, got an empty batch")
    if int(target.min()) < 0:
        raise ValueError(f"expected class indices >= 0, got {int(target.min())}")
    return (torch.bincount(target).max().double() / target.numel()).item()
