"""Chapter 3 exercise: one-hot and multi-hot encoding, label smoothing, and the cross-entropy with
smoothed labels.

The encodings may use creation, indexing, comparisons and arithmetic (``torch.eye(C)[labels]``,
``labels[:, None] == torch.arange(C)``, a loop that writes ones: any of them), not ``one_hot`` in any
of its forms. The smoothed cross-entropy may use ``exp``, ``log`` and ``logsumexp`` (chapter 2's
trick), not ``softmax``, ``log_softmax``, ``torch.nn`` or ``torch.nn.functional``.
"""

from __future__ import annotations

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case, Misconception
from ..grading.inputs import randint, randn
from ..grading.watch import Rules, ops

BLOCKED = ("one_hot", "softmax", "log_softmax")
PROVIDED = ()

ENCODING = {"es": "creación de tensores, indexado, comparaciones y aritmética",
            "en": "tensor creation, indexing, comparisons and arithmetic"}
LOSS = {"es": "aritmética, comparaciones, indexado, sum, mean, amax, torch.exp, torch.log y torch.logsumexp",
        "en": "arithmetic, comparisons, indexing, sum, mean, amax, torch.exp, torch.log and torch.logsumexp"}
ENCODING_RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions"), allowed=ENCODING)
LOSS_RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions", "exp_log",
                           extra=("logsumexp",)), allowed=LOSS)


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
        labels = randint(generator, c - 1, n)  # the last class never occurs: C cannot be read off the labels
        cases.append(Case((labels, c)))
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


def smoothed_ce_reference(logits, labels, epsilon):
    """Mean over the batch of -Σ_k ỹ_k log softmax(z)_k, ỹ = (1 - ε) one-hot + ε / C."""
    return F.cross_entropy(logits, labels, label_smoothing=epsilon)


def _smoothed_cases(scale, row_spread=0.0):
    def cases(generator):
        found = []
        for epsilon in (0.1, 0.25, 0.0, 0.6):
            n, c = _size(generator, 1, 7), _size(generator, 2, 6)
            logits = randn(generator, n, c, scale=scale) + randn(generator, n, 1, scale=row_spread)
            found.append(Case((logits, randint(generator, c, n), epsilon)))
        return found
    return cases


# -- misconceptions --------------------------------------------------------------------------------------

def _log_p(logits):
    return F.log_softmax(logits.double(), dim=1)


def _targets(labels, c, epsilon, spread):
    y = F.one_hot(labels, c).double()
    return (1 - epsilon) * y + spread


ONE_HOT_MISCONCEPTIONS = (
    Misconception("classes-from-labels", {
        "es": "dedujiste C de labels.max() + 1: en un lote donde la última clase no aparece falta una "
              "columna; usa num_classes",
        "en": "you took C from labels.max() + 1: in a batch where the last class does not occur a column is "
              "missing; use num_classes"},
        section="ch03-vectors",
        produce=lambda labels, num_classes: F.one_hot(labels, int(labels.max()) + 1).float()),
    Misconception("int64-one-hot", {
        "es": "devolviste enteros (int64, como torch.nn.functional.one_hot): aquí las filas son float32",
        "en": "you returned integers (int64, like torch.nn.functional.one_hot): here the rows are float32"},
        section="ch03-vectors", produce=lambda labels, num_classes: F.one_hot(labels, num_classes)),
    Misconception("one-hot-transposed", {
        "es": "la matriz está traspuesta: una fila por ejemplo (N, C), una columna por clase",
        "en": "the matrix is transposed: one row per example (N, C), one column per class"},
        section="ch03-vectors", produce=lambda labels, num_classes: one_hot_reference(labels, num_classes).T),
)
MULTI_HOT_MISCONCEPTIONS = (
    Misconception("counts-not-presence", {
        "es": "contaste las apariciones: multi-hot marca la presencia de cada clase (1 aunque se repita)",
        "en": "you counted occurrences: multi-hot marks each class's presence (1 even when repeated)"},
        section="ch03-multi-hot",
        detect=lambda case, expected, got: isinstance(got, torch.Tensor) and got.shape == expected.shape
        and bool((got > 1).any())),
)
SMOOTH_MISCONCEPTIONS = (
    Misconception("smoothing-over-the-others", {
        "es": "repartiste epsilon/(C - 1) solo entre las clases incorrectas: aquí, como en PyTorch, "
              "epsilon/C va a todas, la correcta incluida",
        "en": "you spread epsilon/(C - 1) over the wrong classes only: here, as in PyTorch, epsilon/C goes "
              "to every class, the correct one included"},
        section="ch03-smoothing",
        produce=lambda targets, epsilon: (1 - epsilon) * targets
        + epsilon / (targets.shape[1] - 1) * (1 - targets)),
    Misconception("classes-from-rows", {
        "es": "dividiste entre el número de filas: C es el número de columnas (clases) de targets",
        "en": "you divided by the number of rows: C is the number of columns (classes) of targets"},
        section="ch03-smoothing",
        produce=lambda targets, epsilon: (1 - epsilon) * targets + epsilon / targets.shape[0]),
    Misconception("mass-not-removed", {
        "es": "sumaste epsilon/C sin quitar epsilon a la clase correcta: la fila ya no suma 1",
        "en": "you added epsilon/C without taking epsilon from the correct class: the row no longer sums to "
              "1"},
        section="ch03-smoothing", produce=lambda targets, epsilon: targets + epsilon / targets.shape[1]),
)
SMOOTHED_CE_MISCONCEPTIONS = (
    Misconception("epsilon-ignored", {
        "es": "eso es la entropía cruzada sin suavizar: la etiqueta suavizada reparte epsilon entre las C "
              "clases",
        "en": "that is the unsmoothed cross-entropy: the smoothed label spreads epsilon over the C classes"},
        section="ch03-smoothing", produce=lambda logits, labels, epsilon: F.cross_entropy(logits, labels)),
    Misconception("smoothed-twice", {
        "es": "suavizaste dos veces (unas etiquetas ya suavizadas y otra vez al calcular la pérdida)",
        "en": "you smoothed twice (labels already smoothed, and again when computing the loss)"},
        section="ch03-mistakes",
        produce=lambda logits, labels, epsilon: -(_targets(labels, logits.shape[1], epsilon * (2 - epsilon),
                                                           epsilon * (2 - epsilon) / logits.shape[1])
                                                  * _log_p(logits)).sum(dim=1).mean()),
    Misconception("smoothing-over-the-others", SMOOTH_MISCONCEPTIONS[0].text, section="ch03-smoothing",
                  produce=lambda logits, labels, epsilon: -(
                      ((1 - epsilon) * F.one_hot(labels, logits.shape[1]).double()
                       + epsilon / (logits.shape[1] - 1) * (1 - F.one_hot(labels, logits.shape[1]).double()))
                      * _log_p(logits)).sum(dim=1).mean()),
    Misconception("class-index-times-log", {
        "es": "multiplicaste log p_k por el índice de la clase, no por y_k: es el error de la fórmula de la "
              "diapositiva (falta el índice k en la etiqueta)",
        "en": "you multiplied log p_k by the class index instead of y_k: the slide's formula error (the "
              "label lost its index k)"},
        section="ch03-mistakes",
        produce=lambda logits, labels, epsilon: -(labels.double()[:, None] * _log_p(logits))
        .sum(dim=1).mean()),
    Misconception("mean-over-classes", {
        "es": "promediaste sobre las clases: la pérdida de cada ejemplo es la suma -Σ_k ỹ_k log p_k",
        "en": "you averaged over the classes: each example's loss is the sum -Σ_k ỹ_k log p_k"},
        section="ch03-smoothing",
        produce=lambda logits, labels, epsilon: smoothed_ce_reference(logits, labels, epsilon)
        / logits.shape[1]),
)
OVERFLOW = Misconception("no-max-subtraction", {
    "es": "con logits grandes, softmax calculado a mano sin restar el máximo se desborda: usa el truco "
          "log-sum-exp del capítulo 2",
    "en": "with large logits, a softmax by hand without subtracting the maximum overflows: use chapter 2's "
          "log-sum-exp trick"},
    section="ch03-smoothing",
    detect=lambda case, expected, got: isinstance(got, torch.Tensor) and got.shape == expected.shape
    and bool((~got.isfinite() & expected.isfinite()).any()))


_targets_fixed = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
_logits = torch.tensor([[2.0, 0.5, -1.0], [0.3, -0.2, 1.1], [-0.5, 1.5, 0.2], [1.0, 1.0, 0.0]])
_labels = torch.tensor([0, 2, 1, 0])

BEHAVIOURS = [
    Behaviour(
        grade_id="one_hot_values", function="one_hot", points=2,
        summary={"es": "one_hot devuelve filas float con un solo 1, de longitud num_classes",
                 "en": "one_hot returns float rows with a single 1, of length num_classes"},
        fixed=lambda: [Case((torch.tensor([0, 2, 1, 0]), 3)),
                       Case((torch.tensor([1, 1]), 4))],
        hidden=_one_hot_cases,
        reference=one_hot_reference, rules=ENCODING_RULES, section="ch03-vectors",
        misconceptions=ONE_HOT_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="one_hot_bad_input", function="one_hot", points=0.5,
        summary={"es": "one_hot lanza ValueError con etiquetas fuera de [0, C) o que no son enteras",
                 "en": "one_hot raises ValueError for labels outside [0, C) or that are not integers"},
        fixed=lambda: [Case((torch.tensor([0, 3]), 3)),
                       Case((torch.tensor([-1, 0]), 3)),
                       Case((torch.tensor([0.0, 2.0, 1.0]), 3))],
        raises=ValueError, kind="validation", rules=ENCODING_RULES, section="ch03-vectors",
    ),
    Behaviour(
        grade_id="multi_hot_values", function="multi_hot", points=1,
        summary={"es": "multi_hot pone un 1 en cada clase presente de cada lista",
                 "en": "multi_hot puts a 1 at every class present in each list"},
        fixed=lambda: [Case(([[0, 2], [1], [0, 1, 2]], 3)),
                       Case(([[4], [0, 3]], 5))],
        hidden=_multi_hot_cases(edge_cases=False),
        reference=F.multi_hot, rules=ENCODING_RULES, section="ch03-multi-hot",
        misconceptions=MULTI_HOT_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="multi_hot_empty_and_repeated", function="multi_hot", points=1,
        summary={"es": "multi_hot da una fila de ceros con una lista vacía y cuenta una vez cada índice "
                       "repetido",
                 "en": "multi_hot gives a row of zeros for an empty list and counts a repeated index once"},
        fixed=lambda: [Case(([[], [1, 1]], 3)),
                       Case(([[2, 2, 2], [], []], 4))],
        hidden=_multi_hot_cases(edge_cases=True),
        reference=F.multi_hot, rules=ENCODING_RULES, section="ch03-multi-hot",
        misconceptions=MULTI_HOT_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="smooth_labels_values", function="smooth_labels", points=1,
        summary={"es": "smooth_labels reparte epsilon como label smoothing de PyTorch",
                 "en": "smooth_labels spreads epsilon like PyTorch's label smoothing"},
        fixed=lambda: [Case((_targets_fixed, 0.1)),
                       Case((torch.tensor([[0.0, 1.0, 0.0, 0.0]]), 0.3)),
                       Case((_targets_fixed, 0.0)),
                       Case((_targets_fixed, 1.0))],
        hidden=_smooth_cases,
        reference=F.smooth_labels, rules=ENCODING_RULES, section="ch03-smoothing",
        misconceptions=SMOOTH_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="smooth_labels_bad_epsilon", function="smooth_labels", points=0.5,
        summary={"es": "smooth_labels lanza ValueError si epsilon no está en [0, 1]",
                 "en": "smooth_labels raises ValueError when epsilon is not in [0, 1]"},
        fixed=lambda: [Case((_targets_fixed, -0.1)),
                       Case((_targets_fixed, 1.5)),
                       Case((_targets_fixed, 1.0001))],
        raises=ValueError, kind="validation", rules=ENCODING_RULES, section="ch03-smoothing",
    ),
    Behaviour(
        grade_id="smoothed_cross_entropy_values", function="smoothed_cross_entropy", points=3,
        summary={"es": "smoothed_cross_entropy coincide con la entropía cruzada con label smoothing de "
                       "PyTorch",
                 "en": "smoothed_cross_entropy matches PyTorch's cross-entropy with label smoothing"},
        fixed=lambda: [Case((_logits, _labels, 0.1)),
                       Case((_logits[:2], _labels[:2], 0.0))],
        hidden=_smoothed_cases(scale=2.0),
        reference=smoothed_ce_reference, rules=LOSS_RULES, section="ch03-smoothing",
        misconceptions=SMOOTHED_CE_MISCONCEPTIONS, atol=1e-5,
    ),
    Behaviour(
        grade_id="smoothed_cross_entropy_stable", function="smoothed_cross_entropy", points=1,
        summary={"es": "smoothed_cross_entropy es estable con logits de ±1000",
                 "en": "smoothed_cross_entropy is stable for logits of ±1000"},
        fixed=lambda: [Case((torch.tensor([[1000.0, -1000.0, 0.0]]), torch.tensor([0]), 0.1))],
        hidden=_smoothed_cases(scale=3.0, row_spread=1000.0),
        reference=smoothed_ce_reference, rules=LOSS_RULES, section="ch03-smoothing",
        misconceptions=(OVERFLOW, *SMOOTHED_CE_MISCONCEPTIONS),
        atol=1e-3,
    ),
]
