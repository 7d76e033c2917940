"""Chapter 2 exercise: entropy, cross-entropy from logits and the KL divergence, row by row."""

from __future__ import annotations

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case
from ..grading.inputs import distributions, randint, randn

BLOCKED = ("softmax", "log_softmax")
PROVIDED = ()


def _size(generator, max_rows=6):
    """(N, C): 1 to ``max_rows`` rows of 2 to 6 classes."""
    n = int(torch.randint(1, max_rows + 1, (), generator=generator))
    return n, int(torch.randint(2, 7, (), generator=generator))


def _with_zeros(generator, n, c):
    """(n, c) float64 distributions with exact zeros; every row keeps its most likely class."""
    p = distributions(generator, n, c)
    keep = torch.rand(n, c, generator=generator) < 0.5
    keep[torch.arange(n), p.argmax(dim=1)] = True
    p = p * keep
    return p / p.sum(dim=1, keepdim=True)


def _kl_reference(p, q):
    """KL(p || q) of each row: torch's argument order is kl_div(log q, p)."""
    return F.kl_div(q.log(), p, reduction="none").sum(dim=1)


def _logits_cases(generator, scale, row_spread=0.0):
    """Logits (N, C) of standard deviation ``scale``, each row shifted by N(0, row_spread)."""
    cases = []
    for _ in range(3):
        n, c = _size(generator, max_rows=8)
        logits = randn(generator, n, c, scale=scale) + randn(generator, n, 1, scale=row_spread)
        cases.append(Case((logits, randint(generator, c, n))))
    return cases


_weather = torch.tensor([[0.5, 0.25, 0.125, 0.125],
                         [0.25, 0.25, 0.25, 0.25]])
_coins = torch.tensor([[0.5, 0.5],
                       [0.9, 0.1]])
_logits = torch.tensor([[2.0, 0.5, -1.0],
                        [0.1, 1.2, 0.3],
                        [-0.5, 0.0, 2.5],
                        [1.0, 1.0, 1.0]])
_classes = torch.tensor([0, 2, 2, 1])
_uniform = torch.full((2, 3), 1 / 3)

BEHAVIOURS = [
    Behaviour(
        grade_id="entropy_values", function="entropy", points=1,
        summary={"es": "entropy coincide con la referencia en distribuciones sin ceros",
                 "en": "entropy matches the reference on distributions without zeros"},
        fixed=lambda: [Case((_weather,)), Case((_coins,))],
        hidden=lambda generator: [Case((distributions(generator, *_size(generator)),)) for _ in range(4)],
        reference=F.entropy,
    ),
    Behaviour(
        grade_id="entropy_zeros", function="entropy", points=1,
        summary={"es": "entropy usa la convención 0·log 0 = 0 en las filas con ceros",
                 "en": "entropy follows the convention 0·log 0 = 0 on rows with zeros"},
        fixed=lambda: [Case((torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),)),
                       Case((torch.tensor([[0.0, 0.25, 0.0, 0.75]]),))],
        hidden=lambda generator: [Case((_with_zeros(generator, *_size(generator)),)) for _ in range(4)],
        reference=F.entropy,
    ),
    Behaviour(
        grade_id="cross_entropy_values", function="cross_entropy", points=2,
        summary={"es": "cross_entropy (promedio sobre el lote) coincide con la referencia",
                 "en": "cross_entropy (the mean over the batch) matches the reference"},
        fixed=lambda: [Case((_logits, _classes)),
                       Case((torch.tensor([[0.0, 0.0]]), torch.tensor([1])))],
        hidden=lambda generator: _logits_cases(generator, scale=2.0),
        reference=F.cross_entropy,
        atol=1e-5,
    ),
    Behaviour(
        grade_id="cross_entropy_stable", function="cross_entropy", points=1,
        summary={"es": "cross_entropy es estable con logits de ±1000 (truco log-sum-exp)",
                 "en": "cross_entropy is stable for logits of ±1000 (the log-sum-exp trick)"},
        fixed=lambda: [Case((torch.tensor([[1000.0, -1000.0, 0.0]]), torch.tensor([1]))),
                       Case((torch.tensor([[-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 1000.0]]),
                             torch.tensor([0, 2])))],
        hidden=lambda generator: _logits_cases(generator, scale=1000.0)
        + _logits_cases(generator, scale=3.0, row_spread=1000.0),
        reference=F.cross_entropy,
        # float32 spacing near 1000 is 6e-5: an honest m + log(sum) - z_c may be off by that much.
        atol=1e-3,
    ),
    Behaviour(
        grade_id="cross_entropy_bad_target", function="cross_entropy", points=1,
        summary={"es": "cross_entropy lanza ValueError ante un índice fuera de [0, C) "
                       "o un target que no es (N,)",
                 "en": "cross_entropy raises ValueError for an index outside [0, C) "
                       "or a target not of shape (N,)"},
        fixed=lambda: [Case((_logits[:2], torch.tensor([0, 3]))),
                       Case((_logits[:2], torch.tensor([-1, 0]))),
                       Case((_logits[:2], torch.tensor([0, 1, 2]))),
                       Case((_logits[:2], torch.tensor([1])))],
        raises=ValueError,
    ),
    Behaviour(
        grade_id="kl_divergence_values", function="kl_divergence", points=1,
        summary={"es": "kl_divergence coincide con la referencia, también con ceros en p",
                 "en": "kl_divergence matches the reference, also with zeros in p"},
        fixed=lambda: [Case((_coins, _coins.flip(0))),
                       Case((_weather, _weather.flip(0))),
                       Case((torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]), _uniform))],
        hidden=lambda generator: [Case((distributions(generator, n, c), distributions(generator, n, c)))
                                  for n, c in [_size(generator) for _ in range(3)]]
        + [Case((_with_zeros(generator, n, c), distributions(generator, n, c)))
           for n, c in [_size(generator) for _ in range(3)]],
        reference=_kl_reference,
    ),
    Behaviour(
        grade_id="kl_divergence_bad_shape", function="kl_divergence", points=1,
        summary={"es": "kl_divergence lanza ValueError si p y q tienen formas distintas",
                 "en": "kl_divergence raises ValueError when p and q differ in shape"},
        fixed=lambda: [Case((_uniform, torch.full((2, 4), 0.25))),
                       Case((_uniform, torch.full((3, 3), 1 / 3))),
                       Case((_uniform, torch.full((3,), 1 / 3))),
                       Case((_uniform[:1], _uniform))],
        raises=ValueError,
    ),
]
