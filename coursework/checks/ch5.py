"""Chapter 5 exercise: PReLU and its gradients by hand, and a text classifier that learns its slopes.

``prelu`` and ``prelu_backward`` may use arithmetic, comparisons, ``clamp``/``relu``/``where`` and sums,
written by the student: not ``torch.nn.PReLU``, ``F.prelu``, ``F.leaky_relu`` (a shared slope is a
leaky ReLU with that slope) or any layer with its parameter set to match, and no autograd for the
gradients, which are checked against autograd on hidden inputs.

``fit_prelu_classifier`` trains the chapter's model (Linear → PReLU → dropout → Linear) and returns
its parameters, not predictions: the grader builds the network from them, with its own PReLU, and
measures its accuracy on texts that never reach the sandbox, an instructor-held split of the shipped
corpus drawn with the private seed of the hidden inputs (a fresh vocabulary from its training rows).
So the graded model is the one built in the notebook: it must have a PReLU layer whose slopes were
learned (not left at their initial 0.25, not fixed at 0 or 1), its per-epoch slope history must be
real copies, and it must reach ``MIN_ACCURACY``, well above the 1/3 of always answering one class and
reached by an honest solution on every split tried (0.79 to 0.89 on 24 splits).
"""

from __future__ import annotations

import functools

import torch

from lossfns.classifier import DEFAULTS
from lossfns.data.loader import load_corpus
from lossfns.data.split import stratified_split
from lossfns.text import LabelEncoder, TextVectorizer

from ..grading.behaviour import Behaviour, Case, Misconception
from ..grading.watch import Rules, ops
from .common import NUMERICAL

MIN_ACCURACY = 0.70
HELD_OUT = 0.3  # share of the corpus the grader keeps for itself
INIT = 0.25  # the slopes' initial value the notebook asks for (the chapter's and torch's)
PARAMETERS = ("W1", "b1", "slope", "W2", "b2", "slopes")

# The student writes PReLU by hand; the sandbox provides the loss fit_prelu_classifier trains with.
BLOCKED: tuple[str, ...] = ("prelu",)
PROVIDED: tuple[str, ...] = ("cross_entropy",)

ALLOWED = {"es": "aritmética, comparaciones, clamp, torch.where, torch.relu y sum",
           "en": "arithmetic, comparisons, clamp, torch.where, torch.relu and sum"}
RULES = Rules(ops=ops("structure", "compare", "arithmetic", "reductions"), allowed=ALLOWED)


def prelu_reference(x, slope):
    """Reference: x (N, H), slope () or (H,) -> (N, H)."""
    return torch.nn.functional.prelu(x, slope.reshape(-1))


def prelu_backward_reference(x, slope, grad_output):
    """(dL/dx, dL/dslope) for L = Σ grad_output · PReLU(x), by autograd on torch's PReLU."""
    x_leaf = x.detach().clone().requires_grad_(True)
    slope_leaf = slope.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = torch.nn.functional.prelu(x_leaf, slope_leaf.reshape(-1))
        grad_x, grad_slope = torch.autograd.grad(out, (x_leaf, slope_leaf), grad_output)
    return grad_x, grad_slope


def _prelu_forward(x, slope, grad_output):
    """One forward pass of PReLU (weighted by grad_output, so it is a number): the unit of the budget."""
    return ((x.clamp(min=0) + slope * x.clamp(max=0)) * grad_output).sum()


def _sizes(generator):
    return tuple(int(s) for s in torch.randint(1, 7, (2,), generator=generator))


def _away_from_zero(x):
    """The kink of PReLU at 0 has no derivative: keep hidden inputs away from it."""
    return torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)


def _hidden_shared(generator):
    # Slopes in [-0.5, 2): above 1 too, where max(x, a*x) is no longer PReLU.
    return [Case((torch.randn(_sizes(generator), generator=generator) * 2,
                  torch.rand((), generator=generator) * 2.5 - 0.5)) for _ in range(6)]


def _hidden_per_unit(generator):
    cases = []
    # The last case has N == H, where a slope applied along N gives wrong values instead of a shape error.
    for n, h in [_sizes(generator) for _ in range(5)] + [(4, 4)]:
        cases.append(Case((torch.randn(n, h, generator=generator) * 2,
                           torch.rand(h, generator=generator) * 2.5 - 0.5)))
    return cases


def _backward_cases(generator):
    cases = []
    for n, h, shared in [(*_sizes(generator), True), (*_sizes(generator), False), (5, 16, False),
                         (4, 4, False), (3, 16, True)]:
        x = _away_from_zero(torch.randn(n, h, generator=generator, dtype=torch.float64) * 2)
        slope = torch.rand(() if shared else (h,), generator=generator, dtype=torch.float64) * 2.5 - 0.5
        cases.append(Case((x, slope, torch.randn(n, h, generator=generator, dtype=torch.float64))))
    return cases


# -- the classifier's data: the grader's own split of a shipped corpus ------------------------------------

@functools.cache
def held_out_case(lang: str, split_seed: int) -> Case:
    """Training vectors and labels of a split of corpus ``lang`` (sent to the sandbox), and its held-out
    vectors and labels (``expected``: they stay in the grader)."""
    corpus = load_corpus(lang)
    split = stratified_split(corpus.labels, fractions=(1 - HELD_OUT, 0.0, HELD_OUT), seed=split_seed)
    train, held_out = corpus.subset(split.train), corpus.subset(split.test)
    options = {k: DEFAULTS[k] for k in ("min_freq", "numbers", "truncate")}
    vectorizer = TextVectorizer.fit(train.texts, **options)
    labels = LabelEncoder(corpus.classes)
    return Case((vectorizer(train.texts), labels.encode(train.labels)), {"seed": 0},
                expected=(vectorizer(held_out.texts), labels.encode(held_out.labels)))


def _held_out(lang):
    def cases(generator):
        return [held_out_case(lang, int(torch.randint(1, 2**31 - 1, (), generator=generator)))]
    return cases


def _prelu_network(params, x):
    """The logits of the student's parameters on ``x``, computed here with torch's PReLU (no dropout)."""
    hidden = x @ params["W1"].double().T + params["b1"].double()
    activated = torch.nn.functional.prelu(hidden, params["slope"].double().reshape(-1))
    return activated @ params["W2"].double().T + params["b2"].double()


def _judge_classifier(expected, got):
    """The structure of the returned parameters, then the accuracy of their network on the held-out texts."""
    x, y = expected
    v, c = x.shape[1], int(y.max()) + 1
    if type(got) is not dict or not set(PARAMETERS) <= set(got):
        return "type", f"dict {{{', '.join(PARAMETERS)}}} / {type(got).__name__}"
    if not all(type(got[k]) is torch.Tensor and got[k].is_floating_point() for k in PARAMETERS):
        return "type", "float tensors"
    w1, b1, slope, w2, b2, slopes = (got[k] for k in PARAMETERS)
    h = w1.shape[0] if w1.dim() == 2 else -1
    if w1.dim() == 2 and tuple(w1.shape) == (v, w1.shape[1]) and w1.shape[1] != v:
        return "structure", f"W1 {tuple(w1.shape)}", "weights-from-to"
    shapes = {"W1": (h, v), "b1": (h,), "W2": (c, h), "b2": (c,)}
    for name, shape in shapes.items():
        if tuple(got[name].shape) != shape:
            return "structure", f"{name} {tuple(got[name].shape)} / {shape}"
    if tuple(slope.shape) not in ((), (h,)):
        return "structure", f"slope {tuple(slope.shape)} / () or ({h},)"
    if slopes.dim() != slope.dim() + 1 or tuple(slopes.shape[1:]) != tuple(slope.shape) or len(slopes) < 1:
        return "structure", f"slopes {tuple(slopes.shape)} / (epochs, *{tuple(slope.shape)})"
    if not all(bool(t.isfinite().all()) for t in (w1, b1, slope, w2, b2, slopes)):
        return "structure", "inf / nan"
    if bool(((slope - INIT).abs() < 1e-6).all()):
        return "structure", f"slope = {INIT}", "slopes-not-trained"
    for fixed in (0.0, 1.0):
        if bool((slope == fixed).all()):
            return "structure", f"slope = {fixed:g}", "fixed-slope"
    if len(slopes) > 1 and bool((slopes == slopes[-1]).all()):
        return "structure", "slopes", "slopes-aliased"
    if not torch.allclose(slopes[-1], slope, rtol=0, atol=1e-6):
        return "structure", "slopes[-1] / slope"
    accuracy = (_prelu_network(got, x.double()).argmax(dim=1) == y).double().mean().item()
    if accuracy < MIN_ACCURACY:
        return "accuracy", f"{accuracy:.3f} < {MIN_ACCURACY:.2f}"
    return None


# -- misconceptions --------------------------------------------------------------------------------------

def _flipped_forward(x, slope):
    return x.clamp(min=0) - slope * x.clamp(max=0)


PRELU_MISCONCEPTIONS = (
    Misconception("max-of-x-and-ax", {
        "es": "max(x, a·x) solo es PReLU si a <= 1: con a > 1 elige a·x también para x positivos",
        "en": "max(x, a·x) is PReLU only when a <= 1: with a > 1 it picks a·x for positive x too"},
        section="ch05-prelu", produce=lambda x, slope: torch.maximum(x, slope * x)),
    Misconception("slope-sign", {
        "es": "el signo de la parte negativa está al revés: PReLU(x) = max(0, x) + a·min(0, x)",
        "en": "the sign of the negative part is flipped: PReLU(x) = max(0, x) + a·min(0, x)"},
        section="ch05-prelu", produce=_flipped_forward),
    Misconception("slope-on-positive-side", {
        "es": "aplicaste la pendiente a los valores positivos: PReLU deja pasar los positivos sin cambio",
        "en": "you applied the slope to the positive values: PReLU passes positive values unchanged"},
        section="ch05-prelu", produce=lambda x, slope: slope * x.clamp(min=0) + x.clamp(max=0)),
)


def _backward_with(grad_x, grad_slope):
    def wrong(x, slope, grad_output):
        right_x, right_slope = prelu_backward_reference(x, slope, grad_output)
        return (grad_x(x, slope, grad_output, right_x), grad_slope(x, slope, grad_output, right_slope))
    return wrong


BACKWARD_MISCONCEPTIONS = (
    NUMERICAL,
    Misconception("slope-gradient-not-summed", {
        "es": "la pendiente es un parámetro compartido por todos los ejemplos (y, si es una sola, por todas "
              "las unidades): su gradiente suma las contribuciones, con la forma de slope",
        "en": "the slope is a parameter shared by every example (and, if there is one, by every unit): its "
              "gradient sums the contributions, in the shape of slope"},
        section="ch05-prelu",
        produce=_backward_with(lambda x, a, g, right: right, lambda x, a, g, right: x.clamp(max=0) * g)),
    Misconception("slope-gradient-of-x", {
        "es": "∂PReLU/∂a = min(0, x), no x: la pendiente solo aprende de las entradas negativas",
        "en": "∂PReLU/∂a = min(0, x), not x: the slope learns only from negative inputs"},
        section="ch05-prelu",
        produce=_backward_with(lambda x, a, g, right: right,
                               lambda x, a, g, right: (x * g).sum() if a.dim() == 0 else (x * g).sum(dim=0))),
    Misconception("upstream-gradient-ignored", {
        "es": "falta multiplicar por grad_output: la regla de la cadena multiplica la derivada local por el "
              "gradiente que llega de arriba",
        "en": "the multiplication by grad_output is missing: the chain rule multiplies the local derivative "
              "by the gradient coming from above"},
        section="ch05-prelu",
        produce=lambda x, slope, grad_output: prelu_backward_reference(x, slope,
                                                                       torch.ones_like(grad_output))),
    Misconception("input-gradient-swapped", {
        "es": "∂PReLU/∂x es 1 para x > 0 y a para x < 0: lo tienes al revés",
        "en": "∂PReLU/∂x is 1 for x > 0 and a for x < 0: you have it the other way round"},
        section="ch05-prelu",
        produce=_backward_with(lambda x, a, g, right: torch.where(x > 0, a * g, g),
                               lambda x, a, g, right: right)),
)
# Which part of prelu_backward's answer each misconception spoils: (grad_input, grad_slope).
_SPOILS = {"numerical-derivative": (0, 1), "slope-gradient-not-summed": (1,), "slope-gradient-of-x": (1,),
           "upstream-gradient-ignored": (0, 1), "input-gradient-swapped": (0,)}


def _affecting(output: int) -> tuple[Misconception, ...]:
    return tuple(m for m in BACKWARD_MISCONCEPTIONS if output in _SPOILS[m.key])


CLASSIFIER_MISCONCEPTIONS = (
    Misconception("slopes-not-trained", {
        "es": "las pendientes siguen en su valor inicial, 0.25: no se las pasaste al optimizador, así que "
              "nunca se aprendieron",
        "en": "the slopes are still at their initial 0.25: you did not give them to the optimizer, so they "
              "were never learned"},
        section="ch05-training"),
    Misconception("fixed-slope", {
        "es": "una pendiente fija en 0 es una ReLU y en 1 una red lineal: el modelo del ejercicio aprende "
              "sus pendientes (PReLU)",
        "en": "a slope fixed at 0 is a ReLU and at 1 a linear network: the exercise's model learns its "
              "slopes (PReLU)"},
        section="ch05-compare"),
    Misconception("slopes-aliased", {
        "es": "todas las filas de tu historial son la pendiente final: guardaste el Parameter mismo (o su "
              ".detach(), que comparte memoria) y el optimizador lo siguió cambiando; guarda "
              "slope.detach().clone()",
        "en": "every row of your history is the final slope: you stored the Parameter itself (or its "
              ".detach(), "
              "which shares its memory) and the optimizer kept changing it; store slope.detach().clone()"},
        section="ch05-slopes"),
    Misconception("weights-from-to", {
        "es": "W1 está como W[from, to]: los pesos de torch.nn.Linear son W[to, from], de forma (H, V)",
        "en": "W1 is laid out W[from, to]: torch.nn.Linear's weights are W[to, from], of shape (H, V)"},
        section="ch04-layout"),
)


_x = torch.tensor([[-2.0, -0.5, 0.3, 1.5],
                   [3.0, -1.0, 0.5, -4.0]])
_x64 = _x.double()


def _classifier_summary(es: str, en: str) -> dict[str, str]:
    share = f"{MIN_ACCURACY:.0%}"
    return {"es": f"fit_prelu_classifier aprende una red con PReLU que acierta al menos el "
                  f"{share.replace('%', ' %')} de textos que no ve, del corpus en {es}",
            "en": f"fit_prelu_classifier learns a PReLU network that gets at least {share} of unseen texts "
                  f"of the {en} corpus right"}


BEHAVIOURS = [
    Behaviour(
        grade_id="prelu_shared_slope", function="prelu", points=1,
        summary={"es": "prelu con una sola pendiente (forma ()) coincide con la referencia, "
                       "también para a > 1",
                 "en": "prelu with one shared slope (shape ()) matches the reference, also for a > 1"},
        fixed=lambda: [Case((_x, torch.tensor(0.25))), Case((_x, torch.tensor(1.5)))],
        hidden=_hidden_shared,
        reference=prelu_reference, rules=RULES, section="ch05-prelu", misconceptions=PRELU_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="prelu_per_unit", function="prelu", points=1,
        summary={"es": "prelu con una pendiente por unidad (forma (H,)) coincide con la referencia",
                 "en": "prelu with one slope per unit (shape (H,)) matches the reference"},
        fixed=lambda: [Case((_x, torch.tensor([0.0, 0.25, 1.0, 1.5])))],
        hidden=_hidden_per_unit,
        reference=prelu_reference, rules=RULES, section="ch05-prelu", misconceptions=PRELU_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="prelu_bad_slope", function="prelu", points=1,
        summary={"es": "prelu lanza ValueError si la forma de la pendiente no es () ni (H,)",
                 "en": "prelu raises ValueError when the slope's shape is neither () nor (H,)"},
        fixed=lambda: [Case((_x, torch.tensor([0.25, 0.25, 0.25]))),
                       Case((_x, torch.tensor([0.25, 0.25]))),
                       Case((_x, torch.full((2, 4), 0.25)))],
        raises=ValueError, kind="validation", rules=RULES, section="ch05-prelu",
    ),
    Behaviour(
        grade_id="prelu_backward_input", function="prelu_backward", points=1,
        summary={"es": "prelu_backward da el gradiente respecto de x",
                 "en": "prelu_backward gives the gradient with respect to x"},
        fixed=lambda: [Case((_x64, torch.tensor(0.25, dtype=torch.float64),
                             torch.ones(2, 4, dtype=torch.float64)))],
        hidden=_backward_cases,
        reference=prelu_backward_reference, output=0, rules=RULES, forward=_prelu_forward, kind="derivation",
        section="ch05-prelu", misconceptions=_affecting(0),
    ),
    Behaviour(
        grade_id="prelu_backward_slope", function="prelu_backward", points=2,
        summary={"es": "prelu_backward da el gradiente respecto de la pendiente, con la forma de slope",
                 "en": "prelu_backward gives the gradient with respect to the slope, in the shape of slope"},
        fixed=lambda: [Case((_x64, torch.tensor([0.0, 0.25, 1.0, 1.5], dtype=torch.float64),
                             torch.full((2, 4), 0.5, dtype=torch.float64)))],
        hidden=_backward_cases,
        reference=prelu_backward_reference, output=1, rules=RULES, forward=_prelu_forward, kind="derivation",
        section="ch05-prelu", misconceptions=_affecting(1),
    ),
    Behaviour(
        grade_id="fit_spanish", function="fit_prelu_classifier", points=2,
        summary=_classifier_summary("español", "Spanish"),
        fixed=list, hidden=_held_out("es"),
        judge=_judge_classifier, section="ch05-training", misconceptions=CLASSIFIER_MISCONCEPTIONS,
    ),
    Behaviour(
        grade_id="fit_english", function="fit_prelu_classifier", points=2,
        summary=_classifier_summary("inglés", "English"),
        fixed=list, hidden=_held_out("en"),
        judge=_judge_classifier, section="ch05-training", misconceptions=CLASSIFIER_MISCONCEPTIONS,
    ),
]
