"""Every loss of lossfns.functional as a test case: inputs, options and a reference.

The reference is torch's own function where one exists, else the loss written with plain
tensor ops (autograd then gives its true derivatives). ``make(dtype, seed)`` returns the
positional arguments (float64 for gradcheck); ``differentiable`` says which take a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

import lossfns.functional as L

N, C = 3, 4


@dataclass(frozen=True)
class LossCase:
    name: str
    ours: Callable
    reference: Callable | None  # torch's function, or a plain-ops formula; None: not comparable
    make: Callable  # make(dtype, seed) -> tuple of positional tensors
    differentiable: tuple[int, ...] = (0,)  # positions of the arguments with a gradient
    options: dict = field(default_factory=dict)  # keyword options for both
    reductions: tuple[str, ...] = ("none", "mean", "sum")
    has_torch_twin: bool = True  # reference is torch's function (not a formula)
    gradcheck_eps: float = 1e-6  # smaller for distributions: a step must keep rows summing to 1

    def __str__(self):
        return self.name


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _randn(shape, dtype, seed, scale=1.0):
    return (torch.randn(shape, generator=_g(seed), dtype=torch.float64) * scale).to(dtype)


def _uniform(shape, dtype, seed, low=0.05, high=0.95):
    return (low + (high - low) * torch.rand(shape, generator=_g(seed), dtype=torch.float64)).to(dtype)


def _dist(shape, dtype, seed):
    return torch.softmax(_randn(shape, torch.float64, seed), -1).to(dtype)


def _signs(shape, dtype, seed):
    return torch.where(torch.rand(shape, generator=_g(seed)) < 0.5, -1.0, 1.0).to(dtype)


def _pair(dtype, seed):
    return _randn((N, C), dtype, seed, 2.0), _randn((N, C), dtype, seed + 1)


def _kl_reference(x, t, reduction="batchmean", log_target=False):
    return F.kl_div(x, t, reduction=reduction, log_target=log_target)


_PW = [0.5, 1.0, 2.0, 3.0]  # pos_weight, per class
_W = [1.0, 0.5, 2.0, 1.5]  # class weight


def _with(fn, **tensors):
    """fn with extra keyword tensors made on the device and in the dtype of the first argument."""
    return lambda x, *args, **kw: fn(x, *args, **kw, **{
        k: torch.tensor(v, dtype=x.dtype, device=x.device) for k, v in tensors.items()})


CASES = [
    LossCase("mse_loss", L.mse_loss, F.mse_loss, _pair, (0, 1)),
    LossCase("mse_loss_weighted", lambda x, t, w, **kw: L.mse_loss(x, t, weight=w, **kw),
             lambda x, t, w, **kw: F.mse_loss(x, t, weight=w, **kw),
             lambda d, s: (*_pair(d, s), _uniform((N, C), d, s + 2)), (0, 1, 2)),
    LossCase("l1_loss", L.l1_loss, F.l1_loss, _pair, (0, 1)),
    LossCase("huber_loss", L.huber_loss, F.huber_loss, _pair, (0, 1), {"delta": 0.7}),
    LossCase("smooth_l1_loss", L.smooth_l1_loss, F.smooth_l1_loss, _pair, (0, 1), {"beta": 0.5}),
    LossCase("poisson_nll_loss", L.poisson_nll_loss, F.poisson_nll_loss,
             lambda d, s: (_randn((N, C), d, s), _uniform((N, C), d, s + 1, 0.0, 4.0)), (0, 1)),
    LossCase("poisson_nll_loss_rate_full", L.poisson_nll_loss, F.poisson_nll_loss,
             lambda d, s: (_uniform((N, C), d, s, 0.5, 3.0), _uniform((N, C), d, s + 1, 1.5, 4.0)), (0, 1),
             {"log_input": False, "full": True}),
    LossCase("binary_cross_entropy", L.binary_cross_entropy, F.binary_cross_entropy,
             lambda d, s: (_uniform((N, C), d, s), _uniform((N, C), d, s + 1)), (0, 1)),
    LossCase("binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits,
             F.binary_cross_entropy_with_logits,
             lambda d, s: (_randn((N, C), d, s, 2.0), _uniform((N, C), d, s + 1)), (0, 1)),
    LossCase("bce_with_logits_pos_weight", _with(L.binary_cross_entropy_with_logits, pos_weight=_PW),
             _with(F.binary_cross_entropy_with_logits, pos_weight=_PW),
             lambda d, s: (_randn((N, C), d, s, 2.0), _uniform((N, C), d, s + 1)), (0, 1)),
    LossCase("cross_entropy", L.cross_entropy, F.cross_entropy,
             lambda d, s: (_randn((N, C), d, s, 2.0), torch.tensor([0, 3, 1]))),
    LossCase("cross_entropy_smoothing_weight_ignore", _with(L.cross_entropy, weight=_W),
             _with(F.cross_entropy, weight=_W),
             lambda d, s: (_randn((N, C), d, s, 2.0), torch.tensor([0, -100, 2])),
             options={"label_smoothing": 0.2, "ignore_index": -100}),
    LossCase("cross_entropy_kdim", L.cross_entropy, F.cross_entropy,
             lambda d, s: (_randn((2, C, 3), d, s, 2.0), torch.tensor([[0, 3, 1], [2, 2, 0]]))),
    LossCase("cross_entropy_probabilities", L.cross_entropy, F.cross_entropy,
             lambda d, s: (_randn((N, C), d, s, 2.0), _dist((N, C), d, s + 1)), (0, 1),
             {"label_smoothing": 0.1}),
    LossCase("nll_loss", L.nll_loss, F.nll_loss,
             lambda d, s: (torch.log_softmax(_randn((N, C), d, s), 1), torch.tensor([0, 3, 1]))),
    LossCase("kl_div", L.kl_div, _kl_reference,
             lambda d, s: (torch.log_softmax(_randn((N, C), d, s), 1), _dist((N, C), d, s + 1)), (0, 1),
             reductions=("none", "batchmean", "sum")),
    LossCase("kl_div_log_target", L.kl_div, _kl_reference,
             lambda d, s: (torch.log_softmax(_randn((N, C), d, s), 1), torch.log(_dist((N, C), d, s + 1))),
             (0, 1), {"log_target": True}, reductions=("none", "batchmean", "sum")),
    LossCase("soft_margin_loss", L.soft_margin_loss, F.soft_margin_loss,
             lambda d, s: (_randn((N, C), d, s, 2.0), _signs((N, C), d, s + 1))),
    LossCase("multi_margin_loss", L.multi_margin_loss, F.multi_margin_loss,
             lambda d, s: (_randn((N, C), d, s), torch.tensor([0, 3, 1])), options={"p": 2, "margin": 0.8}),
    LossCase("logistic_loss", L.logistic_loss,
             lambda z, y, reduction="mean": _reduce(F.softplus(-y * z, threshold=1000), reduction),
             lambda d, s: (_randn((N, C), d, s, 2.0), _signs((N, C), d, s + 1)), has_torch_twin=False),
    LossCase("hinge_loss", L.hinge_loss,
             lambda z, y, reduction="mean": _reduce(torch.relu(1.0 - y * z), reduction),
             lambda d, s: (_randn((N, C), d, s, 2.0), _signs((N, C), d, s + 1)), has_torch_twin=False),
    LossCase("mape", L.mape,
             lambda x, t, reduction="mean": _reduce(100 * (x - t).abs() / t.abs(), reduction),
             lambda d, s: (_randn((N, C), d, s), _uniform((N, C), d, s + 1, 0.5, 2.0)), has_torch_twin=False),
    LossCase("entropy", L.entropy, lambda p: -(p * p.log()).sum(-1),
             lambda d, s: (_dist((N, C), d, s),), reductions=("none",), has_torch_twin=False,
             gradcheck_eps=1e-9),
    LossCase("cross_entropy_dist", L.cross_entropy_dist, lambda p, q: -(p * q.log()).sum(-1),
             lambda d, s: (_dist((N, C), d, s), _dist((N, C), d, s + 1)), (0, 1), reductions=("none",),
             has_torch_twin=False, gradcheck_eps=1e-9),
]
BY_NAME = {c.name: c for c in CASES}


def _reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def call(case: LossCase, fn, args, reduction=None):
    """fn(*args, **options, reduction=...) (no reduction argument for entropy-like cases)."""
    kwargs = dict(case.options)
    if case.reductions != ("none",):
        kwargs["reduction"] = reduction or case.reductions[1]
    return fn(*args, **kwargs)


def with_grad(case: LossCase, args):
    """Copies of ``args`` with requires_grad on the differentiable positions."""
    return tuple(a.detach().clone().requires_grad_(i in case.differentiable) if a.is_floating_point()
                 else a for i, a in enumerate(args))
