"""The numba loops (lossfns/functional/_kernels.py) that large float32/float64 inputs take (mse, Huber,
smooth L1, nll_loss, the checks of margin labels and of kl_div's ranges): torch's values and errors
where the other tests do not look, numba only when needed, safe in threads and in a forked child."""

import multiprocessing
import os
import subprocess
import sys

import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch.testing import assert_close

import lossfns.functional as L
from lossfns.functional import CHUNK_ELEMENTS

SIZE = CHUNK_ELEMENTS + 3  # over the threshold of the fused loops
LOSSES = {"mse_loss": {}, "huber_loss": {"delta": 0.7}, "smooth_l1_loss": {"beta": 0.3}}


def _pair(dtype):
    g = torch.Generator().manual_seed(1)
    return torch.randn(SIZE, generator=g, dtype=dtype) * 2, torch.randn(SIZE, generator=g, dtype=dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("special", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_nan_and_inf_in_the_input_give_torchs_loss_and_gradient(name, special, reduction):
    x, t = _pair(torch.float32)
    x[[5, SIZE - 2]] = special
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = getattr(L, name)(a, t, reduction=reduction, **LOSSES[name])
    expected = getattr(F, name)(b, t, reduction=reduction, **LOSSES[name])
    assert_close(got, expected, equal_nan=True, rtol=1e-6, atol=0)
    got.backward(), expected.backward()
    assert_close(a.grad, b.grad, equal_nan=True, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_the_float64_sum_is_as_accurate_as_torchs(name):
    # The loops add J in float64 over SIMD lanes and threads: within a few units in the last place
    # of the float64 result, as torch's cascade summation.
    x, t = _pair(torch.float64)
    got, expected = (getattr(m, name)(x, t, reduction="sum", **LOSSES[name]) for m in (L, F))
    assert abs(got.item() - expected.item()) <= 64 * torch.finfo(torch.float64).eps * expected.item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bad", [0.0, 2.0, -0.5, float("nan"), float("inf")])
@pytest.mark.parametrize("name", ["soft_margin_loss", "hinge_loss", "logistic_loss"])
def test_a_single_label_other_than_plus_or_minus_one_in_a_large_batch_is_refused(name, bad, dtype):
    x, _ = _pair(dtype)
    y = torch.where(torch.arange(SIZE) % 3 == 0, -1.0, 1.0).to(dtype)
    getattr(L, name)(x, y)  # +-1 everywhere: accepted
    y[SIZE - 1] = bad
    with pytest.raises(ValueError, match=r"expected target labels in \{-1, \+1\}, got " + f"{bad:g}"):
        getattr(L, name)(x, y)


def _kl_pair(dtype):
    g = torch.Generator().manual_seed(3)
    x = torch.log_softmax(torch.randn(SIZE // 8, 8, generator=g, dtype=dtype), 1).reshape(-1)
    t = torch.softmax(torch.randn(SIZE // 8, 8, generator=g, dtype=dtype), 1).reshape(-1)
    return x.clone(), t.clone()


@pytest.mark.parametrize(("where", "bad", "message"), [
    ("input", 0.5, "input to be log-probabilities"), ("input", float("nan"), "input to be log-probabilities"),
    ("target", -0.25, "target to be probabilities"), ("target", 1.5, "target to be probabilities"),
    ("target", float("nan"), "target"), ("target", float("inf"), "target")])
def test_kl_div_of_a_large_input_refuses_a_single_value_out_of_range(where, bad, message):
    x, t = _kl_pair(torch.float32)
    L.kl_div(x, t, reduction="batchmean")  # in range: accepted
    (x if where == "input" else t)[SIZE // 8 * 8 - 1] = bad
    with pytest.raises(ValueError, match=message):
        L.kl_div(x, t, reduction="batchmean")


NLL_SHAPES = {"(N, C)": (2048, 300), "(N, C, H, W)": (4, 3, 256, 256)}  # over the threshold
NLL_OPTIONS = {"plain": {}, "weight": {"weight": True}, "ignore_index": {"ignore_index": 1},
               "weight, ignore_index": {"weight": True, "ignore_index": -100}}


def _nll_case(shape, dtype, options):
    g = torch.Generator().manual_seed(2)
    x = torch.log_softmax(torch.randn(shape, generator=g, dtype=dtype), 1)
    x[0, :, ...] = -float("inf")  # a class of probability 0 in the first sample: loss inf, as torch's
    target_shape = (shape[0],) + shape[2:]
    y = torch.randint(0, shape[1], target_shape, generator=g)
    kwargs = dict(options)
    if "ignore_index" in kwargs:
        y[torch.rand(target_shape, generator=g) < 0.2] = kwargs["ignore_index"]
        y[0] = kwargs["ignore_index"]  # ...unless ignored
    if kwargs.pop("weight", False):
        kwargs["weight"] = torch.rand(shape[1], generator=g, dtype=dtype) + 0.1
    return x, y, kwargs


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("options", NLL_OPTIONS.values(), ids=NLL_OPTIONS.keys())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", NLL_SHAPES.values(), ids=NLL_SHAPES.keys())
def test_nll_loss_of_a_large_input_and_its_gradients_are_torchs(shape, dtype, options, reduction):
    x, y, kwargs = _nll_case(shape, dtype, options)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = L.nll_loss(a, y, reduction=reduction, **kwargs)
    expected = F.nll_loss(b, y, reduction=reduction, **kwargs)
    assert torch.isfinite(expected) == ("ignore_index" in kwargs)
    # torch adds the picks in the input's dtype, the loop in float64: a few hundred ulps apart at most
    assert_close(got, expected, rtol=256 * torch.finfo(dtype).eps, atol=0)
    # create_graph=True: the gradient as a function of grad_output, and its derivative, as torch's
    scale = torch.tensor(0.7, dtype=dtype, requires_grad=True)
    (grad_a,), (grad_b,) = (torch.autograd.grad(loss, leaf, scale, create_graph=True)
                            for loss, leaf in ((got, a), (expected, b)))
    assert_close(grad_a, grad_b)
    assert_close(*(torch.autograd.grad(grad.square().sum(), scale)[0] for grad in (grad_a, grad_b)))
    L.nll_loss(a, y, reduction=reduction, **kwargs).backward(scale.detach())  # plain backward
    assert_close(a.grad, grad_b.detach())


def test_nll_loss_of_a_large_input_names_a_class_index_out_of_range():
    x, y, _ = _nll_case(NLL_SHAPES["(N, C)"], torch.float32, {})
    y[-1] = 300
    expected = r"expected target class indices in \[0, 299\] or ignore_index=-100, got 300"
    with pytest.raises(ValueError, match=expected):
        L.nll_loss(x, y)


def test_nll_loss_mean_of_a_large_input_with_every_target_ignored_is_refused():
    x, y, _ = _nll_case(NLL_SHAPES["(N, C)"], torch.float32, {})
    with pytest.raises(ValueError, match="every target is ignore_index"):
        L.nll_loss(x, torch.full_like(y, -100))
    assert L.nll_loss(x, torch.full_like(y, -100), reduction="sum").item() == 0


# Each case: (x, t, log_p, y) -> (input, other arguments, keyword arguments) of the loss named first.
LARGE_CASES = {
    "nll_loss": lambda x, t, log_p, y: (log_p, (y,), {}),
    "nll_loss weight, ignore_index": lambda x, t, log_p, y: (
        log_p, (y,), {"weight": torch.rand(log_p.shape[1]), "ignore_index": int(y[1])}),
    "kl_div": lambda x, t, log_p, y: (log_p, (torch.softmax(torch.randn(log_p.shape), 1),),
                                      {"reduction": "batchmean"}),
    "soft_margin_loss": lambda x, t, log_p, y: (x, (t.sign(),), {}),
    **{name: lambda x, t, log_p, y, kwargs=kwargs: (x, (t,), kwargs) for name, kwargs in LOSSES.items()},
}


@pytest.mark.parametrize("case", LARGE_CASES)
def test_forward_mode_ad_of_a_large_input_gives_torchs_tangent(case):
    # Dual tensors are plain eager mode, yet a loop's autograd.Function has no jvp: they keep the formulas.
    log_p, y, _ = _nll_case(NLL_SHAPES["(N, C)"], torch.float32, {})
    log_p[0] = torch.log_softmax(torch.randn(log_p.shape[1]), 0)  # finite: no inf * 0 in the tangent
    x, args, kwargs = LARGE_CASES[case](*_pair(torch.float32), log_p, y)
    tangent = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    name = case.split()[0]
    with fwAD.dual_level():
        got, expected = (fwAD.unpack_dual(getattr(m, name)(fwAD.make_dual(x, tangent), *args, **kwargs))
                         for m in (L, F))
    assert_close(got.primal, expected.primal, rtol=1e-5, atol=0)
    assert_close(got.tangent, expected.tangent, rtol=1e-4, atol=1e-7)


def test_importing_lossfns_and_small_losses_do_not_import_numba():
    probe = ("import sys, torch, lossfns, lossfns.functional as L\n"
             "x = torch.randn(100, requires_grad=True)\n"
             "L.huber_loss(x, torch.zeros(100)).backward(); L.mse_loss(x, torch.zeros(100)).backward()\n"
             "print('numba' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_threads_may_run_the_loops_at_once_whatever_numba_threading_layer():
    # numba's fallback "workqueue" layer (no OpenMP on the machine) aborts the process when two
    # threads start parallel loops at once; forced here, it must not.
    probe = ("import threading, torch, lossfns.functional as L, torch.nn.functional as F\n"
             f"torch.set_num_threads(2); x, t = torch.randn({SIZE}), torch.randn({SIZE})\n"
             "expected = F.huber_loss(x, t).item(); wrong = []\n"
             "def work():\n"
             "    for _ in range(50):\n"
             "        got = L.huber_loss(x, t).item()\n"
             "        wrong.extend([got] if abs(got - expected) > 1e-6 * expected else [])\n"
             "threads = [threading.Thread(target=work) for _ in range(4)]\n"
             "[thread.start() for thread in threads]; [thread.join() for thread in threads]\n"
             "import numba; print(numba.threading_layer(), len(wrong))\n")
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue", "0"]


def _huber_in_child(x, t, queue):
    queue.put(L.huber_loss(x, t).item())  # no torch op of its own: torch's OpenMP hangs a forked child


def test_a_forked_child_can_run_the_loops_its_parent_ran():
    x, t = _pair(torch.float32)
    expected = L.huber_loss(x, t).item()  # the parent starts numba's threads first
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_huber_in_child, args=(x, t, queue))
    child.start()
    child.join(timeout=60)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0, f"the forked child ended with exit code {child.exitcode}"
    assert queue.get(timeout=5) == pytest.approx(expected, rel=1e-6)
