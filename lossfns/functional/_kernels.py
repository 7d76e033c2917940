"""numba loops for large float32 / float64 inputs in plain eager mode: one pass where tensor ops take several.

torch runs an elementwise loss as one compiled kernel. Written with tensor primitives, Huber
takes six passes over N (x - t, the clamp, two products, the sum, the scaling of the gradient),
which no chunking brings within 1.3x of torch. Each loss loop below is the formula of its loss
for one element; numba compiles it (on first use, under a second) into one vectorised pass over
the threads torch uses, which reads x and t once, writes the gradient and adds J in float64.
Two more passes replace chains of small ops: nll_loss picks, weighs and range-checks its targets
in one loop and spreads its gradient in another, and the check that margin labels are +-1 is one
pass (four with tensor ops), as is the range check of kl_div's arguments (four).

Only large plain-eager inputs come here (``loopable``, ``chunkable``), so importing lossfns does
not import numba. The formulas in tensor ops remain the definition: they are what autograd,
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
_THREADS = threading.local()  # numba's thread count is per Python thread; set it only on change


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


def kl_misfits(x, t, slack):
    """How many pairs are not a log-probability x <= slack and a probability t in [0, 1] (NaN included)."""
    count = 0
    for i in numba.prange(x.size):
        count += 0 if x[i] <= slack and 0 <= t[i] <= 1 else 1
    return count


def nll_sums(x, y, w, weighted, ignore_index):
    """For x (N, C, K), classes y (N, K), weights w (C,): sum of w_y x[n, y, k] and of w_y over the
    targets that are not ignore_index, and how many targets lie outside [0, C) (w_y = 1 unless
    ``weighted``)."""
    num_classes = x.shape[1]
    picked, denominator, outside = 0.0, 0.0, 0
    for n in numba.prange(x.shape[0]):
        for k in range(x.shape[2]):
            c = y[n, k]
            if c == ignore_index:
                continue
            if c < 0 or c >= num_classes:
                outside += 1
                continue
            weight = w[c] if weighted else 1.0
            picked += weight * x[n, c, k]
            denominator += weight
    return picked, denominator, outside


def nll_spread(grad, y, w, weighted, ignore_index, coef):
    """Write coef w_y into grad (N, C, K) at [n, y, k] for each target y = y[n, k] not ignore_index."""
    for n in numba.prange(grad.shape[0]):
        for k in range(grad.shape[2]):
            c = y[n, k]
            if c != ignore_index:
                grad[n, c, k] = coef * (w[c] if weighted else 1.0)


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
        if parallel and getattr(_THREADS, "count", None) != threads:
            numba.set_num_threads(threads)
            _THREADS.count = threads
        return loop(*arrays_and_numbers)


def run(name: str, parameters: tuple[float, ...], input: torch.Tensor, target: torch.Tensor,
        grad: torch.Tensor | None, scale: float) -> float:
    """Run the loss loop ``name`` over contiguous CPU tensors of one shape and dtype (float32 or float64).

    Returns sum J in float64; writes ``scale`` times dJ/dx into ``grad`` unless it is None.
    """
    x, t = input.detach().numpy().reshape(-1), target.detach().numpy().reshape(-1)
    out = x if grad is None else grad.numpy().reshape(-1)  # not written when grad is None
    return _launch(name, x, t, out, grad is not None, float(scale), *map(float, parameters))


def nll(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, ignore_index: int):
    """(sum of w_y x[n, y], sum of w_y, targets outside [0, C)) over the targets not ignored.

    input (N, C, d1, ..., dK) contiguous CPU float32/float64; target (N, d1, ..., dK) int64.
    """
    x = input.detach().numpy().reshape(input.shape[0], input.shape[1], -1)
    y = target.contiguous().numpy().reshape(x.shape[0], x.shape[2])
    w = x[0, :, 0] if weight is None else weight.numpy()  # not read when weight is None
    return _launch("nll_sums", x, y, w, weight is not None, ignore_index)


def nll_grad(shape: torch.Size, dtype: torch.dtype, target: torch.Tensor, weight: torch.Tensor | None,
             ignore_index: int, coef: float) -> torch.Tensor:
    """The gradient of shape ``shape``: ``coef`` w_y at each target that is not ignored, 0 elsewhere."""
    grad = torch.zeros(shape, dtype=dtype)  # torch's fill is faster than a zeroing loop here
    g = grad.numpy().reshape(shape[0], shape[1], -1)
    y = target.contiguous().numpy().reshape(g.shape[0], g.shape[2])
    w = g[0, :, 0] if weight is None else weight.numpy()  # not read when weight is None
    _launch("nll_spread", g, y, w, weight is not None, ignore_index, coef)
    return grad


def count_kl_misfits(input: torch.Tensor, target: torch.Tensor, slack: float) -> int:
    """Pairs of contiguous CPU tensors of one shape and dtype that ``kl_misfits`` counts, in one pass."""
    return _launch("kl_misfits", input.detach().numpy().reshape(-1), target.detach().numpy().reshape(-1),
                   slack)


def count_not_signs(labels: torch.Tensor) -> int:
    """Entries of a contiguous CPU float32/float64 tensor that are neither -1 nor +1, in one pass."""
    return _launch("not_signs", labels.detach().numpy().reshape(-1))
