r"""A fully connected sigmoid network trained by backpropagation, written by hand.

No autograd: the forward and the backward pass are plain tensor arithmetic
under ``torch.no_grad()``, in float64 by default, so every number of the
chapter on backpropagation can be printed and checked.

Notation of the course (Rumelhart, Hinton & Williams, 1986):

* unit j has the input :math:`net_j = \sum_k W_{jk} o_k + b_j` and the output
  :math:`o_j = S(net_j)` with the sigmoid :math:`S(t) = 1/(1 + e^{-t})`,
  whose derivative is :math:`S' = S(1 - S)`;
* :math:`W_{jk}` is the weight **from unit k into unit j**. Every weight
  matrix is stored as ``W[to, from]``, the layout of ``torch.nn.Linear.weight``:
  layer l turns the :math:`n_{l-1}` outputs of layer l-1 into :math:`n_l` outputs
  with ``W{l}`` of shape :math:`(n_l, n_{l-1})` and ``b{l}`` of shape :math:`(n_l,)`.
  The slides use this order in the matrix form but write the worked example
  the other way round (from, to); this package uses (to, from) everywhere;
* the error of one example is :math:`E = \tfrac12 \sum_k (o_k - t_k)^2`, summed
  over the output units k;
* learning rate :math:`\eta`, gradient-descent update :math:`\Delta W = -\eta\,\partial E/\partial W`.

Layers are numbered l = 0 (the inputs) to L (the outputs); ``Trace.o[l]`` holds
the outputs of layer l, so ``o[0]`` is the input vector x.

Batches: an input of shape (N, n_0) holds N examples, one per row, and the
error of the batch is the **mean over the N examples** of the per-example
error (which is summed over the output units):
:math:`E = \frac1N \sum_{n=1}^N \tfrac12 \sum_k (o_{nk} - t_{nk})^2`.
The mean keeps the size of a step independent of N, so η need not change with
the batch size. For one example (a 1-D input, or N = 1) it is the E of the slides.

Biases: a general network has them (``bias=True``, the default), otherwise
every unit's net input is 0 when the inputs are 0. The worked example of the
slides has none; build it with ``bias=False`` (see ``lossfns.data.worked_network``).

Outputs (``output=``):

* ``'sigmoid_mse'``: sigmoid units in every layer and the squared error above;
* ``'softmax_ce'``: sigmoid hidden units, a softmax output layer
  :math:`p = \operatorname{softmax}(net)` and the cross-entropy
  :math:`E = -\sum_k t_k \log p_k` (mean over the batch), whose delta is
  simply :math:`p - t` (derived in :meth:`Network.trace`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..functional._encoding import one_hot
from ..functional._softmax import log_softmax, softmax
from ..functional._validation import check_class_indices, check_finite, check_floating, check_tensor

OUTPUTS = ("sigmoid_mse", "softmax_ce")


def sigmoid(t: torch.Tensor) -> torch.Tensor:
    r"""The logistic sigmoid, the activation of every hidden unit.

    .. math:: S(t) = \frac{1}{1 + e^{-t}}, \qquad S'(t) = S(t)\,(1 - S(t))

    Args:
        t: net inputs, any shape, floating point.

    Returns:
        Tensor of the shape of ``t`` with values in [0, 1].

    Example:
        >>> import torch
        >>> sigmoid(torch.tensor([0.0, 1000.0, -1000.0]))
        tensor([0.5000, 1.0000, 0.0000])
    """
    # For t << 0, exp(-t) overflows to inf and 1 / inf = 0: the right limit, no NaN.
    return 1.0 / (1.0 + torch.exp(-t))


@dataclass(frozen=True)
class Trace:
    r"""Every quantity of one forward and one backward pass, listed by layer l = 0..L.

    For a 1-D input (one example) every tensor is 1-D; for a batch of N
    examples, the per-unit quantities have a leading dimension N.

    Attributes:
        o: ``o[l]`` are the outputs of the units of layer l; ``o[0]`` is the input x,
            ``o[L]`` the output of the network (probabilities p for ``'softmax_ce'``).
        net: ``net[l] = o[l-1] @ W{l}.T + b{l}``, the net inputs of layer l; ``net[0]`` is None.
        dE_do: ``dE_do[l]`` is :math:`\partial E/\partial o_k` for the units k of layer l.
            For the output layer of ``'sigmoid_mse'`` it is :math:`o_k - t_k`; for a lower
            layer the backpropagated sum :math:`\sum_j \delta_j W_{jk}` over the units j
            that unit k feeds. ``dE_do[0]`` is the gradient with respect to the inputs.
            For the output layer of ``'softmax_ce'`` it is None: softmax couples all
            outputs, so the delta is computed directly as p - t.
        delta: ``delta[l]`` is :math:`\delta_j = \partial E/\partial net_j` for the units of
            layer l, i.e. ``dE_do[l] * o[l] * (1 - o[l])`` for sigmoid units; ``delta[0]`` is None.
        grads: :math:`\partial E/\partial W` and :math:`\partial E/\partial b` with the keys of
            ``Network.params`` (``'W1'``, ``'b1'``, ...): ``grads['W{l}'][j, k] = delta_j o_k``.
        loss: E, a 0-dim tensor (no weight decay).
        target: the target t as used in E (class indices become one-hot rows).

    With a batch of N examples, E is the mean over the batch, so ``dE_do``, ``delta``
    and ``grads`` already include the factor 1/N.
    """

    o: list[torch.Tensor]
    net: list[torch.Tensor | None]
    dE_do: list[torch.Tensor | None]
    delta: list[torch.Tensor | None]
    grads: dict[str, torch.Tensor]
    loss: torch.Tensor
    target: torch.Tensor


class Network:
    r"""A fully connected network of sigmoid units with a hand-written backward pass.

    .. math::

        net^{(l)} = W^{(l)} o^{(l-1)} + b^{(l)}, \qquad o^{(l)} = S(net^{(l)}), \qquad
        E = \tfrac12 \sum_k (o^{(L)}_k - t_k)^2

    (with ``output='softmax_ce'`` the last layer is :math:`p = \operatorname{softmax}(net^{(L)})`
    and :math:`E = -\sum_k t_k \log p_k`). For a batch, E is the mean over the N examples.

    Args:
        sizes: units per layer, inputs first, e.g. ``[4, 3, 4]``; at least two layers.
        output: ``'sigmoid_mse'`` (sigmoid outputs, squared error) or ``'softmax_ce'``
            (softmax outputs, cross-entropy).
        bias: give every non-input unit a bias ``b{l}`` (default True).
        seed: seed of the initial weights, drawn uniformly from
            :math:`[-1/\sqrt{n_{l-1}}, 1/\sqrt{n_{l-1}}]` as in ``torch.nn.Linear``.
        dtype: floating dtype of the parameters (float64 by default, for exact checks).

    Attributes:
        params: dict of the parameters, ``'W1'``, ``'b1'``, ..., ``'WL'``, ``'bL'``;
            ``W{l}`` has shape (sizes[l], sizes[l-1]) = (to, from).

    Raises:
        ValueError: fewer than two layers, a non-positive size, or an unknown ``output``.
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> import torch
        >>> net = Network([2, 3, 1], seed=0)
        >>> {name: tuple(p.shape) for name, p in net.params.items()}
        {'W1': (3, 2), 'b1': (3,), 'W2': (1, 3), 'b2': (1,)}
        >>> x, t = torch.tensor([[0., 1.], [1., 1.]]), torch.tensor([[1.], [0.]])
        >>> history = net.fit(x, t, lr=2.0, epochs=200)
        >>> history[-1] < history[0]
        True

    References:
        Rumelhart, Hinton & Williams (1986), "Learning representations by
        back-propagating errors", Nature 323, 533-536.
    """

    def __init__(self, sizes: Sequence[int], *, output: str = "sigmoid_mse", bias: bool = True,
                 seed: int = 0, dtype: torch.dtype = torch.float64) -> None:
        sizes = list(sizes)
        if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"expected sizes to be at least two positive integers (inputs first), "
                             f"got {sizes}")
        if output not in OUTPUTS:
            raise ValueError(f"expected output to be one of {OUTPUTS}, got {output!r}")
        if not dtype.is_floating_point:
            raise TypeError(f"expected a floating dtype such as torch.float64, got {dtype}")
        self.output = output
        generator = torch.Generator().manual_seed(seed)
        self.params: dict[str, torch.Tensor] = {}
        for l in range(1, len(sizes)):
            bound = 1.0 / math.sqrt(sizes[l - 1])
            shapes = {f"W{l}": (sizes[l], sizes[l - 1])} | ({f"b{l}": (sizes[l],)} if bias else {})
            for name, shape in shapes.items():
                uniform = torch.rand(shape, generator=generator, dtype=dtype)
                self.params[name] = (2 * uniform - 1) * bound

    @classmethod
    def from_weights(cls, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor] | None = None,
                     *, output: str = "sigmoid_mse") -> Network:
        """Build a network from given weight matrices ``W[to, from]`` (copied, so training leaves them alone).

        Args:
            weights: ``[W1, ..., WL]``, ``W{l}`` of shape (n_l, n_{l-1}), floating point, one dtype.
            biases: ``[b1, ..., bL]`` with ``b{l}`` of shape (n_l,), or None for a network without biases.
            output: ``'sigmoid_mse'`` or ``'softmax_ce'``.

        Returns:
            The network, with ``params`` holding copies of the tensors.

        Raises:
            ValueError: the shapes do not chain (``W{l}.shape[1] != W{l-1}.shape[0]``), a bias has the
                wrong shape, or the number of biases differs from the number of weights.
            TypeError: a tensor is not floating point, or the dtypes differ.

        Example:
            >>> import torch
            >>> net = Network.from_weights([torch.ones(3, 2), torch.ones(1, 3)])
            >>> net.sizes
            [2, 3, 1]
        """
        weights = list(weights)
        if not weights:
            raise ValueError("expected at least one weight matrix, got none")
        biases = None if biases is None else list(biases)
        if biases is not None and len(biases) != len(weights):
            raise ValueError(f"expected one bias per weight matrix ({len(weights)}), got {len(biases)}")
        params = {}
        for l, W in enumerate(weights, start=1):
            check_floating(W, f"W{l}")
            if W.dim() != 2:
                raise ValueError(f"expected W{l} to be a matrix W[to, from], got shape {tuple(W.shape)}")
            if l > 1 and W.shape[1] != weights[l - 2].shape[0]:
                raise ValueError(f"expected W{l} to have {weights[l - 2].shape[0]} columns (one per unit of "
                                 f"layer {l - 1}), got shape {tuple(W.shape)}; weights are W[to, from]")
            params[f"W{l}"] = W.detach().clone()
            if biases is not None:
                b = biases[l - 1]
                check_floating(b, f"b{l}")
                if b.shape != (W.shape[0],):
                    raise ValueError(f"expected b{l} of shape ({W.shape[0]},), got {tuple(b.shape)}")
                params[f"b{l}"] = b.detach().clone()
        if len({p.dtype for p in params.values()}) > 1:
            raise TypeError(f"expected all weights and biases to share one dtype, "
                            f"got {sorted({str(p.dtype) for p in params.values()})}")
        if output not in OUTPUTS:
            raise ValueError(f"expected output to be one of {OUTPUTS}, got {output!r}")
        net = cls.__new__(cls)
        net.output, net.params = output, params
        return net

    @property
    def sizes(self) -> list[int]:
        """Units per layer, inputs first."""
        layers = range(1, self.num_layers + 1)
        return [self.params["W1"].shape[1]] + [self.params[f"W{l}"].shape[0] for l in layers]

    @property
    def num_layers(self) -> int:
        """L, the number of weight layers (the input layer is layer 0 and not counted)."""
        return sum(name.startswith("W") for name in self.params)

    @property
    def bias(self) -> bool:
        """Whether the units have biases."""
        return "b1" in self.params

    def __repr__(self) -> str:
        return f"Network({self.sizes}, output={self.output!r}, bias={self.bias})"

    # -- forward and backward -------------------------------------------------------------

    @torch.no_grad()
    def forward(self, x: torch.Tensor, *, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Output of the network: ``o[L]`` (probabilities for ``'softmax_ce'``).

        Args:
            x: one example (n_0,) or a batch (N, n_0), floating point (converted to the parameters' dtype).
            params: evaluate with these parameters instead of ``self.params`` (same keys and shapes).

        Returns:
            Tensor (n_L,) or (N, n_L).

        Raises:
            TypeError: ``x`` is not a floating-point tensor.
            ValueError: ``x`` has the wrong shape, or ``params`` do not match the network.
        """
        params = self._params(params)
        x, single = self._inputs(x, params)
        o = self._forward(x, params)[0][-1]
        return o[0] if single else o

    __call__ = forward

    @torch.no_grad()
    def trace(self, x: torch.Tensor, t: torch.Tensor, *,
              params: dict[str, torch.Tensor] | None = None) -> Trace:
        r"""Forward and backward pass, returning every intermediate quantity.

        Backward pass, from the output layer L down to layer 1 (one example; a batch
        adds a factor 1/N from the mean):

        * output delta, ``'sigmoid_mse'``:
          :math:`\delta_j = \partial E/\partial o_j \cdot o_j(1-o_j) = (o_j - t_j)\,o_j(1-o_j)`;
        * output delta, ``'softmax_ce'``: with :math:`p_k = e^{net_k}/\sum_m e^{net_m}`,
          :math:`\partial p_k/\partial net_j = p_k([k=j] - p_j)`, so
          :math:`\delta_j = -\sum_k t_k ([k=j] - p_j) = p_j \sum_k t_k - t_j = p_j - t_j`
          because the target probabilities sum to 1;
        * weights into layer l: :math:`\partial E/\partial W_{jk} = \delta_j\, o_k` and
          :math:`\partial E/\partial b_j = \delta_j`;
        * one layer down, unit k feeds every unit j of layer l:
          :math:`\partial E/\partial o_k = \sum_j \delta_j W_{jk}`, and
          :math:`\delta_k = \partial E/\partial o_k \cdot o_k(1 - o_k)`.

        Args:
            x: one example (n_0,) or a batch (N, n_0), floating point.
            t: targets, shaped like the output: (n_L,) or (N, n_L). For ``'softmax_ce'`` either
                probabilities (each row in [0, 1], summing to 1) or class indices (int64, () or (N,)).
            params: use these parameters instead of ``self.params`` (same keys and shapes).

        Returns:
            A :class:`Trace`.

        Raises:
            TypeError: ``x`` (or a probability target) is not floating point.
            ValueError: shapes do not match the network, an empty batch, class indices out of
                range, target probabilities outside [0, 1] or not summing to 1, non-finite targets.

        Example:
            >>> import torch
            >>> net = Network.from_weights([torch.zeros(1, 1)])
            >>> tr = net.trace(torch.tensor([2.0]), torch.tensor([1.0]))
            >>> tr.o[1], tr.delta[1], tr.grads["W1"]
            (tensor([0.5000]), tensor([-0.1250]), tensor([[-0.2500]]))
        """
        params = self._params(params)
        x, single = self._inputs(x, params)
        t = self._targets(t, x.shape[0], single, params)
        o, net = self._forward(x, params)
        L, n = self.num_layers, x.shape[0]

        dE_do: list[torch.Tensor | None] = [None] * (L + 1)
        delta: list[torch.Tensor | None] = [None] * (L + 1)
        if self.output == "sigmoid_mse":
            loss = 0.5 * ((o[L] - t) ** 2).sum() / n
            dE_do[L] = (o[L] - t) / n
            delta[L] = dE_do[L] * o[L] * (1 - o[L])
        else:
            # log_softmax instead of log(p): no log(0) = -inf when a probability underflows.
            loss = -(t * log_softmax(net[L], dim=-1)).sum() / n
            delta[L] = (o[L] - t) / n

        grads = {}
        for l in range(L, 0, -1):
            grads[f"W{l}"] = delta[l].T @ o[l - 1]          # sum over the batch of delta_j o_k
            if self.bias:
                grads[f"b{l}"] = delta[l].sum(dim=0)
            dE_do[l - 1] = delta[l] @ params[f"W{l}"]       # sum_j delta_j W_jk
            if l > 1:
                delta[l - 1] = dE_do[l - 1] * o[l - 1] * (1 - o[l - 1])
        grads = {name: grads[name] for name in params}      # same order as params

        if single:  # one example in, 1-D tensors out
            o, net, dE_do, delta, t = _row(o), _row(net), _row(dE_do), _row(delta), t[0]
        return Trace(o=o, net=net, dE_do=dE_do, delta=delta, grads=grads, loss=loss, target=t)

    def loss(self, x: torch.Tensor, t: torch.Tensor, *, weight_decay: float = 0.0,
             params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        r"""The objective: E plus the optional L2 penalty on the weights (biases are not decayed).

        .. math:: E_\lambda = E + \frac{\lambda}{2} \sum_l \lVert W^{(l)} \rVert_F^2

        Args:
            x, t, params: as in :meth:`trace`.
            weight_decay: :math:`\lambda \ge 0`.

        Returns:
            0-dim tensor.
        """
        return self._objective(x, t, weight_decay, params)[0]

    def gradients(self, x: torch.Tensor, t: torch.Tensor, *, weight_decay: float = 0.0,
                  params: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        r"""Gradient of :meth:`loss`: the backprop gradients, plus :math:`\lambda W` for each weight matrix.

        Args:
            x, t, params: as in :meth:`trace`.
            weight_decay: :math:`\lambda \ge 0`.

        Returns:
            dict with the keys of ``params``.
        """
        return self._objective(x, t, weight_decay, params)[1]

    @torch.no_grad()
    def step(self, x: torch.Tensor, t: torch.Tensor, *, lr: float, weight_decay: float = 0.0) -> float:
        r"""One step of gradient descent, :math:`\Delta W = -\eta\,(\partial E/\partial W + \lambda W)`.

        Args:
            x, t: a batch (or one example), as in :meth:`trace`.
            lr: learning rate :math:`\eta > 0`.
            weight_decay: :math:`\lambda \ge 0`.

        Returns:
            The objective *before* the step, as a float.
        """
        if not lr > 0:
            raise ValueError(f"expected a positive learning rate lr, got {lr}")
        loss, grads = self._objective(x, t, weight_decay, None)
        for name, grad in grads.items():
            self.params[name] -= lr * grad
        return float(loss)

    def fit(self, x: torch.Tensor, t: torch.Tensor, *, lr: float, epochs: int,
            weight_decay: float = 0.0) -> list[float]:
        """Full-batch gradient descent: ``epochs`` calls of :meth:`step` on all of (x, t).

        Deterministic: the only randomness is the initialisation, fixed by ``seed``.

        Args:
            x, t: the training set, as in :meth:`trace`.
            lr: learning rate η.
            epochs: number of steps.
            weight_decay: λ of the L2 penalty.

        Returns:
            The loss history, ``epochs + 1`` floats: the objective before each step and after the last.
        """
        history = [self.step(x, t, lr=lr, weight_decay=weight_decay) for _ in range(epochs)]
        return history + [float(self.loss(x, t, weight_decay=weight_decay))]

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted classes: argmax of p for ``'softmax_ce'``; each output > 0.5 for ``'sigmoid_mse'``.

        Returns:
            int64 tensor: class indices, () or (N,), for ``'softmax_ce'``; 0/1 per output unit otherwise.
        """
        o = self.forward(x)
        return o.argmax(dim=-1) if self.output == "softmax_ce" else (o > 0.5).long()

    # -- helpers ---------------------------------------------------------------------------

    def _forward(self, x, params):
        """Outputs o[0..L] and net inputs net[0..L] (net[0] is None) for a batch x (N, n_0)."""
        o, net = [x], [None]
        for l in range(1, self.num_layers + 1):
            z = o[-1] @ params[f"W{l}"].T                  # net_j = sum_k W_jk o_k
            if self.bias:
                z = z + params[f"b{l}"]
            net.append(z)
            last_softmax = l == self.num_layers and self.output == "softmax_ce"
            o.append(softmax(z, dim=-1) if last_softmax else sigmoid(z))
        return o, net

    @torch.no_grad()
    def _objective(self, x, t, weight_decay, params):
        if not weight_decay >= 0:
            raise ValueError(f"expected weight_decay >= 0, got {weight_decay}")
        params = self._params(params)
        tr = self.trace(x, t, params=params)
        loss, grads = tr.loss, dict(tr.grads)
        if weight_decay:
            for name, p in params.items():
                if name.startswith("W"):
                    loss = loss + 0.5 * weight_decay * (p ** 2).sum()
                    grads[name] = grads[name] + weight_decay * p
        return loss, grads

    def _params(self, params):
        if params is None:
            return self.params
        if set(params) != set(self.params):
            raise ValueError(f"expected params with the keys {sorted(self.params)}, got {sorted(params)}")
        for name, p in params.items():
            check_tensor(p, name)
            if p.shape != self.params[name].shape:
                raise ValueError(f"expected {name} of shape {tuple(self.params[name].shape)}, "
                                 f"got {tuple(p.shape)}")
        return params

    def _inputs(self, x, params):
        """Check x and return it as a (N, n_0) batch in the parameters' dtype, and whether it was 1-D."""
        check_floating(x, "x")
        n_in = self.sizes[0]
        if x.dim() not in (1, 2) or x.shape[-1] != n_in:
            raise ValueError(f"expected x of shape ({n_in},) for one example or (N, {n_in}) for a batch, "
                             f"got {tuple(x.shape)}")
        if x.dim() == 2 and x.shape[0] == 0:
            raise ValueError("expected at least one example, got an empty batch (N = 0): E is a mean over N")
        single = x.dim() == 1
        return x.to(params["W1"].dtype).reshape(-1, n_in), single

    def _targets(self, t, n, single, params):
        """Check t and return it as (N, n_L) floats (class indices become one-hot rows)."""
        check_tensor(t, "t")
        n_out = self.sizes[-1]
        out_shape = (n_out,) if single else (n, n_out)
        dtype = params["W1"].dtype
        if self.output == "softmax_ce" and not t.is_floating_point():
            index_shape = () if single else (n,)
            if t.dtype != torch.int64 or t.shape != index_shape:
                raise ValueError(f"expected class indices as int64 of shape {index_shape} or probabilities "
                                 f"of shape {out_shape}, got dtype {t.dtype} and shape {tuple(t.shape)}")
            check_class_indices(t, n_out, name="t")
            return one_hot(t.reshape(n), n_out).to(dtype)
        check_floating(t, "t")
        if tuple(t.shape) != out_shape:
            raise ValueError(f"expected t of shape {out_shape} (like the output of the network), "
                             f"got {tuple(t.shape)}")
        check_finite(t, "t")
        t = t.to(dtype).reshape(n, n_out)
        if self.output == "softmax_ce":
            if bool(((t < 0) | (t > 1)).any()):
                raise ValueError(f"expected t to hold probabilities in [0, 1], got values in "
                                 f"[{t.min().item():g}, {t.max().item():g}]")
            sums = t.sum(dim=-1)
            if not torch.allclose(sums, torch.ones_like(sums), atol=1e-6, rtol=0):
                raise ValueError(f"expected each row of t to sum to 1 (a probability distribution), "
                                 f"got row sums {sums.tolist()}; the delta p - t needs sum(t) = 1")
        return t


def _row(tensors):
    """First row of each (N, n) tensor of a list, keeping the Nones."""
    return [None if v is None else v[0] for v in tensors]
