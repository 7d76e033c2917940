"""Plain-data encoding of values crossing the sandbox boundary (JSON-ready dicts).

Tensors travel as dtype, shape and base64 bytes; anything else the sandbox
returns becomes ``{"object": type name}``, which never compares equal to an
expected value. Decoding checks every field and never unpickles or evaluates,
because what comes back from the sandbox is written by student code.

Standalone: imports only torch and the standard library (the sandbox loads it by path).
"""

from __future__ import annotations

import base64
import math

import torch

DTYPES = {name: getattr(torch, name) for name in
          ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")}
MAX_DEPTH = 8


class WireError(ValueError):
    """Malformed data from the sandbox."""


def encode(value, depth: int = 0):
    """A JSON-ready form of ``value``; unknown types become ``{"object": name}``."""
    if depth > MAX_DEPTH:
        return {"object": "too deeply nested"}
    if isinstance(value, torch.Tensor):
        tensor = torch.Tensor.detach(value).cpu().contiguous()
        name = str(tensor.dtype).removeprefix("torch.")
        if name not in DTYPES or tensor.is_complex():
            return {"object": f"tensor of {name}"}
        data = tensor.view(-1).numpy().tobytes() if tensor.numel() else b""
        return {"tensor": name, "shape": list(tensor.shape), "data": base64.b64encode(data).decode()}
    if type(value) is bool or value is None or type(value) is str:
        return {"plain": value}
    if type(value) is int:
        return {"int": str(value)}
    if type(value) is float:
        return {"float": repr(value)}
    if type(value) in (tuple, list):
        return {type(value).__name__: [encode(v, depth + 1) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"dict": [[k, encode(v, depth + 1)] for k, v in value.items()]}
    return {"object": type(value).__name__}


class Opaque:
    """Stands for a returned object that is not plain data (never equal to anything)."""

    def __init__(self, name: str):
        self.name = str(name)[:80]

    def __repr__(self) -> str:
        return f"<{self.name}>"


def decode(data, depth: int = 0):
    """Rebuild a value from ``encode``'s form; WireError on anything malformed."""
    if depth > MAX_DEPTH or not isinstance(data, dict) or len(data) not in (1, 3):
        raise WireError("malformed value")
    if "tensor" in data:
        return _decode_tensor(data)
    (kind, body), = data.items()
    if kind == "plain" and (body is None or type(body) in (bool, str)):
        return body
    if kind == "int" and type(body) is str and len(body) < 400:
        return int(body)
    if kind == "float" and type(body) is str and len(body) < 40:
        return float(body)
    if kind in ("tuple", "list") and type(body) is list:
        items = [decode(v, depth + 1) for v in body]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and type(body) is list:
        return {_key(pair): decode(pair[1], depth + 1) for pair in body}
    if kind == "object" and type(body) is str:
        return Opaque(body)
    raise WireError(f"malformed value of kind {kind!r}")


def _decode_tensor(data) -> torch.Tensor:
    name, shape, text = data.get("tensor"), data.get("shape"), data.get("data")
    if name not in DTYPES or type(shape) is not list or type(text) is not str:
        raise WireError("malformed tensor")
    if not all(type(s) is int and 0 <= s < 2**31 for s in shape) or len(shape) > 8:
        raise WireError("malformed tensor shape")
    dtype = DTYPES[name]
    raw = base64.b64decode(text, validate=True)
    count = math.prod(shape)
    if len(raw) != count * dtype.itemsize:
        raise WireError("tensor data does not match its shape")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).clone()


def _key(pair) -> str:
    if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
        raise WireError("malformed dict entry")
    return pair[0]
