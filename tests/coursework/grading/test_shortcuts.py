"""Every other route to a graded function's number scores 0 on that function, class by class, in the sandbox.

Each attack replaces one answer cell of a chapter's solution notebook with a route the task does not
allow; the notebook is graded in the sandbox (one per module) exactly as autograding does. The attacked
function's value checks score 0 with a refusal that names the route in the notebook's language, and every
other behaviour of the same run keeps its points. The classes are the issue's: probability distributions,
special-function namespaces, library layers and torch.nn.functional, private operator namespaces,
autograd switched back on (enable_grad, torch.func, autograd.Function, forward-mode AD), numerical
differentiation, and taking PyTorch's modes off (or computing where they do not look: other threads,
compilers). Each class is tried in both languages.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from coursekit import chapter_with_cell, load, with_answer

from coursework.grading import behaviours
from coursework.grading.grade import grade_notebook
from coursework.grading.sandbox import Sandbox

# The refusal's first words in each language (REFUSED routes are failures of kind "not_allowed").
REFUSED = {"es": "ruta no permitida", "en": "route not allowed"}
# Functions that call another graded function of their notebook, and so fall with it.
USES = {"fit_prelu_classifier": "prelu", "smoothed_cross_entropy": "one_hot"}

# name -> (class, answer cell replaced, its source, words the refusal must contain)
ATTACKS = {
    "Categorical.entropy": ("distributions", "entropy_answer", """
def entropy(p):
    return torch.distributions.Categorical(probs=p).entropy()
""", "torch.distributions"),
    "Normal.log_prob as MSE": ("distributions", "mse_loss_answer", """
import math
def mse_loss(input, target, reduction='mean'):
    normal = torch.distributions.Normal(target, 2 ** -0.5)
    return -(normal.log_prob(input) + 0.5 * math.log(math.pi)).mean()
""", "torch.distributions"),
    "torch.special.entr": ("special", "entropy_answer", """
def entropy(p):
    return torch.special.entr(p).sum(1)
""", "special_entr"),
    "torch.special.log_softmax": ("special", "cross_entropy_answer", """
def cross_entropy(logits, target):
    log_p = torch.special.log_softmax(logits, 1)
    return -log_p[torch.arange(len(target)), target].mean()
""", "log_softmax"),
    "nn.PReLU with the slope set": ("layers", "prelu_answer", """
def prelu(x, slope):
    layer = torch.nn.PReLU(slope.numel())
    layer.weight.data = slope.reshape(-1).clone()
    return layer(x).detach()
""", "prelu"),
    "F.leaky_relu as a shared PReLU": ("layers", "prelu_answer", """
def prelu(x, slope):
    if slope.dim() == 0:
        return torch.nn.functional.leaky_relu(x, slope.item())
    return x.clamp(min=0) + slope * x.clamp(max=0)
""", "leaky_relu"),
    "nn.Linear with the weights set": ("layers", "backprop_answer", """
def backprop(x, t, W1, W2):
    first = torch.nn.Linear(W1.shape[1], W1.shape[0], bias=False).double()
    first.weight.data = W1
    h = torch.sigmoid(first(x))
    o = torch.sigmoid(h @ W2.T)
    n = x.shape[0]
    d2 = (o - t) * o * (1 - o) / n
    d1 = (d2 @ W2) * h * (1 - h)
    return 0.5 * ((o - t) ** 2).sum() / n, d1.T @ x, d2.T @ h
""", "torch.nn.modules.linear"),
    "torch.ops.aten.special_entr": ("private", "entropy_answer", """
def entropy(p):
    return torch.ops.aten.special_entr.default(p).sum(1)
""", "special_entr"),
    "torch._C softmax for p - y": ("private", "weighted_cross_entropy_grad_answer", """
def weighted_cross_entropy_grad(logits, target, weight):
    p = torch._C._VariableFunctions.softmax(logits, 1)
    y = torch.zeros_like(p)
    y[torch.arange(len(target)), target] = 1.0
    w = weight[target].to(p.dtype)
    return w[:, None] * (p - y) / w.sum()
""", "softmax"),
    "enable_grad and backward": ("autograd", "backprop_answer", """
def backprop(x, t, W1, W2):
    W1, W2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    with torch.enable_grad():
        o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
        E = 0.5 * ((o - t) ** 2).sum() / x.shape[0]
        E.backward()
    return E.detach(), W1.grad, W2.grad
""", "autograd"),
    "torch.func.grad": ("autograd", "backprop_answer", """
def backprop(x, t, W1, W2):
    def error(A, B):
        o = torch.sigmoid(torch.sigmoid(x @ A.T) @ B.T)
        return 0.5 * ((o - t) ** 2).sum() / x.shape[0]
    g1, g2 = torch.func.grad(error, argnums=(0, 1))(W1, W2)
    return error(W1, W2), g1, g2
""", "autograd"),
    "autograd.Function": ("autograd", "prelu_backward_answer", """
class PReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return x.clamp(min=0) + a * x.clamp(max=0)

    @staticmethod
    def backward(ctx, g):
        x, a = ctx.saved_tensors
        s = x.clamp(max=0) * g
        return torch.where(x > 0, g, a * g), s.sum() if a.dim() == 0 else s.sum(0)

def prelu_backward(x, slope, grad_output):
    x, slope = x.clone().requires_grad_(True), slope.clone().requires_grad_(True)
    with torch.enable_grad():
        return torch.autograd.grad(PReLU.apply(x, slope), (x, slope), grad_output)
""", "autograd"),
    "forward-mode AD": ("autograd", "sigmoid_derivative_answer", """
import torch.autograd.forward_ad as fwAD
def sigmoid_derivative(z):
    with fwAD.dual_level():
        dual = fwAD.make_dual(z, torch.ones_like(z))
        return fwAD.unpack_dual(torch.sigmoid(dual)).tangent
""", "forward-mode AD"),
    "central differences": ("numerical", "backprop_answer", """
def backprop(x, t, W1, W2):
    def error(A, B):
        o = torch.sigmoid(torch.sigmoid(x @ A.T) @ B.T)
        return 0.5 * ((o - t) ** 2).sum() / x.shape[0]

    def numeric(f, W, eps=1e-6):
        g = torch.zeros_like(W)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                up, down = W.clone(), W.clone()
                up[i, j] += eps
                down[i, j] -= eps
                g[i, j] = (f(up) - f(down)) / (2 * eps)
        return g
    return error(W1, W2), numeric(lambda A: error(A, W2), W1), numeric(lambda B: error(W1, B), W2)
""", ""),
    "finite differences of the Huber loss": ("numerical", "huber_grad_answer", """
def huber_grad(input, target, delta=1.0, reduction='mean'):
    g, eps = torch.zeros_like(input), 1e-6
    for i in range(input.numel()):
        up, down = input.clone(), input.clone()
        up.view(-1)[i] += eps
        down.view(-1)[i] -= eps
        g.view(-1)[i] = (huber_loss(up, target, reduction, delta)
                         - huber_loss(down, target, reduction, delta)) / (2 * eps)
    return g
""", ""),
    "_DisableTorchDispatch": ("modes off", "entropy_answer", """
def entropy(p):
    with torch._C._DisableTorchDispatch():
        return torch.special.entr(p).sum(1)
""", "_DisableTorchDispatch"),
    "excluding the Python dispatch key": ("modes off", "entropy_answer", """
def entropy(p):
    keys = torch._C.DispatchKeySet(torch._C.DispatchKey.Python)
    with torch._C._ExcludeDispatchKeyGuard(keys):
        return torch.special.entr(p).sum(1)
""", "ExcludeDispatchKeyGuard"),
    "another thread": ("modes off", "entropy_answer", """
import threading
def entropy(p):
    box = []
    worker = threading.Thread(target=lambda: box.append(torch.special.entr(p).sum(1)))
    worker.start()
    worker.join()
    return box[0]
""", "thread"),
    "torch.compile": ("modes off", "entropy_answer", """
def entropy(p):
    return torch.compile(lambda q: torch.special.entr(q).sum(1), backend='eager')(p)
""", "torch.compile"),
}


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


def _graded(answer: str, source: str, language: str, box):
    chapter = chapter_with_cell(answer)
    assignment = chapter.assignment(language)
    notebook = with_answer(load(chapter.solution(language)), answer, source)
    return assignment, grade_notebook(nbformat.reads(json.dumps(notebook), 4), assignment, box, seed=3)


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_another_route_scores_zero_on_its_function_and_nothing_else_changes(attack, language, box):
    kind, answer, source, words = ATTACKS[attack]
    assignment, verdicts = _graded(answer, source, language, box)
    function = next(b.function for b in behaviours(assignment).values() if f"{b.function}_answer" == answer)
    for grade_id, behaviour in behaviours(assignment).items():
        verdict = verdicts[grade_id]
        if behaviour.function != function and USES.get(behaviour.function) != function:
            assert verdict.passed, (grade_id, str(verdict))
        elif behaviour.raises is None and grade_id in _attacked(attack, behaviour):
            assert verdict.points == 0, (grade_id, str(verdict))
            if kind == "numerical":  # refused for its work, or named for its precision
                assert REFUSED[language] in str(verdict) or verdict.diagnosis == "numerical-derivative"
            else:
                assert REFUSED[language] in str(verdict) and words in str(verdict), str(verdict)


def _attacked(attack: str, behaviour) -> set[str]:
    """The value checks an attack must lose: all of its function's, but where a route only covers part of
    the inputs (a leaky ReLU is PReLU with one shared slope) the checks that use that part."""
    if attack == "F.leaky_relu as a shared PReLU":
        return {"prelu_shared_slope"}
    return {behaviour.grade_id}


def test_every_class_of_the_issue_is_attacked():
    assert {kind for kind, *_ in ATTACKS.values()} == {"distributions", "special", "layers", "private",
                                                        "autograd", "numerical", "modes off"}
