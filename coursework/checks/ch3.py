"""Chapter 3 exercise: one-hot and multi-hot encoding, and label smoothing."""

from __future__ import annotations

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case
from ..grading.inputs import randint

BLOCKED = ("one_hot",)
PROVIDED = ()


def _size(generator: torch.Generator, low: int, high: int) -> int:
    """An int in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def one_hot_reference(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(N,) int64 -> (N, C) float32: the exercise asks for float rows, lossfns returns int64."""
    return F.one_hot(labels, num_classes).float()


def _one_hot_cases(generator):
    cases = []
    for _ in range(5):
        n, c = _size(generator, 1, 8), _size(generator, 2, 7)
        cases.append(Case((randint(generator, c, n), c)))
    return cases


def _label_lists(generator, *, edge_cases):
    """N lists of class indices: distinct and non-empty, or each empty or one index repeated."""
    n, c = _size(generator, 2, 6), _size(generator, 2, 8)
    if not edge_cases:
        return [torch.randperm(c, generator=generator)[:_size(generator, 1, c - 1)].tolist()
                for _ in range(n)], c
    # Only empty lists and repeats, so that this behaviour checks those two things alone.
    lists = [_size(generator, 2, 4) * [int(randint(generator, c))] for _ in range(n)]
    for i in range(0, n, 2):
        lists[i] = []
    return lists, c


def _multi_hot_cases(edge_cases):
    def cases(generator):
        return [Case(_label_lists(generator, edge_cases=edge_cases)) for _ in range(4)]
    return cases


def _smooth_cases(generator):
    cases = []
    for _ in range(5):
        n, c = _size(generator, 1, 6), _size(generator, 2, 7)
        epsilon = round(0.9 * float(torch.rand((), generator=generator)), 3)
        cases.append(Case((one_hot_reference(randint(generator, c, n), c), epsilon)))
    return cases


_targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])

BEHAVIOURS = [
    Behaviour(
        grade_id="one_hot_values", function="one_hot", points=2,
        summary={"es": "one_hot devuelve filas float con un solo 1, de longitud num_classes",
                 "en": "one_hot returns float rows with a single 1, of length num_classes"},
        fixed=lambda: [Case((torch.tensor([0, 2, 1, 0]), 3)),
                       Case((torch.tensor([1, 1]), 4))],
        hidden=_one_hot_cases,
        reference=one_hot_reference,
    ),
    Behaviour(
        grade_id="one_hot_bad_input", function="one_hot", points=1,
        summary={"es": "one_hot lanza ValueError con etiquetas fuera de [0, C) o que no son enteras",
                 "en": "one_hot raises ValueError for labels outside [0, C) or that are not integers"},
        fixed=lambda: [Case((torch.tensor([0, 3]), 3)),
                       Case((torch.tensor([-1, 0]), 3)),
                       Case((torch.tensor([0.0, 2.0, 1.0]), 3))],
        raises=ValueError,
    ),
    Behaviour(
        grade_id="multi_hot_values", function="multi_hot", points=1,
        summary={"es": "multi_hot pone un 1 en cada clase presente de cada lista",
                 "en": "multi_hot puts a 1 at every class present in each list"},
        fixed=lambda: [Case(([[0, 2], [1], [0, 1, 2]], 3)),
                       Case(([[4], [0, 3]], 5))],
        hidden=_multi_hot_cases(edge_cases=False),
        reference=F.multi_hot,
    ),
    Behaviour(
        grade_id="multi_hot_empty_and_repeated", function="multi_hot", points=1,
        summary={"es": "multi_hot da una fila de ceros con una lista vacía y cuenta una vez cada índice "
                       "repetido",
                 "en": "multi_hot gives a row of zeros for an empty list and counts a repeated index once"},
        fixed=lambda: [Case(([[], [1, 1]], 3)),
                       Case(([[2, 2, 2], [], []], 4))],
        hidden=_multi_hot_cases(edge_cases=True),
        reference=F.multi_hot,
    ),
    Behaviour(
        grade_id="smooth_labels_values", function="smooth_labels", points=2,
        summary={"es": "smooth_labels devuelve (1 - epsilon) * y + epsilon / C",
                 "en": "smooth_labels returns (1 - epsilon) * y + epsilon / C"},
        fixed=lambda: [Case((_targets, 0.1)),
                       Case((torch.tensor([[0.0, 1.0, 0.0, 0.0]]), 0.3)),
                       Case((_targets, 0.0)),
                       Case((_targets, 1.0))],
        hidden=_smooth_cases,
        reference=F.smooth_labels,
    ),
    Behaviour(
        grade_id="smooth_labels_bad_epsilon", function="smooth_labels", points=1,
        summary={"es": "smooth_labels lanza ValueError si epsilon no está en [0, 1]",
                 "en": "smooth_labels raises ValueError when epsilon is not in [0, 1]"},
        fixed=lambda: [Case((_targets, -0.1)),
                       Case((_targets, 1.5)),
                       Case((_targets, 1.0001))],
        raises=ValueError,
    ),
]
