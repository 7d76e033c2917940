"""Every loss under torch's transforms: torch.func (grad, vmap, jacrev, jacfwd, functional_call),
meta and fake tensors, torch.compile(fullgraph=True) and torch.export, against torch or eager.

Compilation uses the aot_eager backend: dynamo still fails on any graph break with
fullgraph=True and AOTAutograd still traces the backward, without inductor's code generation.
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_cases import BY_NAME, CASES, call
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.testing import assert_close

import lossfns.functional as L
import lossfns.nn as LN

F32 = torch.float32
TWINS = [c for c in CASES if c.has_torch_twin]


def _replace(args, i, value):
    return tuple(value if j == i else a for j, a in enumerate(args))


# ---------------------------------------------------------------- torch.func
@pytest.mark.parametrize("case", CASES, ids=str)
def test_func_grad_matches_reference(case):
    args = case.make(torch.float64, 2)
    for i in case.differentiable:
        def loss(fn, value, i=i):
            return call(case, fn, _replace(args, i, value)).sum()
        ours = torch.func.grad(lambda v: loss(case.ours, v))(args[i])
        assert_close(ours, torch.func.grad(lambda v: loss(case.reference, v))(args[i]))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_vmap_over_a_batch_of_inputs_matches_a_loop(case):
    batches = [case.make(torch.float64, seed) for seed in (3, 4)]
    stacked = tuple(torch.stack(parts) for parts in zip(*batches))

    def loss(fn, *args):
        return call(case, fn, args)

    ours = torch.func.vmap(lambda *a: loss(case.ours, *a))(*stacked)
    assert_close(ours, torch.stack([loss(case.reference, *b) for b in batches]))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_vmap_of_grad_gives_per_sample_gradients(case):
    batches = [case.make(torch.float64, seed) for seed in (5, 6)]
    stacked = tuple(torch.stack(parts) for parts in zip(*batches))

    def grad(fn):
        return torch.func.grad(lambda x, *rest: call(case, fn, (x, *rest)).sum())

    ours = torch.func.vmap(grad(case.ours))(*stacked)
    assert_close(ours, torch.stack([grad(case.reference)(*b) for b in batches]))


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_jacobian_of_unreduced_loss_matches_reference(case, transform):
    args = case.make(torch.float64, 7)

    def jacobian(fn, transform=transform):
        return getattr(torch.func, transform)(lambda x: call(case, fn, (x, *args[1:]), "none"))(args[0])

    # torch's multi_margin_loss has no forward-mode AD: compare ours with our reverse mode there.
    expected = jacobian(case.ours, "jacrev") if case.name == "multi_margin_loss" else jacobian(case.reference)
    assert_close(jacobian(case.ours), expected)


@pytest.mark.parametrize("case", [BY_NAME[n] for n in ("mse_loss", "huber_loss", "cross_entropy",
                                                       "binary_cross_entropy_with_logits", "kl_div")],
                         ids=str)
def test_func_hessian_matches_reference(case):
    args = case.make(torch.float64, 8)

    def hessian(fn):
        return torch.func.hessian(lambda x: call(case, fn, (x, *args[1:])))(args[0])

    assert_close(hessian(case.ours), hessian(case.reference))


def test_functional_call_of_a_model_with_a_lossfns_module_matches_torch():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 1, 0, 1])

    def loss(criterion, p):
        return criterion(torch.func.functional_call(model, p, (x,)), y)

    ours = torch.func.grad(lambda p: loss(LN.CrossEntropyLoss(label_smoothing=0.1), p))(params)
    theirs = torch.func.grad(lambda p: loss(torch.nn.CrossEntropyLoss(label_smoothing=0.1), p))(params)
    assert_close(ours, theirs)


# ---------------------------------------------------------------- meta and fake tensors
def _meta(args):
    return tuple(a.to("meta") for a in args)


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_meta_tensors_give_the_shape_and_dtype_of_the_real_result(case, reduction):
    if reduction not in case.reductions:
        reduction = case.reductions[0]
    args = case.make(F32, 9)
    real = call(case, case.ours, args, reduction)
    meta = call(case, case.ours, _meta(args), reduction)
    assert (meta.device.type, meta.shape, meta.dtype) == ("meta", real.shape, real.dtype)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fake_tensor_mode_propagates_shapes_through_forward_and_backward(case):
    real_args = case.make(F32, 10)
    real = call(case, case.ours, real_args, "none")
    with FakeTensorMode() as mode:
        args = tuple(mode.from_tensor(a) for a in real_args)
        x = args[0].requires_grad_()
        out = call(case, case.ours, (x, *args[1:]), "none")
        (grad,) = torch.autograd.grad(out.sum(), x)
    assert out.shape == real.shape and out.dtype == real.dtype
    assert grad.shape == x.shape


def test_checks_are_skipped_on_meta_tensors_but_run_on_real_ones():
    bad = torch.tensor([0, 7])
    L.cross_entropy(torch.empty(2, 3, device="meta"), bad.to("meta"))  # no values to check
    with pytest.raises(ValueError, match="class indices in"):
        L.cross_entropy(torch.zeros(2, 3), bad)


# ---------------------------------------------------------------- torch.compile and torch.export
@pytest.fixture(autouse=False)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _leaves(case, args):
    return tuple(a.clone().requires_grad_(i in case.differentiable) if a.is_floating_point() else a
                 for i, a in enumerate(args))


def test_compile_fullgraph_of_every_loss_equals_eager_values_and_gradients(fresh_dynamo):
    # One compiled function calls every loss (one compilation instead of one per loss, for CI's
    # time); fullgraph=True fails on any graph break, with the loss's line in the message.
    all_args = [case.make(F32, 11) for case in CASES]

    def losses(*args_per_case):
        return [call(case, case.ours, args).sum() for case, args in zip(CASES, args_per_case)]

    compiled = torch.compile(losses, fullgraph=True, backend="aot_eager")
    eager_args = [_leaves(c, a) for c, a in zip(CASES, all_args)]
    compiled_args = [_leaves(c, a) for c, a in zip(CASES, all_args)]
    for case, expected, got, e_args, c_args in zip(CASES, losses(*eager_args), compiled(*compiled_args),
                                                   eager_args, compiled_args):
        assert_close(got, expected, msg=lambda m, case=case: f"{case}: {m}")
        e_leaves, c_leaves = ([a[i] for i in case.differentiable] for a in (e_args, c_args))
        # The compiled outputs share one backward graph: keep it for the next loss.
        assert_close(torch.autograd.grad(got, c_leaves, retain_graph=True),
                     torch.autograd.grad(expected, e_leaves),
                     msg=lambda m, case=case: f"{case} gradient: {m}")


class _AllLosses(torch.nn.Module):
    def forward(self, *args_per_case):
        return [call(case, case.ours, args) for case, args in zip(CASES, args_per_case)]


def test_export_of_a_module_calling_every_loss_equals_eager(fresh_dynamo):
    program = torch.export.export(_AllLosses(), tuple(case.make(F32, 12) for case in CASES))
    others = tuple(case.make(F32, 13) for case in CASES)
    for case, got, args in zip(CASES, program.module()(*others), others):
        assert_close(got, call(case, case.ours, args), msg=lambda m, case=case: f"{case}: {m}")


class _Wrapper(torch.nn.Module):
    def __init__(self, case):
        super().__init__()
        self.case = case

    def forward(self, *args):
        return call(self.case, self.case.ours, args)


def test_compiled_loss_still_refuses_an_out_of_range_class_at_run_time(fresh_dynamo):
    # Under tracing the check is torch._assert_async: a RuntimeError when the graph runs.
    compiled = torch.compile(L.cross_entropy, fullgraph=True, backend="aot_eager")
    compiled(torch.zeros(2, 3), torch.tensor([0, 2]))
    with pytest.raises(RuntimeError, match="lossfns: expected target class indices in"):
        compiled(torch.zeros(2, 3), torch.tensor([0, 3]))


def test_exported_loss_still_refuses_probabilities_outside_0_1(fresh_dynamo):
    program = torch.export.export(_Wrapper(BY_NAME["binary_cross_entropy"]),
                                  (torch.full((3,), 0.5), torch.full((3,), 0.25)))
    with pytest.raises(RuntimeError, match="lossfns: expected input to be probabilities in"):
        program.module()(torch.tensor([0.5, 1.5, 0.5]), torch.full((3,), 0.5))


def test_one_hot_and_smooth_labels_under_vmap_jacrev_and_compile(fresh_dynamo):
    y, probs = torch.tensor([[0, 2], [1, 1]]), torch.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    assert torch.equal(torch.func.vmap(lambda t: L.one_hot(t, 3))(y), torch.nn.functional.one_hot(y, 3))
    # smooth_labels is linear in probability targets: its Jacobian is (1 - eps) times the identity.
    jacobian = torch.func.jacrev(lambda t: L.smooth_labels(t, 0.1))(probs)
    assert_close(jacobian, 0.9 * torch.eye(4, dtype=torch.float64).reshape(2, 2, 2, 2))
    compiled = torch.compile(lambda t: L.smooth_labels(t, 0.1, num_classes=3), fullgraph=True,
                             backend="eager")
    assert_close(compiled(y), L.smooth_labels(y, 0.1, num_classes=3))


def test_one_hot_cannot_infer_num_classes_under_compile(fresh_dynamo):
    # Pinned: the number of classes would come from the values, which a traced graph does not have
    # (torch's own one_hot(num_classes=-1) cannot be compiled with fullgraph=True either).
    compiled = torch.compile(lambda t: L.one_hot(t), fullgraph=True, backend="eager")
    with pytest.raises(torch._dynamo.exc.Unsupported):
        compiled(torch.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match="pass num_classes=C"):
        L.one_hot(torch.tensor([0, 2, 1], device="meta"))


@settings(max_examples=25)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum"]))
def test_per_sample_gradients_of_bce_with_logits_match_torch_on_random_shapes(shape, seed, reduction):
    # vmap(grad) over a batch of 3 problems, probability targets in [0, 1].
    g = torch.Generator().manual_seed(seed)
    x = torch.randn([3, *shape], generator=g, dtype=torch.float64) * 4
    y = torch.rand([3, *shape], generator=g, dtype=torch.float64)

    def per_sample(fn):
        return torch.func.vmap(torch.func.grad(lambda a, b: fn(a, b, reduction=reduction)))(x, y)

    assert_close(per_sample(L.binary_cross_entropy_with_logits),
                 per_sample(torch.nn.functional.binary_cross_entropy_with_logits))
