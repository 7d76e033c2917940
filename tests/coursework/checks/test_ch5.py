"""Tests of the chapter 5 checks: a right answer passes, typical mistakes fail the right cell."""

import json

import pytest
import torch

from coursework.chapters import chapter
from coursework.checks.ch5 import BEHAVIOURS, BLOCKED, MIN_ACCURACY, PROVIDED, corpus_case, prelu_reference
from coursework.grading import Checker
from lossfns.data.loader import load_corpus
from lossfns.data.split import stratified_split
from lossfns.functional import cross_entropy
from lossfns.metrics import majority_accuracy
from lossfns.models import PReLUClassifier
from lossfns.training import train

LANGUAGES = ("es", "en")
GRADE_IDS = [b.grade_id for b in BEHAVIOURS]


# A right answer, as in the notebook.

def prelu(x, slope):
    if slope.dim() != 0 and tuple(slope.shape) != (x.shape[-1],):
        raise ValueError(f"expected a slope of shape () or ({x.shape[-1]},), got {tuple(slope.shape)}")
    return x.clamp(min=0) + slope * x.clamp(max=0)


def _train(x_train, y_train, seed, *, epochs=20, vocab_size=None, step=True):
    """Linear -> prelu -> Linear trained with Adam on mini-batches; returns the logits function."""
    torch.manual_seed(seed)
    first = torch.nn.Linear(vocab_size or x_train.shape[1], 16)
    slope = torch.nn.Parameter(torch.full((16,), 0.25))
    second = torch.nn.Linear(16, int(y_train.max()) + 1)
    optimizer = torch.optim.Adam([*first.parameters(), slope, *second.parameters()], lr=1e-2)
    for _ in range(epochs):
        order = torch.randperm(len(y_train))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            loss = cross_entropy(second(prelu(first(x_train[batch]), slope)), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            if step:
                optimizer.step()
    return lambda x: second(prelu(first(x), slope))


def fit_predict(x_train, y_train, x_test, seed=0):
    logits = _train(x_train, y_train, seed)
    with torch.no_grad():
        return logits(x_test).argmax(dim=1)


RIGHT = {"prelu": prelu, "fit_predict": fit_predict}


@pytest.fixture(autouse=True, scope="module")
def one_thread_and_own_rng():
    """One thread, as in the notebook's setup cell; the global RNG the trainings seed is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        yield
    torch.set_num_threads(threads)


def verdict(grade_id, namespace, language="en"):
    return Checker(f"ch5-{language}").verdict(grade_id, namespace)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("grade_id", GRADE_IDS)
def test_right_answer_passes_every_check(grade_id, language):
    result = verdict(grade_id, RIGHT, language)
    assert result.passed, str(result)
    assert result.points == result.max_points
    assert str(result).startswith("✓")


def test_stub_scores_zero_everywhere():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for language in LANGUAGES:
        for grade_id in GRADE_IDS:
            result = verdict(grade_id, {"prelu": stub, "fit_predict": stub}, language)
            assert result.points == 0, grade_id
    assert "NotImplementedError" in str(verdict("prelu_bad_slope", {"prelu": stub}))
    assert "not implemented" in str(verdict("fit_predict_spanish", {"fit_predict": stub}))
    assert "todavía no está implementada" in str(verdict("prelu_shared_slope", {"prelu": stub}, "es"))


def test_missing_function_is_explained():
    result = verdict("fit_predict_english", {"prelu": prelu}, "es")
    assert result.points == 0 and "no está definida" in str(result)


def failing(namespace, grade_ids=GRADE_IDS[:3]):
    """The grade_ids among ``grade_ids`` that ``namespace`` fails."""
    return [g for g in grade_ids if not verdict(g, namespace).passed]


# prelu: reference values and mistakes.

def test_reference_matches_hand_worked_values():
    x = torch.tensor([[-2.0, -0.5, 0.0, 1.5], [3.0, -1.0, 0.5, -4.0]])
    torch.testing.assert_close(prelu_reference(x, torch.tensor(0.25)),
                               torch.tensor([[-0.5, -0.125, 0.0, 1.5], [3.0, -0.25, 0.5, -1.0]]))
    torch.testing.assert_close(prelu_reference(x, torch.tensor([0.0, 0.25, 1.0, 1.5])),
                               torch.tensor([[0.0, -0.125, 0.0, 1.5], [3.0, -0.25, 0.5, -6.0]]))
    torch.testing.assert_close(prelu_reference(x, torch.tensor(1.0)), x)  # a = 1 is the identity


def test_reference_matches_the_chapter_models_activation():
    model = PReLUClassifier(5, 4, 3)
    with torch.no_grad():
        model.activation.weight.copy_(torch.tensor([0.0, 0.3, 1.0, 2.0]))
        h = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(prelu_reference(h, model.activation.weight.detach()), model.activation(h))


def test_max_of_x_and_slope_x_fails_for_slopes_above_one():
    def leaky_style(x, slope):
        prelu(x, slope)  # same validation
        return torch.maximum(x, slope * x)

    assert failing({"prelu": leaky_style}) == ["prelu_shared_slope", "prelu_per_unit"]
    assert "do not match" in str(verdict("prelu_shared_slope", {"prelu": leaky_style}))


def test_rejecting_a_shared_slope_fails_only_the_shared_check():
    def per_unit_only(x, slope):
        if tuple(slope.shape) != (x.shape[-1],):
            raise ValueError("bad slope")
        return x.clamp(min=0) + slope * x.clamp(max=0)

    assert failing({"prelu": per_unit_only}) == ["prelu_shared_slope"]
    result = verdict("prelu_shared_slope", {"prelu": per_unit_only}, "es")
    assert "lanzó ValueError: bad slope" in str(result) and "Entrada:" in str(result)


def test_a_python_number_slope_fails_only_the_per_unit_check():
    def scalar_slope(x, slope):
        prelu(x, slope)
        a = slope.item()
        return torch.where(x > 0, x, a * x)

    assert failing({"prelu": scalar_slope}) == ["prelu_per_unit"]
    assert "raised RuntimeError" in str(verdict("prelu_per_unit", {"prelu": scalar_slope}))


def test_no_shape_check_fails_only_the_bad_slope_check():
    def unchecked(x, slope):
        return x.clamp(min=0) + slope * x.clamp(max=0)

    assert failing({"prelu": unchecked}) == ["prelu_bad_slope"]
    assert "expected a ValueError" in str(verdict("prelu_bad_slope", {"prelu": unchecked}))


def test_sign_error_fails_the_value_checks():
    def flipped(x, slope):
        prelu(x, slope)
        return x.clamp(min=0) - slope * x.clamp(max=0)

    assert failing({"prelu": flipped}) == ["prelu_shared_slope", "prelu_per_unit"]
    assert "Esperado:" in str(verdict("prelu_per_unit", {"prelu": flipped}, "es"))


# fit_predict: the data, the threshold and mistakes.

@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_case_is_the_chapters_split(language):
    corpus = load_corpus(language)
    split = stratified_split(corpus.labels, seed=0)
    case = corpus_case(language)
    x_train, y_train, x_test = case.args
    assert x_train.dtype == x_test.dtype == torch.float32 and y_train.dtype == torch.int64
    assert (len(y_train), len(case.expected)) == (len(split.train), len(split.test))
    assert x_train.shape[1] == x_test.shape[1]
    assert set(x_train.unique().tolist()) == {0.0, 1.0}
    assert x_train[:, 1:].sum(dim=0).min() >= 1  # every word of the vocabulary occurs in a training text
    assert majority_accuracy(case.expected) < MIN_ACCURACY - 0.3


def test_the_chapters_model_reaches_the_threshold():
    def chapter_model(x_train, y_train, x_test, seed=0):
        torch.manual_seed(seed)
        model = PReLUClassifier(x_train.shape[1], 16, 3, dropout=0.5)
        train(model, x_train, y_train, epochs=30, lr=3e-3, weight_decay=1e-2, seed=seed, num_threads=1,
              verbose=False)
        with torch.no_grad():
            return model(x_test).argmax(dim=1)

    # The chapter's model uses torch's PReLU, which the checks refuse; judge its predictions directly.
    behaviour = next(b for b in BEHAVIOURS if b.grade_id == "fit_predict_spanish")
    case = corpus_case("es")
    assert behaviour.judge(behaviour.expected(case), chapter_model(*case.args)) is None
    assert "not allowed" in str(verdict("fit_predict_spanish", {"fit_predict": chapter_model}))


def test_an_untrained_model_fails_on_accuracy():
    def no_step(x_train, y_train, x_test, seed=0):
        logits = _train(x_train, y_train, seed, epochs=2, step=False)
        with torch.no_grad():
            return logits(x_test).argmax(dim=1)

    assert failing({"fit_predict": no_step}, GRADE_IDS[3:]) == ["fit_predict_spanish", "fit_predict_english"]
    result = str(verdict("fit_predict_spanish", {"fit_predict": no_step}, "es"))
    assert "exactitud en los textos de prueba" in result and f"< {MIN_ACCURACY:.2f}" in result
    shape = tuple(corpus_case("es").args[0].shape)
    assert f"tensor de forma {shape}" in result  # the call is shown without dumping the data


@pytest.mark.parametrize("seen, fails", [("es", "fit_predict_english"), ("en", "fit_predict_spanish")])
def test_a_hard_coded_vocabulary_size_fails_the_other_corpus(seen, fails):
    vocab_size = corpus_case(seen).args[0].shape[1]  # the V the try-it cell printed

    def hard_coded(x_train, y_train, x_test, seed=0):
        logits = _train(x_train, y_train, seed, vocab_size=vocab_size)
        with torch.no_grad():
            return logits(x_test).argmax(dim=1)

    assert failing({"fit_predict": hard_coded}, GRADE_IDS[3:]) == [fails]


@pytest.mark.parametrize("output, kind", [
    (lambda logits: logits, "expected shape"),
    (lambda logits: logits.argmax(dim=1).float(), "expected dtype"),
    (lambda logits: logits.argmax(dim=1).int(), "expected dtype"),
    (lambda logits: logits.argmax(dim=1).tolist(), "expected type"),
])
def test_predictions_of_the_wrong_form_fail(output, kind):
    def wrong_form(x_train, y_train, x_test, seed=0):
        logits = _train(x_train, y_train, seed, epochs=3)
        with torch.no_grad():
            return output(logits(x_test))

    result = verdict("fit_predict_spanish", {"fit_predict": wrong_form})
    assert result.points == 0 and kind in str(result), str(result)


# The module constants and the notebooks.

def test_blocked_and_provided():
    assert BLOCKED == ("prelu",) and PROVIDED == ("cross_entropy",)


@pytest.mark.parametrize("language", LANGUAGES)
def test_notebook_points_match_the_behaviours(language):
    path = chapter("ch5").solution(language)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    graded = [c["metadata"]["nbgrader"] for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    tests = {m["grade_id"]: m["points"] for m in graded if not m["solution"]}
    assert tests == {b.grade_id: b.points for b in BEHAVIOURS}
    assert list(tests) == GRADE_IDS
    written = [m for m in graded if m["solution"]]
    assert [(m["grade_id"], m["points"]) for m in written] == [("written_answer", 2)]
    sources = ["".join(c["source"]) for c in cells]
    assert all(any(f'check("{g}")' in s for s in sources) for g in GRADE_IDS)
    assert sum(tests.values()) + 2 == 9


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_cells_describe_their_behaviour(language):
    path = chapter("ch5").solution(language)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    opening = {"es": "Comprueba que", "en": "Check that"}[language]
    for behaviour in BEHAVIOURS:
        cell = next(c for c in cells
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == behaviour.grade_id)
        assert "".join(cell["source"]) == (f'"""{opening} {behaviour.summary[language]}."""\n'
                                           f'check("{behaviour.grade_id}")')
