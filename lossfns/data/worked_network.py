r"""The worked 4-3-4 network of the backpropagation chapter: fixed inputs, targets and weights.

Units are numbered as in the slides, from the outputs down:

* inputs  o8, o9, o10, o11  (layer 0, ``Trace.o[0]``),
* hidden  o5, o6, o7        (layer 1, ``Trace.o[1]``),
* outputs o1, o2, o3, o4    (layer 2, ``Trace.o[2]``).

Weights are written :math:`W_{jk}` = weight from unit k into unit j, stored as
``W[to, from]`` (the layout of ``torch.nn.Linear.weight``):

* ``W1`` has shape (3, 4): rows are the hidden units o5..o7, columns the inputs o8..o11,
  so :math:`W_{jk}` is ``W1[j - 5, k - 8]``; e.g. :math:`W_{68}` is ``W1[1, 0]``;
* ``W2`` has shape (4, 3): rows are the outputs o1..o4, columns the hidden units o5..o7,
  so :math:`W_{jk}` is ``W2[j - 1, k - 5]``; e.g. :math:`W_{16}` is ``W2[0, 1]``.

The slides draw this example with the indices the other way round (from, to);
:func:`weight_index` explains the mix-up when asked for such a weight. As in the
slides, the network has no biases, sigmoid units everywhere and
:math:`E = \tfrac12 \sum_{k=1}^4 (o_k - t_k)^2`.

The numbers are fixed once here and are not meant to be changed (the book
prints them). The tuples are immutable; the functions return fresh tensors.
"""

from __future__ import annotations

import re

import torch

from ..models.backprop import Network, Trace

#: Inputs o8, o9, o10, o11.
INPUTS = (1.0, 0.5, 0.2, 1.0)
#: Targets t1, t2, t3, t4 of the outputs o1..o4.
TARGETS = (1.0, 0.0, 0.0, 1.0)
#: W1[to, from]: rows hidden o5, o6, o7; columns inputs o8, o9, o10, o11.
W1 = (
    (0.1, 0.2, -0.1, 0.3),   # into o5
    (0.4, -0.2, 0.1, 0.1),   # into o6
    (-0.3, 0.1, 0.2, 0.5),   # into o7
)
#: W2[to, from]: rows outputs o1, o2, o3, o4; columns hidden o5, o6, o7.
W2 = (
    (0.2, -0.4, 0.3),        # into o1
    (0.5, 0.1, -0.2),        # into o2
    (-0.1, 0.3, 0.4),        # into o3
    (0.3, 0.2, -0.5),        # into o4
)

#: Unit name -> (layer, index within the layer).
UNITS = {f"o{j}": (2, j - 1) for j in range(1, 5)} | {f"o{j}": (1, j - 5) for j in range(5, 8)} \
    | {f"o{j}": (0, j - 8) for j in range(8, 12)}


def unit_index(unit: str | int) -> tuple[int, int]:
    """Layer and position of a unit of the worked network.

    Args:
        unit: ``'o6'`` or ``6``.

    Returns:
        ``(layer, index)``: the unit's output is ``Trace.o[layer][index]``.

    Raises:
        ValueError: there is no such unit (the units are o1..o11).

    Example:
        >>> unit_index("o6"), unit_index(8), unit_index("o1")
        ((1, 1), (0, 0), (2, 0))
    """
    name = f"o{unit}" if isinstance(unit, int) else str(unit).strip().lower()
    if name not in UNITS:
        raise ValueError(f"expected a unit o1..o11 of the worked network, got {unit!r}")
    return UNITS[name]


def unit_name(layer: int, index: int) -> str:
    """Inverse of :func:`unit_index`: the name of unit ``index`` of ``layer``.

    Example:
        >>> unit_name(1, 1)
        'o6'
    """
    for name, place in UNITS.items():
        if place == (layer, index):
            return name
    raise ValueError(f"expected (layer, index) with layer 0 (4 inputs), 1 (3 hidden) or 2 (4 outputs), "
                     f"got ({layer}, {index})")


def weight_index(j: str | int, k: int | None = None) -> tuple[str, tuple[int, int]]:
    r"""Where the weight :math:`W_{jk}` (from unit k into unit j) lives in the parameters.

    Args:
        j: the receiving unit (``6``), or the whole name: ``'W_16'``, ``'W16'``, ``'W_6,11'``.
            In a name without a comma the first digit is j (the receiving units are o1..o7).
        k: the sending unit, when ``j`` is a number.

    Returns:
        ``(param, (row, column))``, e.g. ``('W2', (0, 1))``: :math:`W_{16}` is ``params['W2'][0, 1]``.

    Raises:
        ValueError: no weight connects unit k to unit j (for instance the indices are in
            the (from, to) order of the slides' drawing), or the name cannot be read.

    Example:
        >>> weight_index("W_16"), weight_index(6, 8), weight_index("W_6,11")
        (('W2', (0, 1)), ('W1', (1, 0)), ('W1', (1, 3)))
    """
    if isinstance(j, str):
        if k is not None:
            raise ValueError("expected either a name like 'W_16' or two unit numbers j, k, got both")
        # 'W_611' is unambiguous: the receiving unit j is one of o1..o7, a single digit.
        match = (re.fullmatch(r"\s*W_?\{?(\d),?\s*(\d+)\}?\s*", j)
                 or re.fullmatch(r"\s*W_?\{?(\d+),\s*(\d+)\}?\s*", j))
        if not match:
            raise ValueError(f"expected a weight name like 'W_16' or 'W_6,11', got {j!r}")
        j, k = int(match[1]), int(match[2])
    if k is None:
        raise ValueError(f"expected the sending unit k as well as j={j}")
    (layer_j, row), (layer_k, col) = unit_index(j), unit_index(k)
    if layer_j != layer_k + 1:
        hint = f"; weights are W[to, from], so the weight from o{j} into o{k} is W_{k},{j}" \
            if layer_k == layer_j + 1 else ""
        raise ValueError(f"expected W_jk with unit o{k} in the layer just below o{j}, got W_{j},{k}: "
                         f"o{k} is in layer {layer_k} and o{j} in layer {layer_j}{hint}")
    return f"W{layer_j}", (row, col)


def worked_data(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The input ``x`` = (o8, o9, o10, o11) and the target ``t`` = (t1, t2, t3, t4), as fresh tensors.

    Example:
        >>> x, t = worked_data()
        >>> x.shape, t.shape
        (torch.Size([4]), torch.Size([4]))
    """
    return torch.tensor(INPUTS, dtype=dtype), torch.tensor(TARGETS, dtype=dtype)


def worked_network(dtype: torch.dtype = torch.float64) -> Network:
    """A fresh copy of the worked 4-3-4 network: sigmoid units, squared error, no biases.

    Example:
        >>> net = worked_network()
        >>> net
        Network([4, 3, 4], output='sigmoid_mse', bias=False)
        >>> net.params["W2"][weight_index("W_16")[1]].item()
        -0.4
    """
    return Network.from_weights([torch.tensor(W1, dtype=dtype), torch.tensor(W2, dtype=dtype)],
                                output="sigmoid_mse")


def worked_example(dtype: torch.dtype = torch.float64) -> Trace:
    r"""Forward and backward pass of the worked network on its example: every intermediate number.

    For instance :math:`\partial E/\partial W_{16} = (o_1 - t_1)\,o_1(1-o_1)\,o_6` is
    ``tr.grads['W2'][0, 1]`` and equals ``tr.delta[2][0] * tr.o[1][1]``.

    Example:
        >>> tr = worked_example()
        >>> layer, i = unit_index("o6")
        >>> bool(tr.grads["W2"][0, 1] == tr.delta[2][0] * tr.o[layer][i])
        True
    """
    x, t = worked_data(dtype)
    return worked_network(dtype).trace(x, t)
