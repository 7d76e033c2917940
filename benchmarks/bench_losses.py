"""Speed and peak memory of lossfns.functional against torch.nn.functional (CPU).

Usage (from the repository root):
    .venv/bin/python benchmarks/bench_losses.py                  # full sizes, prints a markdown table
    .venv/bin/python benchmarks/bench_losses.py --quick          # small sizes, a smoke test (< 60 s)
    .venv/bin/python benchmarks/bench_losses.py --only cross_entropy,kl_div --markdown out.md
    .venv/bin/python benchmarks/bench_losses.py --measure-memory kl_div lossfns   # one measurement

Time: forward + backward of the reduced loss, both implementations in one process, repeats
interleaved (lossfns, torch, torch, lossfns, ...) after a warm-up; the median is reported.
Rows marked "double backward" time forward, a backward with create_graph=True and a second
backward through it (a gradient penalty); rows marked float16 run the loss in float16.

Memory: peak resident memory (RSS) added by one forward + backward over the RSS just before it,
with the inputs already allocated. Each measurement runs in its own process: forked from the
harness before it computes anything (or a fresh interpreter with --measure-memory). That process
sets glibc's mmap threshold to a fixed 128 KiB, so every tensor buffer is its own mmap and is
returned to the OS when freed; runs one warm-up forward + backward (loads code pages, starts the
thread pool); frees its outputs; resets the kernel's high-water mark (``/proc/self/clear_refs``)
and reads ``VmHWM - VmRSS`` around a second forward + backward. The median of 3 such runs is
reported. The gradient of the input, which both implementations must allocate, is included.
Linux only (other systems report n/a).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree

import torch
import torch.nn.functional as F

import lossfns.functional as LF

SLOW, LIMIT = 1.1, 1.3  # flag thresholds for the lossfns / torch ratios: the aim and the target


# ------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    loss: str        # function name in both lossfns.functional and torch.nn.functional
    label: str       # shown in the table
    make: Callable   # make(quick) -> (args, kwargs); tensors with requires_grad are the leaves
    double: bool = False  # time forward + backward(create_graph=True) + backward of the gradient

    @property
    def key(self) -> str:
        return f"{self.loss}:{self.label}"


def _gen():
    return torch.Generator().manual_seed(0)


def _leaf(t):
    return t.detach().requires_grad_()


def _classes(shape, c, ignore=None):
    g = _gen()
    target = torch.randint(0, c, shape, generator=g)
    if ignore is not None:
        target[torch.rand(shape, generator=g) < 0.1] = ignore
    return target


def _sizes(quick):
    """(N, C), K-dim shape, regression N, multi-margin (N, C), KL (N, C)."""
    if quick:
        return (512, 100), (4, 21, 16, 16), 100_000, (512, 100), (512, 100)
    return (4096, 1000), (32, 21, 64, 64), 1_000_000, (4096, 100), (4096, 1000)


def _ce(kind, log_probs=False):
    def make(quick):
        (n, c), kdim, *_ = _sizes(quick)
        shape = kdim if kind == "kdim" else (n, c)
        x = torch.randn(shape, generator=_gen())
        if log_probs:
            x = torch.log_softmax(x, dim=1)
        target_shape = (shape[0],) + tuple(shape[2:])
        kwargs = {}
        if kind == "probs":
            target = torch.softmax(torch.randn(shape, generator=torch.Generator().manual_seed(1)), dim=1)
        elif kind == "weight_ignore":
            target = _classes(target_shape, shape[1], ignore=-100)
            kwargs = {"weight": torch.rand(shape[1], generator=_gen()) + 0.5, "ignore_index": -100}
        else:
            target = _classes(target_shape, shape[1])
        if kind == "smooth":
            kwargs = {"label_smoothing": 0.1}
        return (_leaf(x), target), kwargs
    return make


def _elementwise(kind):
    def make(quick):
        n = _sizes(quick)[2]
        g = _gen()
        x = torch.randn(n, generator=g)
        if kind == "probability":
            x = torch.rand(n, generator=g).clamp_(1e-3, 1 - 1e-3)
        if kind in ("probability", "logits"):
            target = (torch.rand(n, generator=g) < 0.3).float()
        elif kind == "sign":
            target = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        elif kind == "counts":
            target = torch.poisson(torch.full((n,), 3.0), generator=g)
        else:
            target = torch.randn(n, generator=g)
        return (_leaf(x), target), {}
    return make


def _in(dtype, make):
    """The same case with its floating-point tensors in ``dtype``."""
    def made(quick):
        args, kwargs = make(quick)
        return tuple(a.detach().to(dtype).requires_grad_(a.requires_grad) if a.is_floating_point() else a
                     for a in args), kwargs
    return made


def _multi_margin(quick):
    n, c = _sizes(quick)[3]
    return (_leaf(torch.randn(n, c, generator=_gen())), _classes((n,), c)), {}


def _kl(quick):
    n, c = _sizes(quick)[4]
    x = torch.log_softmax(torch.randn(n, c, generator=_gen()), dim=-1)
    t = torch.softmax(torch.randn(n, c, generator=torch.Generator().manual_seed(1)), dim=-1)
    return (_leaf(x), t), {"reduction": "batchmean"}  # torch's default 'mean' is not a KL


CASES = [
    Case("cross_entropy", "(N, C) class indices", _ce("index")),
    Case("cross_entropy", "(N, C, H, W) class indices", _ce("kdim")),
    Case("cross_entropy", "(N, C) probabilities", _ce("probs")),
    Case("cross_entropy", "(N, C) label_smoothing=0.1", _ce("smooth")),
    Case("cross_entropy", "(N, C) weight, ignore_index", _ce("weight_ignore")),
    Case("nll_loss", "(N, C) class indices", _ce("index", log_probs=True)),
    Case("nll_loss", "(N, C, H, W) class indices", _ce("kdim", log_probs=True)),
    Case("nll_loss", "(N, C) weight, ignore_index", _ce("weight_ignore", log_probs=True)),
    Case("binary_cross_entropy", "(N,)", _elementwise("probability")),
    Case("binary_cross_entropy_with_logits", "(N,)", _elementwise("logits")),
    Case("mse_loss", "(N,)", _elementwise("real")),
    Case("l1_loss", "(N,)", _elementwise("real")),
    Case("huber_loss", "(N,)", _elementwise("real")),
    Case("smooth_l1_loss", "(N,)", _elementwise("real")),
    Case("poisson_nll_loss", "(N,) log_input", _elementwise("counts")),
    Case("soft_margin_loss", "(N,)", _elementwise("sign")),
    Case("multi_margin_loss", "(N, C)", _multi_margin),
    Case("kl_div", "(N, C) batchmean", _kl),
    Case("cross_entropy", "(N, C) class indices, float16", _in(torch.float16, _ce("index"))),
    Case("mse_loss", "(N,) float16", _in(torch.float16, _elementwise("real"))),
    Case("huber_loss", "(N,) float16", _in(torch.float16, _elementwise("real"))),
    Case("binary_cross_entropy_with_logits", "(N,) float16", _in(torch.float16, _elementwise("logits"))),
    Case("cross_entropy", "(N, C) class indices, double backward", _ce("index"), double=True),
    Case("mse_loss", "(N,) double backward", _elementwise("real"), double=True),
    Case("huber_loss", "(N,) double backward", _elementwise("real"), double=True),
    Case("binary_cross_entropy_with_logits", "(N,) double backward", _elementwise("logits"), double=True),
]


def size_note(quick):
    (n, c), kdim, m, (n2, c2), (n3, c3) = _sizes(quick)
    return (f"cross_entropy / nll_loss: N={n}, C={c}; K-dim {kdim}; elementwise N={m:,}; "
            f"multi_margin N={n2}, C={c2}; kl_div N={n3}, C={c3}; float32 unless the row says float16")


def resolve(case: Case, impl: str):
    return getattr(LF if impl == "lossfns" else F, case.loss)


def _run(fn, args, kwargs, double=False):
    loss = fn(*args, **kwargs)
    if not double:
        loss.backward()
        return loss
    leaves = _leaves(args)
    grads = torch.autograd.grad(loss, leaves, create_graph=True)
    sum(g.square().sum() for g in grads).backward()  # a gradient penalty
    return loss


def _leaves(args):
    return [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]


def _clear(args):
    for a in _leaves(args):
        a.grad = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not implemented"
    return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"


# ------------------------------------------------------------------ memory
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def measure_memory(case: Case, impl: str, quick: bool, threads: int, runs: int = 3) -> dict:
    """Peak extra RSS (MiB) of one forward + backward; call in a process of its own."""
    if not os.path.exists("/proc/self/clear_refs"):
        return {"status": "n/a (needs Linux /proc)"}
    libc = _libc()
    if libc is not None:
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: fixed, so freed buffers go back to the OS
    torch.set_num_threads(threads)
    fn = resolve(case, impl)
    args, kwargs = case.make(quick)
    try:
        _run(fn, args, kwargs, case.double)  # warm-up
    except Exception as exc:  # noqa: BLE001 - a stub or a half-written loss: report, do not crash
        return {"status": _describe(exc)}
    peaks = []
    for _ in range(runs):
        _clear(args)
        gc.collect()
        if libc is not None:
            libc.malloc_trim(0)
        base = _status_kb("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark (VmHWM) to the current RSS
        loss = _run(fn, args, kwargs, case.double)
        peaks.append(_status_kb("VmHWM") - base)
        del loss
    return {"status": "ok", "peak_mb": statistics.median(peaks) / 1024}


def measure_memory_forked(case: Case, impl: str, quick: bool, threads: int) -> dict:
    """Run measure_memory in a child forked from this (still idle) process."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            result = measure_memory(case, impl, quick, threads)
        except BaseException as exc:  # noqa: BLE001 - report anything, never hang the parent
            result = {"status": _describe(exc)}
        os.write(write_fd, json.dumps(result).encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"status": "error: child process died"}


# ------------------------------------------------------------------ time
def _rel_diff(a, b) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12)) if b.numel() else 0.0


def measure_time(case: Case, quick: bool, repeats: int, warmup: int, clock=time.perf_counter) -> dict:
    args, kwargs = case.make(quick)
    ours, ref = resolve(case, "lossfns"), resolve(case, "torch")
    try:
        loss = _run(ours, args, kwargs, case.double)
    except Exception as exc:  # noqa: BLE001 - report a failing loss in its row
        return {"status": _describe(exc)}
    grads = [a.grad.clone() for a in _leaves(args)]
    _clear(args)
    loss_ref = _run(ref, args, kwargs, case.double)
    diff = max([_rel_diff(loss, loss_ref)]
               + [_rel_diff(g, a.grad) for g, a in zip(grads, _leaves(args))])
    del grads

    def once(fn):
        _clear(args)
        start = clock()
        _run(fn, args, kwargs, case.double)
        return clock() - start

    for _ in range(warmup):
        once(ours), once(ref)
    times = {"lossfns": [], "torch": []}
    gc.collect()
    gc.disable()
    try:
        for i in range(repeats):  # alternate the order so neither side always runs second
            order = [("lossfns", ours), ("torch", ref)][:: 1 if i % 2 == 0 else -1]
            for name, fn in order:
                times[name].append(once(fn))
    finally:
        gc.enable()
    _clear(args)
    return {"status": "ok", "rel_diff": diff,
            **{f"ms_{k}": 1e3 * statistics.median(v) for k, v in times.items()}}


# ------------------------------------------------------------------ table
def _ratio(a, b, floor=0.0):
    if a is None or b is None or b <= floor:
        return None
    return a / b


def _fmt(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def _fmt_ratio(r):
    if r is None:
        return "—"
    mark = " ‼" if r > LIMIT else " !" if r > SLOW else ""
    return f"{r:.2f}{mark}"


def render(rows, header_lines) -> str:
    out = list(header_lines) + [
        "",
        ("| loss | case | time lossfns (ms) | time torch (ms) | ratio | peak extra MB lossfns "
         "| peak extra MB torch | ratio | flags |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case, t, m_ours, m_ref in rows:
        flags = []
        if t["status"] != "ok":
            out.append(f"| {case.loss} | {case.label} | {t['status']} | | | | | | |")
            continue
        rt = _ratio(t["ms_lossfns"], t["ms_torch"])
        mo = m_ours.get("peak_mb") if m_ours.get("status") == "ok" else None
        mr = m_ref.get("peak_mb") if m_ref.get("status") == "ok" else None
        # Below 0.5 MB the RSS delta is page-level noise: no ratio.
        rm = _ratio(mo, mr, floor=0.5)
        for what, r in (("time", rt), ("memory", rm)):
            if r is not None and r > LIMIT:
                flags.append(f"{what} > {LIMIT:g}x")
            elif r is not None and r > SLOW:
                flags.append(f"{what} > {SLOW:g}x")
        # float16 gradients of a mean over 1e6 terms are subnormals (1e-6, spacing 6e-8): a few % apart
        if t["rel_diff"] > (1e-1 if "float16" in case.label else 1e-4):
            flags.append(f"values differ from torch (rel {t['rel_diff']:.1e})")
        if m_ours.get("status", "ok") != "ok":
            flags.append(f"memory: {m_ours['status']}")
        out.append(f"| {case.loss} | {case.label} | {_fmt(t['ms_lossfns'])} | {_fmt(t['ms_torch'])} "
                   f"| {_fmt_ratio(rt)} | {_fmt(mo, 1)} | {_fmt(mr, 1)} | {_fmt_ratio(rm)} "
                   f"| {'; '.join(flags)} |")
    out += ["", f"Ratios are lossfns / torch; ! marks > {SLOW:g}x, ‼ marks > {LIMIT:g}x (the hard limit)."]
    return "\n".join(out)


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats (smoke test)")
    ap.add_argument("--only", help="comma-separated loss names, e.g. cross_entropy,kl_div")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--threads", type=int,
                    help=f"torch.set_num_threads for every measurement (default: "
                         f"{torch.get_num_threads()}, torch's own default here; 1 with --quick)")
    ap.add_argument("--repeats", type=int, help="timed repeats per implementation (default 15, quick 5)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: elapsed time (default); cpu: CPU time of this thread, which a busy "
                         "shared machine disturbs less (needs --threads 1)")
    ap.add_argument("--measure-memory", nargs=2, metavar=("NAME", "IMPL"),
                    help="measure one case in this process and print JSON (IMPL: lossfns | torch)")
    a = ap.parse_args(argv)
    gc.freeze()  # torch's many import-time objects: keep them out of every later gc.collect()
    if a.threads is None:
        a.threads = 1 if a.quick or a.clock == "cpu" else torch.get_num_threads()
    if a.clock == "cpu" and a.threads != 1:
        ap.error("--clock cpu counts this thread only: use it with --threads 1")
    clock = time.thread_time if a.clock == "cpu" else time.perf_counter

    cases = CASES
    if a.only:
        names = {n.strip() for n in a.only.split(",")}
        unknown = names - {c.loss for c in CASES}
        if unknown:
            ap.error(f"unknown loss name(s) {sorted(unknown)}; choose from {sorted({c.loss for c in CASES})}")
        cases = [c for c in CASES if c.loss in names]

    if a.measure_memory:
        name, impl = a.measure_memory
        if impl not in ("lossfns", "torch"):
            ap.error("IMPL must be lossfns or torch")
        chosen = [c for c in CASES if c.loss == name or c.key == name]
        if not chosen:
            ap.error(f"unknown case {name!r}")
        for c in chosen:
            print(json.dumps({"case": c.key, "impl": impl, **measure_memory(c, impl, a.quick, a.threads)}))
        return 0

    repeats = a.repeats or (5 if a.quick else 15)
    warmup = 1 if a.quick else 3
    started = time.perf_counter()

    # Memory first, while this process has computed nothing: forked children then start from a
    # clean state (no OpenMP thread pool to break across fork, no freed buffers to reuse).
    memory = {}
    can_fork = hasattr(os, "fork") and os.path.exists("/proc/self/clear_refs")
    for c in cases:
        for impl in ("lossfns", "torch"):
            if a.no_memory:
                memory[c.key, impl] = {"status": "skipped"}
            elif can_fork:
                memory[c.key, impl] = measure_memory_forked(c, impl, a.quick, a.threads)
            else:
                memory[c.key, impl] = {"status": "n/a (needs Linux /proc)"}
            print(f"memory {c.key} {impl}: {memory[c.key, impl]}", file=sys.stderr, flush=True)

    torch.set_num_threads(a.threads)
    rows = []
    for c in cases:
        try:
            t = measure_time(c, a.quick, repeats, warmup, clock)
        except Exception as exc:  # noqa: BLE001 - a torch-side failure should not hide the other rows
            traceback.print_exc()
            t = {"status": _describe(exc)}
        print(f"time {c.key}: {t}", file=sys.stderr, flush=True)
        rows.append((c, t, memory[c.key, "lossfns"], memory[c.key, "torch"]))

    header = [
        f"## lossfns vs torch.nn.functional: forward + backward on CPU{' (--quick)' if a.quick else ''}",
        "",
        (f"torch {torch.__version__}, torch.set_num_threads({a.threads}), {os.cpu_count()} CPUs; "
         f"time ({'CPU time of the thread' if a.clock == 'cpu' else 'wall clock'}): median of {repeats} "
         f"interleaved repeats after {warmup} warm-up; load average before the run "
         f"{os.getloadavg()[0]:.1f}; "
         "memory: peak RSS increase during one forward + backward (median of 3, own process)."),
        f"Sizes: {size_note(a.quick)}; reduction 'mean' ('batchmean' for kl_div).",
    ]
    table = render(rows, header)
    print(table)
    if a.markdown:
        a.markdown.write_text(table + "\n")
    print(f"\n(total {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
