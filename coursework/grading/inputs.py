"""Random inputs for the hidden cases, drawn from a behaviour's own generator."""

from __future__ import annotations

import torch


def random_shape(generator: torch.Generator, *, max_dims: int = 3, max_size: int = 6) -> tuple[int, ...]:
    """A shape of 1 to ``max_dims`` dimensions, each of size 1 to ``max_size``."""
    dims = int(torch.randint(1, max_dims + 1, (), generator=generator))
    return tuple(int(s) for s in torch.randint(1, max_size + 1, (dims,), generator=generator))


def randn(generator: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """Normal float32 values of standard deviation ``scale``."""
    return torch.randn(shape, generator=generator) * scale


def randint(generator: torch.Generator, high: int, *shape: int) -> torch.Tensor:
    """int64 values in [0, high)."""
    return torch.randint(0, high, shape, generator=generator)


def distributions(generator: torch.Generator, n: int, c: int) -> torch.Tensor:
    """(n, c) float64 rows that are probability distributions (all entries > 0)."""
    return torch.softmax(torch.randn(n, c, generator=generator, dtype=torch.float64) * 2, dim=1)
