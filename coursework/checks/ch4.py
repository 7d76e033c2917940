"""Chapter 4 exercise: backpropagation by hand (sigmoid derivative, a 2-layer network, softmax with CE).

Every gradient is computed with autograd unavailable: the student writes the backward pass.
"""

from __future__ import annotations

import torch

from lossfns import functional as F
from lossfns.data.worked_network import W1, W2, worked_data
from lossfns.models import Network, sigmoid

from ..grading.behaviour import Behaviour, Case
from ..grading.inputs import randint, randn, random_shape

BLOCKED = ("softmax", "log_softmax")
PROVIDED = ()


def _sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)


def _backprop(x, t, W1, W2):
    """(E, dE/dW1, dE/dW2) of the course's network without biases, from lossfns' Network."""
    trace = Network.from_weights([W1, W2], output="sigmoid_mse").trace(x, t)
    return trace.loss, trace.grads["W1"], trace.grads["W2"]


def _softmax_cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (F.softmax(logits, dim=1) - one_hot) / logits.shape[0]


def _worked(rows=1):
    """The worked 4-3-4 network of the chapter: x (rows, 4), t (rows, 4), W1 (3, 4), W2 (4, 3).

    With 3 rows the batch is x, x/2 and x reversed, with the targets t, 1 - t and t.
    """
    x, t = worked_data()
    x, t = torch.stack([x, 0.5 * x, x.flip(0)])[:rows], torch.stack([t, 1 - t, t])[:rows]
    return x, t, torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)


def _bad_shapes():
    x, t, w1, w2 = _worked(1)
    batch, _, _, _ = _worked(3)
    return [Case((x, t, w1[:, :3].clone(), w2)),   # W1 takes 3 inputs, x has 4
            Case((x, t, w1, w2[:, :2].clone())),   # W2 takes 2 hidden units, W1 gives 3
            Case((x, t[:, :3].clone(), w1, w2)),   # 3 targets for 4 outputs
            Case((batch, t, w1, w2))]              # 1 row of targets for 3 examples: would broadcast


def _network(generator, n):
    """A random problem in float64: x (n, D), t (n, K) in [0, 1], W1 (H, D), W2 (K, H), sizes 1 to 6."""
    d, h, k = (int(s) for s in torch.randint(1, 7, (3,), generator=generator))
    x, w1, w2 = randn(generator, n, d), randn(generator, h, d), randn(generator, k, h, scale=2.0)
    t = torch.rand(n, k, generator=generator)
    return tuple(v.double() for v in (x, t, w1, w2))


def _batch_sizes(generator, count, low, high):
    return [int(n) for n in torch.randint(low, high + 1, (count,), generator=generator)]


def _classification(generator, scale, dtype):
    n, c = (int(s) for s in torch.randint(2, 7, (2,), generator=generator))
    return randn(generator, n, c, scale=scale).to(dtype), randint(generator, c, n)


_logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 0.5, 0.5]])
_extreme = torch.tensor([[1000.0, 0.0, -1000.0], [-800.0, -800.0, -805.0]], dtype=torch.float64)

BEHAVIOURS = [
    Behaviour(
        grade_id="sigmoid_derivative", function="sigmoid_derivative", points=1,
        summary={"es": "sigmoid_derivative calcula S(z)(1 - S(z)), también con |z| grande",
                 "en": "sigmoid_derivative computes S(z)(1 - S(z)), also for large |z|"},
        fixed=lambda: [Case((torch.tensor([-2.0, 0.0, 2.0, 5.0]),)),
                       Case((torch.tensor([-1000.0, 1000.0]),))],
        hidden=lambda generator: [Case((randn(generator, *random_shape(generator), scale=5.0),))
                                  for _ in range(3)]
        + [Case((randn(generator, 4, 3, scale=5.0).double(),))],
        reference=_sigmoid_derivative,
        autograd=False,
    ),
    Behaviour(
        grade_id="backprop_one_example", function="backprop", points=2,
        summary={"es": "backprop da E, dE/dW1 y dE/dW2 con un ejemplo: la red 4-3-4 y redes aleatorias",
                 "en": "backprop gives E, dE/dW1 and dE/dW2 for one example: the 4-3-4 network and "
                       "random ones"},
        fixed=lambda: [Case(_worked(1))],
        hidden=lambda generator: [Case(_network(generator, 1)) for _ in range(4)],
        reference=_backprop,
        autograd=False,
    ),
    Behaviour(
        grade_id="backprop_batch_mean", function="backprop", points=1,
        summary={"es": "backprop promedia E y los gradientes sobre los N ejemplos del lote",
                 "en": "backprop averages E and the gradients over the N examples of the batch"},
        fixed=lambda: [Case(_worked(3))],
        hidden=lambda generator: [Case(_network(generator, n)) for n in _batch_sizes(generator, 4, 2, 8)],
        reference=_backprop,
        autograd=False,
    ),
    Behaviour(
        grade_id="backprop_bad_shapes", function="backprop", points=1,
        summary={"es": "backprop lanza ValueError si las formas de x, t, W1 y W2 no encajan",
                 "en": "backprop raises ValueError when the shapes of x, t, W1 and W2 do not fit"},
        fixed=_bad_shapes,
        raises=ValueError,
        autograd=False,
    ),
    Behaviour(
        grade_id="softmax_cross_entropy_grad", function="softmax_cross_entropy_grad", points=1,
        summary={"es": "softmax_cross_entropy_grad da (softmax(logits) - one_hot(target)) / N",
                 "en": "softmax_cross_entropy_grad gives (softmax(logits) - one_hot(target)) / N"},
        fixed=lambda: [Case((_logits, torch.tensor([0, 2]))),
                       Case((_logits[:1], torch.tensor([1])))],
        hidden=lambda generator: [Case(_classification(generator, 3.0, dtype))
                                  for dtype in (torch.float32, torch.float64, torch.float64)],
        reference=_softmax_cross_entropy_grad,
        autograd=False,
    ),
    Behaviour(
        grade_id="softmax_cross_entropy_grad_stable", function="softmax_cross_entropy_grad", points=1,
        summary={"es": "softmax_cross_entropy_grad no da inf ni nan con logits muy grandes o muy negativos",
                 "en": "softmax_cross_entropy_grad gives no inf or nan for very large or very negative "
                       "logits"},
        fixed=lambda: [Case((_extreme, torch.tensor([1, 2])))],
        hidden=lambda generator: [Case(_classification(generator, 1000.0, torch.float64)) for _ in range(3)],
        reference=_softmax_cross_entropy_grad,
        autograd=False,
    ),
]
