"""The course's text classifier: bag-of-words → Linear → PReLU → dropout → Linear → logits."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "PReLUClassifier"]

#: Hidden activations the classifier can use: the course's PReLU, and two baselines to compare it with.
ACTIVATIONS = ("prelu", "relu", "linear")


class PReLUClassifier(nn.Module):
    r"""A one-hidden-layer MLP with PReLU activations that outputs class logits.

    .. math::
        h = W_1 x + b_1,\qquad
        \operatorname{PReLU}(h)_j = \max(0, h_j) + a_j \min(0, h_j),\qquad
        z = W_2\, \operatorname{dropout}(\operatorname{PReLU}(h)) + b_2

    The slopes :math:`a` are learned with the weights (He et al., 2015). With
    ``per_channel=True`` (the default) every hidden unit :math:`j` has its own slope
    :math:`a_j` (``hidden`` parameters), so the book can plot their spread after training;
    with ``per_channel=False`` one slope :math:`a` is shared by the layer. All slopes start at
    ``init`` (0.25, as in the paper and ``torch.nn.PReLU``). ReLU is :math:`a = 0` and LeakyReLU
    a fixed small :math:`a` (0.01 in torch). The model returns raw logits: pair it with
    ``cross_entropy`` (which applies log-softmax itself), not with a softmax layer.

    For comparisons, ``activation='relu'`` (:math:`a = 0`, nothing learned) or
    ``activation='linear'`` (the identity: the whole model is then an affine map of x, a linear
    classifier) builds the same network with another hidden activation.

    Args:
        vocab_size: V, length of the multi-hot input vectors.
        hidden: H, number of hidden units.
        num_classes: C, number of classes.
        dropout: probability of zeroing a hidden activation during training (0 disables it).
        per_channel: one learned slope per hidden unit (True) or one for the layer (False).
        init: initial value of the slopes.
        activation: ``'prelu'`` (default), ``'relu'`` or ``'linear'``.

    Shapes:
        input (N, V) float → logits (N, C).

    Raises:
        ValueError: a size is < 1, ``dropout`` lies outside [0, 1), or an unknown ``activation``.

    Example:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> model = PReLUClassifier(vocab_size=5, hidden=4, num_classes=3)
        >>> model(torch.zeros(2, 5)).shape, model.slopes
        (torch.Size([2, 3]), tensor([0.2500, 0.2500, 0.2500, 0.2500]))

    References:
        He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers"; PyTorch docs, ``torch.nn.PReLU``.
    """

    def __init__(self, vocab_size: int, hidden: int, num_classes: int, *, dropout: float = 0.0,
                 per_channel: bool = True, init: float = 0.25, activation: str = "prelu"):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("hidden", hidden), ("num_classes", num_classes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"expected dropout in [0, 1), got {dropout}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"expected activation in {ACTIVATIONS}, got {activation!r}")
        self.hidden = nn.Linear(vocab_size, hidden)
        if activation == "prelu":
            self.activation = nn.PReLU(num_parameters=hidden if per_channel else 1, init=init)
        else:
            self.activation = nn.ReLU() if activation == "relu" else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, num_classes)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) of multi-hot inputs (N, V)."""
        if input.dim() != 2 or input.shape[1] != self.hidden.in_features:
            raise ValueError(f"expected input of shape (N, {self.hidden.in_features}), "
                             f"got {tuple(input.shape)}")
        return self.output(self.dropout(self.activation(self.hidden(input))))

    @property
    def activation_name(self) -> str:
        """``'prelu'``, ``'relu'`` or ``'linear'``."""
        if isinstance(self.activation, nn.PReLU):
            return "prelu"
        return "relu" if isinstance(self.activation, nn.ReLU) else "linear"

    @property
    def slopes(self) -> torch.Tensor:
        """The learned negative-side slopes (detached copy): shape (H,) or (1,).

        Raises:
            ValueError: the model was built with ``activation='relu'`` or ``'linear'`` (no learned slopes).
        """
        if not isinstance(self.activation, nn.PReLU):
            raise ValueError(f"expected a model with activation='prelu' to have learned slopes, "
                             f"got activation={self.activation_name!r}")
        return self.activation.weight.detach().clone()

    def hidden_activations(self, input: torch.Tensor) -> torch.Tensor:
        """Hidden-layer outputs (N, H) before dropout, to inspect what the hidden layer computes."""
        return self.activation(self.hidden(input))
