"""Grade one submitted notebook: answer cells in the sandbox, judging in the grader.

Only the answer cells (nbgrader solution cells with code) leave the notebook;
the sandbox sends back plain data, and the comparison with the reference
happens here, in a process the student's code never touched.
"""

from __future__ import annotations

import json

from .. import limits
from ..chapters import parse_assignment
from .outcome import Outcome, Raised, Returned, Unavailable
from .registry import behaviours, check_module
from .sandbox import Sandbox, SandboxCrashed
from .verdict import Verdict, cases_of, judge
from .wire import WireError, decode, encode


def answer_sources(notebook) -> list[str]:
    """The source of every code cell that nbgrader marks as a solution (answer) cell.

    The notebook comes from a student: anything malformed in a cell only drops that cell.
    """
    sources = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        source = cell.get("source")
        if cell.get("cell_type") == "code" and isinstance(meta, dict) and meta.get("solution"):
            sources.append("".join(source) if isinstance(source, list) else str(source or ""))
    return sources


def grade_notebook(notebook, assignment: str, sandbox: Sandbox, *, seed: int,
                   behaviour_timeout: float = limits.BEHAVIOUR_SECONDS,
                   total_timeout: float = limits.NOTEBOOK_SECONDS) -> dict[str, Verdict]:
    """Run every behaviour of ``assignment`` on the notebook's answers; verdicts by grade_id."""
    chapter, language = parse_assignment(assignment)
    module = check_module(chapter)
    plan = [(behaviour, cases_of(behaviour, seed)) for behaviour in behaviours(assignment).values()]
    job = {
        "language": language, "blocked": list(module.BLOCKED), "provided": list(module.PROVIDED),
        "code": answer_sources(notebook), "behaviour_timeout": behaviour_timeout,
        "total_timeout": total_timeout,
        "behaviours": [{"function": b.function, "rules": b.rules.to_wire(),
                        "calls": [_call(b, case) for case, hidden in cases if not hidden],
                        "hidden": sum(hidden for _, hidden in cases)} for b, cases in plan],
    }
    hidden = [[_call(b, case) for case, is_hidden in cases if is_hidden] for b, cases in plan]
    try:
        # The zygote enforces the limits itself; this only catches a zygote gone silent.
        results = sandbox.run(job, hidden, timeout=total_timeout + limits.GRACE_SECONDS)
    except SandboxCrashed:
        results = [{"lines": [], "stopped": "sandbox crashed"}] * len(plan)
    verdicts = {}
    for (behaviour, cases), result in zip(plan, results):
        outcomes = outcomes_of(result, len(cases), behaviour_timeout, total_timeout)
        try:
            verdicts[behaviour.grade_id] = judge(behaviour, cases, outcomes, language)
        except Exception:  # noqa: BLE001 (a value no check foresaw must cost its points, not the run)
            unreadable = [Unavailable("crashed", "unreadable answer")] * len(cases)
            verdicts[behaviour.grade_id] = judge(behaviour, cases, unreadable, language)
    return verdicts


def _call(behaviour, case) -> dict:
    budget, forward = behaviour.budget(case)
    return {"args": encode(case.args), "kwargs": encode(case.kwargs), "budget": budget, "forward": forward}


def outcomes_of(result, count: int, timeout: float, total_timeout: float | None = None) -> list[Outcome]:
    """Parse the sandbox's lines for one behaviour; a missing or malformed line is a failure."""
    lines = result.get("lines") if isinstance(result, dict) else None
    stopped = result.get("stopped") if isinstance(result, dict) else "malformed reply"
    lines = lines if isinstance(lines, list) else []
    outcomes = [_parse(line) for line in lines[:count]]
    if len(outcomes) < count:
        if stopped == "timeout":
            missing = Unavailable("timeout", f"{timeout:g} s")
        elif stopped == "notebook timeout":  # never ran: the earlier checks used up the notebook's time
            missing = Unavailable("timeout", f"{total_timeout:g} s in all")
        else:
            missing = Unavailable("crashed", str(stopped or "no answer")[:80])
        outcomes += [missing] * (count - len(outcomes))
    return outcomes


def _parse(line) -> Outcome:
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
