"""Grade one submitted notebook: answer cells in the sandbox, judging in the grader.

Only the answer cells (nbgrader solution cells with code) leave the notebook;
the sandbox sends back plain data, and the comparison with the reference
happens here, in a process the student's code never touched.
"""

from __future__ import annotations

from .outcome import Outcome, Raised, Returned, Unavailable
from .registry import behaviours, chapter_module, parse_assignment
from .sandbox import Sandbox, SandboxCrashed
from .verdict import Verdict, cases_of, judge
from .wire import WireError, decode, encode


def answer_sources(notebook) -> list[str]:
    """The source of every code cell that nbgrader marks as a solution (answer) cell."""
    return [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")]


def grade_notebook(notebook, assignment: str, sandbox: Sandbox, *, seed: int,
                   behaviour_timeout: float = 30.0, total_timeout: float = 120.0) -> dict[str, Verdict]:
    """Run every behaviour of ``assignment`` on the notebook's answers; verdicts by grade_id."""
    chapter, language = parse_assignment(assignment)
    module = chapter_module(chapter)
    plan = [(behaviour, cases_of(behaviour, seed)) for behaviour in behaviours(assignment).values()]
    job = {
        "language": language, "blocked": list(module.BLOCKED), "provided": list(module.PROVIDED),
        "code": answer_sources(notebook), "behaviour_timeout": behaviour_timeout,
        "total_timeout": total_timeout,
        "behaviours": [{"function": b.function, "autograd": b.autograd,
                        "calls": [{"args": encode(case.args), "kwargs": encode(case.kwargs)}
                                  for case, _ in cases]} for b, cases in plan],
    }
    try:
        results = sandbox.run(job, timeout=total_timeout + 60)
    except SandboxCrashed:
        results = [{"lines": [], "stopped": "sandbox crashed"}] * len(plan)
    verdicts = {}
    for (behaviour, cases), result in zip(plan, results):
        outcomes = outcomes_of(result, len(cases), behaviour_timeout)
        verdicts[behaviour.grade_id] = judge(behaviour, cases, outcomes, language)
    return verdicts


def outcomes_of(result, count: int, timeout: float) -> list[Outcome]:
    """Parse the sandbox's lines for one behaviour; a missing or malformed line is a failure."""
    lines = result.get("lines") if isinstance(result, dict) else None
    stopped = result.get("stopped") if isinstance(result, dict) else "malformed reply"
    lines = lines if isinstance(lines, list) else []
    outcomes = [_parse(line) for line in lines[:count]]
    if len(outcomes) < count:
        missing = (Unavailable("timeout", f"{timeout:g} s") if stopped == "timeout"
                   else Unavailable("crashed", str(stopped or "no answer")[:80]))
        outcomes += [missing] * (count - len(outcomes))
    return outcomes


def _parse(line) -> Outcome:
    import json

    try:
        data = json.loads(line) if isinstance(line, str) and len(line) < 2**28 else None
        if isinstance(data, dict) and "returned" in data:
            return Returned(decode(data["returned"]))
        if isinstance(data, dict) and "raised" in data:
            name, message = data["raised"]
            return Raised(str(name)[:80], str(message)[:500])
        if data == {"missing": True}:
            return Unavailable("missing")
    except (WireError, ValueError, TypeError, RecursionError):
        pass
    return Unavailable("crashed", "unreadable answer")
