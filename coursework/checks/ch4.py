"""Chapter 4 exercise: backpropagation by hand (the sigmoid derivative, a two-layer network on a batch,
the gradient of the class-weighted cross-entropy).

Every gradient is derived, not computed: autograd in any form (``backward``, ``torch.autograd.grad``,
``torch.func``, ``autograd.Function``, forward-mode AD) is refused, and so is work beyond a few forward
passes of the network, which is what numerical differentiation costs (two per weight). The functions
may use arithmetic, comparisons, reductions, ``exp``, ``log``, ``sigmoid`` and matrix products, written
by the student: not ``torch.nn`` layers with the weights copied in, not ``torch.nn.functional``, and not
``softmax``, ``log_softmax`` or ``logsumexp``.
"""

from __future__ import annotations

import torch

from lossfns import functional as F
from lossfns.data.worked_network import W1, W2, worked_data
from lossfns.models import Network, sigmoid

from ..grading.behaviour import Behaviour, Case, Misconception
from ..grading.inputs import randint, randn, random_shape
from ..grading.watch import Rules, ops
from .common import NUMERICAL

BLOCKED = ("softmax", "log_softmax")
PROVIDED = ()

ALLOWED = {"es": "aritmética, comparaciones, sum, mean, amax, torch.exp, torch.log, torch.sigmoid y "
                 "productos de matrices (@)",
           "en": "arithmetic, comparisons, sum, mean, amax, torch.exp, torch.log, torch.sigmoid and matrix "
                 "products (@)"}
RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions", "exp_log", "sigmoid", "matmul"),
              allowed=ALLOWED)


def _sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)


def _backprop(x, t, W1, W2):
    """(E, dE/dW1, dE/dW2) of the course's network without biases, from lossfns' Network."""
    trace = Network.from_weights([W1, W2], output="sigmoid_mse").trace(x, t)
    return trace.loss, trace.grads["W1"], trace.grads["W2"]


def _forward(x, t, W1, W2):
    """One forward pass of the network and its error, in plain torch: the unit of the work budget."""
    o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
    return 0.5 * ((o - t) ** 2).sum() / x.shape[0]


def weighted_ce_grad_reference(logits, target, weight):
    """d/d logits of torch's class-weighted cross-entropy, reduction='mean' (Σ w_c ℓ / Σ w_c), by autograd."""
    leaf = logits.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        F.cross_entropy(leaf, target, weight).backward()
    return leaf.grad


def _weighted_ce_forward(logits, target, weight):
    """One forward pass of the weighted cross-entropy (stable, plain torch)."""
    m = logits.amax(dim=1, keepdim=True)
    log_p = logits - m - ((logits - m).exp().sum(dim=1, keepdim=True)).log()
    w = weight[target]
    return -(w * log_p[torch.arange(len(target)), target]).sum() / w.sum()


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


def _network(generator, n, low=1):
    """A random problem in float64: x (n, D), t (n, K) in [0, 1], W1 (H, D), W2 (K, H), sizes low to 6."""
    d, h, k = (int(s) for s in torch.randint(low, 7, (3,), generator=generator))
    x, w1, w2 = randn(generator, n, d), randn(generator, h, d), randn(generator, k, h, scale=2.0)
    t = torch.rand(n, k, generator=generator)
    return tuple(v.double() for v in (x, t, w1, w2))


def _batch_sizes(generator, count, low, high):
    return [int(n) for n in torch.randint(low, high + 1, (count,), generator=generator)]


def _classification(generator, scale, dtype):
    n, c = (int(s) for s in torch.randint(2, 7, (2,), generator=generator))
    weight = (torch.rand(c, generator=generator) * 3 + 0.2).to(dtype)
    return randn(generator, n, c, scale=scale).to(dtype), randint(generator, c, n), weight


# -- misconceptions --------------------------------------------------------------------------------------

def _scaled_backprop(factor_of):
    """E and both gradients scaled by ``factor_of(x, t)``."""
    def wrong(x, t, W1, W2):
        factor = factor_of(x, t)
        return tuple(v * factor for v in _backprop(x, t, W1, W2))
    return wrong


def _no_sigmoid_derivative(x, t, W1, W2):
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    delta2 = (o - t) / n
    delta1 = delta2 @ W2
    return 0.5 * ((o - t) ** 2).sum() / n, delta1.T @ x, delta2.T @ h


def _sign_flipped(x, t, W1, W2):
    E, g1, g2 = _backprop(x, t, W1, W2)
    return E, -g1, -g2


def _transposed(x, t, W1, W2):
    E, g1, g2 = _backprop(x, t, W1, W2)
    return E, g1.T, g2.T


BACKPROP_MISCONCEPTIONS = (
    NUMERICAL,
    Misconception("output-delta-sign", {
        "es": "el signo del delta de salida está al revés: ∂E/∂o = o - t (no t - o); con t - o el descenso "
              "de gradiente subiría el error",
        "en": "the sign of the output delta is flipped: ∂E/∂o = o - t (not t - o); with t - o gradient "
              "descent would climb the error"},
        section="ch04-sign", produce=_sign_flipped),
    Misconception("weights-from-to", {
        "es": "devolviste los gradientes como W[from, to], traspuestos: tienen la forma de los pesos, W[to, "
              "from]",
        "en": "you returned the gradients as W[from, to], transposed: they have the layout of the weights, "
              "W[to, from]"},
        section="ch04-layout", produce=_transposed),
    Misconception("no-sigmoid-derivative", {
        "es": "falta el factor o(1 - o) de la sigmoide en los deltas: δ = ∂E/∂o · o(1 - o)",
        "en": "the sigmoid's factor o(1 - o) is missing from the deltas: δ = ∂E/∂o · o(1 - o)"},
        section="ch04-output-weight", produce=_no_sigmoid_derivative),
    Misconception("summed-batch", {
        "es": "sumaste sobre el lote en vez de promediar: E es la media de los errores, y su gradiente la "
              "media de los gradientes (el 1/N de la forma matricial)",
        "en": "you summed over the batch instead of averaging: E is the mean error, and its gradient the "
              "mean of the gradients (the 1/N of the matrix form)"},
        section="ch04-batched", produce=_scaled_backprop(lambda x, t: x.shape[0])),
    Misconception("no-half", {
        "es": "olvidaste el ½ de E = ½ Σ (o - t)²: tu E y tus gradientes salen el doble (1/N frente a 1/2N)",
        "en": "you dropped the ½ of E = ½ Σ (o - t)²: your E and gradients come out doubled (1/N against "
              "1/2N)"},
        section="ch04-mse-convention", produce=_scaled_backprop(lambda x, t: 2.0)),
    Misconception("mse-loss-convention", {
        "es": "usaste la convención de MSELoss (sin ½ y promediando sobre las N·K salidas), no la E del "
              "capítulo",
        "en": "you used MSELoss's convention (no ½, averaging over all N·K outputs), not the chapter's E"},
        section="ch04-mse-convention", produce=_scaled_backprop(lambda x, t: 2.0 / t.shape[1])),
)
SIGMOID_MISCONCEPTIONS = (
    NUMERICAL,
    Misconception("naive-sigmoid-derivative", {
        "es": "exp(-z) / (1 + exp(-z))² es correcta en el papel pero da inf/inf = nan para z muy negativos: "
              "escríbela con S(z)",
        "en": "exp(-z) / (1 + exp(-z))² is right on paper but gives inf/inf = nan for very negative z: write "
              "it with S(z)"},
        section="ch04-sigmoid",
        detect=lambda case, expected, got: isinstance(got, torch.Tensor) and got.shape == expected.shape
        and bool(got.isnan().any())),
    Misconception("sigmoid-not-derivative", {
        "es": "devolviste S(z): la derivada es S(z)(1 - S(z))",
        "en": "you returned S(z): the derivative is S(z)(1 - S(z))"},
        section="ch04-sigmoid", produce=lambda z: sigmoid(z)),
)


def _weighted_by_n(logits, target, weight):
    """The weighted gradient divided by N instead of by the sum of the targets' weights."""
    w = weight[target]
    return weighted_ce_grad_reference(logits, target, weight) * w.sum() / len(target)


WEIGHTED_MISCONCEPTIONS = (
    NUMERICAL,
    Misconception("divided-by-n", {
        "es": "dividiste entre N: con pesos por clase y índices de clase, la media de PyTorch divide entre "
              "la suma de los pesos de las clases correctas, Σ_i w[c_i]",
        "en": "you divided by N: with class weights and class indices, PyTorch's mean divides by the sum of "
              "the correct classes' weights, Σ_i w[c_i]"},
        section="ch02-options", produce=_weighted_by_n),
    Misconception("weights-ignored", {
        "es": "ese es el gradiente sin pesos, (p - y)/N: cada fila se multiplica por el peso de su clase "
              "correcta",
        "en": "that is the unweighted gradient, (p - y)/N: each row is multiplied by its correct class's "
              "weight"},
        section="ch04-softmax",
        produce=lambda logits, target, weight: weighted_ce_grad_reference(logits, target,
                                                                          torch.ones_like(weight))),
    Misconception("gradient-sign", {
        "es": "el signo está al revés: la derivada es p - y (predicción menos etiqueta), no y - p",
        "en": "the sign is flipped: the derivative is p - y (prediction minus target), not y - p"},
        section="ch04-softmax",
        produce=lambda logits, target, weight: -weighted_ce_grad_reference(logits, target, weight)),
    Misconception("weight-of-every-class", {
        "es": "multiplicaste cada columna k por w[k]: el peso es el de la clase correcta de cada ejemplo, "
              "w[c_i], para toda la fila",
        "en": "you multiplied each column k by w[k]: the weight is each example's correct class's, w[c_i], "
              "for the whole row"},
        section="ch02-options",
        produce=lambda logits, target, weight: weighted_ce_grad_reference(logits, target,
                                                                          torch.ones_like(weight))
        * len(target) * weight / weight[target].sum()),
)
OVERFLOW = Misconception("no-max-subtraction", {
    "es": "sin restar el máximo de cada fila, exp(z) se desborda (inf) o se anula (0) y softmax da nan",
    "en": "without subtracting each row's maximum, exp(z) overflows (inf) or underflows (0) and softmax "
          "gives nan"},
    section="ch04-softmax",
    detect=lambda case, expected, got: isinstance(got, torch.Tensor) and got.shape == expected.shape
    and bool((~got.isfinite()).any()))


_logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 0.5, 0.5], [-1.0, 0.0, 3.0]], dtype=torch.float64)
_weight = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
_extreme = torch.tensor([[1000.0, 0.0, -1000.0], [-800.0, -800.0, -805.0]], dtype=torch.float64)

BEHAVIOURS = [
    Behaviour(
        grade_id="sigmoid_derivative", function="sigmoid_derivative", points=1,
        summary={"es": "sigmoid_derivative calcula S'(z), también con |z| grande",
                 "en": "sigmoid_derivative computes S'(z), also for large |z|"},
        fixed=lambda: [Case((torch.tensor([-2.0, 0.0, 2.0, 5.0]),)),
                       Case((torch.tensor([-1000.0, 1000.0]),))],
        hidden=lambda generator: [Case((randn(generator, *random_shape(generator), scale=5.0),))
                                  for _ in range(3)]
        + [Case((randn(generator, 4, 3, scale=5.0).double(),)) for _ in range(2)],
        reference=_sigmoid_derivative, rules=RULES, forward=torch.sigmoid, kind="derivation",
        section="ch04-sigmoid", misconceptions=SIGMOID_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="backprop_one_example", function="backprop", points=2,
        summary={"es": "backprop da E, dE/dW1 y dE/dW2 con un ejemplo: la red 4-3-4 y redes aleatorias",
                 "en": "backprop gives E, dE/dW1 and dE/dW2 for one example: the 4-3-4 network and "
                       "random ones"},
        fixed=lambda: [Case(_worked(1))],
        hidden=lambda generator: [Case(_network(generator, 1)) for _ in range(3)]
        + [Case(_network(generator, 1, low=4))],
        reference=_backprop, rules=RULES, forward=_forward, kind="derivation", section="ch04-worked",
        misconceptions=tuple(m for m in BACKPROP_MISCONCEPTIONS if m.key != "summed-batch"),
    ),
    Behaviour(
        grade_id="backprop_batch_mean", function="backprop", points=3,
        summary={"es": "backprop promedia E y los gradientes sobre los N ejemplos del lote",
                 "en": "backprop averages E and the gradients over the N examples of the batch"},
        fixed=lambda: [Case(_worked(3))],
        hidden=lambda generator: [Case(_network(generator, n)) for n in _batch_sizes(generator, 3, 2, 8)]
        + [Case(_network(generator, 5, low=4))],
        reference=_backprop, rules=RULES, forward=_forward, kind="derivation", section="ch04-batched",
        misconceptions=BACKPROP_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="backprop_bad_shapes", function="backprop", points=1,
        summary={"es": "backprop lanza ValueError si las formas de x, t, W1 y W2 no encajan",
                 "en": "backprop raises ValueError when the shapes of x, t, W1 and W2 do not fit"},
        fixed=_bad_shapes,
        raises=ValueError, kind="validation", rules=RULES, section="ch04-batched",
    ),
    Behaviour(
        grade_id="weighted_ce_grad", function="weighted_cross_entropy_grad", points=2,
        summary={"es": "weighted_cross_entropy_grad da el gradiente de la entropía cruzada con pesos por "
                       "clase respecto de los logits",
                 "en": "weighted_cross_entropy_grad gives the gradient of the class-weighted cross-entropy "
                       "with respect to the logits"},
        fixed=lambda: [Case((_logits, torch.tensor([0, 2, 1]), _weight)),
                       Case((_logits[:2], torch.tensor([1, 1]), torch.ones(3, dtype=torch.float64)))],
        hidden=lambda generator: [Case(_classification(generator, 3.0, dtype))
                                  for dtype in (torch.float32, torch.float64, torch.float64, torch.float64)],
        reference=weighted_ce_grad_reference, rules=RULES, forward=_weighted_ce_forward, kind="derivation",
        section="ch04-softmax", misconceptions=WEIGHTED_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="weighted_ce_grad_stable", function="weighted_cross_entropy_grad", points=1,
        summary={"es": "weighted_cross_entropy_grad no da inf ni nan con logits muy grandes o muy negativos",
                 "en": "weighted_cross_entropy_grad gives no inf or nan for very large or very negative "
                       "logits"},
        fixed=lambda: [Case((_extreme, torch.tensor([1, 2]), _weight))],
        hidden=lambda generator: [Case(_classification(generator, 1000.0, torch.float64)) for _ in range(3)],
        reference=weighted_ce_grad_reference, rules=RULES, forward=_weighted_ce_forward, kind="derivation",
        section="ch04-softmax", misconceptions=(OVERFLOW, *WEIGHTED_MISCONCEPTIONS),
    ),
]
