"""What student code may not use while it is graded, enforced inside the sandbox.

Losses are always off limits (the exercises ask for them); a chapter may also
block primitives its exercise asks the student to write (softmax, one_hot, ...).
Each loss or primitive is blocked where every way of calling it ends: its
kernels in PyTorch's dispatcher (so ``F.mse_loss``, ``torch._C._nn.mse_loss``,
``torch.ops.aten.mse_loss.default`` and ``torch.nn.MSELoss`` all refuse), plus
the pure-Python losses of ``torch.nn.functional``. Importing the course's own
package, its solutions or a library with ready-made losses fails with a clear message.

Standalone: imports only torch and the standard library (the sandbox loads it by path).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
import warnings

import torch

LANGUAGE = "en"  # set by the sandbox for each job, so that refusals speak the notebook's language

LOSS_OPS = (
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy_loss", "nll_loss", "nll_loss_nd", "nll_loss2d",
    "nll_loss_forward", "nll_loss2d_forward", "kl_div", "poisson_nll_loss", "soft_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "multilabel_margin_loss_forward",
    "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "ctc_loss", "_ctc_loss",
)
PRIMITIVE_OPS = {
    "softmax": ("softmax", "_softmax", "special_softmax"),
    "log_softmax": ("log_softmax", "_log_softmax", "special_log_softmax"),
    "one_hot": ("one_hot",),
    "prelu": ("prelu", "_prelu_kernel"),
}
# The course's own code and libraries with ready-made losses (also hidden from the sandbox's
# filesystem). Blocked only after the zygote's warm-up, since torch probes for some of them on load.
LOSS_LIBRARIES = ("keras", "tensorflow", "jax", "sklearn", "scipy", "torchmetrics")
BLOCKED_MODULES = ("lossfns", "coursework", "solutions", "exercises", *LOSS_LIBRARIES)

REFUSAL = {
    "es": ("{name} no está permitida al calificar este ejercicio: escríbela con operaciones básicas "
           "de tensores"),
    "en": "{name} is not allowed when grading this exercise: write it with basic tensor operations",
}
IMPORT_REFUSAL = {
    "es": "no se puede importar {name} al calificar: la solución tiene que ser tuya",
    "en": "{name} cannot be imported when grading: the solution has to be your own",
}

_libraries = []  # dispatcher registrations live as long as their Library object


class NotAllowed(RuntimeError):
    """A blocked loss or primitive was called."""


def _refusal(name):
    def refuse(*args, **kwargs):
        raise NotAllowed(REFUSAL.get(LANGUAGE, REFUSAL["en"]).format(name=name))
    return refuse


def block_ops(names) -> torch.library.Library:
    """Replace every kernel of the ``aten`` operators ``names`` by a refusal (until the returned
    library is destroyed)."""
    library = torch.library.Library("aten", "IMPL")
    _libraries.append(library)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel" is the point
        for op in names:
            packet = getattr(torch.ops.aten, op, None)
            if packet is None:
                continue
            for overload in packet.overloads():
                name = op if overload == "default" else f"{op}.{overload}"
                for key in ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CPU"):
                    if torch._C._dispatch_has_kernel_for_dispatch_key(f"aten::{name}", key):
                        library.impl(name, _refusal(op), key)
    return library


def block_python_losses() -> list[tuple[object, str, object]]:
    """Refuse the losses of torch.nn.functional and torch.nn written in Python (e.g. gaussian_nll_loss);
    return ``(owner, name, original)`` of what was replaced."""
    functional, replaced = torch.nn.functional, []
    for name in dir(functional):
        if name.endswith("_loss") or name in ("cross_entropy", "kl_div", "binary_cross_entropy",
                                               "binary_cross_entropy_with_logits"):
            replaced.append((functional, name, getattr(functional, name)))
            setattr(functional, name, _refusal(f"torch.nn.functional.{name}"))
    for name in dir(torch.nn):
        if name.endswith("Loss") and isinstance(getattr(torch.nn, name), type):
            replaced.append((torch.nn, name, getattr(torch.nn, name)))
            setattr(torch.nn, name, _refusal(f"torch.nn.{name}"))
    return replaced


def block_losses() -> None:
    """Every loss, in the dispatcher and in Python, for good (the sandbox)."""
    block_ops(LOSS_OPS)
    block_python_losses()


def primitive_ops(kinds) -> list[str]:
    """The aten operators of the primitives ``kinds`` (keys of PRIMITIVE_OPS)."""
    return [op for kind in kinds for op in PRIMITIVE_OPS[kind]]


def block_primitives(kinds) -> None:
    """Block the primitives of ``kinds`` for good (the sandbox's child)."""
    block_ops(primitive_ops(kinds))


def lock_dispatcher() -> None:
    """Stop student code from undoing the blocks: no new kernel registrations (a fallthrough or
    an override of ours) and no removal of ours (``Library._destroy``, ``_DispatchModule.reset``).
    For good, so only in the sandbox's child, after its own blocks are in place."""
    refuse = _refusal("changing PyTorch's operator registrations")
    module_type = torch._C._DispatchModule
    for name in dir(module_type):
        if not name.startswith("__") and callable(getattr(module_type, name)):
            setattr(module_type, name, refuse)
    torch._C._dispatch_library = refuse
    torch.library.Library.__init__ = refuse
    torch.library.Library._destroy = lambda self: None  # the registrations outlive any attempt


@contextlib.contextmanager
def refused(kinds=(), language: str = "en"):
    """Losses and the primitives ``kinds`` refused inside the block only: the notebook's own checks
    use it, so that a student sees there what grading will say."""
    global LANGUAGE
    saved_language, LANGUAGE = LANGUAGE, language
    library = block_ops([*LOSS_OPS, *primitive_ops(kinds)])
    replaced = block_python_losses()
    try:
        yield
    finally:
        for owner, name, original in replaced:
            setattr(owner, name, original)
        library._destroy()
        _libraries.remove(library)
        LANGUAGE = saved_language


class _ImportBlocker(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED_MODULES:
            raise ImportError(IMPORT_REFUSAL.get(LANGUAGE, IMPORT_REFUSAL["en"]).format(name=fullname))


def block_imports() -> None:
    """Make ``import lossfns`` (and the other BLOCKED_MODULES) fail with a clear message."""
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_MODULES:
            del sys.modules[name]
    sys.meta_path.insert(0, _ImportBlocker())
