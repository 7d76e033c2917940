"""Tests of the chapter 5 checks: PReLU, its gradients by hand, and the classifier judged on held-out texts.

Right answers in several styles pass, typical mistakes fail their behaviours and are named, ready-made
PReLU, autograd and numerical derivatives are refused, the classifier's judge recognises a network that
is not the exercise's (slopes never trained, fixed, copied without clone, W[from, to]) and measures the
returned network on texts that never reach the student's function.
"""

import json
import re

import pytest
import torch
from checkkit import failing, of_function, stub, verdicts

from coursework.chapters import chapter
from coursework.checks import ch5
from coursework.grading.verdict import cases_of
from lossfns.classifier import DEFAULTS
from lossfns.functional import cross_entropy
from lossfns.models import PReLUClassifier
from lossfns.training import train

LANGUAGES = ("es", "en")
BY_ID = {b.grade_id: b for b in ch5.BEHAVIOURS}
PRELU_IDS = [g for g, b in BY_ID.items() if b.function in ("prelu", "prelu_backward")]


def prelu(x, slope):
    if slope.dim() != 0 and tuple(slope.shape) != (x.shape[-1],):
        raise ValueError(f"expected a slope of shape () or ({x.shape[-1]},), got {tuple(slope.shape)}")
    return x.clamp(min=0) + slope * x.clamp(max=0)


def prelu_backward(x, slope, grad_output):
    grad_input = torch.where(x > 0, grad_output, slope * grad_output)
    per_element = x.clamp(max=0) * grad_output
    return grad_input, per_element.sum() if slope.dim() == 0 else per_element.sum(dim=0)


def fit_prelu_classifier(x_train, y_train, seed=0, fixed_slope=None):
    """The notebook's solution, with the chapter's hyperparameters."""
    torch.manual_seed(seed)
    first, second = torch.nn.Linear(x_train.shape[1], 16), torch.nn.Linear(16, 3)
    slope = torch.nn.Parameter(torch.full((16,), 0.25 if fixed_slope is None else float(fixed_slope)))
    dropout = torch.nn.Dropout(0.5)
    groups = [{"params": [*first.parameters(), *second.parameters()], "weight_decay": 1e-2}]
    if fixed_slope is None:
        groups.append({"params": [slope], "weight_decay": 0.0})
    optimizer = torch.optim.Adam(groups, lr=3e-3)
    history = []
    for _ in range(30):
        order = torch.randperm(len(y_train))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            loss = cross_entropy(second(dropout(prelu(first(x_train[batch]), slope))), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history.append(slope.detach().clone())
    return {"W1": first.weight.detach(), "b1": first.bias.detach(), "slope": slope.detach(),
            "W2": second.weight.detach(), "b2": second.bias.detach(), "slopes": torch.stack(history)}


RIGHT = {"prelu": prelu, "prelu_backward": prelu_backward, "fit_prelu_classifier": fit_prelu_classifier}


@pytest.fixture(autouse=True, scope="module")
def one_thread_and_own_rng():
    """One thread, as in the notebook's setup cell; the global RNG the trainings seed is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("language", LANGUAGES)
def test_right_answer_passes_every_check(language):
    fit = f"fit_{'spanish' if language == 'es' else 'english'}"
    assert failing(f"ch5-{language}", RIGHT, [*PRELU_IDS, fit]) == set()


# -- other honest styles ---------------------------------------------------------------------------------

def prelu_where(x, slope):
    prelu(x, slope)
    return torch.where(x > 0, x, slope * x)


def prelu_relu(x, slope):
    prelu(x, slope)
    return torch.relu(x) - slope * torch.relu(-x)


def prelu_backward_loops(x, slope, grad_output):
    grad_input = torch.zeros_like(x)
    grad_slope = torch.zeros_like(slope)
    n, h = x.shape
    for i in range(n):
        for j in range(h):
            a = slope if slope.dim() == 0 else slope[j]
            if x[i, j] > 0:
                grad_input[i, j] = grad_output[i, j]
            else:
                grad_input[i, j] = a * grad_output[i, j]
                if slope.dim() == 0:
                    grad_slope += x[i, j] * grad_output[i, j]
                else:
                    grad_slope[j] += x[i, j] * grad_output[i, j]
    return grad_input, grad_slope


STYLES = [("prelu", prelu_where), ("prelu", prelu_relu), ("prelu_backward", prelu_backward_loops)]


@pytest.mark.parametrize("function, style", STYLES, ids=[s.__name__ for _, s in STYLES])
def test_honest_solutions_in_other_styles_keep_full_marks(function, style):
    assert failing("ch5-en", {**RIGHT, function: style}, of_function("ch5-en", function)) == set()


# -- mistakes ------------------------------------------------------------------------------------------------

def leaky_style(x, slope):
    prelu(x, slope)
    return torch.maximum(x, slope * x)


def flipped(x, slope):
    prelu(x, slope)
    return x.clamp(min=0) - slope * x.clamp(max=0)


def unchecked(x, slope):
    return x.clamp(min=0) + slope * x.clamp(max=0)


def backward_not_summed(x, slope, grad_output):
    grad_input, _ = prelu_backward(x, slope, grad_output)
    return grad_input, x.clamp(max=0) * grad_output


def backward_x_for_slope(x, slope, grad_output):
    grad_input, _ = prelu_backward(x, slope, grad_output)
    return grad_input, (x * grad_output).sum() if slope.dim() == 0 else (x * grad_output).sum(dim=0)


def backward_without_upstream(x, slope, grad_output):
    return prelu_backward(x, slope, torch.ones_like(grad_output))


def backward_swapped_input(x, slope, grad_output):
    _, grad_slope = prelu_backward(x, slope, grad_output)
    return torch.where(x > 0, slope * grad_output, grad_output), grad_slope


MISTAKES = [
    ("prelu", leaky_style, {"prelu_shared_slope", "prelu_per_unit"}, "max-of-x-and-ax"),
    ("prelu", flipped, {"prelu_shared_slope", "prelu_per_unit"}, "slope-sign"),
    ("prelu", unchecked, {"prelu_bad_slope"}, None),
    ("prelu_backward", backward_not_summed, {"prelu_backward_slope"}, "slope-gradient-not-summed"),
    ("prelu_backward", backward_x_for_slope, {"prelu_backward_slope"}, "slope-gradient-of-x"),
    ("prelu_backward", backward_without_upstream, {"prelu_backward_input", "prelu_backward_slope"},
     "upstream-gradient-ignored"),
    ("prelu_backward", backward_swapped_input, {"prelu_backward_input"}, "input-gradient-swapped"),
]


@pytest.mark.parametrize("function, wrong, must_fail, key", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_mistake_fails_its_behaviours_and_is_named(function, wrong, must_fail, key):
    for language in LANGUAGES:
        found = verdicts(f"ch5-{language}", {**RIGHT, function: wrong}, of_function("ch5-en", function))
        assert {g for g, v in found.items() if not v.passed} == must_fail, language
        if key is not None:
            for grade_id in must_fail:
                assert found[grade_id].diagnosis == key, str(found[grade_id])


# -- ready-made PReLU, autograd and numerical derivatives ---------------------------------------------------

class _PReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x, slope)
        return x.clamp(min=0) + slope * x.clamp(max=0)

    @staticmethod
    def backward(ctx, grad_output):
        x, slope = ctx.saved_tensors
        return prelu_backward(x, slope, grad_output)


def backward_through_a_function(x, slope, grad_output):
    x, slope = x.clone().requires_grad_(True), slope.clone().requires_grad_(True)
    with torch.enable_grad():
        return torch.autograd.grad(_PReLUFunction.apply(x, slope), (x, slope), grad_output)


def backward_finite_differences(x, slope, grad_output):
    grad_input = torch.where(x > 0, grad_output, slope * grad_output)
    flat, grad, eps = slope.reshape(-1), torch.zeros(slope.numel(), dtype=slope.dtype), 1e-6
    for j in range(flat.numel()):
        up, down = flat.clone(), flat.clone()
        up[j] += eps
        down[j] -= eps
        value = [((x.clamp(min=0) + s.reshape(slope.shape) * x.clamp(max=0)) * grad_output).sum()
                 for s in (up, down)]
        grad[j] = (value[0] - value[1]) / (2 * eps)
    return grad_input, grad.reshape(slope.shape)


def prelu_module(x, slope):
    layer = torch.nn.PReLU(slope.numel())
    layer.weight.data = slope.reshape(-1).clone()
    return layer(x).detach()


def prelu_leaky(x, slope):
    if slope.dim() == 0:
        return torch.nn.functional.leaky_relu(x, slope.item())
    return prelu(x, slope)


ROUTES = [
    ("prelu", prelu_module, "not allowed"),
    ("prelu", prelu_leaky, "aten::leaky_relu"),
    ("prelu", lambda x, slope: torch.prelu(x, slope.reshape(-1)), "not allowed"),
    ("prelu_backward", backward_through_a_function, "autograd"),
    ("prelu_backward", backward_finite_differences, "route not allowed"),
]


@pytest.mark.parametrize("function, route, words", ROUTES,
                         ids=["nn.PReLU", "F.leaky_relu", "torch.prelu", "autograd.Function",
                              "finite-differences"])
def test_ready_made_and_numerical_routes_score_zero(function, route, words):
    found = verdicts("ch5-en", {**RIGHT, function: route}, of_function("ch5-en", function))
    assert any(words in str(v) for v in found.values())
    attacked = {"prelu": {"prelu_shared_slope"}, "prelu_backward": {"prelu_backward_slope"}}[function]
    assert all(found[g].points == 0 for g in attacked), {g: str(found[g]) for g in attacked}


# -- the classifier's judge ---------------------------------------------------------------------------------

def _held_out(language="en"):
    behaviour = BY_ID[f"fit_{'spanish' if language == 'es' else 'english'}"]
    (case, hidden), = cases_of(behaviour, 11)
    assert hidden
    return behaviour, case


def _params(v, hidden=4, slope=None, epochs=3):
    generator = torch.Generator().manual_seed(0)
    slope = torch.full((hidden,), 0.7) if slope is None else slope
    return {"W1": torch.randn(hidden, v, generator=generator), "b1": torch.zeros(hidden), "slope": slope,
            "W2": torch.randn(3, hidden, generator=generator), "b2": torch.zeros(3),
            "slopes": torch.stack([slope * (k + 1) / epochs for k in range(epochs)])}


def test_the_held_out_texts_stay_in_the_grader_and_share_no_row_with_the_training_texts():
    _, case = _held_out("es")
    x_train, y_train = case.args
    x_held, y_held = case.expected
    assert x_train.shape[1] == x_held.shape[1] and len(y_train) == x_train.shape[0]
    assert 0.25 < len(y_held) / (len(y_held) + len(y_train)) < 0.35
    assert set(case.kwargs) == {"seed"}  # only the training rows and the seed travel to the sandbox
    other = ch5.held_out_case("es", 12345)
    assert not torch.equal(other.expected[1], case.expected[1])  # another seed, another split


@pytest.mark.parametrize("change, key", [
    (lambda p: p.update(slope=torch.full_like(p["slope"], ch5.INIT),
                        slopes=torch.full_like(p["slopes"], ch5.INIT)), "slopes-not-trained"),
    (lambda p: p.update(slope=torch.zeros_like(p["slope"]), slopes=torch.zeros_like(p["slopes"])),
     "fixed-slope"),
    (lambda p: p.update(slopes=p["slope"].expand(5, -1).clone()), "slopes-aliased"),
    (lambda p: p.update(W1=p["W1"].T.contiguous()), "weights-from-to"),
], ids=["not-trained", "fixed", "aliased", "from-to"])
def test_a_network_that_is_not_the_exercises_is_named(change, key):
    behaviour, case = _held_out()
    params = _params(case.expected[0].shape[1])
    change(params)
    found = behaviour.judge(case.expected, params)
    assert found[0] == "structure" and found[2] == key


def test_an_untrained_network_fails_on_accuracy_and_a_trained_one_passes():
    behaviour, case = _held_out()
    assert behaviour.judge(case.expected, _params(case.expected[0].shape[1]))[0] == "accuracy"
    assert behaviour.judge(case.expected, fit_prelu_classifier(*case.args)) is None


def test_the_chapters_own_model_passes_the_judge():
    """lossfns' PReLUClassifier trained with DEFAULTS, its parameters in the exercise's layout."""
    behaviour, case = _held_out("es")
    x_train, y_train = case.args
    keys = ("hidden", "dropout", "per_channel")
    model = PReLUClassifier(x_train.shape[1], DEFAULTS["hidden"], 3, **{k: DEFAULTS[k] for k in keys[1:]})
    slopes = []
    options = {k: DEFAULTS[k] for k in ("epochs", "batch_size", "lr", "weight_decay")}
    train(model, x_train, y_train, **options, seed=0, num_threads=1, verbose=False)
    slopes.append(model.slopes)
    params = {"W1": model.hidden.weight.detach(), "b1": model.hidden.bias.detach(), "slope": model.slopes,
              "W2": model.output.weight.detach(), "b2": model.output.bias.detach(),
              "slopes": torch.stack(slopes)}
    assert behaviour.judge(case.expected, params) is None


def test_the_notebooks_hyperparameters_are_the_chapters_defaults():
    for language in LANGUAGES:
        cells = json.loads(chapter("ch5").solution(language).read_text(encoding="utf-8"))["cells"]
        source = next("".join(c["source"]) for c in cells
                      if c["metadata"].get("nbgrader", {}).get("grade_id") == "fit_prelu_classifier_answer")
        found = {"hidden": r"hidden, classes = (\d+), 3", "dropout": r"Dropout\(([\d.]+)\)",
                 "epochs": r"range\((\d+)\)", "batch_size": r"start \+ (\d+)\]", "lr": r"lr=([\de.-]+)",
                 "weight_decay": r'"weight_decay": ([\de.-]+)\}'}
        for name, pattern in found.items():
            assert float(re.search(pattern, source).group(1)) == DEFAULTS[name], (language, name)


# -- the stub and validation only ------------------------------------------------------------------------

def test_stub_scores_zero_everywhere():
    for language in LANGUAGES:
        found = verdicts(f"ch5-{language}", dict.fromkeys(RIGHT, stub))
        assert all(v.points == 0 and not v.attempted for v in found.values())


def test_validating_without_computing_earns_at_most_a_tenth():
    def validating(x, slope, *rest):
        prelu(x, slope)
        return torch.zeros_like(x)

    found = verdicts("ch5-en", {"prelu": validating, "prelu_backward": validating,
                                "fit_prelu_classifier": lambda *args, **kwargs: {}})
    assert sum(v.points for v in found.values()) <= 0.1 * sum(b.points for b in ch5.BEHAVIOURS)


def test_reference_matches_hand_worked_values():
    x = torch.tensor([[-2.0, -0.5, 0.0, 1.5], [3.0, -1.0, 0.5, -4.0]])
    torch.testing.assert_close(ch5.prelu_reference(x, torch.tensor(0.25)),
                               torch.tensor([[-0.5, -0.125, 0.0, 1.5], [3.0, -0.25, 0.5, -1.0]]))
    torch.testing.assert_close(ch5.prelu_reference(x, torch.tensor(1.0)), x)  # a = 1 is the identity
    grad_x, grad_a = ch5.prelu_backward_reference(x[:, :2].double(), torch.tensor(0.25, dtype=torch.float64),
                                                  torch.ones(2, 2, dtype=torch.float64))
    torch.testing.assert_close(grad_x, torch.tensor([[0.25, 0.25], [1.0, 0.25]], dtype=torch.float64))
    torch.testing.assert_close(grad_a, torch.tensor(-3.5, dtype=torch.float64))  # -2 - 0.5 - 1


def test_blocked_and_provided():
    assert ch5.BLOCKED == ("prelu",) and ch5.PROVIDED == ("cross_entropy",)
