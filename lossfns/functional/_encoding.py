"""One-hot, multi-hot and smoothed label vectors."""

from __future__ import annotations

import numbers

import torch

from ._validation import assert_traced, check_tensor, values


def one_hot(tensor: torch.Tensor, num_classes: int = -1) -> torch.Tensor:
    r"""One-hot encode class indices, like ``torch.nn.functional.one_hot``.

    .. math:: \mathrm{one\_hot}(c)_k = [k = c]

    Args:
        tensor: class indices, int64, any shape (*).
        num_classes: C; -1 infers ``tensor.max() + 1``.

    Returns:
        int64 tensor of shape (*, C).

    Raises:
        TypeError: ``tensor`` is not an int64 tensor.
        ValueError: an index is negative or >= C, or C cannot be inferred (an empty ``tensor``,
            or one without values: meta and fake tensors, under ``torch.compile``).

    Example:
        >>> import torch
        >>> one_hot(torch.tensor([0, 2]), num_classes=3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    check_tensor(tensor, "tensor")
    if tensor.dtype != torch.int64:
        raise TypeError(f"expected class indices of dtype torch.int64 (long), got {tensor.dtype}; "
                        f"convert them with tensor.long()")
    v = values(tensor)
    if num_classes == -1:
        if tensor.numel() == 0 or v is None:
            raise ValueError("cannot infer num_classes from an empty tensor or one without values "
                             "(meta, fake, traced by torch.compile); pass num_classes=C")
        num_classes = int(v.max()) + 1
    if num_classes < 1:
        raise ValueError(f"expected num_classes >= 1 or -1, got {num_classes}")
    if v is None:
        assert_traced((tensor >= 0) & (tensor < num_classes),
                      f"expected class indices in [0, {num_classes - 1}]")
    elif v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
        raise ValueError(f"expected class indices in [0, {num_classes - 1}], "
                         f"got values in [{int(v.min())}, {int(v.max())}]")
    out = torch.zeros(*tensor.shape, num_classes, dtype=torch.int64, device=tensor.device)
    return out.scatter(-1, tensor.unsqueeze(-1), 1)  # out of place: vmap cannot fill a zeros in place


def multi_hot(indices, num_classes: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    r"""Multi-hot encode sets of class indices (multilabel targets, bag-of-words).

    .. math:: \mathrm{multi\_hot}(S)_k = [k \in S]

    Repeated indices count once (a bag-of-words that records presence).

    Args:
        indices: one set (a non-empty sequence of ints, or a 0-/1-D int tensor) or a sequence
            of N sets (lists or 1-D tensors, or the rows of a 2-D tensor), each of any length,
            including empty. An empty list means zero sets: pass ``torch.tensor([], dtype=torch.long)``
            for one empty set.
        num_classes: C, the length of each vector (vocabulary size for bag-of-words).
        dtype: dtype of the result (float by default, ready for BCE / a Linear layer).

    Returns:
        Tensor of shape (C,) for one set, (N, C) for N sets.

    Raises:
        ValueError: an index lies outside [0, C), or ``num_classes`` is not an int >= 1.
        TypeError: an index is not an integer (float or bool).

    Example:
        >>> multi_hot([[0, 2], [], [1, 1]], num_classes=3)
        tensor([[1., 0., 1.],
                [0., 0., 0.],
                [0., 1., 0.]])
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"expected num_classes to be an int >= 1, got {num_classes!r}")
    if isinstance(indices, torch.Tensor):
        single = indices.dim() <= 1
    else:
        indices = list(indices)
        # One set when every element is a scalar index; [] means zero sets.
        single = bool(indices) and all(isinstance(i, numbers.Number) or getattr(i, "ndim", None) == 0
                                       for i in indices)
    sets = [indices] if single else list(indices)
    rows, cols = [], []
    for row, items in enumerate(sets):
        items = torch.as_tensor(items).reshape(-1)
        if items.numel() and (items.is_floating_point() or items.is_complex() or items.dtype == torch.bool):
            raise TypeError(f"expected integer class indices, got dtype {items.dtype}"
                            + ("" if single else f" in set {row}"))
        items = items.long()
        rows.append(torch.full_like(items, row))
        cols.append(items)
    col = torch.cat(cols) if cols else torch.empty(0, dtype=torch.int64)
    if col.numel() and (int(col.min()) < 0 or int(col.max()) >= num_classes):
        raise ValueError(f"expected indices in [0, {num_classes - 1}], "
                         f"got values in [{int(col.min())}, {int(col.max())}]")
    out = torch.zeros(len(sets), num_classes, dtype=dtype)
    if col.numel():
        out[torch.cat(rows), col] = 1
    return out[0] if single else out


def smooth_labels(target: torch.Tensor, smoothing: float, *, num_classes: int = -1) -> torch.Tensor:
    r"""Soften one-hot (or index) targets toward the uniform distribution.

    .. math:: \tilde y_k = (1 - \varepsilon)\, y_k + \varepsilon / C

    This is the target that ``cross_entropy(..., label_smoothing=ε)`` uses. ε = 1 is accepted
    because torch accepts ``label_smoothing=1.0``: the target becomes the uniform distribution,
    which is legal though useless for training.

    Args:
        target: class indices (*), int64, or class probabilities (*, C), float.
        smoothing: ε in [0, 1].
        num_classes: C for index targets (-1 infers it).

    Returns:
        Float tensor of shape (*, C) whose rows still sum to 1.

    Raises:
        ValueError: ε outside [0, 1].

    Example:
        >>> import torch
        >>> smooth_labels(torch.tensor([1]), 0.3, num_classes=3)
        tensor([[0.1000, 0.8000, 0.1000]])
    """
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"expected smoothing in [0, 1], got {smoothing}")
    check_tensor(target, "target")
    if not target.is_floating_point():
        target = one_hot(target.long(), num_classes).to(torch.get_default_dtype())
    return target * (1.0 - smoothing) + smoothing / target.shape[-1]
