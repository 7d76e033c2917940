"""The watch (coursework/grading/watch.py), in this process: what it refuses, what it lets through, why.

The sandbox's own runs of the same rules, with the watch made hard to remove, are in test_shortcuts.py.
"""

from __future__ import annotations

import math
import os
import re
import sysconfig

import pytest
import torch

from coursework import limits
from coursework.grading.watch import ANYTHING, GROUPS, NotAllowed, Rules, Watch, ops

ENTROPY = Rules(ops=ops("structure", "compare", "arithmetic", "reductions", "exp_log"),
                allowed={"en": "log, mul, sum, where"})
GRADIENT = Rules(ops=ops("structure", "compare", "arithmetic", "reductions", "exp_log", "sigmoid", "matmul"))
P = torch.tensor([[0.5, 0.25, 0.25, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=torch.float64)


def entropy(p):
    return torch.where(p > 0, p * torch.log(1 / p), 0.0).sum(dim=1)


def watched(rules, function, *args, follow=True, **options):
    """The result of ``function(*args)`` under ``rules``, or the refusal's message."""
    with Watch(rules, "en", follow=follow) as watch:
        try:
            return watch.call(function, args, **options)
        except NotAllowed as refusal:
            return str(refusal)


def test_honest_code_runs_and_its_result_is_the_same():
    assert torch.equal(watched(ENTROPY, entropy, P), entropy(P))
    assert torch.equal(watched(ENTROPY, lambda p: -torch.xlogy(p, p).sum(1), P), entropy(P))


@pytest.mark.parametrize("route, refused", [
    (lambda p: torch.special.entr(p).sum(1), "`aten::special_entr` is not one of the operations"),
    (lambda p: torch.ops.aten.special_entr.default(p).sum(1), "`aten::special_entr`"),
    (lambda p: torch.ops.prims.log(p), "`prims::log`"),
    (lambda p: torch.distributions.Categorical(probs=p).entropy(),
     "`torch.distributions.categorical` computed"),
    (lambda p: __import__("torch._refs.special").special.entr(p).sum(1), "special"),
], ids=["special", "aten", "prims", "distributions", "refs"])
def test_ready_made_routes_are_refused_with_the_route_named(route, refused):
    found = watched(ENTROPY, route, P)
    assert isinstance(found, str) and refused in found


def test_the_allowed_operations_are_quoted_in_the_refusal():
    assert "write it yourself with log, mul, sum, where" in watched(ENTROPY, torch.special.entr, P)


def test_code_compiled_under_a_librarys_name_is_library_code_and_under_torchs_plumbing_the_students():
    stdlib = os.path.join(sysconfig.get_paths()["stdlib"], "fake.py")
    library = compile("def f(p):\n    return -(p * p.log()).sum(1)\n", stdlib, "exec")
    plumbing = compile("def f(p):\n    return torch.special.entr(p)\n",
                       os.path.join(os.path.dirname(torch.__file__), "_tensor.py"), "exec")
    namespace = {"torch": torch}
    exec(library, namespace)  # noqa: S102 (student code under a library's file name is the point)
    assert "computed this for you" in watched(ENTROPY, namespace["f"], P)
    exec(plumbing, namespace)  # noqa: S102
    assert "aten::special_entr" in watched(ENTROPY, namespace["f"], P)  # looked through, held to the rules


def test_autograd_is_refused_where_the_gradient_is_derived():
    def backward(x):
        leaf = x.clone().requires_grad_(True)
        with torch.enable_grad():
            torch.sigmoid(leaf).sum().backward()
        return leaf.grad

    def forward_mode(x):
        import torch.autograd.forward_ad as fwAD

        with fwAD.dual_level():
            return fwAD.unpack_dual(torch.sigmoid(fwAD.make_dual(x, torch.ones_like(x)))).tangent

    x = torch.randn(4, dtype=torch.float64)
    with torch.no_grad():
        assert "torch.enable_grad" in watched(GRADIENT, backward, x)
        assert "forward-mode AD" in watched(GRADIENT, forward_mode, x)
    assert torch.is_grad_enabled()


def test_a_refusal_caught_by_the_student_still_counts():
    def stubborn(p):
        try:
            return torch.special.entr(p).sum(1)
        except NotAllowed:
            return entropy(p)

    assert "aten::special_entr" in watched(ENTROPY, stubborn, P)


def test_a_tensor_computed_out_of_sight_is_refused_when_used_returned_or_read():
    def disabled(p):
        with torch._C._DisableTorchDispatch():
            return torch.special.entr(p).sum(1)

    def laundered(p):
        with torch._C._DisableTorchDispatch():
            values = torch.special.entr(p).sum(1)
        return torch.tensor(values.tolist(), dtype=p.dtype)

    def reused(p):
        with torch._C._DisableTorchDispatch():
            values = torch.special.entr(p)
        return values.sum(1)

    assert "computed outside the operations this check can see (return)" in watched(ENTROPY, disabled, P)
    assert "(Tensor.tolist)" in watched(ENTROPY, laundered, P)
    assert "(aten::sum)" in watched(ENTROPY, reused, P)
    assert isinstance(watched(ENTROPY, disabled, P, follow=False), torch.Tensor)  # the kernel does not follow


def test_constants_made_under_the_watch_before_the_call_are_known():
    with Watch(ENTROPY, "en") as watch:
        half = torch.tensor(0.5, dtype=torch.float64)  # an answer cell's constant, made while watched
        assert torch.equal(watch.call(lambda p: (p * half).sum(1), (P,)), (P * 0.5).sum(1))


def _network(n=3, d=4, h=3, k=4):
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(*shape, generator=generator, dtype=torch.float64)
                 for shape in ((n, d), (n, k), (h, d), (k, h)))


def _error(x, t, W1, W2):
    o = torch.sigmoid(torch.sigmoid(x @ W1.T) @ W2.T)
    return 0.5 * ((o - t) ** 2).sum() / x.shape[0]


def _backprop(x, t, W1, W2):
    n = x.shape[0]
    h = torch.sigmoid(x @ W1.T)
    o = torch.sigmoid(h @ W2.T)
    d2 = (o - t) * o * (1 - o) / n
    d1 = (d2 @ W2) * h * (1 - h)
    return _error(x, t, W1, W2), d1.T @ x, d2.T @ h


def _finite_differences(x, t, W1, W2, eps=1e-6):
    def numeric(f, W):
        grad = torch.zeros_like(W)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                up, down = W.clone(), W.clone()
                up[i, j] += eps
                down[i, j] -= eps
                grad[i, j] = (f(up) - f(down)) / (2 * eps)
        return grad
    return (_error(x, t, W1, W2), numeric(lambda A: _error(x, t, A, W2), W1),
            numeric(lambda B: _error(x, t, W1, B), W2))


def test_the_work_budget_tells_backpropagation_from_finite_differences():
    network = _network()
    with Watch(Rules(library=True), "en", follow=False) as counter:
        counter.call(_error, network, budget=math.inf)
    forward = counter.spent
    budget = limits.FORWARD_PASSES * forward + limits.WORK_SLACK
    with Watch(GRADIENT, "en") as watch:
        watch.call(_backprop, network, budget=budget, forward=forward)
        assert watch.spent < 4 * forward  # backpropagation: a few forward passes
    refused = watched(GRADIENT, _finite_differences, *network, budget=budget, forward=forward)
    assert isinstance(refused, str) and re.search(r"more work than 1[23] forward passes", refused)


def test_printing_inside_the_function_is_not_graded_work(capsys):
    def chatty(p):
        print(p, f"{p.sum():.2f}")
        return entropy(p)

    assert torch.equal(watched(ENTROPY, chatty, P), entropy(P))
    assert "tensor(" in capsys.readouterr().out


def test_the_default_rules_install_nothing():
    watch = Watch(ANYTHING)
    assert watch.modes == () and watch.call(torch.special.entr, (P,)).shape == P.shape
    with pytest.raises(ValueError, match="work budget"):
        watch.call(entropy, (P,), budget=1.0)


def test_rules_cross_the_wire_unchanged():
    assert Rules.from_wire(ENTROPY.to_wire()) == ENTROPY
    assert Rules.from_wire(ANYTHING.to_wire()) == ANYTHING
    assert ops("exp_log") == frozenset(GROUPS["exp_log"])
