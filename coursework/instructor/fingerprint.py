"""A fingerprint of a function that ignores what copying usually changes.

Two answers are compared after parsing (so comments, blank lines, spacing and
line breaks are gone) and after normalising what is cheap to change by hand:
the docstring is dropped, every name the function binds (its parameters, its
local variables, the targets of loops, comprehensions, ``with`` and
``except``) becomes ``v0, v1, …`` in order of first appearance, and the text of
the errors it raises becomes ``"s"``. What the function calls (``torch.log``,
``len``), its numbers and its other strings (``reduction == "sum"``) stay.
Two functions are the same when their normalised code is; ``resemblance`` is
the Jaccard index of their 5-token shingles (1.0 for the same code, about 0.5
when half of it was rewritten).
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

SHINGLE = 5


@dataclass(frozen=True)
class Fingerprint:
    name: str  # the function's (or class's) own name, kept
    normalised: str  # the normalised code, unparsed
    shingles: frozenset[tuple[str, ...]]
    source: str  # the code as written, for the report

    @property
    def size(self) -> int:
        return len(self.shingles)

    def resemblance(self, other: Fingerprint) -> float:
        if not self.shingles or not other.shingles:
            return float(self.normalised == other.normalised)
        return len(self.shingles & other.shingles) / len(self.shingles | other.shingles)


def fingerprints(source: str) -> dict[str, Fingerprint]:
    """The fingerprint of every top-level function and class in ``source`` ({} if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            text = ast.get_source_segment(source, node) or ast.unparse(node)
            normalised = ast.unparse(_Normaliser().visit(ast.parse(text).body[0]))
            found[node.name] = Fingerprint(node.name, normalised, _shingles(normalised), text)
    return found


class _Normaliser(ast.NodeTransformer):
    """Renames bound names in order of appearance, blanks strings, drops docstrings."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.bound: set[str] = set()

    def visit_FunctionDef(self, node):
        self.bound |= _bound_names(node)
        node.body = _without_docstring(node.body)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.body = _without_docstring(node.body)
        return self.generic_visit(node)

    def visit_arg(self, node):
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self._rename(node.name)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.bound:
            node.id = self._rename(node.id)
        return node

    def visit_Raise(self, node):
        for inner in ast.walk(node):  # the message is free text: any wording is the same code
            for field, value in ast.iter_fields(inner):
                if _is_text(value):
                    setattr(inner, field, ast.Constant("s"))
                elif isinstance(value, list):
                    setattr(inner, field, [ast.Constant("s") if _is_text(v) else v for v in value])
        return self.generic_visit(node)

    def _rename(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")


def _is_text(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _bound_names(function: ast.AST) -> set[str]:
    bound = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:] or [ast.Pass()]
    return body


def _shingles(code: str) -> frozenset[tuple[str, ...]]:
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                tokenize.ENDMARKER, tokenize.COMMENT)]
    if len(tokens) < SHINGLE:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(tuple(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))
