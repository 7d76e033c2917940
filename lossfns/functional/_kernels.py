"""Fused loops for large float32 / float64 eager inputs: one pass gives sum J and the gradient.

torch runs an elementwise loss as one compiled kernel. Written with tensor primitives, Huber
takes six passes over N (x - t, the clamp, two products, the sum, the scaling of the gradient),
which no chunking brings within 1.3x of torch. Each loop below is the formula of its loss for
one element; numba compiles it (on first use, under a second) into one vectorised pass over the
threads torch uses, which reads x and t once, writes the gradient and adds J in float64. The
check that margin labels are +-1 is one such pass too (four with tensor ops).

Only large plain-eager inputs come here (see ``_elementwise``), so importing lossfns does not
import numba. The formulas in tensor ops remain the definition: they are what autograd,
``torch.func`` and the compilers differentiate, and what the tests compare these loops with.
"""

from __future__ import annotations

import functools
import os
import threading

import numba
import torch

# Where numba finds no OpenMP or TBB it falls back to its "workqueue" threads, which abort the
# process when two Python threads start parallel loops at once: one loop at a time, then.
_ONE_AT_A_TIME = threading.Lock()
# numba's OpenMP layer terminates a forked child that starts parallel loops its parent started
# ("fork() called from a process already using GNU OpenMP"): such a child runs them on one thread.
_PARENT = os.getpid()


def squared(x, t, grad, write_grad, scale):
    """sum (x_i - t_i)^2; grad_i = scale * 2 (x_i - t_i) when ``write_grad``."""
    total = 0.0
    for i in numba.prange(x.size):
        d = x[i] - t[i]
        total += d * d
        if write_grad:
            grad[i] = (2 * scale) * d
    return total


def clamped(x, t, grad, write_grad, scale, delta, slope):
    """Huber (``slope`` 1) and smooth L1 (``delta`` = beta, ``slope`` = 1 / beta): with
    c = clamp(d, -delta, delta) and u = slope c, sum u (d - c / 2); grad_i = scale * u_i."""
    total = 0.0
    for i in numba.prange(x.size):
        d = x[i] - t[i]
        # Comparisons, not max/min: NaN fails both and stays NaN, as in torch's clamp.
        c = delta if d > delta else (-delta if d < -delta else d)  # noqa: FURB136
        u = slope * c
        total += u * (d - 0.5 * c)
        if write_grad:
            grad[i] = scale * u
    return total


def not_signs(x):
    """How many x_i are neither -1 nor +1 (NaN included)."""
    count = 0
    for i in numba.prange(x.size):
        v = x[i]
        count += 0 if v == 1 or v == -1 else 1
    return count


@functools.cache
def _compiled(name: str, parallel: bool):
    # reassoc lets the sum be split over SIMD lanes and threads; no other fast-math licence, so
    # NaN and inf propagate as in torch.
    return numba.njit(globals()[name], parallel=parallel, fastmath={"reassoc"})


def _launch(name: str, *arrays_and_numbers):
    """Call the loop ``name`` on the threads torch uses (one in a forked child, see above)."""
    threads = min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    parallel = threads > 1 and os.getpid() == _PARENT
    loop = _compiled(name, parallel)
    with _ONE_AT_A_TIME:
        if parallel:
            numba.set_num_threads(threads)
        return loop(*arrays_and_numbers)


def run(name: str, parameters: tuple[float, ...], input: torch.Tensor, target: torch.Tensor,
        grad: torch.Tensor | None, scale: float) -> float:
    """Run the loss loop ``name`` over contiguous CPU tensors of one shape and dtype (float32 or float64).

    Returns sum J in float64; writes ``scale`` times dJ/dx into ``grad`` unless it is None.
    """
    x, t = input.detach().numpy().reshape(-1), target.detach().numpy().reshape(-1)
    out = x if grad is None else grad.numpy().reshape(-1)  # not written when grad is None
    return _launch(name, x, t, out, grad is not None, float(scale), *map(float, parameters))


def count_not_signs(labels: torch.Tensor) -> int:
    """Entries of a contiguous CPU float32/float64 tensor that are neither -1 nor +1, in one pass."""
    return _launch("not_signs", labels.detach().numpy().reshape(-1))
