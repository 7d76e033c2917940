"""What a graded function may compute with, watched while it runs.

Each task of an exercise declares its ``Rules`` (in the chapter's check module): the
primitive operations it permits (an allowlist of ``aten`` operators), whether library code
may compute for the student, whether autograd may run, and, for a gradient to derive by
hand, how much work it may do. ``Watch`` enforces them around one call of the student's
function, in the sandbox's child and in the notebook's own ``check()`` alike:

- a ``TorchDispatchMode`` sees every operator that runs, however it was reached
  (``torch.special.*``, ``torch.ops.aten.*``, ``F.*``, a layer, a distribution), and refuses
  one that is not in the allowlist; one called from library code rather than from the
  student's own code (the nearest Python frame that is not torch's operator plumbing); one
  run by autograd's engine, or forward-mode AD, where the gradient is to be derived; and
  work beyond the budget, so that numerical differentiation (two forward passes per weight)
  is told apart from backpropagation (a handful in all);
- both modes follow every tensor: an operator whose input was computed where they could not
  see it (modes switched off, another thread, compiled code) is refused, and so is reading
  such a tensor's data (``tolist``, ``numpy``, its storage).

A refusal raises ``NotAllowed`` and is remembered: the call scores as refused even when the
student's code catches the exception. The sandbox also makes the modes hard to remove
(``harden.py``); the notebook's own checks do not, and need not (only the grader counts).

Standalone: imports only torch and the standard library (the sandbox loads it by path).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import weakref
from dataclasses import dataclass, field

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

# -- operator groups a check module composes its allowlists from (aten overload-packet names) -----------

GROUPS = {
    # Creating, viewing, copying and indexing tensors: what any code needs to hold numbers.
    "structure": {
        "lift_fresh", "lift_fresh_copy", "scalar_tensor", "empty", "empty_like", "empty_strided", "zeros",
        "zeros_like", "ones", "ones_like", "full", "full_like", "new_zeros", "new_ones", "new_full",
        "new_empty", "new_empty_strided", "arange", "eye", "linspace", "clone", "copy_", "_to_copy",
        "_copy_from", "_copy_from_and_resize", "detach", "detach_", "alias", "view", "_unsafe_view",
        "reshape", "_reshape_alias", "flatten", "unflatten", "view_as", "expand", "expand_as", "squeeze",
        "squeeze_", "unsqueeze", "unsqueeze_", "permute", "t", "transpose", "movedim", "numpy_T", "select",
        "slice", "narrow", "diagonal", "as_strided", "unbind", "split", "split_with_sizes", "chunk", "cat",
        "stack", "flip", "roll", "repeat", "tile", "index", "index_select", "gather", "take",
        "index_put", "index_put_", "_index_put_impl_", "masked_fill", "masked_fill_", "fill",
        "fill_", "zero_", "scatter", "scatter_", "scatter_add", "scatter_add_", "index_fill", "index_fill_",
        "index_add", "index_add_", "index_copy", "index_copy_", "contiguous", "resize_",
        "_local_scalar_dense", "is_nonzero", "item", "_has_compatible_shallow_copy_type", "is_same_size",
        "_to_dense", "_unsafe_index", "tril", "triu", "masked_select", "nonzero", "where", "broadcast_to",
        "_unsafe_split", "cumsum", "sort", "argsort", "topk",
    },
    "compare": {
        "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "logical_xor",
        "bitwise_and", "bitwise_or", "bitwise_not", "bitwise_xor", "any", "all", "_is_all_true",
        "_is_any_true", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "equal", "sign", "signbit",
        "heaviside", "allclose", "isclose",
    },
    "arithmetic": {
        "add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "true_divide", "floor_divide",
        "neg", "neg_", "reciprocal", "reciprocal_", "pow", "pow_", "square", "sqrt", "rsqrt", "abs",
        "abs_", "maximum", "minimum", "fmax", "fmin", "clamp", "clamp_", "clamp_min", "clamp_min_",
        "clamp_max", "clamp_max_", "clip", "relu", "relu_", "addcmul", "addcdiv", "lerp", "floor",
        "ceil", "round", "trunc", "remainder", "fmod",
    },
    "reductions": {
        "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "aminmax", "count_nonzero",
    },
    "exp_log": {"exp", "exp_", "log", "log_", "log2", "log10", "log1p", "expm1", "xlogy", "exp2"},
    "sigmoid": {"sigmoid", "sigmoid_", "tanh"},
    "matmul": {"mm", "matmul", "bmm", "mv", "dot", "vdot", "addmm", "addmv", "baddbmm", "outer", "ger",
               "einsum", "tensordot"},
    "random": {"uniform_", "normal_", "randn", "rand", "randint", "randperm", "random_", "bernoulli",
               "multinomial", "manual_seed"},
}


def ops(*groups: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The union of operator ``groups`` (keys of GROUPS) and ``extra`` operators."""
    return frozenset(set().union(*(GROUPS[g] for g in groups)) | set(extra))


@dataclass(frozen=True)
class Rules:
    """What one graded function may compute with.

    Attributes:
        ops: aten operators it may run (overload-packet names, see ``ops``); None: any that is
            not blocked for the whole chapter.
        library: library code (torch.nn layers, torch.distributions, torch.nn.functional, ...)
            may run operators on the student's behalf.
        autograd: autograd may run (backward, torch.autograd.grad, torch.func, forward-mode AD).
        allowed: per language, how the exercise names what is allowed (quoted in refusals).
    """

    ops: frozenset[str] | None = None
    library: bool = False
    autograd: bool = False
    allowed: dict = field(default_factory=dict)

    @property
    def watched(self) -> bool:
        """Whether these rules need the watch at all (the default rules do not)."""
        return self.ops is not None or not self.library or not self.autograd

    def to_wire(self) -> dict:
        return {"ops": None if self.ops is None else sorted(self.ops), "library": self.library,
                "autograd": self.autograd, "allowed": dict(self.allowed)}

    @classmethod
    def from_wire(cls, data: dict) -> Rules:
        found, allowed = data.get("ops"), dict(data.get("allowed") or {})
        return cls(None if found is None else frozenset(str(name) for name in found), bool(data["library"]),
                   bool(data["autograd"]), {str(k): str(v) for k, v in allowed.items()})


ANYTHING = Rules(library=True, autograd=True)  # the grader's default: only the chapter's blocks apply

# -- refusals ---------------------------------------------------------------------------------------------

REFUSALS = {
    "es": {
        "op": "`{op}` no es una de las operaciones que esta tarea permite: escríbela tú con {allowed}",
        "library": ("`{where}` hizo el cálculo por ti (`{op}`): en esta tarea cada operación tiene que salir "
                    "de tu propio código, no de una rutina lista de la biblioteca (capas de torch.nn, "
                    "torch.nn.functional, torch.distributions, ...)"),
        "autograd": ("autograd calculó esto por ti ({detail}): aquí el gradiente se deriva a mano con la "
                     "regla de la cadena"),
        "work": ("tu función hizo más trabajo que {limit:.0f} pasadas hacia adelante: un gradiente analítico "
                 "cuesta unas pocas, la diferenciación numérica dos por cada peso. Deriva el gradiente en "
                 "vez de estimarlo"),
        "bypass": ("un tensor se calculó fuera de las operaciones que esta comprobación puede ver "
                   "({detail}): apagar los modos de PyTorch, usar otros hilos o código compilado no está "
                   "permitido"),
        "tamper": "cambiar los modos de PyTorch o el estado del calificador no está permitido ({detail})",
    },
    "en": {
        "op": "`{op}` is not one of the operations this task allows: write it yourself with {allowed}",
        "library": ("`{where}` computed this for you (`{op}`): in this task every operation must come from "
                    "your own code, not from a ready-made routine of the library (torch.nn layers, "
                    "torch.nn.functional, torch.distributions, ...)"),
        "autograd": ("autograd computed this for you ({detail}): here the gradient is derived by hand with "
                     "the chain rule"),
        "work": ("your function did more work than {limit:.0f} forward passes: an analytic gradient costs a "
                 "handful, numerical differentiation two per weight. Derive the gradient instead of "
                 "estimating it"),
        "bypass": ("a tensor was computed outside the operations this check can see ({detail}): switching "
                   "PyTorch's modes off, other threads or compiled code are not allowed"),
        "tamper": "changing PyTorch's modes or the grader's state is not allowed ({detail})",
    },
}
BASIC_OPERATIONS = {"es": "operaciones básicas de tensores", "en": "basic tensor operations"}


class NotAllowed(RuntimeError):
    """The graded function used a route its task does not allow."""


# -- where an operator was called from ----------------------------------------------------------------------

_TORCH = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
# torch's own plumbing between a Python call and its operator: frames in these files are looked through.
TRANSPARENT = tuple(_TORCH + name for name in (
    "_tensor.py", "overrides.py", "_ops.py", "functional.py", "_compile.py", "_dynamo" + os.sep,
    "utils" + os.sep + "_python_dispatch.py", "utils" + os.sep + "_contextlib.py",
    "utils" + os.sep + "_pytree.py", "autograd" + os.sep + "grad_mode.py", "_jit_internal.py",
    "_VF.py", "_tensor_str.py",
))
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _library_roots() -> tuple[str, ...]:
    """Folders whose code is a library, not the student's: the Python installation and site-packages,
    and the course's own packages where they are importable (the notebook's kernel)."""
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    package = os.path.dirname(os.path.dirname(_HERE))  # .../coursework, when this file is in the course
    if os.path.basename(package) == "coursework":
        roots |= {package, os.path.join(os.path.dirname(package), "lossfns")}
    return tuple(sorted(os.path.abspath(root) + os.sep for root in roots))


LIBRARY_ROOTS = _library_roots()


def _caller() -> str | None:
    """The library file that called the operator now running, or None for the student's own code: the
    nearest Python frame that is neither torch's plumbing nor the grader's decides."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(TRANSPARENT) or name.startswith(_HERE):
            frame = frame.f_back
            continue
        return name if name.startswith(LIBRARY_ROOTS) else None
    return None


def _module_of(path: str) -> str:
    """``.../site-packages/torch/distributions/categorical.py`` -> ``torch.distributions.categorical``."""
    for root in sorted(LIBRARY_ROOTS, key=len, reverse=True):  # the innermost folder: site-packages
        if path.startswith(root):
            path = path[len(root):]
            break
    return path.removesuffix(".py").replace(os.sep, ".").removesuffix(".__init__")


# -- work, to tell backpropagation from numerical differentiation --------------------------------------------

VIEWS = {"view", "_unsafe_view", "_reshape_alias", "alias", "detach", "select", "slice", "permute", "t",
         "transpose", "expand", "unsqueeze", "squeeze", "as_strided", "unbind", "split", "split_with_sizes",
         "narrow", "diagonal", "lift_fresh", "_local_scalar_dense", "is_nonzero", "numpy_T", "view_as"}
MATMUL = {"mm", "addmm", "bmm", "baddbmm", "mv", "addmv", "dot", "vdot", "addbmm", "_addmm_activation"}
REDUCTIONS = {"sum", "mean", "prod", "amax", "amin", "max", "min", "logsumexp", "any", "all", "argmax",
              "argmin", "norm", "linalg_vector_norm", "var", "std", "count_nonzero", "_is_all_true",
              "_is_any_true"}


def work(name: str, args, out) -> float:
    """Multiply-adds (and elementwise results) of one operator: the unit of the work budget."""
    if name in VIEWS:
        return 0.0
    inputs = list(_tensors(args))
    outputs = list(_tensors(out))
    if name in MATMUL and inputs:
        matrix = inputs[-2] if name.startswith("add") or name == "baddbmm" else inputs[0]
        inner = matrix.numel() if name in ("dot", "vdot") else matrix.shape[-1]
        return float(sum(o.numel() for o in outputs) * max(inner, 1))
    if name in REDUCTIONS and inputs:
        return float(inputs[0].numel())
    return float(sum(o.numel() for o in outputs)) or 1.0


# -- the watch ----------------------------------------------------------------------------------------------

FORMATTING = (torch.Tensor.__repr__, torch.Tensor.__str__, torch.Tensor.__format__)
# Reading a tensor's data without an operator: refused for a tensor the watch never saw computed.
DATA_ACCESS = {"tolist", "numpy", "__array__", "untyped_storage", "storage", "_typed_storage", "data_ptr",
               "__reduce_ex__", "__dlpack__", "__getstate__", "__setstate__", "__float__", "__int__",
               "__index__", "__bool__", "__complex__"}
ENABLE_GRAD = (torch._C._set_grad_enabled, torch._C._set_fwd_grad_enabled)
DUAL = ("_make_dual", "_unpack_dual")  # forward-mode AD's entry points (seen as torch functions)
LIFT = ("lift_fresh", "lift_fresh_copy")  # a constant becoming a tensor (torch.tensor, from_numpy)


def _tensors(value):
    """The tensors in an operator's arguments or results (one level of lists and tuples, dict values)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor):
                yield item
            elif isinstance(item, (tuple, list, dict)):
                yield from _tensors(item)
    elif isinstance(value, dict):
        yield from _tensors(tuple(value.values()))


class _Known:
    """Tensors the watch saw: inputs, constants and every result of an operator, by identity."""

    def __init__(self):
        self._refs: dict[int, weakref.ref] = {}

    def add(self, value) -> None:
        for tensor in _tensors(value):
            key = id(tensor)
            self._refs[key] = weakref.ref(tensor, lambda _, key=key, refs=self._refs: refs.pop(key, None))

    def __contains__(self, tensor: torch.Tensor) -> bool:
        ref = self._refs.get(id(tensor))
        return ref is not None and ref() is tensor


class _Dispatch(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:  # no dynamo wrapper around the handler: fewer frames, faster
        return False

    def __init__(self, watch: Watch):
        super().__init__()
        self.watch = watch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        refusal = self.watch.before(func, args, kwargs)
        if refusal is not None:
            del self  # the traceback the student may catch leads nowhere
            raise NotAllowed(refusal)
        out = func(*args, **kwargs)
        refusal = self.watch.after(func, args, kwargs, out)
        if refusal is not None:
            del self
            raise NotAllowed(refusal)
        return out


class _Function(TorchFunctionMode):
    def __init__(self, watch: Watch):
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FORMATTING and self.watch.calling:  # a print inside the function: not graded work
            plain = [_plain(a) for a in args]
            with self.watch.unwatched():
                return func(*plain, **kwargs)
        refusal = self.watch.before_call(func, args)
        if refusal is not None:
            del self
            raise NotAllowed(refusal)
        return func(*args, **kwargs)


class Watch:
    """Enforce ``rules`` on the calls of a student's function made through ``call``.

    The modes are installed by ``start`` (or ``with``) and watch everything; outside ``call``
    they only remember the tensors that code creates (the answer cells' constants, the decoded
    inputs), inside it they enforce the rules.

    Args:
        rules: what the function may compute with.
        language: of the refusal messages.
        follow: refuse tensors computed where the watch could not see (the sandbox, where every
            tensor the student's code holds was created under the watch); False in the notebook's
            kernel, where earlier cells created tensors unwatched.
    """

    def __init__(self, rules: Rules, language: str = "en", *, follow: bool = True):
        self.rules, self.language, self.follow = rules, language, follow
        self.known = _Known()
        self.calling = False
        self.budget: float | None = None
        self.forward: float | None = None
        self.spent = 0.0
        self.refusal: str | None = None
        self._unwatched = 0
        self._modes = (_Dispatch(self), _Function(self)) if rules.watched else ()

    # -- installing
    def start(self) -> Watch:
        for mode in self._modes:
            mode.__enter__()
        return self

    def stop(self) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(None, None, None)

    __enter__ = start

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def modes(self) -> tuple:
        return self._modes

    def unwatched(self):
        watch = self

        class _Unwatched:
            def __enter__(self):
                watch._unwatched += 1

            def __exit__(self, *exc):
                watch._unwatched -= 1

        return _Unwatched()

    # -- one call
    def call(self, function, args=(), kwargs=None, *, budget: float | None = None,
             forward: float | None = None):
        """``function(*args, **kwargs)`` under the rules; its result, or NotAllowed (also when the
        function caught a refusal, or returned a tensor computed out of sight)."""
        kwargs = kwargs or {}
        if not self._modes:
            if budget is not None:
                raise ValueError("expected rules that watch the call when a work budget is given")
            return function(*args, **kwargs)
        self.known.add((args, tuple(kwargs.values())))
        self.budget, self.forward, self.spent, self.refusal = budget, forward, 0.0, None
        self.calling = True
        try:
            result = function(*args, **kwargs)
        finally:
            self.calling = False
        if self.refusal is None and self.follow and any(t not in self.known for t in _results(result)):
            self.refusal = self.message("bypass", detail="return")
        if self.refusal is not None:
            raise NotAllowed(self.refusal)
        return result

    # -- the checks
    def message(self, kind: str, **details) -> str:
        allowed = self.rules.allowed.get(self.language) or BASIC_OPERATIONS.get(self.language, "")
        details.setdefault("allowed", allowed)
        return REFUSALS.get(self.language, REFUSALS["en"])[kind].format(**details)

    def _refuse(self, kind: str, **details) -> str:
        message = self.message(kind, **details)
        if self.refusal is None:
            self.refusal = message
        return message

    def before(self, func, args, kwargs) -> str | None:
        """Before an operator runs: None to let it, else the refusal."""
        if not self.calling or self._unwatched or self.refusal is not None:
            return None
        rules, name = self.rules, func.overloadpacket.__name__
        if not rules.autograd:
            if torch._C._current_autograd_node() is not None:
                return self._refuse("autograd", detail="backward")
            if name in DUAL:
                return self._refuse("autograd", detail="forward-mode AD")
        if rules.ops is not None and (name not in rules.ops or func.namespace != "aten"):
            return self._refuse("op", op=f"{func.namespace}::{name}")
        if not rules.library:
            where = _caller()
            if where is not None:
                return self._refuse("library", where=_module_of(where), op=f"aten::{name}")
        if self.follow and name not in LIFT:
            for tensor in _tensors(args):
                if tensor not in self.known:
                    return self._refuse("bypass", detail=f"aten::{name}")
            for tensor in _tensors(kwargs):
                if tensor not in self.known:
                    return self._refuse("bypass", detail=f"aten::{name}")
        return None

    def after(self, func, args, kwargs, out) -> str | None:
        """After an operator ran: remember its results, count its work against the budget."""
        if self.follow:
            self.known.add(out)
        if not self.calling or self._unwatched or self.refusal is not None or self.budget is None:
            return None
        self.spent += work(func.overloadpacket.__name__, (args, kwargs), out)
        if self.spent > self.budget:
            return self._refuse("work", limit=self.budget / (self.forward or self.budget))
        return None

    def before_call(self, func, args) -> str | None:
        """A torch function that may not reach an operator: turning autograd on, reading unseen data."""
        if not self.calling or self._unwatched or self.refusal is not None:
            return None
        if not self.rules.autograd and func in ENABLE_GRAD and args and args[0]:
            return self._refuse("autograd", detail="torch.enable_grad")
        if not self.rules.autograd and getattr(func, "__name__", "") in DUAL:
            return self._refuse("autograd", detail="forward-mode AD")
        if self.follow and getattr(func, "__name__", "") in DATA_ACCESS:
            for tensor in _tensors(args):
                if tensor not in self.known:
                    return self._refuse("bypass", detail=f"Tensor.{func.__name__}")
        return None


def _plain(value):
    """A tensor subclass as a plain tensor (no __torch_function__ of the student runs), else itself."""
    if isinstance(value, torch.Tensor) and type(value) is not torch.Tensor:
        return value.as_subclass(torch.Tensor)
    return value


def _results(value):
    """The tensors a function returned, in tuples, lists and dicts of any depth (up to 8)."""
    found, todo = [], [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif depth < 8 and isinstance(item, (tuple, list)):
            todo += [(v, depth + 1) for v in item]
        elif depth < 8 and isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
    return found


