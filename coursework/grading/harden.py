"""Make the watch hard to remove in the sandbox's child, before the student's answer cells run.

The watch (``watch.py``) is two PyTorch modes on the thread's mode stacks. Everything in
torch that could take them off or slip past them is replaced, in every module that holds
it, by a refusal: the mode stacks' push, pop and get functions, the guards that exclude
dispatch keys or disable torch functions, direct kernel calls below the modes, compilers
(TorchScript, ``torch.compile``), threads (which start without the modes), and turning
gradients back on where the task forbids autograd. ``gc``'s object walks are refused too, so
that the grader's own objects are not looked up that way (the zygote's survey of where the originals are
held is cleared once used). Printing a tensor becomes inert
(its output is discarded anyway) so that it runs no operator. After every call the child
checks that both stacks still hold the watch alone (``intact``).

None of this is undone: the child exits after one behaviour. Standalone: imports only torch
and the standard library (the sandbox loads it by path).
"""

from __future__ import annotations

import _thread
import gc
import sys
import threading

import torch

# What could take the dispatch mode off, or run a kernel below it (names in torch._C). torch's own
# Python plumbing uses none of these in eager mode; it does use the function-mode stack (to hand a torch
# function to a mode), so that stack is left alone: the dispatch mode, below it, sees every operator anyway.
C_NAMES = (
    "_DisableTorchDispatch", "_disabled_torch_dispatch_impl", "_push_on_torch_dispatch_stack",
    "_pop_torch_dispatch_stack", "_get_dispatch_stack_at", "_set_dispatch_mode", "_unset_dispatch_mode",
    "_get_dispatch_mode", "_RestorePythonTLSSnapshot",
    "ExcludeDispatchKeyGuard", "_ExcludeDispatchKeyGuard", "_SetExcludeDispatchKeyGuard",
    "_IncludeDispatchKeyGuard", "_ForceDispatchKeyGuard", "_PreserveDispatchKeyGuard",
    "_AutoDispatchBelowAutograd", "_AutoDispatchBelowADInplaceOrView",
    "_dispatch_tls_set_dispatch_key_excluded", "_dispatch_tls_set_dispatch_key_included",
    "_dispatch_call_boxed", "_EnablePythonDispatcher", "_DisablePythonDispatcher", "_EnablePreDispatch",
    "_set_meta_in_tls_dispatch_include",
    "_set_autograd_fallback_mode", "import_ir_module", "import_ir_module_from_buffer", "_jit_script_compile",
    "_create_function_from_trace", "_jit_get_operation",
)
# The same in torch's Python helpers (dotted module, name), and the compilers.
PY_NAMES = (
    ("torch.utils._python_dispatch", "_disable_current_modes"), ("torch.utils._python_dispatch", "_pop_mode"),
    ("torch.utils._python_dispatch", "_pop_mode_temporarily"), ("torch.utils._python_dispatch", "_push_mode"),
    ("torch.utils._python_dispatch", "_get_current_dispatch_mode"),
    ("torch.utils._python_dispatch", "_get_current_dispatch_mode_stack"),
    ("torch.utils._python_dispatch", "_disable_infra_mode"),
    ("torch.utils._python_dispatch", "_unset_infra_mode"),
    ("torch._ops", "OpOverload.redispatch"), ("torch._ops", "OpOverload._op_dk"),
    ("torch", "compile"), ("torch._dynamo", "optimize"), ("torch._dynamo", "export"),
    ("torch.jit", "script"), ("torch.jit", "trace"), ("torch.jit", "trace_module"), ("torch.jit", "load"),
    ("torch.jit", "freeze"),
)
GRAD_SWITCHES = ("_set_grad_enabled", "_set_fwd_grad_enabled")


class Refused(RuntimeError):
    """The student's code reached something the sandbox locked."""


def _refusal(text: str, name: str):
    def refuse(*args, **kwargs):
        raise Refused(text.format(detail=name))
    refuse.__name__ = name.rpartition(".")[2]
    return refuse


def _targets() -> list[tuple[object, str]]:
    """``(owner, attribute)`` of everything to lock, where it is defined."""
    found = [(torch._C, name) for name in C_NAMES if hasattr(torch._C, name)]
    for module_name, dotted in PY_NAMES:
        owner = sys.modules.get(module_name)
        *path, name = dotted.split(".")
        for step in path:
            owner = getattr(owner, step, None)
        if owner is not None and hasattr(owner, name):
            found.append((owner, name))
    return found


def survey() -> list[tuple[dict, str, object]]:
    """``(namespace, name, original)`` of every place a loaded module holds something to lock. Walking
    every module takes tens of milliseconds: the zygote does it once, and its children lock from it."""
    wanted = {id(getattr(owner, name)) for owner, name in _targets()}
    wanted |= {id(getattr(torch._C, name)) for name in GRAD_SWITCHES}
    places = []
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict):
            places += [(namespace, name, value) for name, value in list(namespace.items())
                       if id(value) in wanted]
    return places


def lock(text: str, *, autograd: bool, autograd_text: str = "", places=None) -> None:
    """Refuse, for good, everything that could take the watch off (``text`` is the refusal, with
    ``{detail}``). ``autograd=False`` also refuses turning gradients on (saying ``autograd_text``).
    ``places``: the zygote's ``survey()`` (else it is made here)."""
    places = survey() if places is None else places
    replacements: dict[int, object] = {}
    for owner, name in _targets():
        original = getattr(owner, name)
        replacement = _refusal(text, f"{getattr(owner, '__name__', type(owner).__name__)}.{name}")
        replacements[id(original)] = replacement
        setattr(owner, name, replacement)
    if not autograd:
        for name in GRAD_SWITCHES:
            original = getattr(torch._C, name)
            replacements[id(original)] = _grad_switch(original, autograd_text or text)
    for namespace, name, original in places:  # every other name the originals go by
        replacement = replacements.get(id(original))
        if replacement is not None and namespace.get(name) is original:
            namespace[name] = replacement
    for name in ("start_new_thread", "start_joinable_thread", "_start_new_thread", "_start_joinable_thread"):
        for owner in (_thread, threading):
            if hasattr(owner, name):
                setattr(owner, name, _refusal(text, f"threading.{name}"))
    for name in ("get_objects", "get_referrers", "get_referents"):
        setattr(gc, name, _refusal(text, f"gc.{name}"))
    inert_printing()


def _grad_switch(original, text: str):
    """``torch._C._set_grad_enabled`` that may switch gradients off, never on."""
    def set_grad_enabled(mode):
        if mode:
            raise Refused(text.replace("{detail}", "torch.enable_grad"))
        return original(False)
    return set_grad_enabled


def inert_printing() -> None:
    """``print(tensor)`` and f-strings of tensors run no operator (the sandbox discards the output)."""
    def text(self, *args, **kwargs):
        return f"tensor(shape={tuple(self.shape)}, dtype={self.dtype})"

    def format_(self, spec=""):
        return format(float("nan"), spec) if spec else text(self)

    torch.Tensor.__repr__ = text
    torch.Tensor.__str__ = text
    torch.Tensor.__format__ = format_


def stacks():
    """``intact(watch)``: whether both mode stacks hold the watch's modes and nothing else (the stack
    functions are taken here, before ``lock`` replaces them)."""
    dispatch_len, dispatch_at = torch._C._len_torch_dispatch_stack, torch._C._get_dispatch_stack_at
    function_len, function_at = torch._C._len_torch_function_stack, torch._C._get_function_stack_at

    expected = []

    def handlers(modes) -> list:
        if not modes:
            return []
        dispatch, function = (type(modes[0]).__torch_dispatch__, type(modes[1]).__torch_function__)
        return [dispatch, dispatch.__code__, function, function.__code__]

    def capture(modes) -> None:
        expected[:] = handlers(modes)

    def intact(modes) -> bool:
        if not modes:
            return dispatch_len() == 0 and function_len() == 0
        dispatch, function = modes
        return (dispatch_len() == 1 and dispatch_at(0) is dispatch and function_len() == 1
                and function_at(0) is function
                and all(a is b for a, b in zip(handlers(modes), expected, strict=True)))

    return capture, intact
