"""Chapter 1 exercise: MSE, MAE and Huber losses with their reductions."""

from __future__ import annotations

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case
from ..grading.inputs import randn, random_shape

REDUCTIONS = ("mean", "sum", "none")


def _pair(generator, scale=1.0):
    shape = random_shape(generator)
    return randn(generator, *shape, scale=scale), randn(generator, *shape, scale=scale)


def _hidden(reductions, **options):
    def cases(generator):
        return [Case(_pair(generator, scale=2.0), {"reduction": reduction, **options})
                for reduction in reductions for _ in range(3)]
    return cases


_input = torch.tensor([2.0, -1.0, 0.5, 3.0])
_target = torch.tensor([1.0, 1.0, 0.5, -1.0])

BEHAVIOURS = [
    Behaviour(
        grade_id="mse_loss_mean", function="mse_loss", points=1,
        summary={"es": "mse_loss con reduction='mean' coincide con la referencia",
                 "en": "mse_loss with reduction='mean' matches the reference"},
        fixed=lambda: [Case((_input, _target)),
                       Case((torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.zeros(2, 2)),
                            {"reduction": "mean"})],
        hidden=_hidden(["mean"]),
        reference=F.mse_loss,
    ),
    Behaviour(
        grade_id="mse_loss_reductions", function="mse_loss", points=1,
        summary={"es": "mse_loss con reduction='sum' y 'none' coincide con la referencia",
                 "en": "mse_loss with reduction='sum' and 'none' matches the reference"},
        fixed=lambda: [Case((_input, _target), {"reduction": "sum"}),
                       Case((_input, _target), {"reduction": "none"})],
        hidden=_hidden(["sum", "none"]),
        reference=F.mse_loss,
    ),
    Behaviour(
        grade_id="mse_loss_bad_input", function="mse_loss", points=1,
        summary={"es": "mse_loss lanza ValueError si las formas difieren o la reducción no existe",
                 "en": "mse_loss raises ValueError when the shapes differ or the reduction is unknown"},
        fixed=lambda: [Case((torch.zeros(3), torch.zeros(4))),
                       Case((torch.zeros(2, 3), torch.zeros(3, 2))),
                       Case((_input, _target), {"reduction": "average"})],
        raises=ValueError,
    ),
    Behaviour(
        grade_id="l1_loss", function="l1_loss", points=1,
        summary={"es": "l1_loss (MAE) coincide con la referencia en las tres reducciones",
                 "en": "l1_loss (MAE) matches the reference with all three reductions"},
        fixed=lambda: [Case((_input, _target), {"reduction": r}) for r in REDUCTIONS],
        hidden=_hidden(REDUCTIONS),
        reference=F.l1_loss,
    ),
    Behaviour(
        grade_id="huber_loss", function="huber_loss", points=2,
        summary={"es": "huber_loss coincide con la referencia a ambos lados de delta",
                 "en": "huber_loss matches the reference on both sides of delta"},
        fixed=lambda: [Case((_input, _target), {"reduction": r}) for r in REDUCTIONS]
        + [Case((_input, _target), {"reduction": "none", "delta": 0.5})],
        hidden=lambda generator: (_hidden(REDUCTIONS)(generator)
                                  + _hidden(["mean", "none"], delta=0.3)(generator)),
        reference=F.huber_loss,
    ),
    Behaviour(
        grade_id="huber_loss_bad_delta", function="huber_loss", points=1,
        summary={"es": "huber_loss lanza ValueError si delta no es positivo",
                 "en": "huber_loss raises ValueError when delta is not positive"},
        fixed=lambda: [Case((_input, _target), {"delta": 0.0}),
                       Case((_input, _target), {"delta": -1.0})],
        raises=ValueError,
    ),
]

# Nothing beyond the losses (always forbidden) is blocked, nothing extra is provided.
BLOCKED: tuple[str, ...] = ()
PROVIDED: tuple[str, ...] = ()
