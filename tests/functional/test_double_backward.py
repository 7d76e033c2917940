"""Second derivatives of every loss: gradgradcheck in float64, and the Hessian against torch's.

torch's own double backward is the reference where it exists; multi_margin_loss has none in
torch (it raises), so there the check is gradgradcheck alone (numerical second derivatives).
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_cases import CASES, call, with_grad
from torch.testing import assert_close

import lossfns.functional as L

REDUCED = [(case, reduction) for case in CASES for reduction in case.reductions]


@pytest.mark.parametrize(("case", "reduction"), REDUCED, ids=[f"{c}-{r}" for c, r in REDUCED])
def test_gradcheck_and_gradgradcheck_in_float64(case, reduction):
    args = with_grad(case, case.make(torch.float64, 0))
    inputs = tuple(args[i] for i in case.differentiable)

    def loss(*diff):
        full = list(args)
        for i, value in zip(case.differentiable, diff):
            full[i] = value
        return call(case, case.ours, full, reduction)

    assert torch.autograd.gradcheck(loss, inputs, eps=case.gradcheck_eps)
    assert torch.autograd.gradgradcheck(loss, inputs, eps=case.gradcheck_eps)


TWINS = [c for c in CASES if c.reference is not None and c.name != "multi_margin_loss"]


@pytest.mark.parametrize("case", TWINS, ids=str)
def test_hessian_with_respect_to_input_matches_reference(case):
    args = case.make(torch.float64, 1)

    def hessian(fn):
        def loss(x):
            return call(case, fn, (x, *args[1:]), "sum" if "sum" in case.reductions else None).sum()
        return torch.autograd.functional.hessian(loss, args[0])

    assert_close(hessian(case.ours), hessian(case.reference))


@pytest.mark.parametrize("base", [None, 2.0])
def test_hessian_of_entropy_is_minus_one_over_p_on_the_diagonal(base):
    p = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    scale = 1.0 if base is None else 1 / torch.log(torch.tensor(base, dtype=torch.float64))
    hessian = torch.autograd.functional.hessian(lambda q: L.entropy(q, base=base), p)
    assert_close(hessian, torch.diag(-scale / p))


def test_hessian_of_cross_entropy_dist_in_q_is_p_over_q_squared():
    p = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    q = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(lambda r: L.cross_entropy_dist(p, r), q)
    assert_close(hessian, torch.diag(p / q**2))


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_hessian_is_2_on_active_terms_for_p2_and_0_for_p1(p):
    # torch raises "derivative for aten::multi_margin_loss_backward is not implemented".
    x = torch.tensor([[0.5, 0.2, -3.0]], dtype=torch.float64)  # y = 0: term 1 active, term 2 not
    hessian = torch.autograd.functional.hessian(
        lambda z: L.multi_margin_loss(z, torch.tensor([0]), p=p, reduction="sum"), x).reshape(3, 3)
    # J = (1 - x0 + x1)^p / 3 on the active term: d2J/dx0^2 = d2J/dx1^2 = -d2J/dx0dx1 = 2/3 for p = 2.
    expected = torch.tensor([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    assert_close(hessian, expected * (2 / 3 if p == 2 else 0.0))


EDGES = {
    "cross_entropy_large_logits": (lambda x: L.cross_entropy(x, torch.tensor([0, 1])),
                                   torch.tensor([[30.0, -30.0, 0.0], [0.0, 25.0, -25.0]],
                                                dtype=torch.float64)),
    "bce_near_0_and_1": (lambda p: L.binary_cross_entropy(p, torch.tensor([1.0, 0.0, 0.3],
                                                                          dtype=torch.float64)),
                         torch.tensor([0.02, 0.98, 0.5], dtype=torch.float64)),
    "bce_logits_large": (lambda x: L.binary_cross_entropy_with_logits(x, torch.tensor([1.0, 0.0, 0.5],
                                                                                      dtype=torch.float64)),
                         torch.tensor([15.0, -15.0, 8.0], dtype=torch.float64)),
    "huber_both_sides": (lambda x: L.huber_loss(x, torch.zeros(4, dtype=torch.float64), delta=0.5),
                         torch.tensor([-2.0, -0.3, 0.2, 1.5], dtype=torch.float64)),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_gradgradcheck_on_edge_inputs(name):
    fn, x = EDGES[name]
    assert torch.autograd.gradgradcheck(fn, (x.requires_grad_(),))


@st.composite
def _class_index_problems(draw):
    """Logits (N, C, d1, ..., dK) in float64, targets with some ignore_index, and label smoothing."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((n, c) + extra, generator=g, dtype=torch.float64) * 3
    target = torch.randint(0, c, (n,) + extra, generator=g)
    target[torch.rand(target.shape, generator=g) < 0.2] = -100
    if (target == -100).all():
        target.view(-1)[0] = 0  # 'mean' needs one target that is not ignored
    return logits, target, draw(st.sampled_from([0.0, 0.1, 1.0]))


@settings(max_examples=25)
@given(_class_index_problems())
def test_cross_entropy_hessian_vector_products_match_torch_on_random_k_dim_problems(problem):
    logits, target, eps = problem
    vector = torch.randn(logits.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def hvp(fn):
        x = logits.clone().requires_grad_()
        (grad,) = torch.autograd.grad(fn(x, target, label_smoothing=eps), x, create_graph=True)
        (second,) = torch.autograd.grad(grad, x, vector)
        return grad, second

    for ours, theirs in zip(hvp(L.cross_entropy), hvp(torch.nn.functional.cross_entropy)):
        assert_close(ours, theirs)
