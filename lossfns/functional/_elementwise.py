"""One ``torch.autograd.Function`` for every loss that is a sum of elementwise terms J(x_i, t_i).

A ``Formula`` holds the term J and its partial derivatives, each a function of the whole input
and target tensors written with differentiable tensor ops. ``elementwise_loss`` reduces J:

``_Elementwise``'s backward multiplies the partial derivatives by the upstream gradient. Because
they are differentiable, autograd differentiates the backward again (``create_graph=True``,
Hessians); ``jvp`` gives forward-mode AD (``torch.func.jacfwd``) and ``generate_vmap_rule`` lets
``torch.func.vmap`` batch it (see ``_function``). Large plain-eager inputs are processed chunk
by chunk (see ``_chunked``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._chunked import chunkable, chunked_map, chunked_sum, in_place_ok
from ._function import apply, save_for_forward, without_jvp
from ._reduction import reduce, reduce_grad


@dataclass(frozen=True, eq=False)
class Formula:
    """An elementwise loss J(x, t) and its partial derivatives dJ/dx, dJ/dt.

    With a tensor parameter q (``elementwise_loss(..., parameter=q)``, e.g. BCE's pos_weight) each
    function takes (x, t, q). ``grad_target`` None means: J depends on x - t only, so dJ/dt = -dJ/dx. With
    ``target_differentiable=False`` the target gets no gradient (labels, MAPE's denominator).
    ``loss_(out, scratch, x, t)`` and ``grad_input_(out, x, t)``, optional, are the fast paths of
    ``loss`` and ``grad_input`` in plain eager mode (see ``_chunked``): the first computes J over
    a chunk in the buffers ``out`` and ``scratch`` and returns it; the second writes dJ/dx into
    ``out``; both with ``out=`` and in-place ops. ``grad_in_scratch`` = k says that ``loss_``
    leaves dJ/dx / k in ``scratch`` (Huber's clamp: k = 1; the squared error's x - t: k = 2): the
    forward then keeps it for the backward (see ``_Elementwise.forward``). Half precision chunks are
    converted to float32, unless ``loss_in_half`` (``grad_in_half``) says that ``loss_``
    (``grad_input_``) may run on them directly: each of its ops computes in float32 and rounds
    once, and no rounded intermediate cancels or overflows (sums are added in float32 anyway).
    ``kernel`` = (name, parameters), optional, names a fused loop in ``_kernels`` that replaces
    ``loss_`` for large float32/float64 eager inputs: one pass gives sum J and dJ/dx.
    """

    loss: Callable
    grad_input: Callable
    grad_target: Callable | None = None
    target_differentiable: bool = True
    grad_input_: Callable | None = None
    loss_: Callable | None = None
    grad_in_scratch: float = 0.0
    loss_in_half: bool = False
    grad_in_half: bool = False
    kernel: tuple[str, tuple[float, ...]] | None = None

    def partials(self, need_target: bool, *args):
        grad_input = self.grad_input(*args)
        if not need_target:
            return grad_input, None
        return grad_input, (-grad_input if self.grad_target is None else self.grad_target(*args))


class _Elementwise(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(input, target, parameter, formula, reduction, kept):
        if reduction != "none" and parameter is None and formula.kernel and chunkable(input, target) \
                and _scaled_in_forward(input):  # kept: as below, here always scaled
            n = input.numel() if reduction == "mean" else 1
            grad = None if kept is None else torch.empty_like(input)
            from . import _kernels  # imports numba: only now, not with lossfns

            total = _kernels.run(*formula.kernel, input, target, grad, 1 / n)
            if grad is not None:
                kept.append(grad)
            return torch.scalar_tensor(total / n, dtype=input.dtype)
        if (reduction != "none" and parameter is None and formula.loss_ is not None
                and chunkable(input, target)):
            # kept: a list the forward may fill with dJ/dx / k for a backward in plain eager mode. In
            # float32/64 it is scaled, chunk by chunk while in the cache, to the gradient for
            # grad_output = 1; not in half precision, where g / N could round to a subnormal before
            # grad_output (a GradScaler's 2^16) lifts it.
            scratch, factor = None, 1.0
            if kept is not None and (formula.loss_in_half or _scaled_in_forward(input)):
                scratch = torch.empty_like(input)
                kept.append(scratch)
                if _scaled_in_forward(input):
                    factor = formula.grad_in_scratch / (input.numel() if reduction == "mean" else 1)
            total = chunked_sum(formula.loss_, input, target, scratch=scratch, scratch_scale=factor,
                                in_half=formula.loss_in_half)
            return (total if reduction == "sum" else total / input.numel()).to(input.dtype)
        return reduce(formula.loss(*_arguments(input, target, parameter)), reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, target, parameter, ctx.formula, ctx.reduction, ctx.kept = inputs
        ctx.save_for_backward(input, target, parameter)
        save_for_forward(ctx, input, target, parameter)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, parameter = ctx.saved_tensors
        formula = ctx.formula
        scale = reduce_grad(grad_output, ctx.reduction, input.numel())
        need_target = ctx.needs_input_grad[1] and formula.target_differentiable
        if not need_target and parameter is None and scale.dim() == 0 and chunkable(input, target):
            if ctx.kept:  # written by the forward; used up here (a second backward recomputes)
                grad = ctx.kept.pop()
                if not _scaled_in_forward(grad):
                    k = formula.grad_in_scratch
                    grad.mul_(scale if k == 1 else scale * k)
                elif not bool(grad_output == 1):  # 1, the usual loss.backward(), needs no pass over N
                    grad.mul_(grad_output.to(scale.dtype))
                return grad, None, None, None, None, None
            if formula.grad_input_ is None:  # chunks: the temporaries of grad_input stay small
                grad = chunked_map(lambda out, x, t: out.copy_(formula.grad_input(x, t)), scale, input,
                                   target, whole=False)
            else:
                grad = chunked_map(formula.grad_input_, scale, input, target, in_half=formula.grad_in_half)
            return grad, None, None, None, None, None
        grad_input, grad_target = formula.partials(need_target, *_arguments(input, target, parameter))
        grad_target = None if grad_target is None else grad_target * scale
        return grad_input * scale, grad_target, None, None, None, None

    @staticmethod
    def jvp(ctx, input_tangent, target_tangent, *_):
        input, target, parameter = ctx.saved_tensors
        need_target = target_tangent is not None and ctx.formula.target_differentiable
        grad_input, grad_target = ctx.formula.partials(need_target, *_arguments(input, target, parameter))
        tangent = torch.zeros_like(input) if input_tangent is None else grad_input * input_tangent
        if need_target:
            tangent = tangent + grad_target * target_tangent
        return reduce(tangent, ctx.reduction)


_ElementwiseTraced = without_jvp(_Elementwise)


def _scaled_in_forward(t: torch.Tensor) -> bool:
    """Whether the derivative the forward keeps for a tensor of this dtype is already scaled."""
    return t.dtype in (torch.float32, torch.float64)


def _arguments(input, target, parameter):
    return (input, target) if parameter is None else (input, target, parameter)


def elementwise_loss(input: torch.Tensor, target: torch.Tensor, formula: Formula, reduction: str,
                     parameter: torch.Tensor | None = None) -> torch.Tensor:
    """Reduce J(input, target) (or J(input, target, parameter)) with the derivatives of ``formula``.

    ``parameter`` (broadcastable to ``input``) takes no gradient.
    """
    keep = (formula.grad_in_scratch and input.requires_grad and torch.is_grad_enabled()
            and not (target.requires_grad and formula.target_differentiable) and in_place_ok(grad_mode=True))
    function = _ElementwiseTraced if torch.compiler.is_compiling() else _Elementwise
    return apply(function, input, target, parameter, formula, reduction, [] if keep else None)
