"""Chapter 2 exercise: entropy, cross-entropy from logits, the KL divergence and the focal loss.

Every function may use arithmetic, comparisons, ``torch.where``, reductions, ``exp`` and ``log``
(``xlogy`` too). Not ``softmax``, ``log_softmax`` or ``logsumexp`` (the log-sum-exp trick is the
point of the stable behaviours), ``torch.special``'s ready-made terms (``entr``), ``torch.nn``,
``torch.nn.functional`` or ``torch.distributions`` (``Categorical(probs).entropy()`` is built from
allowed operators, but runs in the library: refused as such).
"""

from __future__ import annotations

import math

import torch

from lossfns import functional as F

from ..grading.behaviour import Behaviour, Case, Misconception
from ..grading.inputs import distributions, randint, randn
from ..grading.watch import Rules, ops

BLOCKED = ("softmax", "log_softmax")
PROVIDED = ()

ALLOWED = {"es": "aritmética, comparaciones, torch.where, sum, mean, amax, torch.exp y torch.log",
           "en": "arithmetic, comparisons, torch.where, sum, mean, amax, torch.exp and torch.log"}
RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions", "exp_log"), allowed=ALLOWED)


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


def _logits_cases(generator, scale, row_spread=0.0, count=3):
    """Logits (N, C) of standard deviation ``scale``, each row shifted by N(0, row_spread)."""
    cases = []
    for _ in range(count):
        n, c = _size(generator, max_rows=8)
        logits = randn(generator, n, c, scale=scale) + randn(generator, n, 1, scale=row_spread)
        cases.append(Case((logits, randint(generator, c, n))))
    return cases


def focal_reference(logits, target, gamma=2.0):
    """Mean over the batch of -(1 - p_c)^gamma log p_c, p = softmax of the logits (in float64)."""
    log_p = F.log_softmax(logits.double(), dim=1).gather(1, target[:, None]).squeeze(1)
    return (-(1 - log_p.exp()) ** gamma * log_p).mean().to(logits.dtype)


def _focal_cases(generator, scale, row_spread=0.0):
    cases = []
    for gamma in (2.0, 0.5, 3.0):
        (logits, target), = (c.args for c in _logits_cases(generator, scale, row_spread, count=1))
        cases.append(Case((logits, target), {"gamma": gamma}))
    return cases


# -- the misconceptions, computed on the same inputs as the student's output ----------------------------

def _log_softmax(logits):
    return F.log_softmax(logits.double(), dim=1)


def _picked(log_p, target):
    return log_p.gather(1, target[:, None]).squeeze(1)


def _non_finite_where_finite(case, expected, got):
    """The student's output has inf or nan where the right answer is finite: an overflow."""
    return (isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor)
            and got.shape == expected.shape and bool((~got.isfinite() & expected.isfinite()).any()))


OVERFLOW = Misconception("no-max-subtraction", {
    "es": "sin restar el máximo de cada fila, exp(z) se desborda (inf) o se anula (0): usa el truco "
          "log-sum-exp, m + log Σ exp(z - m), con el máximo m de cada fila",
    "en": "without subtracting each row's maximum, exp(z) overflows (inf) or underflows (0): use the "
          "log-sum-exp trick, m + log Σ exp(z - m), with each row's maximum m"},
    section="ch02-logsumexp", detect=_non_finite_where_finite)
ENTROPY_MISCONCEPTIONS = (
    Misconception("log-base-2", {
        "es": "usaste log2: el resultado está en bits; en este cuaderno todo va en nats (logaritmo natural)",
        "en": "you used log2: the result is in bits; in this notebook everything is in nats (natural log)"},
        section="ch02-entropy", produce=lambda p: F.entropy(p) / math.log(2)),
    Misconception("entropy-sign", {
        "es": "falta el signo menos: Σ p log p es negativo; la entropía es -Σ p log p >= 0",
        "en": "the minus sign is missing: Σ p log p is negative; the entropy is -Σ p log p >= 0"},
        section="ch02-entropy", produce=lambda p: -F.entropy(p)),
    Misconception("zero-log-zero", {
        "es": "0·log 0 dio nan: en PyTorch 0 * log(0) = 0 * (-inf) = nan; impón la convención 0 log 0 = 0 "
              "(con torch.where o xlogy)",
        "en": "0·log 0 gave nan: in PyTorch 0 * log(0) = 0 * (-inf) = nan; enforce the convention 0 log 0 = "
              "0 (with torch.where or xlogy)"},
        section="ch02-entropy", detect=_non_finite_where_finite),
    Misconception("entropy-over-the-batch", {
        "es": "sumaste sobre el eje equivocado: cada fila es una distribución y suma sobre sus clases "
              "(dim=1)",
        "en": "you summed over the wrong axis: each row is a distribution, summed over its classes (dim=1)"},
        section="ch02-entropy", produce=lambda p: -torch.xlogy(p, p).sum(dim=0)),
)
CROSS_ENTROPY_MISCONCEPTIONS = (
    Misconception("sum-over-batch", {
        "es": "sumaste las pérdidas del lote sin dividir entre N: la reducción 'mean' promedia sobre los "
              "ejemplos",
        "en": "you summed the batch's losses without dividing by N: the 'mean' reduction averages over "
              "examples"},
        section="ch02-crossentropyloss",
        produce=lambda logits, target: -_picked(_log_softmax(logits), target).sum()),
    Misconception("mean-over-classes", {
        "es": "promediaste sobre N·C (también sobre las clases): la media es solo sobre los N ejemplos",
        "en": "you averaged over N·C (over the classes too): the mean is over the N examples only"},
        section="ch02-crossentropyloss",
        produce=lambda logits, target: -_picked(_log_softmax(logits), target).mean() / logits.shape[1]),
    Misconception("softmax-twice", {
        "es": "aplicaste softmax y luego la entropía cruzada, que vuelve a aplicar softmax: pasaste "
              "probabilidades donde se esperan logits",
        "en": "you applied softmax and then the cross-entropy, which applies softmax again: you passed "
              "probabilities where logits are expected"},
        section="ch02-crossentropyloss",
        produce=lambda logits, target: -_picked(_log_softmax(_log_softmax(logits).exp()), target).mean()),
    Misconception("logits-as-probabilities", {
        "es": "tomaste -log del logit mismo, como si los logits fueran probabilidades: primero log-softmax",
        "en": "you took -log of the logit itself, as if logits were probabilities: apply log-softmax first"},
        section="ch02-logsumexp",
        produce=lambda logits, target: -_picked(logits.double(), target).log().mean()),
    Misconception("log-base-2", {
        "es": "usaste log2: la pérdida queda en bits; la entropía cruzada de PyTorch usa el logaritmo "
              "natural",
        "en": "you used log2: the loss is in bits; PyTorch's cross-entropy uses the natural log"},
        section="ch02-entropy", produce=lambda logits, target: F.cross_entropy(logits, target) / math.log(2)),
)
STABLE_MISCONCEPTIONS = (OVERFLOW, *CROSS_ENTROPY_MISCONCEPTIONS)
KL_MISCONCEPTIONS = (
    Misconception("kl-swapped", {
        "es": "calculaste KL(q || p): la divergencia no es simétrica; el promedio se pondera con p, el "
              "primer argumento",
        "en": "you computed KL(q || p): the divergence is not symmetric; the average is weighted by p, the "
              "first argument"},
        section="ch02-consequences", produce=lambda p, q: _kl_reference(q, p)),
    Misconception("probabilities-as-log-probabilities", {
        "es": "restaste q en vez de log q: tomaste probabilidades por log-probabilidades (el error de la "
              "diapositiva con KLDivLoss)",
        "en": "you subtracted q instead of log q: you took probabilities for log-probabilities (the slide's "
              "KLDivLoss mistake)"},
        section="ch02-kldivloss",
        produce=lambda p, q: torch.where(p > 0, p * (p.log() - q), torch.zeros_like(p)).sum(dim=1)),
    Misconception("zero-log-zero", ENTROPY_MISCONCEPTIONS[2].text, section="ch02-entropy",
                  detect=_non_finite_where_finite),
    Misconception("log-base-2", {
        "es": "usaste log2: el resultado está en bits; aquí todo va en nats",
        "en": "you used log2: the result is in bits; here everything is in nats"},
        section="ch02-entropy", produce=lambda p, q: _kl_reference(p, q) / math.log(2)),
)
FOCAL_MISCONCEPTIONS = (
    Misconception("gamma-ignored", {
        "es": "eso es la entropía cruzada simple: falta el factor (1 - p_c)^gamma que baja el peso de los "
              "ejemplos fáciles",
        "en": "that is plain cross-entropy: the factor (1 - p_c)^gamma that down-weights easy examples is "
              "missing"},
        section="ch02-crossentropyloss",
        produce=lambda logits, target, gamma=2.0: F.cross_entropy(logits, target)),
    Misconception("focal-wrong-factor", {
        "es": "usaste p_c^gamma en vez de (1 - p_c)^gamma: así pesan más los ejemplos fáciles, al revés de "
              "lo que se busca",
        "en": "you used p_c^gamma instead of (1 - p_c)^gamma: that weights the easy examples up, the "
              "opposite of the aim"},
        section="ch02-crossentropyloss",
        produce=lambda logits, target, gamma=2.0: (-(_picked(_log_softmax(logits), target).exp() ** gamma)
                                                   * _picked(_log_softmax(logits), target)).mean()),
    Misconception("focal-sum-over-batch", CROSS_ENTROPY_MISCONCEPTIONS[0].text,
                  section="ch02-crossentropyloss",
                  produce=lambda logits, target, gamma=2.0: focal_reference(logits, target, gamma)
                  * len(target)),
)
FOCAL_STABLE_MISCONCEPTIONS = (
    Misconception("log-of-underflowed-probability", {
        "es": "calculaste p y luego log p: cuando p se redondea a 0, log p = -inf. Calcula log p con el "
              "truco log-sum-exp y de ahí p = exp(log p)",
        "en": "you computed p and then log p: when p rounds to 0, log p = -inf. Compute log p with the "
              "log-sum-exp trick and then p = exp(log p)"},
        section="ch02-logsumexp",
        detect=lambda case, expected, got: isinstance(got, torch.Tensor) and bool(got.isinf().any())
        and bool(expected.isfinite().all())),
    OVERFLOW,
)


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
        reference=F.entropy, rules=RULES, section="ch02-entropy", misconceptions=ENTROPY_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="entropy_zeros", function="entropy", points=1,
        summary={"es": "entropy usa la convención 0·log 0 = 0 en las filas con ceros",
                 "en": "entropy follows the convention 0·log 0 = 0 on rows with zeros"},
        fixed=lambda: [Case((torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),)),
                       Case((torch.tensor([[0.0, 0.25, 0.0, 0.75]]),))],
        hidden=lambda generator: [Case((_with_zeros(generator, *_size(generator)),)) for _ in range(4)],
        reference=F.entropy, rules=RULES, section="ch02-entropy", misconceptions=ENTROPY_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="cross_entropy_values", function="cross_entropy", points=2,
        summary={"es": "cross_entropy (promedio sobre el lote) coincide con la referencia",
                 "en": "cross_entropy (the mean over the batch) matches the reference"},
        fixed=lambda: [Case((_logits, _classes)),
                       Case((torch.tensor([[0.0, 0.0]]), torch.tensor([1])))],
        hidden=lambda generator: _logits_cases(generator, scale=2.0),
        reference=F.cross_entropy, rules=RULES, section="ch02-crossentropyloss",
        misconceptions=CROSS_ENTROPY_MISCONCEPTIONS, atol=1e-5,
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
        reference=F.cross_entropy, rules=RULES, section="ch02-logsumexp",
        misconceptions=STABLE_MISCONCEPTIONS,
        # float32 spacing near 1000 is 6e-5: an honest m + log(sum) - z_c may be off by that much.
        atol=1e-3,
    ),
    Behaviour(
        grade_id="cross_entropy_bad_target", function="cross_entropy", points=0.5,
        summary={"es": "cross_entropy lanza ValueError ante un índice fuera de [0, C) "
                       "o un target que no es (N,)",
                 "en": "cross_entropy raises ValueError for an index outside [0, C) "
                       "or a target not of shape (N,)"},
        fixed=lambda: [Case((_logits[:2], torch.tensor([0, 3]))),
                       Case((_logits[:2], torch.tensor([-1, 0]))),
                       Case((_logits[:2], torch.tensor([0, 1, 2]))),
                       Case((_logits[:2], torch.tensor([1])))],
        raises=ValueError, kind="validation", rules=RULES, section="ch02-crossentropyloss",
    ),
    Behaviour(
        grade_id="kl_divergence_values", function="kl_divergence", points=2,
        summary={"es": "kl_divergence coincide con la referencia, también con ceros en p",
                 "en": "kl_divergence matches the reference, also with zeros in p"},
        fixed=lambda: [Case((_coins, _coins.flip(0))),
                       Case((_weather, _weather.flip(0))),
                       Case((torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]), _uniform))],
        hidden=lambda generator: [Case((distributions(generator, n, c), distributions(generator, n, c)))
                                  for n, c in [_size(generator) for _ in range(3)]]
        + [Case((_with_zeros(generator, n, c), distributions(generator, n, c)))
           for n, c in [_size(generator) for _ in range(3)]],
        reference=_kl_reference, rules=RULES, section="ch02-identity", misconceptions=KL_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="kl_divergence_bad_shape", function="kl_divergence", points=0.5,
        summary={"es": "kl_divergence lanza ValueError si p y q tienen formas distintas",
                 "en": "kl_divergence raises ValueError when p and q differ in shape"},
        fixed=lambda: [Case((_uniform, torch.full((2, 4), 0.25))),
                       Case((_uniform, torch.full((3, 3), 1 / 3))),
                       Case((_uniform, torch.full((3,), 1 / 3))),
                       Case((_uniform[:1], _uniform))],
        raises=ValueError, kind="validation", rules=RULES, section="ch02-identity",
    ),
    Behaviour(
        grade_id="focal_loss_values", function="focal_loss", points=2,
        summary={"es": "focal_loss coincide con la referencia para varios valores de gamma",
                 "en": "focal_loss matches the reference for several values of gamma"},
        fixed=lambda: [Case((_logits, _classes)),
                       Case((_logits, _classes), {"gamma": 0.0}),
                       Case((_logits[:2], _classes[:2]), {"gamma": 1.0})],
        hidden=lambda generator: _focal_cases(generator, scale=2.0),
        reference=focal_reference, rules=RULES, section="ch02-crossentropyloss",
        misconceptions=FOCAL_MISCONCEPTIONS, atol=1e-5,
    ),
    Behaviour(
        grade_id="focal_loss_stable", function="focal_loss", points=1,
        summary={"es": "focal_loss es estable con logits de ±1000",
                 "en": "focal_loss is stable for logits of ±1000"},
        fixed=lambda: [Case((torch.tensor([[1000.0, -1000.0, 0.0], [-5.0, 995.0, 1000.0]]),
                             torch.tensor([1, 2])), {"gamma": 2.0})],
        hidden=lambda generator: _focal_cases(generator, scale=1000.0)
        + _focal_cases(generator, scale=3.0, row_spread=1000.0),
        reference=focal_reference, rules=RULES, section="ch02-logsumexp",
        misconceptions=FOCAL_STABLE_MISCONCEPTIONS + FOCAL_MISCONCEPTIONS, atol=1e-3,
    ),
]
