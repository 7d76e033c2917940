"""Reference loss functions that take the arguments of their ``torch.nn.functional`` twins.

Each loss is built from tensor primitives (most with a hand-written, itself differentiable
backward), checks its input, and reduces through ``_reduction.reduce``. Large plain-eager inputs
take faster paths that give the same numbers: chunks (``_chunked``) and, for a few losses and
checks, numba loops (``_kernels``); the tensor formulas stay the definition. Where it deliberately
differs from torch (raising instead of returning NaN, ``kl_div``'s 'batchmean' default, ...)
is listed in the README ("Using lossfns") and pinned by ``tests/functional/test_api.py``.
"""

from . import _chunked
from ._classification import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss
from ._encoding import multi_hot, one_hot, smooth_labels
from ._information import cross_entropy_dist, entropy, kl_div
from ._margin import hinge_loss, logistic_loss, multi_margin_loss, soft_margin_loss
from ._regression import huber_loss, l1_loss, mape, mse_loss, poisson_nll_loss, smooth_l1_loss
from ._softmax import log_softmax, softmax

CHUNK_ELEMENTS = _chunked.CHUNK  # elements per chunk when a large eager input is reduced piece by piece

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "cross_entropy_dist",
    "entropy", "hinge_loss", "huber_loss", "kl_div", "l1_loss", "log_softmax", "logistic_loss", "mape",
    "mse_loss", "multi_hot", "multi_margin_loss", "nll_loss", "one_hot", "poisson_nll_loss",
    "smooth_l1_loss", "smooth_labels", "soft_margin_loss", "softmax",
]
