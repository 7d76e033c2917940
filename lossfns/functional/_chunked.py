"""Elementwise losses over large tensors in plain eager mode, one cache-sized chunk at a time.

torch computes a loss such as Huber's in one fused kernel. Written with tensor primitives, the
same loss takes a few passes over N-sized temporaries; run chunk by chunk, those temporaries
stay in the CPU cache and the forward+backward allocates about one N-sized tensor besides the
gradient, as torch does. Only plain eager computation without autograd recording takes this
path: under ``torch.func`` transforms, ``torch.compile``, a ``create_graph=True`` backward or
for small, half-precision or non-contiguous tensors, the losses run their formula on whole tensors.
"""

from __future__ import annotations

import torch
from torch._subclasses.fake_tensor import is_fake

CHUNK = 1 << 17  # elements: 512 KB in float32, fits in the L2 cache


def chunkable(*tensors: torch.Tensor) -> bool:
    """Whether ``tensors`` (same shape) may be processed chunk by chunk here."""
    if not in_place_ok():
        return False
    first = tensors[0]
    return (first.numel() > CHUNK and first.device.type == "cpu" and not is_fake(first)
            and all(t.shape == first.shape and t.dtype == first.dtype and t.is_contiguous() for t in tensors))


def _pieces(t: torch.Tensor):
    return t.view(-1).split(CHUNK)


def chunked_sum(fn, *tensors: torch.Tensor) -> torch.Tensor:
    """``fn(*tensors).sum()`` for an elementwise ``fn``, one chunk at a time.

    Half-precision terms are added in float32, as ``torch.mean`` adds them; the result is in
    that accumulation dtype (the caller divides, then casts back).
    """
    accumulate = torch.promote_types(tensors[0].dtype, torch.float32)
    return sum(fn(*parts).sum(dtype=accumulate) for parts in zip(*map(_pieces, tensors)))


def chunked_map(fn_, *tensors: torch.Tensor) -> torch.Tensor:
    """A new tensor ``out`` filled by ``fn_(out_chunk, *chunks)``, one chunk at a time.

    ``fn_`` writes an elementwise result into ``out_chunk`` (``out=`` and in-place ops), so
    every step after the first works on a chunk that is still in cache.
    """
    out = torch.empty_like(tensors[0])
    for piece, *parts in zip(_pieces(out), *map(_pieces, tensors)):
        fn_(piece, *parts)
    return out


def in_place_ok() -> bool:
    """Whether a backward may overwrite its fresh temporaries: nothing records them (no
    ``create_graph=True``), no ``torch.func`` transform wraps them, no compiler traces them."""
    return not (torch.compiler.is_compiling() or torch.is_grad_enabled()
                or torch._C._are_functorch_transforms_active())
