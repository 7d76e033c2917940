"""Chapter 1 exercise: MSE, MAE and Huber losses with their reductions, and the Huber gradient by hand.

Every function may use arithmetic, comparisons, ``torch.where`` and reductions only: no norms
(``torch.dist``, ``linalg.vector_norm``), no ``torch.nn`` or ``torch.distributions`` (a Gaussian's
``log_prob`` is an MSE in disguise), no autograd for the gradient, which is also held to the work
of a few forward passes (numerical differentiation costs two per element).
"""

from __future__ import annotations

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case, Misconception
from ..grading.inputs import randn, random_shape
from ..grading.watch import Rules, ops
from .common import NUMERICAL

REDUCTIONS = ("mean", "sum", "none")
BLOCKED: tuple[str, ...] = ()  # beyond the losses, which are always refused
PROVIDED: tuple[str, ...] = ()

ALLOWED = {"es": "aritmética (+, -, *, /, **, abs), comparaciones, torch.where, clamp, sum y mean",
           "en": "arithmetic (+, -, *, /, **, abs), comparisons, torch.where, clamp, sum and mean"}
LOSS_RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions"), allowed=ALLOWED)
GRADIENT_RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions"), allowed=ALLOWED)


def _pair(generator, scale=1.0):
    shape = random_shape(generator)
    return randn(generator, *shape, scale=scale), randn(generator, *shape, scale=scale)


def _hidden(reductions, **options):
    def cases(generator):
        return [Case(_pair(generator, scale=2.0), {"reduction": reduction, **options})
                for reduction in reductions for _ in range(3)]
    return cases


def _reduce(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


def huber_grad_reference(input, target, delta=1.0, reduction="mean"):
    """d huber_loss(input, target, reduction, delta) / d input, by autograd on the reference."""
    leaf = input.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        F.huber_loss(leaf, target, reduction=reduction, delta=delta).backward()
    return leaf.grad


def _huber_forward(input, target, delta=1.0, reduction="mean"):
    """One forward pass of the Huber loss, in plain torch: the unit of the gradient's work budget."""
    r = (input - target).abs()
    return _reduce(torch.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)), reduction)


def _gradient_cases(reduction):
    def cases(generator):
        found = []
        for delta in (1.0, 0.3, 2.5):
            x, t = _pair(generator, scale=2.0)
            found.append(Case((x.double(), t.double()), {"delta": delta, "reduction": reduction}))
        x, t = randn(generator, 5, 4, scale=3.0), randn(generator, 5, 4)
        found.append(Case((x, t), {"delta": 1.0, "reduction": reduction}))
        return found
    return cases


_input = torch.tensor([2.0, -1.0, 0.5, 3.0])
_target = torch.tensor([1.0, 1.0, 0.5, -1.0])
_grid = torch.tensor([[0.2, -1.5, 3.0], [-0.4, 0.9, -2.6]], dtype=torch.float64)  # residuals both sides


def _sign_of(reference):
    return lambda *args, **kwargs: -reference(*args, **kwargs)


def _half_mse(input, target, reduction="mean"):
    return F.mse_loss(input, target, reduction=reduction) / 2


MSE_MISCONCEPTIONS = (
    Misconception("half-mse", {
        "es": "usaste la convención 1/(2N) de algunos libros; aquí, como en PyTorch, el MSE es 1/N",
        "en": "you used the 1/(2N) convention of some textbooks; here, as in PyTorch, the MSE is 1/N"},
        section="ch01-mse", produce=_half_mse),
    Misconception("sum-not-mean", {
        "es": "sumaste los errores sin dividir entre N: con reduction='mean' se promedia",
        "en": "you summed the errors without dividing by N: reduction='mean' averages them"},
        section="ch01-reductions",
        produce=lambda input, target, reduction="mean": ((input - target) ** 2).sum()),
    Misconception("mean-over-rows", {
        "es": "promediaste solo sobre las filas (o una dimensión): N es el número total de elementos",
        "en": "you averaged over the rows (one dimension) only: N is the total number of elements"},
        section="ch01-mse",
        produce=lambda input, target, reduction="mean": ((input - target) ** 2).sum(dim=-1).mean()),
    Misconception("rmse", {
        "es": "sacaste la raíz cuadrada (RMSE): el MSE es el promedio de los cuadrados, sin raíz",
        "en": "you took the square root (RMSE): the MSE is the mean of the squares, no root"},
        section="ch01-mse", produce=lambda input, target, reduction="mean": F.mse_loss(input, target).sqrt()),
    Misconception("absolute-not-square", {
        "es": "usaste el valor absoluto del residuo: eso es el MAE, no el MSE",
        "en": "you used the absolute value of the residual: that is the MAE, not the MSE"},
        section="ch01-mae",
        produce=lambda input, target, reduction="mean": F.l1_loss(input, target, reduction=reduction)),
)
L1_MISCONCEPTIONS = (
    Misconception("signed-error", {
        "es": "promediaste los residuos con signo: los positivos y negativos se cancelan; el MAE usa |r|",
        "en": "you averaged the signed residuals: positive and negative cancel; the MAE uses |r|"},
        section="ch01-mae",
        produce=lambda input, target, reduction="mean": _reduce(input - target, reduction)),
    Misconception("square-not-absolute", {
        "es": "elevaste al cuadrado: eso es el MSE; el MAE usa el valor absoluto",
        "en": "you squared the residuals: that is the MSE; the MAE uses the absolute value"},
        section="ch01-mae",
        produce=lambda input, target, reduction="mean": F.mse_loss(input, target, reduction=reduction)),
)
HUBER_MISCONCEPTIONS = (
    Misconception("smooth-l1", {
        "es": "calculaste smooth L1 (la curva de Huber dividida entre delta): Huber es delta · smooth-L1",
        "en": "you computed smooth L1 (the Huber curve divided by delta): Huber is delta · smooth-L1"},
        section="ch01-huber",
        produce=lambda input, target, reduction="mean", delta=1.0: F.smooth_l1_loss(
            input, target, reduction=reduction, beta=delta)),
    Misconception("linear-branch-without-offset", {
        "es": "en la rama lineal falta restar delta²/2: delta·|r| deja la curva con un salto en |r| = delta",
        "en": "the linear branch lacks the -delta²/2: delta·|r| leaves the curve with a jump at |r| = delta"},
        section="ch01-huber",
        produce=lambda input, target, reduction="mean", delta=1.0: _reduce(torch.where(
            (input - target).abs() <= delta, 0.5 * (input - target) ** 2, delta * (input - target).abs()),
            reduction)),
    Misconception("quadratic-without-half", {
        "es": "la rama cuadrática es r²/2, no r²: así las dos ramas se unen con la misma pendiente",
        "en": "the quadratic branch is r²/2, not r²: that way both branches meet with the same slope"},
        section="ch01-huber",
        produce=lambda input, target, reduction="mean", delta=1.0: _reduce(torch.where(
            (input - target).abs() <= delta, (input - target) ** 2,
            delta * ((input - target).abs() - 0.5 * delta)), reduction)),
    Misconception("branches-swapped", {
        "es": "intercambiaste las ramas: Huber es cuadrática cerca de 0 (|r| <= delta) y lineal lejos",
        "en": "you swapped the branches: Huber is quadratic near 0 (|r| <= delta) and linear far from it"},
        section="ch01-huber",
        produce=lambda input, target, reduction="mean", delta=1.0: _reduce(torch.where(
            (input - target).abs() > delta, 0.5 * (input - target) ** 2,
            delta * ((input - target).abs() - 0.5 * delta)), reduction)),
)


def _grad_of(function):
    """d function(input, target, delta, reduction) / d input, by autograd (for misconceptions)."""
    def gradient(input, target, delta=1.0, reduction="mean"):
        leaf = input.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            function(leaf, target, delta, reduction).backward()
        return leaf.grad
    return gradient


GRADIENT_MISCONCEPTIONS = (
    NUMERICAL,
    Misconception("gradient-sign", {
        "es": "el signo está al revés: la derivada respecto de la predicción va en la dirección de r = ŷ - y",
        "en": "the sign is flipped: the derivative with respect to the prediction follows r = ŷ - y"},
        section="ch01-compare", produce=_sign_of(huber_grad_reference)),
    Misconception("gradient-without-1/N", {
        "es": "falta el 1/N de la reducción 'mean': cada elemento aporta su derivada dividida entre N",
        "en": "the 1/N of the 'mean' reduction is missing: each element contributes its derivative over N"},
        section="ch01-reductions",
        produce=lambda input, target, delta=1.0, reduction="mean": huber_grad_reference(
            input, target, delta, "sum")),
    Misconception("gradient-not-clipped", {
        "es": "esa es la derivada de r²/2 en todas partes: fuera de |r| <= delta la derivada de Huber es "
              "±delta",
        "en": "that is the derivative of r²/2 everywhere: beyond |r| <= delta the Huber derivative is "
              "±delta"},
        section="ch01-compare",
        produce=_grad_of(lambda x, t, delta, reduction: _reduce(0.5 * (x - t) ** 2, reduction))),
    Misconception("gradient-of-smooth-l1", {
        "es": "esa es la derivada de smooth L1 (acotada por 1): la de Huber está acotada por delta",
        "en": "that is the derivative of smooth L1 (bounded by 1): the Huber one is bounded by delta"},
        section="ch01-huber",
        produce=_grad_of(lambda x, t, delta, reduction: F.smooth_l1_loss(x, t, reduction=reduction,
                                                                          beta=delta))),
    Misconception("gradient-clipped-at-1", {
        "es": "recortaste la derivada en ±1 en vez de en ±delta",
        "en": "you clipped the derivative at ±1 instead of ±delta"},
        section="ch01-compare",
        produce=lambda input, target, delta=1.0, reduction="mean": _reduce_grad(
            (input - target).clamp(-1.0, 1.0), reduction)),
)


def _reduce_grad(per_element, reduction):
    return per_element / per_element.numel() if reduction == "mean" else per_element


BEHAVIOURS = [
    Behaviour(
        grade_id="mse_loss_mean", function="mse_loss", points=1,
        summary={"es": "mse_loss con reduction='mean' coincide con la referencia",
                 "en": "mse_loss with reduction='mean' matches the reference"},
        fixed=lambda: [Case((_input, _target)),
                       Case((torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.zeros(2, 2)),
                            {"reduction": "mean"})],
        hidden=_hidden(["mean"]),
        reference=F.mse_loss, rules=LOSS_RULES, section="ch01-mse", misconceptions=MSE_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="mse_loss_reductions", function="mse_loss", points=1,
        summary={"es": "mse_loss con reduction='sum' y 'none' coincide con la referencia",
                 "en": "mse_loss with reduction='sum' and 'none' matches the reference"},
        fixed=lambda: [Case((_input, _target), {"reduction": "sum"}),
                       Case((_input, _target), {"reduction": "none"})],
        hidden=_hidden(["sum", "none"]),
        reference=F.mse_loss, rules=LOSS_RULES, section="ch01-reductions",
        misconceptions=MSE_MISCONCEPTIONS[:1],
    ),
    Behaviour(
        grade_id="l1_loss", function="l1_loss", points=1,
        summary={"es": "l1_loss (MAE) coincide con la referencia en las tres reducciones",
                 "en": "l1_loss (MAE) matches the reference with all three reductions"},
        fixed=lambda: [Case((_input, _target), {"reduction": r}) for r in REDUCTIONS],
        hidden=_hidden(REDUCTIONS),
        reference=F.l1_loss, rules=LOSS_RULES, section="ch01-mae", misconceptions=L1_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="huber_loss", function="huber_loss", points=2,
        summary={"es": "huber_loss coincide con la referencia a ambos lados de delta",
                 "en": "huber_loss matches the reference on both sides of delta"},
        fixed=lambda: [Case((_input, _target), {"reduction": r}) for r in REDUCTIONS]
        + [Case((_input, _target), {"reduction": "none", "delta": 0.5})],
        hidden=lambda generator: (_hidden(REDUCTIONS)(generator)
                                  + _hidden(["mean", "none"], delta=0.3)(generator)),
        reference=F.huber_loss, rules=LOSS_RULES, section="ch01-huber", misconceptions=HUBER_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="huber_loss_bad_input", function="huber_loss", points=1,
        summary={"es": "huber_loss lanza ValueError si las formas difieren, la reducción no existe o delta "
                       "no es positivo",
                 "en": "huber_loss raises ValueError when the shapes differ, the reduction is unknown or "
                       "delta is not positive"},
        fixed=lambda: [Case((torch.zeros(2, 3), torch.zeros(3, 2))),
                       Case((_input, _target), {"reduction": "average"}),
                       Case((_input, _target), {"delta": 0.0}),
                       Case((_input, _target), {"delta": -1.0})],
        raises=ValueError, kind="validation", rules=LOSS_RULES, section="ch01-wrong",
    ),
    Behaviour(
        grade_id="huber_grad_mean", function="huber_grad", points=2,
        summary={"es": "huber_grad da la derivada de huber_loss (reduction='mean') respecto de input",
                 "en": "huber_grad gives the derivative of huber_loss (reduction='mean') with respect to "
                       "input"},
        fixed=lambda: [Case((_grid, torch.zeros(2, 3, dtype=torch.float64)), {"delta": 1.0}),
                       Case((_grid, torch.ones(2, 3, dtype=torch.float64)), {"delta": 2.0})],
        hidden=_gradient_cases("mean"),
        reference=huber_grad_reference, rules=GRADIENT_RULES, forward=_huber_forward, kind="derivation",
        section="ch01-compare", misconceptions=GRADIENT_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="huber_grad_sum", function="huber_grad", points=2,
        summary={"es": "huber_grad da la derivada de huber_loss con reduction='sum', también en tensores "
                       "de varias dimensiones",
                 "en": "huber_grad gives the derivative of huber_loss with reduction='sum', also for "
                       "multi-dimensional tensors"},
        fixed=lambda: [Case((_grid, torch.zeros(2, 3, dtype=torch.float64)),
                            {"delta": 0.5, "reduction": "sum"})],
        hidden=_gradient_cases("sum"),
        reference=huber_grad_reference, rules=GRADIENT_RULES, forward=_huber_forward, kind="derivation",
        section="ch01-compare",
        misconceptions=tuple(m for m in GRADIENT_MISCONCEPTIONS if m.key != "gradient-without-1/N"),
    ),
]
