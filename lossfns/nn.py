"""``torch.nn.Module`` wrappers around ``lossfns.functional``.

Like ``torch.nn.modules.loss``: each module stores its hyperparameters at
construction and calls the functional form in ``forward``, so
``lossfns.nn.CrossEntropyLoss(weight=w)(logits, y)`` gives the value and gradient of
``torch.nn.CrossEntropyLoss(weight=w)(logits, y)`` (the differences of the functional
forms, listed in the README, apply). Hyperparameters other than ``weight`` are keyword-only.
"""

from __future__ import annotations

import torch
from torch import nn

from . import functional as F
from .functional._validation import REDUCTIONS, check_reduction


class _Loss(nn.Module):
    """Stores keyword hyperparameters; ``forward(input, target)`` calls ``_function``.

    Tensor hyperparameters (``weight``, ``pos_weight``) are registered as buffers so
    they follow ``.to(device)`` and ``.double()`` like in torch.
    """

    _function = None
    _reductions = REDUCTIONS

    def __init__(self, **options):
        super().__init__()
        check_reduction(options["reduction"], self._reductions)  # fail at construction, not first call
        self._option_names = []
        for name, value in options.items():
            if isinstance(value, torch.Tensor) or (value is None and name in ("weight", "pos_weight")):
                self.register_buffer(name, value)
            else:
                setattr(self, name, value)
            self._option_names.append(name)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        options = {name: getattr(self, name) for name in self._option_names}
        return type(self)._function(input, target, **options)

    def extra_repr(self) -> str:
        shown = []
        for name in self._option_names:
            value = getattr(self, name)
            shown.append(f"{name}=" + (f"Tensor{tuple(value.shape)}" if isinstance(value, torch.Tensor)
                                       else repr(value)))
        return ", ".join(shown)


class MSELoss(_Loss):
    """Mean squared error; see :func:`lossfns.functional.mse_loss`."""

    _function = staticmethod(F.mse_loss)

    def __init__(self, *, reduction: str = "mean", weight: torch.Tensor | None = None):
        super().__init__(reduction=reduction, weight=weight)


class L1Loss(_Loss):
    """Mean absolute error; see :func:`lossfns.functional.l1_loss`."""

    _function = staticmethod(F.l1_loss)

    def __init__(self, *, reduction: str = "mean", weight: torch.Tensor | None = None):
        super().__init__(reduction=reduction, weight=weight)


class HuberLoss(_Loss):
    """Huber loss; see :func:`lossfns.functional.huber_loss`."""

    _function = staticmethod(F.huber_loss)

    def __init__(self, *, reduction: str = "mean", delta: float = 1.0, weight: torch.Tensor | None = None):
        super().__init__(reduction=reduction, delta=delta, weight=weight)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss; see :func:`lossfns.functional.smooth_l1_loss`."""

    _function = staticmethod(F.smooth_l1_loss)

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction=reduction, beta=beta)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood; see :func:`lossfns.functional.poisson_nll_loss`."""

    _function = staticmethod(F.poisson_nll_loss)

    def __init__(self, *, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                 reduction: str = "mean"):
        super().__init__(log_input=log_input, full=full, eps=eps, reduction=reduction)


class MAPELoss(_Loss):
    """Mean absolute percentage error as Keras computes it; see :func:`lossfns.functional.mape`."""

    _function = staticmethod(F.mape)

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities; see :func:`lossfns.functional.binary_cross_entropy`."""

    _function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight: torch.Tensor | None = None, *, reduction: str = "mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits; see :func:`lossfns.functional.binary_cross_entropy_with_logits`."""

    _function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight: torch.Tensor | None = None, *, reduction: str = "mean",
                 pos_weight: torch.Tensor | None = None):
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class CrossEntropyLoss(_Loss):
    """Cross-entropy on logits (LogSoftmax + NLLLoss); see :func:`lossfns.functional.cross_entropy`."""

    _function = staticmethod(F.cross_entropy)

    def __init__(self, weight: torch.Tensor | None = None, *, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities; see :func:`lossfns.functional.nll_loss`."""

    _function = staticmethod(F.nll_loss)

    def __init__(self, weight: torch.Tensor | None = None, *, ignore_index: int = -100,
                 reduction: str = "mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class KLDivLoss(_Loss):
    """KL divergence with torch's contract (input = log-probabilities);
    see :func:`lossfns.functional.kl_div`."""

    _function = staticmethod(F.kl_div)
    _reductions = ("none", "batchmean", "sum")  # 'mean' is not a KL divergence

    def __init__(self, *, reduction: str = "batchmean", log_target: bool = False):
        super().__init__(reduction=reduction, log_target=log_target)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss for y in {-1, +1}; see :func:`lossfns.functional.soft_margin_loss`."""

    _function = staticmethod(F.soft_margin_loss)

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss; see :func:`lossfns.functional.multi_margin_loss`."""

    _function = staticmethod(F.multi_margin_loss)

    def __init__(self, *, p: int = 1, margin: float = 1.0, weight: torch.Tensor | None = None,
                 reduction: str = "mean"):
        super().__init__(p=p, margin=margin, weight=weight, reduction=reduction)


class LogisticLoss(_Loss):
    """Margin-form logistic loss log(1 + exp(-y z)); see :func:`lossfns.functional.logistic_loss`."""

    _function = staticmethod(F.logistic_loss)

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class HingeLoss(_Loss):
    """Margin-form hinge loss max(0, margin - y z); see :func:`lossfns.functional.hinge_loss`."""

    _function = staticmethod(F.hinge_loss)

    def __init__(self, *, reduction: str = "mean", margin: float = 1.0):
        super().__init__(reduction=reduction, margin=margin)


__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "LogisticLoss", "MAPELoss", "MSELoss", "MultiMarginLoss", "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss",
    "SoftMarginLoss",
]
