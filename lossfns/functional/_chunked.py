"""Elementwise losses over large tensors in plain eager mode, one cache-sized chunk at a time.

torch computes a loss such as Huber's in one fused kernel. Written with tensor primitives, the
same loss takes a few passes over N-sized temporaries; run chunk by chunk, those temporaries
stay in the CPU cache and the forward+backward allocates about one N-sized tensor besides the
gradient, as torch does. Only plain eager computation without autograd recording takes this
path: under ``torch.func`` transforms, ``torch.compile``, a ``create_graph=True`` backward or
for small, half-precision or non-contiguous tensors, the losses run their formula on whole tensors.
Where even the chunks take too many passes (mse, Huber, smooth L1 in float32/float64), a numba
loop (``_kernels``) does it in one; ``loopable`` says when.
"""

from __future__ import annotations

import itertools
import threading

import torch
from torch._subclasses.fake_tensor import is_fake
from torch.autograd import forward_ad

# Elements per chunk: 2 MB in float32, a fraction of the L3 cache. Smaller chunks stay in L2 but
# cost more op calls, each a parallel region that waits for every thread of a busy machine.
CHUNK = 1 << 19


def chunkable(*tensors: torch.Tensor) -> bool:
    """Whether ``tensors`` (same shape) may be processed chunk by chunk here."""
    if not in_place_ok():
        return False
    first = tensors[0]
    return (first.numel() > CHUNK and first.device.type == "cpu" and not is_fake(first)
            and all(t.shape == first.shape and t.dtype == first.dtype and t.is_contiguous() for t in tensors))


def loopable(x: torch.Tensor) -> bool:
    """Whether the numba loops of ``_kernels`` may take ``x`` in a forward: plain eager mode (no
    forward-mode tangent either: a loop's Function has no ``jvp``), and large contiguous
    float32/float64 values on the CPU."""
    return (in_place_ok(grad_mode=True) and x.numel() > CHUNK and x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64) and x.is_contiguous()
            and (type(x) is torch.Tensor or not is_fake(x)) and forward_ad.unpack_dual(x).tangent is None)


def _pieces(t: torch.Tensor):
    return t.view(-1).split(CHUNK)


_WORKSPACE = threading.local()


def _workspace(dtype: torch.dtype, n: int) -> torch.Tensor:
    """Two chunk-sized buffers, kept per thread: a fresh buffer costs page faults on every call."""
    key = (dtype, n)
    if getattr(_WORKSPACE, "key", None) != key:
        _WORKSPACE.key, _WORKSPACE.buffers = key, torch.empty(2, n, dtype=dtype)
    return _WORKSPACE.buffers


def chunked_sum(loss_, *tensors: torch.Tensor, scratch: torch.Tensor | None = None,
                scratch_scale: float = 1.0, in_half: bool = False) -> torch.Tensor:
    """The sum of an elementwise loss over ``tensors``, one chunk at a time.

    ``loss_(out, scratch, *chunks)`` returns the loss over one chunk, computed in the buffers ``out``
    and ``scratch``; ``scratch`` is the matching chunk of the ``scratch`` argument if one is given
    (a tensor of the shape of ``tensors[0]``, for a caller that wants what ``loss_`` leaves there,
    multiplied by ``scratch_scale`` while each chunk is still in the cache).
    Half precision chunks are computed in float32 (converted on the way in), or, with ``in_half``,
    in their own dtype (each op rounds once); either way added in float32, as ``torch.mean`` adds.
    Returns a 0-dim tensor in the accumulation dtype (the caller divides, then casts back).
    """
    accumulate = torch.promote_types(tensors[0].dtype, torch.float32)
    compute = tensors[0].dtype if in_half else accumulate
    out, buffer = _workspace(compute, min(CHUNK, tensors[0].numel()))
    scratches = _pieces(scratch) if scratch is not None else itertools.repeat(buffer)
    total = 0
    for extra, parts in zip(scratches, zip(*map(_pieces, tensors))):
        n = parts[0].numel()
        loss = loss_(out[:n], extra[:n], *(p.to(compute) for p in parts))
        total = total + torch.sum(loss, dtype=accumulate)
        if scratch is not None and scratch_scale != 1:
            extra.mul_(scratch_scale)
    return total


def chunked_map(fn_, scale: torch.Tensor, *tensors: torch.Tensor, whole: bool = True,
                in_half: bool = False) -> torch.Tensor:
    """A new tensor holding ``scale`` times the elementwise result of ``fn_``.

    ``fn_(buffer, *tensors)`` writes its result into ``buffer`` with ``out=`` and in-place ops:
    the result itself (with ``whole``, in one call), or chunks of it (for an ``fn_`` that needs
    temporaries) or, for half precision without ``in_half``, float32 chunks, each rounded once
    into the result. (A 0-dim float32 ``scale`` multiplies half precision in float32.)
    """
    out = torch.empty_like(tensors[0])
    accumulate = torch.promote_types(out.dtype, torch.float32)
    if (accumulate == out.dtype or in_half) and whole:  # straight into the result: fewer op calls
        return fn_(out, *tensors).mul_(scale)
    if accumulate == out.dtype or in_half:
        for piece, *parts in zip(_pieces(out), *map(_pieces, tensors)):
            fn_(piece, *parts).mul_(scale)
        return out
    buffer = _workspace(accumulate, min(CHUNK, out.numel()))[0]
    for piece, *parts in zip(_pieces(out), *map(_pieces, tensors)):  # half precision: float32 chunks
        piece.copy_(fn_(buffer[:piece.numel()], *(p.to(accumulate) for p in parts)).mul_(scale))
    return out


def in_place_ok(grad_mode: bool = False) -> bool:
    """Whether a backward may overwrite its fresh temporaries: nothing records them (no
    ``create_graph=True``, unless ``grad_mode`` says grad mode is expected: before a forward),
    no ``torch.func`` transform wraps them, no compiler traces them."""
    return not (torch.compiler.is_compiling() or (torch.is_grad_enabled() and not grad_mode)
                or torch._C._are_functorch_transforms_active())
