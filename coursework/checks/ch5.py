"""Chapter 5 exercise: the PReLU activation and a text classifier that uses it.

``prelu`` is checked against ``torch.nn.functional.prelu``. ``fit_predict`` trains the
student's own classifier on the shipped corpus, split and vectorized as in the chapter
(stratified split with seed 0, vocabulary of the training texts only, ``DEFAULTS`` of
``lossfns.classifier``), and passes when its predictions on the test texts reach
``MIN_ACCURACY``: clearly above the 1/3 of the balanced classes' majority baseline, and
reached by a plain honest solution in about a second (the chapter's model gets ~0.81).
"""

from __future__ import annotations

import functools

import torch

from lossfns.classifier import DEFAULTS
from lossfns.data.loader import load_corpus
from lossfns.data.split import stratified_split
from lossfns.text import LabelEncoder, TextVectorizer

from ..grading.behaviour import Behaviour, Case
from ..grading.compare import mismatch

MIN_ACCURACY = 0.70


def prelu_reference(x, slope):
    """Reference: x (N, H), slope () or (H,) -> (N, H)."""
    return torch.nn.functional.prelu(x, slope.reshape(-1))


def _sizes(generator):
    return tuple(int(s) for s in torch.randint(1, 7, (2,), generator=generator))


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


@functools.cache
def corpus_case(lang: str) -> Case:
    """The chapter's split of corpus ``lang``: (x_train, y_train, x_test), seed 0, expected y_test."""
    corpus = load_corpus(lang)
    split = stratified_split(corpus.labels, fractions=(0.7, 0.15, 0.15), seed=0)
    train, test = corpus.subset(split.train), corpus.subset(split.test)
    options = {k: DEFAULTS[k] for k in ("min_freq", "numbers", "truncate")}
    vectorizer = TextVectorizer.fit(train.texts, **options)
    labels = LabelEncoder(corpus.classes)
    return Case((vectorizer(train.texts), labels.encode(train.labels), vectorizer(test.texts)), {"seed": 0},
                expected=labels.encode(test.labels))


def _accurate_enough(expected, got):
    """Judge of fit_predict: int64 labels of shape (M,) of which at least MIN_ACCURACY are right."""
    found = mismatch(expected, got, rtol=0.0, atol=0.0)
    if found is not None and found[0] != "value":
        return found
    if got.dtype != expected.dtype:
        return "dtype", f"{expected.dtype} / {got.dtype}"
    accuracy = (got == expected).double().mean().item()
    if accuracy < MIN_ACCURACY:
        return "accuracy", f"{accuracy:.3f} < {MIN_ACCURACY:.2f}"
    return None


def _accuracy_summary(es: str, en: str) -> dict[str, str]:
    return {"es": f"fit_predict acierta al menos el {MIN_ACCURACY * 100:.0f} % de los textos de prueba "
                  f"del corpus en {es}",
            "en": f"fit_predict gets at least {MIN_ACCURACY:.0%} of the test texts of the {en} corpus right"}


_x = torch.tensor([[-2.0, -0.5, 0.0, 1.5],
                   [3.0, -1.0, 0.5, -4.0]])

BEHAVIOURS = [
    Behaviour(
        grade_id="prelu_shared_slope", function="prelu", points=1,
        summary={"es": "prelu con una sola pendiente (forma ()) coincide con la referencia, "
                       "también para a > 1",
                 "en": "prelu with one shared slope (shape ()) matches the reference, also for a > 1"},
        fixed=lambda: [Case((_x, torch.tensor(0.25))), Case((_x, torch.tensor(1.5)))],
        hidden=_hidden_shared,
        reference=prelu_reference,
    ),
    Behaviour(
        grade_id="prelu_per_unit", function="prelu", points=1,
        summary={"es": "prelu con una pendiente por unidad (forma (H,)) coincide con la referencia",
                 "en": "prelu with one slope per unit (shape (H,)) matches the reference"},
        fixed=lambda: [Case((_x, torch.tensor([0.0, 0.25, 1.0, 1.5])))],
        hidden=_hidden_per_unit,
        reference=prelu_reference,
    ),
    Behaviour(
        grade_id="prelu_bad_slope", function="prelu", points=1,
        summary={"es": "prelu lanza ValueError si la forma de la pendiente no es () ni (H,)",
                 "en": "prelu raises ValueError when the slope's shape is neither () nor (H,)"},
        fixed=lambda: [Case((_x, torch.tensor([0.25, 0.25, 0.25]))),
                       Case((_x, torch.tensor([0.25, 0.25]))),
                       Case((_x, torch.full((2, 4), 0.25)))],
        raises=ValueError,
    ),
    Behaviour(
        grade_id="fit_predict_spanish", function="fit_predict", points=2,
        summary=_accuracy_summary("español", "Spanish"),
        fixed=lambda: [corpus_case("es")],
        judge=_accurate_enough,
    ),
    Behaviour(
        grade_id="fit_predict_english", function="fit_predict", points=2,
        summary=_accuracy_summary("inglés", "English"),
        fixed=lambda: [corpus_case("en")],
        judge=_accurate_enough,
    ),
]

# The student writes PReLU by hand; the sandbox provides the loss fit_predict trains with.
BLOCKED: tuple[str, ...] = ("prelu",)
PROVIDED: tuple[str, ...] = ("cross_entropy",)
