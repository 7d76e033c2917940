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

    ``grad_target`` None means: J depends on x - t only, so dJ/dt = -dJ/dx. With
    ``target_differentiable=False`` the target gets no gradient (labels, MAPE's denominator).
    """

    loss: Callable
    grad_input: Callable
    grad_target: Callable | None = None
    target_differentiable: bool = True

    def partials(self, input, target, need_target: bool):
        grad_input = self.grad_input(input, target)
        if not need_target:
            return grad_input, None
        return grad_input, (-grad_input if self.grad_target is None else self.grad_target(input, target))


class _Elementwise(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(input, target, formula, reduction):
        if reduction != "none" and chunkable(input, target):
            total = chunked_sum(formula.loss, input, target)
            return total if reduction == "sum" else total / input.numel()
        return reduce(formula.loss(input, target), reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, target, ctx.formula, ctx.reduction = inputs
        ctx.save_for_backward(input, target)
        save_for_forward(ctx, input, target)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        formula = ctx.formula
        scale = reduce_grad(grad_output, ctx.reduction, input.numel())
        need_target = ctx.needs_input_grad[1] and formula.target_differentiable
        if not need_target and scale.dim() == 0 and chunkable(input, target):
            grad = chunked_map(lambda x, t: formula.grad_input(x, t).mul_(scale), input, target)
            return grad, None, None, None
        grad_input, grad_target = formula.partials(input, target, need_target)
        return grad_input * scale, None if grad_target is None else grad_target * scale, None, None

    @staticmethod
    def jvp(ctx, input_tangent, target_tangent, *_):
        input, target = ctx.saved_tensors
        need_target = target_tangent is not None and ctx.formula.target_differentiable
        grad_input, grad_target = ctx.formula.partials(input, target, need_target)
        tangent = torch.zeros_like(input) if input_tangent is None else grad_input * input_tangent
        if need_target:
            tangent = tangent + grad_target * target_tangent
        return reduce(tangent, ctx.reduction)


_ElementwiseTraced = without_jvp(_Elementwise)


def elementwise_loss(input: torch.Tensor, target: torch.Tensor, formula: Formula,
                     reduction: str) -> torch.Tensor:
    """Reduce J(input, target) elementwise, with the derivatives of ``formula``."""
    function = _ElementwiseTraced if torch.compiler.is_compiling() else _Elementwise
    return function.apply(input, target, formula, reduction)
