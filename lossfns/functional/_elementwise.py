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

from ._chunked import chunkable, chunked_map, chunked_sum
from ._function import save_for_forward, without_jvp
from ._reduction import reduce, reduce_grad


@dataclass(frozen=True, eq=False)
class Formula:
    """An elementwise loss J(x, t) and its partial derivatives dJ/dx, dJ/dt.

    With a tensor parameter q (``elementwise_loss(..., parameter=q)``, e.g. BCE's pos_weight) each
    function takes (x, t, q). ``grad_target`` None means: J depends on x - t only, so dJ/dt = -dJ/dx. With
    ``target_differentiable=False`` the target gets no gradient (labels, MAPE's denominator).
    ``grad_input_(out, x, t)``, optional, is the fast path of ``grad_input`` for plain eager
    backward passes: it writes dJ/dx into ``out`` with ``out=`` and in-place ops.
    """

    loss: Callable
    grad_input: Callable
    grad_target: Callable | None = None
    target_differentiable: bool = True
    grad_input_: Callable | None = None

    def partials(self, need_target: bool, *args):
        grad_input = self.grad_input(*args)
        if not need_target:
            return grad_input, None
        return grad_input, (-grad_input if self.grad_target is None else self.grad_target(*args))


class _Elementwise(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(input, target, parameter, formula, reduction):
        if reduction != "none" and parameter is None and chunkable(input, target):
            total = chunked_sum(formula.loss, input, target)
            return (total if reduction == "sum" else total / input.numel()).to(input.dtype)
        return reduce(formula.loss(*_arguments(input, target, parameter)), reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, target, parameter, ctx.formula, ctx.reduction = inputs
        ctx.save_for_backward(input, target, parameter)
        save_for_forward(ctx, input, target, parameter)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, parameter = ctx.saved_tensors
        formula = ctx.formula
        scale = reduce_grad(grad_output, ctx.reduction, input.numel())
        need_target = ctx.needs_input_grad[1] and formula.target_differentiable
        if not need_target and parameter is None and scale.dim() == 0 and chunkable(input, target):
            if formula.grad_input_ is None:
                grad = chunked_map(lambda out, x, t: torch.mul(formula.grad_input(x, t), scale, out=out),
                                   input, target)
            else:
                grad = chunked_map(lambda out, x, t: formula.grad_input_(out, x, t).mul_(scale), input, target)
            return grad, None, None, None, None
        grad_input, grad_target = formula.partials(need_target, *_arguments(input, target, parameter))
        return grad_input * scale, None if grad_target is None else grad_target * scale, None, None, None

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


def _arguments(input, target, parameter):
    return (input, target) if parameter is None else (input, target, parameter)


def elementwise_loss(input: torch.Tensor, target: torch.Tensor, formula: Formula, reduction: str,
                     parameter: torch.Tensor | None = None) -> torch.Tensor:
    """Reduce J(input, target) (or J(input, target, parameter)) with the derivatives of ``formula``.

    ``parameter`` (broadcastable to ``input``) takes no gradient.
    """
    function = _ElementwiseTraced if torch.compiler.is_compiling() else _Elementwise
    return function.apply(input, target, parameter, formula, reduction)
