r"""Numerical gradient check by central differences, with failures that explain themselves.

A hand-written backward pass is trusted only after its gradient agrees with a
finite-difference estimate, entry by entry:

.. math::

    \frac{\partial f}{\partial x_i} \approx \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}

The error of the central difference is :math:`O(\epsilon^2)` (the forward
difference is only :math:`O(\epsilon)`), so in float64 with
:math:`\epsilon = 10^{-6}` the estimate is good to about 1e-9 or better.
float32 is refused: its rounding error would swamp the estimate.

Usage with the backprop network (``lossfns.models.Network``)::

    assert_gradients_close(lambda p: net.loss(x, t, params=p), net.params, net.gradients(x, t))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from .functional._validation import check_tensor


def numerical_gradient(f: Callable[[torch.Tensor], torch.Tensor | float], x: torch.Tensor,
                       eps: float = 1e-6) -> torch.Tensor:
    r"""Gradient of a scalar function by central differences, one entry of ``x`` at a time.

    .. math:: g_i = \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}

    ``x`` itself is never modified: ``f`` receives a perturbed copy.

    Args:
        f: maps a tensor shaped like ``x`` to a scalar (a float or a one-element tensor).
        x: the point, float64, any shape.
        eps: the step :math:`\epsilon > 0`.

    Returns:
        float64 tensor of the shape of ``x``.

    Raises:
        TypeError: ``x`` is not a float64 tensor.
        ValueError: ``eps`` is not positive, or ``f`` returns more than one number.

    Example:
        >>> import torch
        >>> g = numerical_gradient(lambda v: (v ** 2).sum(), torch.tensor([1.0, -2.0], dtype=torch.float64))
        >>> g.round(decimals=6)
        tensor([ 2., -4.], dtype=torch.float64)
    """
    _check_float64(x, "x")
    if not eps > 0:
        raise ValueError(f"expected a positive step eps, got {eps}")
    point = x.detach().clone()
    flat = point.view(-1)
    grad = torch.empty_like(flat)
    with torch.no_grad():
        for i in range(flat.numel()):
            original = flat[i].item()
            flat[i] = original + eps
            f_plus = _scalar(f(point))
            flat[i] = original - eps
            f_minus = _scalar(f(point))
            flat[i] = original
            grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view_as(x)


@dataclass(frozen=True)
class ParamCheck:
    """Result of the gradient check of one parameter.

    Attributes:
        name: the parameter's key.
        passed: every entry satisfies ``|analytic - numeric| <= atol + rtol * |numeric|``.
        num_failed: how many entries do not.
        index: the worst entry (the largest error relative to its allowance), a tuple of ints.
        analytic: analytic gradient at ``index``.
        numeric: numerical gradient at ``index``.
        abs_error: ``|analytic - numeric|`` at ``index``.
        rel_error: ``abs_error / max(|analytic|, |numeric|)`` at ``index`` (0 when both are 0).
        numel: number of entries of the parameter.
    """

    name: str
    passed: bool
    num_failed: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    numel: int

    def message(self) -> str:
        """One sentence that says what went wrong (or that nothing did)."""
        verdict = "ok" if self.passed else f"{self.num_failed} of {self.numel} entries disagree"
        return (f"{self.name}{list(self.index)}: analytic {self.analytic:.10g}, "
                f"numerical {self.numeric:.10g}, "
                f"absolute error {self.abs_error:.3g}, relative error {self.rel_error:.3g} ({verdict})")


@dataclass(frozen=True)
class GradCheckReport:
    """Result of :func:`check_gradients`: one :class:`ParamCheck` per parameter.

    ``bool(report)`` is ``report.passed``; ``str(report)`` is a readable table.
    """

    checks: dict[str, ParamCheck]
    numeric: dict[str, torch.Tensor]
    eps: float
    rtol: float
    atol: float

    @property
    def passed(self) -> bool:
        """Every parameter passed."""
        return all(c.passed for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        """Names of the parameters that failed."""
        return [name for name, c in self.checks.items() if not c.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = (f"gradient check {'passed' if self.passed else 'FAILED'} "
                f"(central differences, eps={self.eps:g}; "
                f"entry ok if |analytic - numerical| <= {self.atol:g} + {self.rtol:g} * |numerical|); "
                f"worst entry of each parameter:")
        return "\n".join([head] + [f"  {c.message()}" for c in self.checks.values()])


def check_gradients(loss_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor | float],
                    params: Mapping[str, torch.Tensor], analytic: Mapping[str, torch.Tensor], *,
                    eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7) -> GradCheckReport:
    r"""Compare analytic gradients with central differences, parameter by parameter.

    An entry passes when :math:`|a_i - n_i| \le \mathrm{atol} + \mathrm{rtol}\,|n_i|`
    (the rule of ``torch.allclose``), with :math:`a` the analytic and :math:`n` the
    numerical gradient. The worst entry of each parameter is the one with the largest
    :math:`|a_i - n_i| / (\mathrm{atol} + \mathrm{rtol}\,|n_i|)`.

    Args:
        loss_fn: maps a dict of parameters (the keys of ``params``) to the scalar loss.
            It must not keep references to the tensors between calls.
        params: the point, name -> float64 tensor. Not modified.
        analytic: the gradients to check, with exactly the keys and shapes of ``params``.
        eps: finite-difference step.
        rtol, atol: tolerances as above.

    Returns:
        A :class:`GradCheckReport`; it does not raise when gradients disagree
        (see :func:`assert_gradients_close`).

    Raises:
        TypeError: a parameter or gradient is not a float64 tensor.
        ValueError: the keys of ``analytic`` and ``params`` differ, a shape differs, or
            ``loss_fn`` returns more than one number.

    Example:
        >>> import torch
        >>> w = torch.tensor([3.0], dtype=torch.float64)
        >>> loss = lambda p: (p["w"] ** 2).sum()
        >>> check_gradients(loss, {"w": w}, {"w": 2 * w}).passed
        True
        >>> check_gradients(loss, {"w": w}, {"w": w}).failed
        ['w']
    """
    if set(analytic) != set(params):
        missing, extra = sorted(set(params) - set(analytic)), sorted(set(analytic) - set(params))
        raise ValueError(f"expected analytic gradients for exactly the parameters {sorted(params)}, got "
                         f"missing {missing} and unexpected {extra}")
    for name in params:
        _check_float64(params[name], f"params[{name!r}]")
        _check_float64(analytic[name], f"analytic[{name!r}]")
        if analytic[name].shape != params[name].shape:
            raise ValueError(f"expected the analytic gradient of {name!r} to have the shape of the parameter "
                             f"{tuple(params[name].shape)}, got {tuple(analytic[name].shape)}")

    checks, numeric = {}, {}
    for name, value in params.items():
        numeric[name] = numerical_gradient(lambda v, name=name: loss_fn({**params, name: v}), value, eps)
        checks[name] = _compare(name, analytic[name].detach(), numeric[name], rtol, atol)
    return GradCheckReport(checks=checks, numeric=numeric, eps=eps, rtol=rtol, atol=atol)


def assert_gradients_close(loss_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor | float],
                           params: Mapping[str, torch.Tensor], analytic: Mapping[str, torch.Tensor], *,
                           eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7) -> GradCheckReport:
    """Like :func:`check_gradients`, but raise AssertionError when a gradient is wrong.

    The message names each failing parameter, its worst entry, the analytic and the
    numerical value there, the absolute and the relative error, for example
    ``W2[0, 1]: analytic 0.1, numerical 0.025, ...``.

    Args:
        loss_fn, params, analytic, eps, rtol, atol: as in :func:`check_gradients`.

    Returns:
        The report, when every gradient passes.

    Raises:
        AssertionError: a gradient disagrees with the numerical estimate.
        TypeError, ValueError: as in :func:`check_gradients`.

    Example:
        >>> import torch
        >>> w = torch.tensor([3.0], dtype=torch.float64)
        >>> assert_gradients_close(lambda p: (p["w"] ** 2).sum(), {"w": w}, {"w": w})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        AssertionError: wrong gradient for w: w[0]: analytic 3, numerical 6.0..., relative error 0.5 ...
    """
    report = check_gradients(loss_fn, params, analytic, eps=eps, rtol=rtol, atol=atol)
    if not report.passed:
        lines = [f"wrong gradient for {name}: {report.checks[name].message()}" for name in report.failed]
        raise AssertionError("\n".join(lines) + "\n" + str(report))
    return report


def _compare(name, analytic, numeric, rtol, atol) -> ParamCheck:
    if analytic.numel() == 0:
        return ParamCheck(name, True, 0, (), 0.0, 0.0, 0.0, 0.0, 0)
    error = (analytic - numeric).abs()
    allowed = atol + rtol * numeric.abs()
    bad = ~(error <= allowed)                          # a NaN anywhere counts as a failure
    ratio = error / allowed
    # Rank failures first (ratio >= 1, NaN as inf); among passing entries 0/0 counts as 0.
    score = torch.where(bad, torch.nan_to_num(ratio, nan=torch.inf).clamp(min=1),
                        torch.nan_to_num(ratio, nan=0.0))
    flat = int(score.reshape(-1).argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), score.shape))
    a, n = analytic.reshape(-1)[flat].item(), numeric.reshape(-1)[flat].item()
    scale = max(abs(a), abs(n))
    return ParamCheck(name=name, passed=not bool(bad.any()), num_failed=int(bad.sum()), index=index,
                      analytic=a, numeric=n, abs_error=abs(a - n),
                      rel_error=abs(a - n) / scale if scale else 0.0, numel=analytic.numel())


def _check_float64(x, name: str) -> None:
    check_tensor(x, name)
    if x.dtype != torch.float64:
        raise TypeError(f"expected {name} to be float64 (finite differences need the precision), "
                        f"got {x.dtype}; convert it with .double()")


def _scalar(value) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"expected the function to return a scalar, "
                             f"got a tensor of shape {tuple(value.shape)}")
        return value.item()
    return float(value)
